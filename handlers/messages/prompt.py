"""Block Kit for the monthly prompt: the message that asks a department how its initiatives are
going, its buttons, what it says once answered, and who is asked at all.

No SQL and no Slack calls here: each `render_*` takes a `DepartmentState` (or plain values) and
returns what to send, within Slack's limits whatever the department's size — lines that do not
fit are counted ("…and 37 more"), nothing is cut mid-line. Button values are written and read in
`handlers/reading/buttons.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
)

from handlers.ids import ActionId
from handlers.messages import limits
from handlers.messages.cover import addressed, cover_lines
from handlers.messages.help import help_button
from handlers.messages.layout import (
    Lines,
    Message,
    Part,
    People,
    command,
    context,
    day,
    header,
    message,
    month_name,
    plan_name,
    plural,
    section,
)
from handlers.messages.measure_words import amount, unit_label
from handlers.messages.text import escape, escaped_excerpt, excerpt
from handlers.messages.words import people_named, status_text
from handlers.reading.buttons import prompt_value
from models.absence import Away
from models.cycle import DepartmentState, InitiativeState
from models.measures import MeasureView
from models.periods import period_label
from models.status import Status

# How much of each piece of plan or user text these messages show.
_PROMPT_TEXT = 160
_MOST_MENTIONS = 30  # owners a prompt or reminder mentions by name; the rest are counted
_MOST_NUMBERS = 20
_HINT = (
    "Or reply in this thread, one line each: `1 on track - 12 recruits started` · "
    "`2 at risk 40% waiting on the union` · `all others on track`"
)


_MEASURE_HINT = " · a measure by its name: `potholes 412`"


def mentions(state: DepartmentState, people: People, away: Mapping[str, Away] | None = None) -> str:
    """Who a prompt or reminder is addressed to (they are pinged: it is their task): the
    owners, or while some are away, those here and whoever covers for the others."""
    return people_named(addressed(state, away or {}), people, _MOST_MENTIONS)


def numbers_list(numbers: Sequence[int]) -> str:
    """'#4, #5', or '#1, #2, … and 280 more' past a readable count."""
    shown = ", ".join(f"#{n}" for n in numbers[:_MOST_NUMBERS])
    hidden = len(numbers) - _MOST_NUMBERS
    return shown + (f" and {hidden} more" if hidden > 0 else "")


def prompt_buttons(
    department_key: str, period: str, *, no_change: bool = True, help: bool = False
) -> ActionsBlock:
    """*Submit update*, *No change* unless the department has nothing to repeat, and (on the
    prompt itself) *Ask for help*."""
    value = prompt_value(department_key, period)
    submit = ButtonElement(
        text="Submit update", action_id=ActionId.SUBMIT, value=value, style="primary"
    )
    elements = [submit]
    if no_change:
        elements.append(
            ButtonElement(
                text="No change — same as last month", action_id=ActionId.NO_CHANGE, value=value
            )
        )
    if help:
        elements.append(help_button(department_key, period))
    return ActionsBlock(elements=elements)


def in_order(state: DepartmentState) -> list[InitiativeState]:
    return sorted(state.initiatives, key=lambda i: i.number)


def _prompt_line(initiative: InitiativeState) -> str:
    """'*1.* 🟢 On track · 60% — Open the new academy'; sub-items marked with their parent."""
    number = f"*{initiative.number}.*"
    if initiative.parent_number is not None:
        number = f"↳ {number} (part of #{initiative.parent_number})"
    text = escaped_excerpt(initiative.text, _PROMPT_TEXT)
    return f"{number} {status_text(initiative.latest)}" + (f" — {text}" if text else "")


def due_words(due: datetime) -> str:
    """'Tuesday, December 1, 9:00 AM': when an update is due (the period's close, when the next
    month's prompt goes out), on the plan's calendar — `due` is given in the plan's zone."""
    hour = due.hour % 12 or 12
    return f"{due:%A}, {due:%B} {due.day}, {hour}:{due:%M} {due:%p}"


def status_line(
    department_name: str, who: str, when: datetime, timezone: str, late: bool = False
) -> str:
    """'✅ Fire: updated by <who> on Nov 3', the day in the plan's time zone. `who` comes from
    `people` (trusted mrkdwn); a naive `when` is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    on = day(when, timezone)
    return f"✅ {plan_name(department_name)}: updated by {who} on {on}" + (
        " (late)" if late else ""
    )


def done_before(initiative: InitiativeState, period: str) -> bool:
    """Complete before the period: what the form does not ask about again. Only earlier
    periods count, so that the pages of a form stay the same while it is being saved (a "done"
    recorded on page 1 must not move page 2's initiatives)."""
    latest = initiative.latest
    return latest is not None and latest.status == Status.COMPLETE and latest.period < period


def asked(state: DepartmentState, reopened: Collection[int] = ()) -> list[InitiativeState]:
    """The initiatives the form asks about: those not complete, and the complete ones the lead
    reopened (first, so that they appear on the page where they were reopened)."""
    done = {i.number for i in state.initiatives if done_before(i, state.period)}
    again = [i for i in in_order(state) if i.number in done and i.number in reopened]
    return again + [i for i in in_order(state) if i.number not in done]


def not_asked(state: DepartmentState, reopened: Collection[int] = ()) -> list[InitiativeState]:
    """The initiatives complete before the period, which the form lists without asking again."""
    return [i for i in in_order(state) if done_before(i, state.period) and i.number not in reopened]


SOURCE_WORDS = {
    "file": "the city's export",
    "api": "the city's systems",
    "fetch": "its data source",
    "form": "the form",
    "thread": "a thread reply",
    "import": "sample data",
}


def measures_owed(state: DepartmentState) -> str:
    """'2 measures still need a number' ('' when none do)."""
    owed = len(state.measures_without_number)
    if not owed:
        return ""
    return f"{plural(owed, 'measure')} still {'needs' if owed == 1 else 'need'} a number"


def measure_ask_line(state: DepartmentState, view: MeasureView) -> str:
    """One due measure on the prompt: what is asked of the lead about it, if anything."""
    name = f"*{escape(view.name)}*"
    judged = view.judged(state.period, state.fiscal_start)
    target = (
        f"target {amount(judged.target, view.unit)}" if judged.target is not None else "no target"
    )
    latest = view.latest.get(state.period)
    if latest is None:
        before = [p for p in view.values if p < state.period]
        last = (
            f"last {amount(view.values[max(before)], view.unit)} ({month_name(max(before))})"
            if before
            else "no value yet"
        )
        unit = f" {unit_label(view.unit)}" if unit_label(view.unit) else ""
        return f"• {name} — *a number, please*{unit} · {last} · {target}"
    got = f"{amount(latest.value, view.unit)}"
    said = f"{judged.status.label}"
    if view in state.measures_to_explain:
        source = SOURCE_WORDS.get(latest.source, "elsewhere")
        return (
            f"• {name} — {got} from {source}: {said} ({target}). *Why?* A note is all "
            f"that is needed: reply `{escape(view.key)}: <why>` or use Submit update"
        )
    return f"• {name} — {got} · {said} ({target})"


def _measure_parts(state: DepartmentState) -> list[Part]:
    due = state.due_measures
    if not due:
        return []
    return [
        Lines(
            title=f"*Measures for {month_name(state.period)}*",
            lines=[measure_ask_line(state, v) for v in due],
            more=lambda n: f"…and {n} more — open the form to see them all",
        )
    ]


def render_prompt(
    state: DepartmentState,
    people: People,
    status_line: str | None = None,
    *,
    due: datetime | None = None,
    away: Mapping[str, Away] | None = None,
    names: People | None = None,
    timezone: str = "America/New_York",
) -> Message:
    """The monthly prompt: who is asked and by when (`due`, the period's close), each initiative
    with its last status, the two buttons and the thread-reply hint; `status_line` (trusted
    mrkdwn, see `status_line()`) closes it once someone has answered. Owners `away` are not
    pinged: a line names them (by `names`, without a ping) and who answers meanwhile."""
    away = away or {}
    month = month_name(state.period)
    suffix = f" — {period_label(state.period)} update"
    ask = f"how did {month} go?"
    if due is not None:
        ask += f" Due by *{due_words(due)}*; answers after that are recorded as late."
    owed = measures_owed(state)
    if owed:
        ask += f" {owed}: *No change* does not give one."
    asked = mentions(state, people, away)
    covering = cover_lines(state, away, people, names or people, timezone)
    parts: list[Part] = [
        header(excerpt(state.name, limits.HEADER_TEXT - len(suffix)) + suffix),
        section(f"{asked}, {ask}" if asked else ask.capitalize()),
        *([context(excerpt("\n".join(covering), limits.CONTEXT_TEXT))] if covering else []),
        Lines(
            lines=[_prompt_line(i) for i in in_order(state)] or ["No initiatives yet."],
            more=lambda n: f"…and {n} more — open the form to see them all",
        ),
        *_measure_parts(state),
        prompt_buttons(state.key, state.period, help=True),
        context(_HINT + (_MEASURE_HINT if state.due_measures else "")),
    ]
    if status_line:
        parts.append(context(excerpt(status_line, limits.CONTEXT_TEXT)))
    return message(f"{escape(state.name)}: your {month} update is due", parts)


def render_not_owner(department_name: str) -> Message:
    """Said only to someone who answered for a department they do not own."""
    shown = (
        f"Only {plan_name(department_name)}'s owners (or a Plan Bot admin) can report its "
        "progress; nothing was recorded."
    )
    return message(shown, [section(shown)])


def render_no_change_done(state: DepartmentState, recorded: int, without: Sequence[int]) -> Message:
    """The private confirmation after "No change", naming the initiatives it could not repeat."""
    name, label = plan_name(state.name), period_label(state.period)
    if recorded:
        shown = f"Recorded no change for {plural(recorded, 'initiative')} of {name} for {label}."
    else:
        shown = f"Nothing was recorded for {name} for {label}: no initiative has a status yet."
    parts: list[Part] = []
    if without:
        verb, them = ("has", "it") if len(without) == 1 else ("have", "them")
        listed = numbers_list(list(without))
        shown += f"\n{listed} {verb} no status yet — use Submit update for {them}."
        parts = [section(shown), prompt_buttons(state.key, state.period, no_change=False)]
    else:
        parts = [section(shown)]
    owed = measures_owed(state)
    if owed:
        names = ", ".join(escape(m.name) for m in state.measures_without_number[:10])
        more = len(state.measures_without_number) - 10
        names += f" and {more} more" if more > 0 else ""
        extra = (
            f"{owed} — a click cannot give one: {names}. Use Submit update, or reply in "
            "the prompt's thread (`potholes 412`)."
        )
        shown += "\n" + extra
        parts.append(section(extra))
    return message(shown, parts)


# What the clicker of an overtaken "No change" is told happened (the rush benchmark clicks
# again on reading it, as a lead would).
OVERTAKEN = "another update came in just as you clicked"


def render_no_change_overtaken(state: DepartmentState) -> Message:
    """The private answer to "No change" when another answer was stored after the clicker's
    prompt was read: repeating what they saw would undo it, so nothing is recorded and they
    are asked again, with the buttons."""
    name, label = plan_name(state.name), period_label(state.period)
    shown = (
        f"Nothing was recorded for {name} for {label}: {OVERTAKEN}, and *No change* would "
        "have put back what it replaced. If nothing has changed since that update, click *No "
        "change* again."
    )
    return message(shown, [section(shown), prompt_buttons(state.key, state.period)])


def render_unowned(period: str, names: Sequence[str]) -> Message:
    """For admins: departments nobody was asked for, because they have no owner."""
    label = period_label(period)
    if not names:
        shown = f"Every department has an owner, so every one was asked for {label}."
        return message(shown, [section(shown)])
    intro = (
        f"This department has no owner, so nobody was asked for {label}: "
        if len(names) == 1
        else f"These departments have no owner, so nobody was asked for {label}: "
    )
    tail = f". Assign one with {command('owner', '<department>', '@someone')}."
    escaped = [plan_name(n) for n in names]
    room = limits.SECTION_PACK - len(intro) - len(tail)
    if len(", ".join(escaped)) > room:
        room -= len(f" and {len(escaped)} more")
        shown_names: list[str] = []
        used = 0
        for name in escaped:
            cost = len(name) + (2 if shown_names else 0)
            if used + cost > room:
                break
            shown_names.append(name)
            used += cost
        listed = ", ".join(shown_names) + f" and {len(escaped) - len(shown_names)} more"
    else:
        listed = ", ".join(escaped)
    shown = intro + listed + tail
    return message(shown, [section(shown)])
