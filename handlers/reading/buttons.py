"""The values the thread answer's buttons carry, written and read in one place. Reading never
raises: a forged or garbled value reads as None."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from handlers.ids import ActionId
from handlers.messages import limits
from models.periods import PeriodError, parse_period

_CHOICE = re.compile(r"(\d{1,12}):(\d{1,2})", re.ASCII)
_REPLY = re.compile(r"[A-Z0-9]{1,40}:\d{1,20}\.\d{1,12}", re.ASCII)


@dataclass(frozen=True)
class ChoiceValue:
    question_id: int
    choice: int


def choice_action(choice: int) -> str:
    return f"{ActionId.REPLY_CHOICE}_{choice}"  # "reply_choice_0"


def choice_value(question_id: int, choice: int) -> str:
    return f"{question_id}:{choice}"


def read_choice_value(value: Any) -> ChoiceValue | None:
    if not isinstance(value, str) or len(value) > limits.BUTTON_VALUE:
        return None
    found = _CHOICE.fullmatch(value)
    if found is None:
        return None
    return ChoiceValue(int(found.group(1)), int(found.group(2)))


def undo_value(reply: str) -> str:
    """The Undo button names the reply ("C0123:1700000000.000100") whose updates it undoes."""
    if not _REPLY.fullmatch(reply):
        raise ValueError(f"not a reply reference: {reply[:60]!r}")
    return reply


def read_undo_value(value: Any) -> str | None:
    if not isinstance(value, str) or not _REPLY.fullmatch(value):
        return None
    return value


# --- the prompt's buttons: which department and period they answer for --------------------

_SEPARATOR = "|"
_PERIOD = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])", re.ASCII)


def prompt_value(department_key: str, period: str) -> str:
    """The value the prompt's buttons carry: `"fire|2026-10"`."""
    if not department_key:
        raise ValueError("a prompt needs a department key")
    value = f"{department_key}{_SEPARATOR}{parse_period(period)}"
    if len(value) > limits.BUTTON_VALUE:
        raise ValueError(f"department key {department_key[:40]!r}… is too long for a button")
    return value


def read_prompt_value(value: Any) -> tuple[str, str] | None:
    """(department key, period) from a button value, or None for anything else."""
    if not isinstance(value, str) or len(value) > limits.BUTTON_VALUE:
        return None
    key, separator, period = value.rpartition(_SEPARATOR)
    if not separator or not key or key != key.strip() or not key.isprintable():
        return None
    if not _PERIOD.fullmatch(period):
        return None
    try:
        return key, parse_period(period)
    except PeriodError:
        return None


# --- "Ask for help": the department, period and (when known) initiative --------------------


def help_value(department_key: str, period: str, number: int | None = None) -> str:
    """`"fire|2026-10"` (the lead picks the initiative) or `"fire|2026-10|3"`."""
    value = prompt_value(department_key, period)
    return value if number is None else f"{value}{_SEPARATOR}{number}"


def read_help_value(value: Any) -> tuple[str, str, int | None] | None:
    if not isinstance(value, str) or len(value) > limits.BUTTON_VALUE:
        return None
    head, separator, last = value.rpartition(_SEPARATOR)
    if separator and last.isdigit() and len(last) <= 5 and not _PERIOD.fullmatch(last):
        found = read_prompt_value(head)
        return None if found is None or int(last) < 1 else (*found, int(last))
    found = read_prompt_value(value)
    return None if found is None else (*found, None)


def read_request_id(value: Any) -> int | None:
    """The request a help post's button names."""
    if not isinstance(value, str) or not value.isdigit() or len(value) > 12:
        return None
    return int(value)
