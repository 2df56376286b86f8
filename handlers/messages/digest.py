"""The weekly digest as Slack messages: a main post a leader reads in twenty seconds, and as many
thread replies as it takes to list everything else whole.

Built from `models.digest_content.DigestContent`; no SQL and no Slack calls here. The main post
fits on one screen: the week it covers, the response rate, what got worse this week, the five most
serious items (off track before at risk, longest first), one line per main goal. The thread
carries on each of those lists exactly where the main post stopped, then lists whole what only
it holds: stale work, who has not reported, the other changes, the other goals. Every status
change, attention item and missing department appears once, in the main post or the thread.

`people` turns a Slack user id into the text shown for that person (a name, so that a digest
posted in a channel pings nobody); user ids never reach the digest any other way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from handlers.messages import limits
from handlers.messages.help import help_line
from handlers.messages.layout import (
    MESSAGE_BLOCKS,
    MESSAGE_CHARS,
    Continued,
    Lines,
    Message,
    Part,
    People,
    context,
    continue_in_pages,
    day,
    header,
    lay_out_counted,
    plural,
    section,
    whole_line,
)
from handlers.messages.measures import SAMPLE_NOTE, attention_measure_line
from handlers.messages.questions import attention_line, change_line, got_worse, worse_first
from handlers.messages.text import escape, escaped_excerpt, excerpt
from handlers.messages.words import counts_in_words, goal_line, missing_line, response_words
from models.digest_content import DigestContent, MeasureDigest
from models.measure_status import MeasureStatus
from models.periods import period_label
from models.status import Status

__all__ = ["DigestMessages", "render_digest"]

# How many lines of each list the main post shows at most, so that it fits on one screen; the
# rest continue in the thread. The main post may show fewer when Slack's limits say so.
MAIN_WORSE = 5
MAIN_SERIOUS = 5
MAIN_MEASURES = 3
MAIN_HELP = 3  # requests for help in the main post; the rest in the thread
MAIN_GOALS = 6
# The first digest has no previous one to start from: it covers the week before it.
FIRST_DIGEST_COVERS = timedelta(days=7)

_TITLE = 100
_PREVIEW_HINT = "Preview — only you can see this; nothing was recorded."
# Room at the top of each thread reply for the line saying which digest it continues.
_THREAD_CONTEXT_CHARS = 250


@dataclass(frozen=True)
class DigestMessages:
    main: Message  # the post in the leadership channel
    thread: list[Message]  # continuations posted in its thread, in order (may be empty)


# --- layout: the main post shows the head of each list, the thread the rest -----------------------


def _thread(rests: Sequence[Continued], heading: str) -> list[Message]:
    """Thread replies carrying each list on from where the main post stopped, in order, each
    reply within Slack's limits and opened by a line naming the digest it continues."""
    most_blocks = MESSAGE_BLOCKS - 1  # the opening context line
    most_chars = MESSAGE_CHARS - _THREAD_CONTEXT_CHARS
    pages = continue_in_pages(rests, most_blocks, most_chars)
    messages = []
    for number, texts in enumerate(pages, start=1):
        where = f"{heading} — continued ({number} of {len(pages)})"
        blocks = [context(escape(where)).to_dict(), *(section(t).to_dict() for t in texts)]
        fallback = escaped_excerpt(where, limits.NOTIFICATION_TEXT)
        messages.append(Message(text=fallback, blocks=blocks))
    return messages


# --- the digest -----------------------------------------------------------------------------------


def _covers(content: DigestContent, timezone: str) -> str:
    """The week the digest covers: 'Nov 23 – Nov 30, 2026', since the previous digest (or the
    seven days before the first)."""
    until = content.until
    start = content.since if content.since is not None else until - FIRST_DIGEST_COVERS
    return f"{day(start, timezone)} – {day(until, timezone, year=True)}"


def _fallback(content: DigestContent, title: str) -> str:
    totals = content.totals
    text = (
        f"{escape(title)}: {response_words(content.response)}; "
        f"{totals[Status.OFF_TRACK]} off track, {totals[Status.AT_RISK]} at risk"
    )
    missed = _missed(content.measures)
    return f"{text}; {plural(missed, 'measure')} missed" if missed else text


