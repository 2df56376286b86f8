"""Text people typed, made safe to store: control characters (NUL above all, which PostgreSQL
refuses in text) are dropped; newlines and tabs are kept."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    return _CONTROL.sub("", text)
