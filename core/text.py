"""Text as visitors and providers send it: IDs typed into a search, links, names shown on pages."""

from smmapi.text import has_unsafe_characters, neutralise

__all__ = ["MAX_ID_DIGITS", "as_id", "has_unsafe_characters", "neutralise"]

MAX_ID_DIGITS = 18  # a BIGINT holds 19 digits, not every 19-digit number


def as_id(text: object) -> int | None:
    """The ID a person typed ("42", "#42"), or None: ASCII digits only ("²".isdigit() is true, and int("²")
    raises), and no more than a database ID can hold."""
    text = str(text or "").strip().lstrip("#")
    if not text or len(text) > MAX_ID_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)

