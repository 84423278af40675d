"""Characters that have no place in a link or a name: control characters (a newline, a tab, NUL) and the
bidirectional overrides and isolates that make text read backwards (U+202E) and disguise what follows."""

import re
import unicodedata

UNSAFE = re.compile("[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def has_unsafe_characters(text: str) -> bool:
    return bool(UNSAFE.search(text or ""))


def neutralise(text: str, *, keep_lines: bool = False) -> str:
    """Text from outside (a provider's service or category name) with those characters replaced by a space
    and its Unicode normalised, so it cannot reorder or break what a page shows; `keep_lines` keeps line
    breaks (a description's)."""
    text = unicodedata.normalize("NFC", text or "")
    if keep_lines:
        return "\n".join(UNSAFE.sub(" ", line).rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    return UNSAFE.sub(" ", text).strip()
