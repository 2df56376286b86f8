"""Block Kit for cover while owners are away (issue 16): who a prompt or reminder is addressed
to, the line naming who answers for an owner who is away, and what `/plan away` and
`/plan back` say. No SQL and no Slack calls here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from handlers.messages.layout import Message, People, command, context, message, plan_name, section
from handlers.messages.words import people_named
from models.absence import Away
from models.cycle import DepartmentState
from models.periods import local_now
from models.tables import AwaySource

_MOST_AWAY = 5


def addressed(state: DepartmentState, away: Mapping[str, Away]) -> tuple[str, ...]:
    """Who a prompt or reminder asks: the owners who are here, and the delegates of those who
    are away; when that leaves nobody, the backup owners who are here."""
    here = [o for o in state.owners if o not in away]
    delegates = [
        a.delegate_id
        for o in state.owners
        if (a := away.get(o)) is not None and a.delegate_id and a.delegate_id not in away
    ]
    asked = list(dict.fromkeys([*here, *delegates]))
    if not asked and any(o in away for o in state.owners):
        asked = [b for b in state.backups if b not in away]
    return tuple(asked)


def last_day(away: Away, timezone: str) -> date | None:
    """The last day someone is away, on the plan's calendar (they are back the day after)."""
    if away.ends_at is None:
        return None
    return (local_now(timezone, away.ends_at) - timedelta(microseconds=1)).date()


def _until(away: Away, timezone: str) -> str:
    last = last_day(away, timezone)
    if last is None:
        return "away (Slack status)"
    return f"away until {last:%a}, {last:%b} {last.day}"


def cover_lines(
    state: DepartmentState,
    away: Mapping[str, Away],
    people: People,
    names: People,
    timezone: str,
) -> list[str]:
    """'🌴 @Dana is away until Tue, Dec 15 — <@deputy> answers for Fire meanwhile.' for each
    owner away. `names` names people without pinging them (they are on leave); `people` pings
    whoever covers (it is their task now)."""
    lines = []
    gone = [o for o in state.owners if o in away]
    for owner in gone[:_MOST_AWAY]:
        absence = away[owner]
        said = f"🌴 {names(owner)} is {_until(absence, timezone)}"
        if absence.delegate_id and absence.delegate_id not in away:
            said += (
                f" — {people(absence.delegate_id)} answers for {plan_name(state.name)} meanwhile."
            )
        elif backups := [b for b in state.backups if b not in away]:
            said += f" — {people_named(backups, people)} may answer as backup."
        else:
            said += " — a Plan Bot admin may answer meanwhile."
        lines.append(said)
    if len(gone) > _MOST_AWAY:
        lines.append(f"…and {len(gone) - _MOST_AWAY} more owners away.")
    return lines


def render_away_set(
    last: date,
    delegate: str | None,
    departments: Sequence[str],
    people: People,
    person: str | None = None,
) -> Message:
    """What `/plan away` says: to the caller about themselves, or (`person`) to an admin."""
    back = last + timedelta(days=1)
    you, them, their = (
        ("You are", "you", "your") if person is None else (f"{people(person)} is", "them", "their")
    )
    said = (
        f"🌴 {you} away until {last:%A}, {last:%B} {last.day} (back {back:%A}, {back:%B} "
        f"{back.day}): Plan Bot will not remind {them} meanwhile."
    )
    if departments:
        named = ", ".join(plan_name(d) for d in departments[:10])
        if delegate:
            said += f" {people(delegate)} may answer for {named} and is asked in {their} place."
        else:
            said += f" Backup owners (or an admin) may answer for {named}."
    change = command("away", "until <date>", "@someone")
    hint = f"{command('back')} ends it early; {change} changes it."
    return message(said, [section(said), context(hint)])


def render_away_status(away: Away | None, timezone: str, people: People) -> Message:
    """`/plan away` alone: whether the caller is away, and how to say so."""
    if away is None:
        said = "You are not away."
    else:
        how = (
            "by your Slack status"
            if away.source == AwaySource.SLACK_STATUS
            else "with `/plan away`"
        )
        said = f"You are {_until(away, timezone)} ({how})."
        if away.delegate_id:
            said += f" {people(away.delegate_id)} answers for you."
    hint = (
        f"{command('away', 'until 2026-12-15', '@deputy')} — not reminded until then, and "
        f"@deputy may answer for you; {command('back')} when you return."
    )
    return message(said, [section(said), context(hint)])


def render_back(was: Away | None, people: People, person: str | None = None) -> Message:
    """What `/plan back` says: to the caller, or (`person`) to an admin."""
    if person is not None:
        said = (
            f"{people(person)} is back: Plan Bot reminds them again."
            if was is not None
            else f"{people(person)} was not away; nothing changed."
        )
    elif was is None:
        said = "You were not away; nothing changed."
    elif was.source == AwaySource.SLACK_STATUS:
        said = (
            "Welcome back. Your Slack status still says you are away: clear it, or Plan Bot "
            "will read it as away again at the next reminder."
        )
    else:
        said = "Welcome back: Plan Bot will remind you again" + (
            ", and your delegate no longer answers for you." if was.delegate_id else "."
        )
    return message(said, [section(said)])