def _missed(measures: MeasureDigest) -> int:
    return sum(1 for a in measures.attention if a.judged.status is MeasureStatus.MISSED)


def _measures_title(measures: MeasureDigest) -> str:
    """'*Measures off target* — 2 missed, 1 near target and worse; furthest from target
    first'."""
    missed = _missed(measures)
    near = len(measures.attention) - missed
    said = [f"{missed} missed"] if missed else []
    if near:
        said.append(f"{near} near target and worse")
    order = "; furthest from target first" if len(measures.attention) > 1 else ""
    return f"*Measures off target* — {', '.join(said)}{order}"


def _more_in_thread(preview: bool) -> Callable[[str], Callable[[int], str]]:
    # A preview is shown alone (an ephemeral answer has no thread to continue in).
    where = "the posted digest lists them all in its thread" if preview else "see the thread"
    return lambda what: lambda n: f"…and {n} more {what} — {where}"


def _also_in_the_thread(thread_only: Sequence[Continued], preview: bool) -> str:
    """The main post's last line: what only the thread holds."""
    # Named without their period, so that the line carries one date at most.
    held = [f"{rest.name.split(' for ')[0].lower()} ({len(rest.lines)})" for rest in thread_only]
    if preview:
        listed = ", ".join(held) if held else "nothing more"
        return f"The posted digest's thread also lists: {listed}. {_PREVIEW_HINT}"
    return "Also in the thread: " + ", ".join([*held, "the charts"]) + "."


