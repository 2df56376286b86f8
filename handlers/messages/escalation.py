"""Block Kit for the direct message that tells a department's escalation contact (the admins
when it has none) that a period closed without the department's answer, and what is missing.
Sent privately: the late person is never mentioned in a channel for it. No SQL, no Slack calls."""

from __future__ import annotations

from datetime import datetime

from handlers.messages.layout import Message, People, context, message, plan_name, section
from handlers.messages.prompt import due_words, numbers_list
from handlers.messages.text import escape
from handlers.messages.words import people_named
from models.cycle import DepartmentState
from models.periods import period_label

_MOST_NAMED = 5


def missing_initiatives(state: DepartmentState) -> list[int]:
    """The numbers of the initiatives with no update for the period."""
    return [i.number for i in state.initiatives if not i.reported]


def render_escalation(
    state: DepartmentState,
    people: People,
    *,
    closed: datetime,
    as_admin: bool,
) -> Message:
    """'Fire did not report for October 2026 before it closed …', with what is missing, who owns
    it, and why this person is told."""
    label = period_label(state.period)
    name = plan_name(state.name)
    missing = missing_initiatives(state)
    owed = state.measures_without_number
    lines = []
    if missing:
        lines.append(
            f"• {len(missing)} of {len(state.initiatives)} initiatives without an update: "
            f"{numbers_list(missing)}"
        )
    if owed:
        names = [escape(m.name) for m in owed[:_MOST_NAMED]]
        if len(owed) > _MOST_NAMED:
            names.append(f"{len(owed) - _MOST_NAMED} more")
        lines.append(
            f"• {len(owed)} measure{'' if len(owed) == 1 else 's'} without a number: "
            + ", ".join(names)
        )
    who = (
        f"Owners: {people_named(state.owners, people, _MOST_NAMED)}"
        if state.owners
        else "It has no owner: an admin assigns one with `/plan owner`"
    )
    if state.backups:
        who += f" · backup: {people_named(state.backups, people, _MOST_NAMED)}"
    why = (
        "You get this as a Plan Bot admin: the department has no escalation contact "
        "(`planbot owners set … --escalation USER_ID` sets one)."
        if as_admin
        else f"You get this as {escape(state.name)}'s escalation contact."
    )
    head = f"*{name}* did not report for *{label}* before it closed ({due_words(closed)})."
    return message(
        f"{escape(state.name)} did not report for {label}",
        [section("\n".join([head, *lines, who])), context(why)],
    )
