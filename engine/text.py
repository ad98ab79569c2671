"""Which characters a person's free text may hold. A name is one line of printable text: it ends
up in page titles, file names, Markdown tables and e-mail subjects, where a line break or an
escape sequence changes what the reader sees (or, in a header, fails the e-mail). A description
may also break lines and hold tabs.
"""

import unicodedata

_MULTILINE_ALLOWED = frozenset("\t\n\r")
_NAMES = {"\t": "a tab", "\n": "a line break", "\r": "a carriage return", "\x00": "NUL", "\x1b": "an escape"}


def _refused(char: str) -> bool:
    # Cc: C0/C1 controls; Cs: lone surrogates; Zl/Zp: U+2028/U+2029, line breaks to many readers.
    if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
        return True
    point = ord(char)
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE  # Unicode noncharacters


def refused_character(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` is refused, naming its first refused character (`the control character U+000A
    (a line break)`), or None when every character is allowed. `multiline`: tabs and line breaks
    are allowed (descriptions)."""
    for char in text:
        if multiline and char in _MULTILINE_ALLOWED:
            continue
        if _refused(char):
            what = f" ({_NAMES[char]})" if char in _NAMES else ""
            return f"contains the control character U+{ord(char):04X}{what}, which is not allowed here"
    return None


def as_one_line(text: str) -> str:
    """`text` with every refused character and run of whitespace made one space: safe where a line
    break would end the line (an e-mail header), whatever was stored."""
    return " ".join("".join(" " if _refused(char) else char for char in text).split())