def render_digest(
    content: DigestContent,
    people: People,
    *,
    timezone: str,
    title: str = "Weekly plan digest",
    preview: bool = False,
) -> DigestMessages:
    """The weekly digest. The main post fits on one screen: the week it covers, the response
    rate, what got worse this week, the five most serious items, one line per main goal. The
    thread carries everything else whole — the rest of what needs attention, stale work, who
    has not reported, the other changes, the other goals — each item once, in the main post or
    the thread. `preview` is for `/plan digest`: shown to the caller only, without a thread."""
    period = content.period
    label = period_label(period)
    heading = f"{excerpt(title, _TITLE)} · {_covers(content, timezone)}"
    urgent = [a for a in content.attention if not a.stale]
    stale = [a for a in content.attention if a.stale]
    changes = worse_first(content.changes)
    worse = [c for c in changes if got_worse(c)]
    other_changes = [c for c in changes if not got_worse(c)]
    missing = content.response.missing
    main_goals = content.goals.main_goals
    other_goals = [g for g in content.goals.goals if g not in main_goals]
    more = _more_in_thread(preview)

    totals = content.totals
    counts = (
        f"{counts_in_words(totals)} — {plural(totals.total, 'initiative')}"
        if totals.total
        else "No initiatives yet."
    )
    parts: list[Part] = [
        header(heading),
        section(f"*{response_words(content.response)}.*\n{counts}"),
    ]
    # Lists the main post starts and the thread continues, by their position in `parts`.
    continued: dict[int, Continued] = {}

    def begin(rest: Continued, title: str, shown_lines: list[str], what: str, most: int) -> None:
        continued[len(parts)] = rest
        parts.append(
            Lines(title=title, lines=shown_lines, more=more(what), gap="\n", most_lines=most)
        )

    if content.since is None:
        parts.append(
            section("*Got worse this week*\nThis is the first digest: nothing to compare yet.")
        )
    elif worse:
        lines = [change_line(c, people, timezone) for c in worse]
        begin(
            Continued("Got worse this week", lines, 0, "\n"),
            f"*Got worse this week* ({len(worse)})",
            lines,
            "that got worse",
            MAIN_WORSE,
        )
    else:
        parts.append(section("*Got worse this week*\nNothing. ✔"))

    red = {r.item.initiative_id: r for r in content.still_red}
    if urgent:
        off = sum(1 for a in urgent if a.status == Status.OFF_TRACK)
        full = [attention_line(a, period, red=red.get(a.initiative_id)) for a in urgent]
        # The main post shows at most MAIN_SERIOUS of them, compact (the layout reads no line
        # past `most_lines`, only how many there are): thousands on a large plan, each compact
        # line ~50 µs of formatting for nothing.
        compact = [
            attention_line(a, period, compact=True, red=red.get(a.initiative_id))
            for a in urgent[:MAIN_SERIOUS]
        ]
        begin(
            Continued("Needs attention", full, 0, "\n\n"),
            f"*Most serious* — {off} off track, {len(urgent) - off} at risk; "
            "off track first, longest first",
            compact + [""] * (len(urgent) - len(compact)),
            "needing attention",
            MAIN_SERIOUS,
        )
    else:
        parts.append(section("*Most serious*\nNothing is off track or at risk. ✔"))

    still = content.still_red
    if still:
        off = sum(1 for r in still if not r.item.stale)
        said = [f"{off} off track for two months or more"] if off else []
        if len(still) > off:
            said.append(f"{len(still) - off} with no progress for three months or more")
        parts.append(
            section(
                f"*Still red* — {', '.join(said)}: marked “still red” where they are listed, "
                "with how long and the last reason given."
            )
        )

    if content.help:
        lines = [help_line(v, people, timezone, content.until) for v in content.help]
        begin(
            Continued("Help requested", lines, 0, "\n"),
            f"*Help requested* ({len(content.help)}) — oldest first, until resolved",
            lines,
            "requests for help",
            MAIN_HELP,
        )

    measures = content.measures
    if measures.attention:
        lines = [attention_measure_line(a, measures.periods, period) for a in measures.attention]
        begin(
            Continued("Measures off target", lines, 0, "\n"),
            _measures_title(measures),
            lines,
            "measures off target",
            MAIN_MEASURES,
        )
    elif measures.count:
        parts.append(
            section(
                "*Measures*\nNo measure missed its target or got worse "
                f"({plural(measures.count, 'measure')}). ✔"
            )
        )
    if any(a.measure.sample for a in measures.attention):
        parts.append(context(SAMPLE_NOTE))

    if main_goals:
        lines = [goal_line(g) for g in main_goals]
        begin(Continued("Goals", lines, 0, "\n"), "*Goals*", lines, "goals", MAIN_GOALS)

    # Everything else is the thread's, whole.
    thread_only: list[Continued] = []
    if stale:
        lines = [attention_line(a, period, red=red.get(a.initiative_id)) for a in stale]
        thread_only.append(Continued("No progress for three periods", lines, 0, "\n\n"))
    if missing:
        lines = [missing_line(d, people) for d in missing]
        thread_only.append(Continued(f"Not reported for {label}", lines, 0, "\n"))
    if other_changes:
        lines = [change_line(c, people, timezone) for c in other_changes]
        thread_only.append(Continued("Other changes", lines, 0, "\n"))
    if other_goals:
        lines = [goal_line(g) for g in other_goals]
        thread_only.append(Continued("Other goals", lines, 0, "\n"))
    closing = _also_in_the_thread(thread_only, preview)
    if content.since is not None:
        received = (
            f"Since {day(content.since, timezone)}: "
            f"{plural(content.new_updates, 'new update')} ({content.late_updates} late), "
            f"{plural(len(changes), 'status change')}."
        )
        closing = f"{received} {closing}"
    parts.append(context(closing))

    blocks, shown = lay_out_counted(parts, MESSAGE_BLOCKS, MESSAGE_CHARS)
    rests = [
        Continued(rest.name, [whole_line(line) for line in rest.lines], shown[i], rest.gap)
        for i, rest in continued.items()
    ]
    rests += [
        Continued(r.name, [whole_line(line) for line in r.lines], 0, r.gap) for r in thread_only
    ]
    main = Message(text=excerpt(_fallback(content, title), limits.NOTIFICATION_TEXT), blocks=blocks)
    return DigestMessages(main=main, thread=[] if preview else _thread(rests, heading))
