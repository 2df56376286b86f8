"""The weekly digest as Slack messages: a main post for the leadership channel, exceptions first,
and as many thread replies as it takes to list every long list whole.

Built from `models.digest.DigestContent`; no SQL and no Slack calls here. The main post shows the
headline (totals by status, response rate), the Mayor's goals, what needs attention, who has not
reported and what changed, each long list cut short with "…and N more — see the thread". The
thread replies carry on each list exactly where the main post stopped, so every status change,
attention item and missing department appears once, in the main post or in the thread.

`people` turns a Slack user id into the text shown for that person (a name, so that a digest
posted in a channel pings nobody); user ids never reach the digest any other way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import DividerBlock

from handlers.messages import limits
from handlers.messages.answers import (
    _MESSAGE_BLOCKS,
    _MESSAGE_CHARS,
    Message,
    People,
    _command,
    _context,
    _day,
    _fits,
    _goal_line,
    _header,
    _in_words,
    _lay_out_counted,
    _List,
    _measure,
    _missing_line,
    _name,
    _Part,
    _plural,
    _section,
    _Sections,
    _whole,
)
from handlers.messages.text import escape, escaped_excerpt, excerpt
from models.digest import AttentionItem, Change, DigestContent, ItemRef
from models.periods import period_label
from models.status import Status

__all__ = ["DigestMessages", "render_digest"]

# How many lines of each list the main post shows at most: enough to read at a glance; the rest
# continue in the thread. The main post may show fewer when Slack's limits say so.
MAIN_ATTENTION = 10
MAIN_STALE = 5
MAIN_MISSING = 15
MAIN_CHANGES = 15

# How much of each piece of plan or user text a digest line shows (escaped lengths).
_TEXT = 120
_NOTE = 200
_STALE_NOTE = 120
_CHANGE_TEXT = 80
_TITLE = 100

_CHART_HINT = "Chart of status by goal in the thread."
_PREVIEW_HINT = "Preview — only you can see this; nothing was recorded."
# Room at the top of each thread reply for the line saying which digest it continues.
_THREAD_CONTEXT_CHARS = 250


@dataclass(frozen=True)
class DigestMessages:
    main: Message  # the post in the leadership channel
    thread: list[Message]  # continuations posted in its thread, in order (may be empty)


# --- layout: the main post shows the head of each list, the thread the rest -----------------------


@dataclass(frozen=True)
class _Rest:
    """A list continued in the thread from line `start` on."""

    name: str
    lines: Sequence[str]
    start: int
    gap: str


def _chunk(rest: _Rest, start: int, most_blocks: int, most_chars: int) -> tuple[list[str], int]:
    """Section texts for as many of the rest's lines from `start` on as fit, under a title
    saying which they are ("*Needs attention* (11–120 of 120)"); and how many were taken."""
    total = len(rest.lines)

    def title(last: int) -> str:
        return f"*{rest.name}* ({start + 1}–{last} of {total})"

    # Take lines under the longest title this chunk could have, then write the real one.
    sections = _Sections()
    sections.add(title(total), "")
    taken = 0
    for line in rest.lines[start:]:
        if not _fits(sections.cost((line, rest.gap)), most_blocks, most_chars):
            break
        sections.add(line, rest.gap)
        taken += 1
    while taken:
        final = _Sections()
        final.add(title(start + taken), "")
        for line in rest.lines[start : start + taken]:
            final.add(line, rest.gap)
        texts = final.done()
        if _fits(_measure(texts), most_blocks, most_chars):
            return texts, taken
        taken -= 1
    return [], 0


def _thread(rests: Sequence[_Rest], heading: str) -> list[Message]:
    """Thread replies carrying each list on from where the main post stopped, in order, each
    reply within Slack's limits and opened by a line naming the digest it continues."""
    most_blocks = _MESSAGE_BLOCKS - 1  # the opening context line
    most_chars = _MESSAGE_CHARS - _THREAD_CONTEXT_CHARS
    pages: list[list[str]] = []
    page: list[str] = []
    for rest in rests:
        start = rest.start
        while start < len(rest.lines):
            used = _measure(page)
            texts, taken = _chunk(rest, start, most_blocks - used[0], most_chars - used[1])
            if not taken:
                if not page:  # unreachable: a line is never longer than a section
                    raise ValueError(f"a line of {rest.name!r} fits no thread message")
                pages.append(page)
                page = []
                continue
            page += texts
            start += taken
    if page:
        pages.append(page)
    messages = []
    for number, texts in enumerate(pages, start=1):
        where = f"{heading} — continued ({number} of {len(pages)})"
        blocks = [_context(escape(where)).to_dict(), *(_section(t).to_dict() for t in texts)]
        fallback = escaped_excerpt(where, limits.NOTIFICATION_TEXT)
        messages.append(Message(text=fallback, blocks=blocks))
    return messages


