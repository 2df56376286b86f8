"""How the plan's facts read in any message: a status, who said it and when, owners, counts by
status, the response rate — the same words on every surface (answers, digest, prompts, threads).
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.messages.layout import People, command, day, plan_name, plural
from handlers.messages.text import escaped_excerpt
from models.periods import period_label
from models.queries import (
    DepartmentRef,
    GoalLine,
    InitiativeLine,
    ResponseRate,
    StatusCounts,
    UpdateView,
)
from models.status import DISPLAY_ORDER, look
from models.tables import Source

MOST_OWNERS = 5  # owners named on one line; the rest are counted


FROM_THE_PLAN = "from the plan"


def counts_compact(counts: StatusCounts) -> str:
    """'✅ 3 · 🟢 7 · 🟡 2 · 🔴 1 · ❔ 3'."""
    return " · ".join(f"{look(s).emoji} {n}" for s, n in counts.shown()) or "no initiatives"


def counts_in_words(counts: StatusCounts) -> str:
    """'✅ 3 complete · 🟢 7 on track · …'."""
    return " · ".join(f"{look(s).emoji} {n} {look(s).word.lower()}" for s, n in counts.shown())


def counts_total(counts: StatusCounts) -> str:
    if not counts.total:
        return "No initiatives yet."
    return f"{counts_in_words(counts)} — *{plural(counts.total, 'initiative')}*"


def legend() -> str:
    return " · ".join(look(s).label for s in DISPLAY_ORDER)


def response_words(r: ResponseRate) -> str:
    """The response rate in words, the same wherever it is shown: '15 of 18 departments with
    initiatives reported for November 2026 (83%); 2 have no owner'."""
    label = period_label(r.period)
    if not r.expected:
        return f"No department has initiatives yet, so nobody reports for {label}"
    shown = (
        f"{r.reported} of {plural(r.expected, 'department')} with initiatives reported for "
        f"{label} ({r.percent}%)"
    )
    if r.unowned:
        shown += f"; {r.unowned} {'has' if r.unowned == 1 else 'have'} no owner"
    return shown


def departments_reported(reported: int, expected: int) -> str:
    """A goal's share of the response rate: '3 of 4 departments reported'."""
    return f"{reported} of {plural(expected, 'department')} reported"


def people_named(users: Sequence[str], people: People, most: int = MOST_OWNERS) -> str:
    """'<@U1>, <@U2> and 3 more': the first `most` people, the rest counted."""
    named = ", ".join(people(user) for user in users[:most])
    extra = len(users) - most
    return named + (f" and {extra} more" if extra > 0 else "")


def owner_names(department: DepartmentRef, people: People) -> str:
    if not department.owners:
        return "no owner assigned"
    return people_named(department.owners, people)


def as_of(update: UpdateView, period: str) -> str:
    """' · from the plan' for the plan file's own status, ' · as of September 2026' for an
    update from an earlier period, '' for the period's own."""
    if update.source == Source.PLAN:
        return f" · {FROM_THE_PLAN}"
    return "" if update.period == period else f" · as of {period_label(update.period)}"


def status_text(update: UpdateView | None, period: str | None = None) -> str:
    """'🟡 At risk · 40%'; given the period shown, with where an older status comes from
    (' · as of September 2026', ' · from the plan')."""
    if update is None:
        return look(None).label
    shown = update.status.label
    if update.percent is not None:
        shown += f" · {update.percent}%"
    return shown if period is None else shown + as_of(update, period)


def said_by(update: UpdateView, people: People, timezone: str, year: bool = False) -> str:
    """Who said it and when: '<@U1>, Nov 3'; the plan file's own status is 'from the plan'
    (its date is only where its period starts)."""
    if update.source == Source.PLAN:
        return FROM_THE_PLAN
    when = day(update.received_at, timezone, year)
    return (
        f"{who_answered(update.author, update.on_behalf_of, people)}, {when}"
        if update.author
        else when
    )


def who_answered(author: str, on_behalf_of: str | None, people: People) -> str:
    """'<@deputy>', or '<@deputy> for <@chief>' when they answered for an owner away."""
    if on_behalf_of and on_behalf_of != author:
        return f"{people(author)} for {people(on_behalf_of)}"
    return people(author)


def initiative_number(line: InitiativeLine) -> str:
    if line.parent_number is None:
        return f"*#{line.number}*"
    return f"↳ *#{line.number}* (part of #{line.parent_number})"


def note_lines(
    update: UpdateView | None, people: People, note_limit: int, timezone: str
) -> list[str]:
    if update is None:
        return []
    lines = [f"> {escaped_excerpt(update.note, note_limit)}"] if update.note.strip() else []
    return [*lines, f"— {said_by(update, people, timezone)}"]


def goal_line(line: GoalLine) -> str:
    name = f"*{plan_name(line.goal.name)}*"
    if not line.counts.total:
        return f"{name} — no initiatives yet · {command(line.goal.key)}"
    reported = departments_reported(line.departments_reported, line.departments)
    return f"{name} — {counts_compact(line.counts)} — {reported} · {command(line.goal.key)}"


def missing_line(department: DepartmentRef, people: People) -> str:
    return f"• *{plan_name(department.name)}* — {owner_names(department, people)}"
