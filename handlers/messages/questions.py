"""Block Kit for the COO's plan-wide questions: what is off track, at risk or stale (by goal),
one initiative, who owns what, and what changed — and the lines about an item needing
attention or a status change that the weekly digest shows the same way.

Built from typed results of `models.attention`, `models.queries` and `models.digest_content`; no
SQL and no Slack calls here. Every line carries at most one date qualifier ("since August 2026",
"as of September 2026", "no progress since July 2026"), so a leader reads it at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import DividerBlock

from handlers.messages.help import help_actions
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
    more,
    plan_name,
    plural,
    section,
)
from handlers.messages.text import escape, escaped_excerpt
from handlers.messages.words import (
    FROM_THE_PLAN,
    owner_names,
    people_named,
    said_by,
    status_text,
)
from models.attention import (
    NO_CHANGE_NOTE,
    AttentionByGoal,
    AttentionItem,
    ItemRef,
    StillRed,
    Which,
)
from models.digest_content import Change
from models.periods import period_label
from models.queries import InitiativeDetail, OwnersOverview, UpdateView
from models.status import Status, look
from models.tables import Source

# How much of each piece of plan or user text a line shows (escaped lengths).
_TEXT = 120
_NOTE = 200
_STALE_NOTE = 120
_CHANGE_TEXT = 80
_COMPACT_TEXT = 70
_COMPACT_NOTE = 90
_DETAIL_TEXT = 1000
_PERIOD_NOTE = 160

_TITLES: dict[Which, tuple[str, str]] = {
    "off_track": ("Off track", "Nothing is off track. ✔"),
    "at_risk": ("At risk", "Nothing is at risk. ✔"),
    "stale": ("Stale", "Every initiative has made progress in the last three periods. ✔"),
}


# --- lines shared with the digest ------------------------------------------------------------


def item_marker(item: ItemRef) -> str:
    """'*Fire #3*': the marker every line about an initiative starts from."""
    return f"*{plan_name(item.department.name)} #{item.number}*"


def _qualifier(a: AttentionItem, period: str) -> str:
    """The line's one date: how long an item has gone without progress, that its latest word
    is from an earlier period, or since when it has held its status."""
    if a.stale_since is not None:
        return f" · no progress since {period_label(a.stale_since)}"
    if a.period != period:
        return f" · as of {period_label(a.period)}"
    return f" · since {period_label(a.since)}" if a.since else ""


_SILENT = ("", NO_CHANGE_NOTE)  # notes that give no reason


def attention_line(
    a: AttentionItem, period: str, *, compact: bool = False, red: StillRed | None = None
) -> str:
    """An item off track or at risk (since when), or stale (no progress since when), its text
    and its latest note; `compact`: two lines, the text and the note cut shorter. An item that
    stays red (`red`, issue 16) says so, and when its latest note says nothing ("No change",
    or none), the last reason given."""
    head = f"{a.status.label} · {item_marker(a.item)}"
    if a.percent is not None:
        head += f" · {a.percent}%"
    head += _qualifier(a, period)
    note = a.note if a.note.strip() else ""
    said = ""
    if red is not None:
        head += " · still red"
        if a.note.strip() in _SILENT:
            said = (
                f"last reason ({period_label(red.reason_period)}): "
                if red.reason.strip() and red.reason_period
                else "no reason given in the last year"
            )
            note = red.reason if red.reason.strip() else ""
    if compact:
        about = escaped_excerpt(a.item.text, _COMPACT_TEXT)
        if note or said:
            quoted = f"“{escaped_excerpt(note, _COMPACT_NOTE)}”" if note else ""
            about += f" — {said}{quoted}"
        return f"{head}\n{about}" if about else head
    lines = [head]
    if a.item.text.strip():
        lines.append(escaped_excerpt(a.item.text, _TEXT))
    if note or said:
        text = escaped_excerpt(note, _STALE_NOTE if a.stale else _NOTE) if note else ""
        lines.append(f"> {said}{text}")
    return "\n".join(lines)


def change_line(c: Change, people: People, timezone: str) -> str:
    moved = f"new: {c.after.label}" if c.before is None else f"{c.before.label} → {c.after.label}"
    text = escaped_excerpt(c.item.text, _CHANGE_TEXT)
    about = f" — {text}" if text else ""
    who = f"{people(c.author)}, " if c.author else ""
    return f"• {item_marker(c.item)} {moved}{about} ({who}{day(c.received_at, timezone)})"


_RANK = {
    Status.OFF_TRACK: 0,
    Status.AT_RISK: 1,
    Status.NOT_STARTED: 2,
    Status.ON_TRACK: 3,
    Status.COMPLETE: 4,
}


def got_worse(c: Change) -> bool:
    """A change into off track or at risk, or down the scale (at risk → off track)."""
    if not c.after.needs_attention:
        return False
    return c.before is None or _RANK[c.after] < _RANK[c.before]


def worse_first(changes: Sequence[Change]) -> list[Change]:
    """Exceptions first: changes into off track, then into at risk, then the rest, each group
    in the order given."""
    rank = {Status.OFF_TRACK: 0, Status.AT_RISK: 1}
    return sorted(changes, key=lambda c: rank.get(c.after, 2))


# --- /plan off track, /plan at risk, /plan stale ----------------------------------------------


def render_attention_by_goal(a: AttentionByGoal) -> Message:
    """Initiatives off track, at risk or stale across the plan, under each goal they serve,
    the goal with the most first and, within a goal, the longest-running first."""
    label = period_label(a.period)
    title, nothing = _TITLES[a.which]
    what = {
        "off_track": "off track",
        "at_risk": "at risk",
        "stale": "with no progress for three periods",
    }[a.which]
    parts: list[Part] = [header(f"{title} across the plan — {label}")]
    if not a.total:
        parts.append(section(nothing))
        return message(f"{title} across the plan, {label}: none", parts)
    order = (
        "longest without progress first" if a.which == "stale" else "longest at this status first"
    )
    parts.append(
        context(
            f"*{plural(a.total, 'initiative')}* {what} · by goal, {order} · "
            "each under the first goal it serves"
        )
    )
    for group in a.groups:
        parts.append(
            Lines(
                title=f"*{plan_name(group.goal.name)}* ({len(group.items)})",
                lines=[attention_line(item, a.period) for item in group.items],
                more=more(what, f"see {command(group.goal.key)}"),
                gap="\n\n",
            )
        )
    parts.append(context(f"{command('fire', 3)} shows one initiative in full."))
    return message(f"{title} across the plan, {label}: {plural(a.total, 'initiative')}", parts)


# --- /plan fire 3 -------------------------------------------------------------------------------


def _period_line(period: str, update: UpdateView | None) -> str:
    """'*October 2026* — 🟡 At risk · 40% — waiting on the union'."""
    label = f"*{period_label(period)}*"
    if update is None:
        return f"{label} — {look(None).label}"
    shown = update.status.label + (f" · {update.percent}%" if update.percent is not None else "")
    if update.source == Source.PLAN:
        shown += f" · {FROM_THE_PLAN}"
    elif update.late:
        shown += " · (late)"
    note = escaped_excerpt(update.note, _PERIOD_NOTE)
    return f"{label} — {shown}" + (f" — {note}" if note else "")


def render_initiative(
    d: InitiativeDetail, period: str, people: People, *, timezone: str
) -> Message:
    """`/plan fire 3`: the initiative, its goals and owners, its latest update, and its last
    word in each of the last six periods."""
    key = d.department.key
    title = f"{d.department.name} #{d.number}"
    about = []
    if d.parent_number is not None:
        about.append(f"Part of {command(key, d.parent_number)}")
    goals = ", ".join(plan_name(g.name) for g in d.goals) or "none"
    about.append(f"Goals: {goals}")
    about.append(f"Owners: {owner_names(d.department, people)}")
    parts: list[Part] = [
        header(title),
        section(escaped_excerpt(d.text, _DETAIL_TEXT) or "—"),
        context(" · ".join(about)),
        DividerBlock(),
    ]
    if d.latest is None:
        parts.append(section(f"*Latest:* {look(None).label} — nothing recorded yet."))
    else:
        latest = [f"*Latest:* {status_text(d.latest, period)}"]
        if d.latest.note.strip():
            latest.append(f"> {escaped_excerpt(d.latest.note, 500)}")
        latest.append(f"— {said_by(d.latest, people, timezone)}")
        parts.append(section("\n".join(latest)))
    parts.append(
        Lines(
            title=f"*The last {plural(len(d.periods), 'period')}*",
            lines=[_period_line(p, u) for p, u in d.periods],
            more=more("periods"),
        )
    )
    parts.append(help_actions(key, period, d.number))
    parts.append(
        context(
            f"{command('history', key, d.number)} shows every update · "
            f"{command(key)} the whole department · report with {command('update', key)}"
        )
    )
    status = look(None if d.latest is None else d.latest.status).label
    return message(f"{escape(title)}: {status}", parts)


# --- /plan owners -------------------------------------------------------------------------------


def render_owners(o: OwnersOverview, people: People, *, timezone: str) -> Message:
    """`/plan owners`: each department with initiatives, its owners, whether it reported for
    the open period, and when it last answered."""
    label = period_label(o.period)
    month = label.split(" ")[0]
    owned = sum(1 for line in o.departments if line.department.owners)

    def line_of(index: int) -> str:
        line = o.departments[index]
        reported = f"✔ reported for {month}" if line.reported else f"not yet reported for {month}"
        if line.last_answer is None:
            last = "never answered"
        else:
            last = f"last answer {said_by(line.last_answer, people, timezone)}"
        backups = f" (backup {people_named(line.backups, people)})" if line.backups else ""
        return (
            f"• *{plan_name(line.department.name)}* ({plural(line.initiatives, 'initiative')}) — "
            f"{owner_names(line.department, people)}{backups} · {reported} · {last}"
        )

    parts: list[Part] = [
        header(f"Who owns what — {label}"),
        context(
            f"{owned} of {plural(len(o.departments), 'department')} with initiatives have an "
            f"owner · admins assign one with {command('owner', '<department>', '@someone')}"
        ),
    ]
    if o.departments:
        parts.append(
            Lines(
                lines=[line_of(i) for i in range(len(o.departments))],
                more=more("departments"),
            )
        )
    else:
        parts.append(section("No department has initiatives yet."))
    return message(f"Who owns what, {label}: {owned} of {len(o.departments)} owned", parts)


# --- /plan changes [goal] -----------------------------------------------------------------------


def render_changes(
    changes: Sequence[Change],
    since: datetime,
    *,
    since_digest: bool,
    goal_name: str | None,
    people: People,
    timezone: str,
) -> Message:
    """`/plan changes [goal]`: the status changes since the last digest (or the last seven days
    when there is none yet), what got worse first."""
    since_day = day(since, timezone, year=True)
    where = f" — {goal_name}" if goal_name else ""
    title = f"What changed since {since_day}{where}"
    about = "since the last digest" if since_digest else "in the last seven days (no digest yet)"
    ordered = worse_first(changes)
    worse = sum(1 for c in ordered if got_worse(c))
    parts: list[Part] = [
        header(title),
        context(
            f"Status changes {about} · {plural(len(ordered), 'change')}, {worse} for the worse"
        ),
    ]
    if ordered:
        parts.append(
            Lines(
                lines=[change_line(c, people, timezone) for c in ordered],
                more=more("status changes"),
            )
        )
    else:
        parts.append(section("No initiative changed status."))
    return message(f"{escape(title)}: {plural(len(ordered), 'status change')}", parts)