# --- lines ----------------------------------------------------------------------------------------


def _item(item: ItemRef) -> str:
    """'*Fire #3*': the marker every line about an initiative starts from."""
    return f"*{_name(item.department.name)} #{item.number}*"


def _as_of(period: str, open_period: str) -> str:
    return "" if period == open_period else f" · as of {period_label(period)}"


def _attention_line(a: AttentionItem, period: str) -> str:
    """An item needing attention, or (with `stale_since`) one unchanged for a while."""
    head = f"{a.status.label} · {_item(a.item)}"
    if a.percent is not None:
        head += f" · {a.percent}%"
    if a.stale_since is not None:
        head += f" · unchanged since {period_label(a.stale_since)}"
    head += _as_of(a.period, period)
    lines = [head]
    if a.item.text.strip():
        lines.append(escaped_excerpt(a.item.text, _TEXT))
    if a.note.strip():
        note_limit = _NOTE if a.stale_since is None else _STALE_NOTE
        lines.append(f"> {escaped_excerpt(a.note, note_limit)}")
    return "\n".join(lines)


def _change_line(c: Change, people: People, timezone: str) -> str:
    moved = f"new: {c.after.label}" if c.before is None else f"{c.before.label} → {c.after.label}"
    text = escaped_excerpt(c.item.text, _CHANGE_TEXT)
    about = f" — {text}" if text else ""
    return f"• {_item(c.item)} {moved}{about} ({people(c.author)}, {_day(c.received_at, timezone)})"


def _worse_first(changes: Sequence[Change]) -> list[Change]:
    """Exceptions first: changes into off track, then into at risk, then the rest, each group
    in the order the content gives."""
    rank = {Status.OFF_TRACK: 0, Status.AT_RISK: 1}
    return sorted(changes, key=lambda c: rank.get(c.after, 2))


def _more_in_thread(what: str, preview: bool) -> Callable[[int], str]:
    # A preview is shown alone (an ephemeral answer has no thread to continue in).
    where = "the posted digest lists them all in its thread" if preview else "see the thread"
    return lambda n: f"…and {n} more {what} — {where}"


def _response(content: DigestContent) -> str:
    """'15 of 19 departments reported for October 2026', or that nobody was asked."""
    if not content.owned_departments:
        return "no department has an owner yet"
    return (
        f"{content.reported_owned} of {_plural(content.owned_departments, 'department')} "
        f"reported for {period_label(content.period)}"
    )


def _headline(content: DigestContent) -> str:
    totals = content.totals
    shown = (
        f"{_in_words(totals)} — *{_plural(totals.total, 'initiative')}*"
        if totals.total
        else "No initiatives yet."
    )
    if not content.owned_departments:
        return (
            f"{shown}\nNo department has an owner yet, so nobody was asked to report for "
            f"{period_label(content.period)}."
        )
    # Rounded down, so 18 of 19 never shows as 100%.
    percent = content.reported_owned * 100 // content.owned_departments
    return f"{shown}\n*{_response(content)}* ({percent}%)"


def _fallback(content: DigestContent, title: str) -> str:
    totals = content.totals
    return (
        f"{escape(title)}: {_response(content)}; "
        f"{totals[Status.OFF_TRACK]} off track, {totals[Status.AT_RISK]} at risk"
    )


# --- the digest -----------------------------------------------------------------------------------


