"""Form validators for the text people type: engine.text decides which characters are refused, so
a design file, a form and the API refuse the same ones."""

from django.core.exceptions import ValidationError

from engine.text import refused_character


def one_line_text(value: str) -> None:
    """A name: one line of printable text (it ends up in e-mail subjects, titles and file names)."""
    if problem := refused_character(value):
        raise ValidationError(f"This {problem}: a name is one line of printable text.", code="control_character")


def multiline_text(value: str) -> None:
    """A description or comment: line breaks and tabs are fine, other control characters are not."""
    if problem := refused_character(value, multiline=True):
        raise ValidationError(f"This {problem}.", code="control_character")
