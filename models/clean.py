"""Text people typed, made safe to store and to show: control characters (NUL above all, which
PostgreSQL refuses in text; terminal escapes; C1 controls) are dropped, and so are the Unicode
bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), which can make
the rest of a line read backwards and so spoof what follows a note. Newlines and tabs are kept."""

from __future__ import annotations

import re

_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def clean_text(text: str) -> str:
    """`text` without control or bidirectional-control characters: stored as shown."""
    return _CONTROL.sub("", text)