def render_digest(
    content: DigestContent,
    people: People,
    *,
    timezone: str,
    title: str = "Weekly plan digest",
    preview: bool = False,
) -> DigestMessages:
    """The weekly digest: the main post (exceptions first) and the thread replies that carry
    its long lists on, whole. `preview` is for `/plan digest`: shown to the caller only."""
    period = content.period
    label = period_label(period)
    heading = f"{excerpt(title, _TITLE)} · {label}"
    urgent = [a for a in content.attention if a.stale_since is None]
    stale = [a for a in content.attention if a.stale_since is not None]
    changes = _worse_first(content.changes)
    missing = content.missing.missing

    parts: list[_Part] = [_header(heading), _section(_headline(content))]

    mayor = content.mayor_goals
    if mayor:
        parts += [
            _List(
                title="*Mayor's goals*",
                lines=[_goal_line(g) for g in mayor],
                more=lambda n: f"…and {n} more goals — type {_command('goals')}",
            ),
            _context(
                f"Reported: initiatives with an update for {label}. An initiative aligned to "
                "two goals counts under each, so the goals add up to more than the total."
            ),
        ]
    parts.append(DividerBlock())

    # Each list continued in the thread, by its position in `parts`.
    continued: dict[int, tuple[str, list[str], str]] = {}

    def add_list(name: str, title: str, lines: list[str], what: str, most: int, gap: str) -> None:
        continued[len(parts)] = (name, lines, gap)
        more = _more_in_thread(what, preview)
        parts.append(_List(lines=lines, more=more, title=title, gap=gap, most_lines=most))

    if urgent:
        off = sum(1 for a in urgent if a.status == Status.OFF_TRACK)
        risk = sum(1 for a in urgent if a.status == Status.AT_RISK)
        add_list(
            "Needs attention",
            f"*Needs attention* ({len(urgent)}) — {off} off track, {risk} at risk",
            [_attention_line(a, period) for a in urgent],
            "needing attention",
            MAIN_ATTENTION,
            "\n\n",
        )
    elif not stale:
        parts.append(_section("*Needs attention*\nNothing is off track or at risk. ✔"))
    if stale:
        add_list(
            "Unchanged for a while",
            f"*Unchanged for a while* ({len(stale)})",
            [_attention_line(a, period) for a in stale],
            "unchanged",
            MAIN_STALE,
            "\n\n",
        )
    parts.append(DividerBlock())

    if missing:
        add_list(
            f"Not reported for {label}",
            f"*Not reported for {label}* ({len(missing)})",
            [_missing_line(d, people) for d in missing],
            "departments",
            MAIN_MISSING,
            "\n",
        )
    elif content.missing.expected:
        parts.append(_section(f"🎉 *Every department has reported for {label}.*"))
    parts.append(DividerBlock())

    updates = (
        f"{_plural(content.new_updates, 'new update')}, {content.late_updates} late · "
        f"{_plural(len(changes), 'status change')}"
    )
    if content.since is None:
        changed = (
            "*What changed*\nThis is the first digest, so there is nothing to compare with yet."
        )
        changes_name = "What changed"
    else:
        since = _day(content.since, timezone, year=True)
        changed = f"*What changed since {since}*\n{updates}"
        changes_name = f"What changed since {since}"
    if changes:
        add_list(
            changes_name,
            changed,
            [_change_line(c, people, timezone) for c in changes],
            "status changes",
            MAIN_CHANGES,
            "\n",
        )
    else:
        no_change = "" if content.since is None else "\nNo initiative changed status."
        parts.append(_section(changed + no_change))

    parts.append(_context(_PREVIEW_HINT if preview else _CHART_HINT))

    blocks, shown = _lay_out_counted(parts, _MESSAGE_BLOCKS, _MESSAGE_CHARS)
    main = Message(text=excerpt(_fallback(content, title), limits.NOTIFICATION_TEXT), blocks=blocks)
    rests = [
        _Rest(name, [_whole(line) for line in lines], shown[i], gap)
        for i, (name, lines, gap) in continued.items()
    ]
    return DigestMessages(main=main, thread=_thread(rests, heading))
