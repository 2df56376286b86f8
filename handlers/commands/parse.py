"""Reading what was typed after `/plan`: a pure function, safe on any text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_COMMAND_TEXT = 500  # longer text is refused: no goal, department or sub-command is that long

Action = Literal[
    "help",
    "goals",
    "missing",
    "update",
    "history",
    "digest",
    "owner",
    "export",
    "lookup",
    "too_long",
    "bad_history",
    "bad_owner",
]

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")
_SIMPLE = {
    "help": "help",
    "?": "help",
    "goals": "goals",
    "missing": "missing",
    "digest": "digest",
    "export": "export",
}


@dataclass(frozen=True)
class PlanCommand:
    action: Action
    words: str = ""  # the goal or department named, as typed
    number: int | None = None
    user_ids: tuple[str, ...] = ()


def parse_plan_command(text: str) -> PlanCommand:
    text = " ".join(text.split())
    if len(text) > MAX_COMMAND_TEXT:
        return PlanCommand("too_long")
    if not text:
        return PlanCommand("help")
    first, _, rest = text.partition(" ")
    verb = first.casefold()
    if verb in _SIMPLE and not rest:
        return PlanCommand(_SIMPLE[verb])  # type: ignore[arg-type]
    if verb == "update":
        return PlanCommand("update", rest)
    if verb == "history":
        words, _, last = rest.rpartition(" ")
        number = last.lstrip("#")
        if not words or not number.isdigit() or not 0 < int(number) < 100_000:
            return PlanCommand("bad_history", rest)
        return PlanCommand("history", words, int(number))
    if verb in ("owner", "owners"):
        parts = rest.split(" ")
        users = []
        while parts and _USER.match(parts[-1]):
            match = _USER.match(parts.pop())
            assert match is not None
            users.append(match.group(1) or match.group(2))
        if not parts or not users or not " ".join(parts).strip():
            return PlanCommand("bad_owner", rest)
        return PlanCommand("owner", " ".join(parts), user_ids=tuple(reversed(users)))
    return PlanCommand("lookup", text)
