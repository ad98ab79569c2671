"""engine.text: names are one line of printable text; descriptions may also break lines."""

import pytest

from engine.text import as_one_line, refused_character


@pytest.mark.parametrize("char", ["\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\ufffe", "\U0001ffff"])
def test_a_name_with_a_control_character_is_refused_naming_it(char):
    problem = refused_character(f"Support{char}assistant")
    assert problem is not None and f"U+{ord(char):04X}" in problem


def test_line_breaks_and_tabs_are_named_for_a_person():
    assert "(a line break)" in refused_character("a\nb")
    assert "(a carriage return)" in refused_character("a\rb")


def test_printable_text_in_any_script_passes():
    assert refused_character("Assistant de support · ヘルプ · 🤖 — “RAG” <b>&amp;</b> | x") is None


def test_a_description_may_break_lines_but_not_hold_escapes():
    assert refused_character("line one\r\nline two\tindented", multiline=True) is None
    assert "U+001B" in refused_character("red \x1b[31m text", multiline=True)


def test_as_one_line_makes_any_stored_text_a_safe_header():
    assert as_one_line("Ranking\r\nBcc: x@example.com\x00 \u2028end\t") == "Ranking Bcc: x@example.com end"
    assert as_one_line("plain name") == "plain name"
