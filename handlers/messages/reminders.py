"""Block Kit for reminders: in the prompt's thread and by direct message, to a department that
has not answered yet. No SQL and no Slack calls here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from handlers.messages.cover import addressed, cover_lines
from handlers.messages.layout import (
    Message,
    People,
    context,
    message,
    month_name,
    plan_name,
    section,
)
from handlers.messages.prompt import due_words, mentions, prompt_buttons
from handlers.messages.text import escape
from handlers.messages.words import people_named
from models.absence import Away
from models.cycle import DepartmentState

_ORDINALS = {1: "Reminder", 2: "Second reminder", 3: "Third reminder"}
_ONE_CLICK = "one click on *No change* is enough if nothing moved."
_MOST_NAMED = 5


def _still_open(state: DepartmentState, due: datetime | None) -> str:
    shown = f"{plan_name(state.name)}'s {month_name(state.period)} update is still open"
    return shown + (f", due by *{due_words(due)}*" if due is not None else "")


def _numbers_owed(state: DepartmentState) -> str:
    """' — still needed: a number for 311 response time and Potholes filled (…)', or ''."""
    owed = state.measures_without_number
    if not owed:
        return ""
    names = [escape(m.name) for m in owed[:_MOST_NAMED]]
    if len(owed) > _MOST_NAMED:
        names.append(f"{len(owed) - _MOST_NAMED} more")
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f"; still needed: a number for {listed} (Submit update, or reply in the thread "
        f"as `{escape(owed[0].key)} <number>`)"
    )


def _ask(state: DepartmentState) -> str:
    """What the lead is asked for: the click for initiatives, and any number still owed."""
    owed = _numbers_owed(state)
    if not owed:
        return _ONE_CLICK
    if state.reported:
        return "S" + owed.removeprefix("; s") + "."
    return _ONE_CLICK.removesuffix(".") + owed.replace("; still", ". Still", 1) + "."


FIRST_FOR_BACKUPS = 2  # the reminder from which backup owners are reminded too


def reminded_backups(state: DepartmentState, ordinal: int) -> tuple[str, ...]:
    """The backup owners a reminder goes to: none at first, all of them from the second on
    (those who are owners too are reminded as owners)."""
    if ordinal < FIRST_FOR_BACKUPS:
        return ()
    return tuple(b for b in state.backups if b not in state.owners)


def render_reminder(
    state: DepartmentState,
    ordinal: int,
    people: People,
    *,
    due: datetime | None = None,
    away: Mapping[str, Away] | None = None,
    names: People | None = None,
    timezone: str = "America/New_York",
) -> Message:
    """Posted in the prompt's thread while the department has not answered, or still owes a
    measure's number; `due` is the period's close. Owners `away` are not pinged: whoever
    covers for them is (see `render_prompt`)."""
    away = away or {}
    lead = _ORDINALS.get(ordinal, f"Reminder {ordinal}")
    named = mentions(state, people, away) if state.owners else ""
    backups = tuple(b for b in reminded_backups(state, ordinal) if b not in away)
    if named and backups:  # those already addressed as cover are not named twice
        backups = tuple(b for b in backups if b not in addressed(state, away))
    if backups:
        # From the second reminder on, the backup owners hear it too: they may answer.
        also = f"{people_named(backups, people, _MOST_NAMED)} as backup"
        named = f"{named} (and {also})" if named else also
    owners = f"{named}, " if named else ""
    shown = f"{lead}: {owners}{_still_open(state, due)} — {_ask(state)}"
    covering = cover_lines(state, away, people, names or people, timezone)
    return message(
        f"{escape(state.name)}: your {month_name(state.period)} update is still open",
        [
            section(shown),
            *([context("\n".join(covering))] if covering else []),
            prompt_buttons(state.key, state.period),
        ],
    )


def _link(url: str) -> str | None:
    """A Slack link to `url`, or None when it would not survive as one."""
    if not url.startswith(("https://", "http://")) or any(c in url for c in "|<> \n"):
        return None
    return f"<{url.replace('&', '&amp;')}|the prompt>"


def render_reminder_dm(
    state: DepartmentState, permalink: str | None, *, due: datetime | None = None
) -> Message:
    """A direct message to an owner who has not answered: the same ask, with the buttons."""
    link = _link(permalink) if permalink else None
    where = f"Reply in the thread of {link}, or use" if link else "Use"
    shown = f"{_still_open(state, due)}.\n{where} the buttons below — {_ask(state)}"
    return message(
        f"{escape(state.name)}: your {month_name(state.period)} update is still open",
        [section(shown), prompt_buttons(state.key, state.period)],
    )
