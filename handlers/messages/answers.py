"""Block Kit for every `/plan` answer and the App Home tab, built from typed query results.

No SQL and no Slack calls here: each `render_*` takes a result from `models.queries` and returns
what to send. Every answer fits Slack's limits whatever the plan's size: lines are packed into
sections, and those that do not fit are counted ("…and 37 more") rather than cut.

`people` turns a Slack user id into the text shown for that person: `lambda u: f"<@{u}>"` for
answers only the caller sees, a name for shared ones. Its output is trusted mrkdwn, inserted as
is; user ids never reach a message any other way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from handlers.messages import limits
from handlers.messages.text import escape, escaped_excerpt, excerpt
from models.lookup import Target
from models.periods import local_now, period_label
from models.queries import (
    DepartmentLine,
    DepartmentRef,
    DepartmentSummary,
    GoalLine,
    GoalsOverview,
    GoalSummary,
    InitiativeHistory,
    InitiativeLine,
    MissingReport,
    StatusCounts,
    UpdateView,
)
from models.status import DISPLAY_ORDER, look

People = Callable[[str], str]

SHARE_ACTION = "plan_share"
HOME_UPDATE_ACTION = "home_update"

# Room left in every answer for the "Share in channel" button (one block, a few characters).
_MESSAGE_BLOCKS = limits.MESSAGE_BLOCKS - 1
_MESSAGE_CHARS = limits.MESSAGE_BLOCKS_TEXT - 1000
_UNLIMITED = sys.maxsize

# How much of each piece of plan or user text an answer shows (escaped lengths).
_NAME = 100
_TEXT = 200
_NOTE = 280
_ATTENTION_TEXT = 160
_ATTENTION_NOTE = 220
_HOME_TEXT = 120
_OBJECTIVE = 300
_ECHO = 100
_MOST_OWNERS = 5

_GROUPS = (("mayor", "Mayor's goals"), ("city-plan", "One City, One Plan goals"))
_KIND_NAMES = {"mayor": "Mayor's goal", "city-plan": "One City, One Plan goal"}
_SOURCES = {"form": "the form", "thread": "a thread reply", "command": "a command"}


@dataclass(frozen=True)
class Message:
    """A message to send: `text` is the plain fallback a notification shows, `blocks` the body."""

    text: str
    blocks: list[dict[str, Any]]

    def as_reply(self) -> dict[str, Any]:
        """Keyword arguments for `ack`, `respond` or `chat.postMessage`."""
        return {"text": self.text, "blocks": self.blocks}


# --- layout: fixed blocks and lists of whole lines, fitted into a surface's budget ------------


@dataclass(frozen=True)
class _List:
    """Lines shown whole, packed into sections; the ones that do not fit are counted by `more`."""

    lines: Sequence[str]
    more: Callable[[int], str]  # the closing line when the last n lines are left out
    title: str = ""
    gap: str = "\n"  # between lines
    most_lines: int = _UNLIMITED  # shown at most, even when more would fit


_Part = Block | _List


class _Sections:
    """Section texts under construction: pieces are joined until a section is full."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.current = ""
        self.chars = 0  # in finished texts

    def add(self, piece: str, gap: str) -> None:
        if not self.current:
            self.current = piece
        elif len(self.current) + len(gap) + len(piece) <= limits.SECTION_PACK:
            self.current += gap + piece
        else:
            self.texts.append(self.current)
            self.chars += len(self.current)
            self.current = piece

    def cost(self, *pieces: tuple[str, str]) -> tuple[int, int]:
        """Blocks and characters once `pieces` (text, gap) were added, without adding them."""
        blocks, chars, current = len(self.texts), self.chars, len(self.current)
        for piece, gap in pieces:
            if not current:
                current = len(piece)
            elif current + len(gap) + len(piece) <= limits.SECTION_PACK:
                current += len(gap) + len(piece)
            else:
                blocks, chars, current = blocks + 1, chars + current, len(piece)
        return blocks + (1 if current else 0), chars + current

    def done(self) -> list[str]:
        return [*self.texts, self.current] if self.current else list(self.texts)


def _whole(line: str) -> str:
    """A line is never longer than a section; builders keep lines far shorter than that."""
    if len(line) <= limits.SECTION_PACK:
        return line
    head = line[: limits.SECTION_PACK - 1]
    space = max(head.rfind(" "), head.rfind("\n"))
    return (head[:space] if space > 0 else head) + "…"


def _fits(cost: tuple[int, int], most_blocks: int, most_chars: int) -> bool:
    return cost[0] <= most_blocks and cost[1] <= most_chars


def _pack(part: _List, most_chars: int, most_blocks: int) -> tuple[list[str], int]:
    """Section texts for as many whole lines as fit (and `most_lines` allows), then the
    "…and N more" line; and how many lines were shown."""
    lines = [_whole(line) for line in part.lines]
    sections = _Sections()
    if part.title:
        sections.add(part.title, "")
    if len(lines) <= part.most_lines and _fits(
        sections.cost(*((line, part.gap) for line in lines)), most_blocks, most_chars
    ):
        for line in lines:
            sections.add(line, part.gap)
        return sections.done(), len(lines)
    # Not everything fits: keep room for the closing line after each line taken.
    shown = 0
    for line in lines[: part.most_lines]:
        hidden = len(lines) - shown - 1
        closing = [(_whole(part.more(hidden)), "\n")] if hidden else []
        if not _fits(sections.cost((line, part.gap), *closing), most_blocks, most_chars):
            break
        sections.add(line, part.gap)
        shown += 1
    if shown < len(lines):
        closing_line = _whole(part.more(len(lines) - shown))
        if not _fits(sections.cost((closing_line, "\n")), most_blocks, most_chars):
            return [], 0
        sections.add(closing_line, "\n")
    return sections.done(), shown


def _share(needs: Sequence[int], budget: int) -> list[int]:
    """Split a budget so that no one gets more than they need and the rest share equally."""
    grants = [0] * len(needs)
    left = max(budget, 0)
    order = sorted(range(len(needs)), key=lambda i: needs[i])
    for position, i in enumerate(order):
        grants[i] = min(needs[i], left // (len(needs) - position))
        left -= grants[i]
    return grants


def _lay_out(parts: Sequence[_Part], most_blocks: int, most_chars: int) -> list[dict[str, Any]]:
    """Blocks for `parts`: fixed blocks as they are, lists sharing what room is left fairly."""
    return _lay_out_counted(parts, most_blocks, most_chars)[0]


def _lay_out_counted(
    parts: Sequence[_Part], most_blocks: int, most_chars: int
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """`_lay_out`'s blocks, and how many lines of each list, by position in `parts`, were
    shown (the digest continues the rest in its thread)."""
    fixed = {i: part.to_dict() for i, part in enumerate(parts) if isinstance(part, Block)}
    lists = {i: part for i, part in enumerate(parts) if isinstance(part, _List)}
    blocks_left = most_blocks - len(fixed)
    chars_left = most_chars - limits.text_length(fixed.values())
    char_needs = [_measure(_pack(p, _UNLIMITED, _UNLIMITED)[0])[1] for p in lists.values()]
    char_grants = _share(char_needs, chars_left)
    block_needs = [
        _measure(_pack(p, chars, _UNLIMITED)[0])[0]
        for p, chars in zip(lists.values(), char_grants, strict=True)
    ]
    block_grants = _share(block_needs, blocks_left)
    packed = {
        i: _pack(p, chars, blocks)
        for (i, p), chars, blocks in zip(lists.items(), char_grants, block_grants, strict=True)
    }
    out: list[dict[str, Any]] = []
    for i in range(len(parts)):
        if i in fixed:
            out.append(fixed[i])
        else:
            out.extend(_section(text).to_dict() for text in packed[i][0])
    return out, {i: shown for i, (_, shown) in packed.items()}


def _measure(texts: Sequence[str]) -> tuple[int, int]:
    return len(texts), sum(len(t) for t in texts)


def _message(fallback: str, parts: Sequence[_Part]) -> Message:
    return Message(
        text=excerpt(fallback, limits.NOTIFICATION_TEXT),
        blocks=_lay_out(parts, _MESSAGE_BLOCKS, _MESSAGE_CHARS),
    )


# --- small pieces --------------------------------------------------------------------------------


def _header(text: str) -> HeaderBlock:
    # plain_text: Slack parses no mentions or links in it, so plan names go in unescaped.
    return HeaderBlock(
        text=PlainTextObject(text=excerpt(text, limits.HEADER_TEXT) or "—", emoji=True)
    )


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=t) for t in texts])


def _name(text: str) -> str:
    """A plan name (goal, department) for mrkdwn."""
    return escaped_excerpt(text, _NAME)


def _command(*words: str | int) -> str:
    return "`/plan " + " ".join(escape(str(w)) for w in words) + "`"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _month(period: str) -> str:
    return period_label(period).split(" ")[0]


def _day(moment: datetime, timezone: str, year: bool = False) -> str:
    """'Nov 2' (', 2026' with the year): the day on the plan's calendar, not UTC's, so an update
    sent at 9 pm in Hartford is shown on the day it was sent."""
    local = local_now(timezone, moment)
    return f"{local:%b} {local.day}" + (f", {local.year}" if year else "")


def _compact(counts: StatusCounts) -> str:
    """'✅ 3 · 🟢 7 · 🟡 2 · 🔴 1 · ❔ 3'."""
    return " · ".join(f"{look(s).emoji} {n}" for s, n in counts.shown()) or "no initiatives"


def _in_words(counts: StatusCounts) -> str:
    """'✅ 3 complete · 🟢 7 on track · …'."""
    return " · ".join(f"{look(s).emoji} {n} {look(s).word.lower()}" for s, n in counts.shown())


def _totals(counts: StatusCounts) -> str:
    if not counts.total:
        return "No initiatives yet."
    return f"{_in_words(counts)} — *{_plural(counts.total, 'initiative')}*"


def _legend() -> str:
    return " · ".join(look(s).label for s in DISPLAY_ORDER)


def _share_of(part: int, whole: int) -> str:
    """'12 of 16 reported (75%)'; rounded down, so 199 of 200 never shows as 100%."""
    percent = part * 100 // whole if whole else 0
    return f"{part} of {whole} reported ({percent}%)"


def _owners(department: DepartmentRef, people: People) -> str:
    if not department.owners:
        return "no owner assigned"
    named = ", ".join(people(user) for user in department.owners[:_MOST_OWNERS])
    extra = len(department.owners) - _MOST_OWNERS
    return named + (f" and {extra} more" if extra > 0 else "")


def _status(update: UpdateView | None, period: str) -> str:
    """'🟡 At risk · 40%', with the period when the latest update is from an earlier one."""
    if update is None:
        return look(None).label
    shown = update.status.label
    if update.percent is not None:
        shown += f" · {update.percent}%"
    if update.period != period:
        shown += f" · as of {period_label(update.period)}"
    return shown


def _number(line: InitiativeLine) -> str:
    if line.parent_number is None:
        return f"*#{line.number}*"
    return f"↳ *#{line.number}* (part of #{line.parent_number})"


def _note_lines(
    update: UpdateView | None, people: People, note_limit: int, timezone: str
) -> list[str]:
    if update is None:
        return []
    lines = [f"> {escaped_excerpt(update.note, note_limit)}"] if update.note.strip() else []
    return [*lines, f"— {people(update.author)}, {_day(update.received_at, timezone)}"]


def _more(what: str, hint: str = "") -> Callable[[int], str]:
    return lambda n: f"…and {n} more {what}" + (f" — {hint}" if hint else "")


# --- the answers -------------------------------------------------------------------------------


_HELP = (
    (_command("goals"), "every goal: counts by status and how many initiatives reported"),
    (
        _command("safety"),
        "one goal (any goal's key, name or alias): objectives, counts, each department, "
        "what needs attention and who has not reported",
    ),
    (
        _command("fire"),
        "one department (key, name or alias): each initiative with its status, percent, "
        "latest note, who updated it and when",
    ),
    (_command("missing"), "departments that have not reported yet, with their owners"),
    (
        _command("update") + " or " + _command("update", "fire"),
        "open the update form for your department, or for the one named",
    ),
    (_command("history", "fire", 3), "every update of Fire #3, newest first"),
    (_command("digest"), "a preview of this week's digest, shown only to you"),
    (_command("help"), "this list"),
)
_ADMIN_HELP = (
    (_command("owner", "fire", "@someone"), "set a department's owner(s)"),
    (_command("export"), "the latest status of every initiative as a CSV file, sent to you"),
)


def render_help() -> Message:
    """What each sub-command does, with examples."""
    return _message(
        "Plan Bot: type /plan goals, /plan <goal>, /plan <department>, /plan missing, "
        "/plan update, /plan history, /plan digest or /plan help.",
        [
            _header("Plan Bot — what you can ask"),
            _section("\n".join(f"• {cmd} — {what}" for cmd, what in _HELP)),
            _section(
                "*For plan administrators*\n"
                + "\n".join(f"• {cmd} — {what}" for cmd, what in _ADMIN_HELP)
            ),
            _context(
                "Answers are shown only to you; *Share in channel* posts one for everyone.",
                _legend(),
            ),
        ],
    )


def _goal_line(line: GoalLine) -> str:
    name = f"*{_name(line.goal.name)}*"
    if not line.counts.total:
        return f"{name} — no initiatives yet · {_command(line.goal.key)}"
    return (
        f"{name} — {_compact(line.counts)} — {_share_of(line.reporting, line.counts.total)}"
        f" · {_command(line.goal.key)}"
    )


def _overview_parts(o: GoalsOverview) -> list[_Part]:
    label = period_label(o.period)
    parts: list[_Part] = [_header(f"Plan goals — {label}"), _context(_legend())]
    if not o.goals:
        return [*parts, _section("The plan has no goals yet.")]
    known = {kind for kind, _ in _GROUPS}
    groups = [
        *((title, [g for g in o.goals if g.goal.kind == kind]) for kind, title in _GROUPS),
        ("Other goals", [g for g in o.goals if g.goal.kind not in known]),
    ]
    for title, goals in groups:
        if goals:
            parts.append(
                _List(
                    title=f"*{title}*",
                    lines=[_goal_line(g) for g in goals],
                    more=_more("goals", f"type {_command('<goal>')} for any goal"),
                )
            )
    return parts


def render_goals_overview(o: GoalsOverview, people: People) -> Message:
    """One line per goal: counts by status and the share reporting this period."""
    label = period_label(o.period)
    return _message(
        f"Plan goals — {label}: {_plural(len(o.goals), 'goal')}",
        _overview_parts(o),
    )


def _department_line(line: DepartmentLine, period: str) -> str:
    reported = "✔ reported" if line.reported else f"not yet reported for {_month(period)}"
    return f"*{_name(line.department.name)}* — {_compact(line.counts)} — {reported}"


def _attention_line(line: InitiativeLine, period: str, people: People, timezone: str) -> str:
    assert line.latest is not None  # only initiatives with a status need attention
    update = line.latest
    head = f"{update.status.label} · *{_name(line.department.name)} #{line.number}*"
    if update.percent is not None:
        head += f" · {update.percent}%"
    if update.period != period:
        head += f" · as of {period_label(update.period)}"
    return "\n".join(
        [
            head,
            escaped_excerpt(line.text, _ATTENTION_TEXT),
            *_note_lines(update, people, _ATTENTION_NOTE, timezone),
        ]
    )


def _missing_line(department: DepartmentRef, people: People) -> str:
    return f"• *{_name(department.name)}* — {_owners(department, people)}"


def render_goal_summary(s: GoalSummary, people: People, *, timezone: str) -> Message:
    """Where one goal stands: objectives, counts, each department, what needs attention, and
    the departments that have not reported."""
    label = period_label(s.period)
    kind = _KIND_NAMES.get(s.goal.kind, "Goal")
    parts: list[_Part] = [_header(s.goal.name), _context(f"{kind} · {label}")]
    if s.goal.objectives:
        parts.append(
            _List(
                title="*Objectives*",
                lines=[f"• {escaped_excerpt(o, _OBJECTIVE)}" for o in s.goal.objectives],
                more=_more("objectives"),
            )
        )
    if not s.counts.total:
        parts.append(_section("No initiatives are aligned to this goal yet."))
        return _message(f"{s.goal.name} — {label}: no initiatives yet", parts)
    parts += [_section(_totals(s.counts)), DividerBlock()]
    parts.append(
        _List(
            title="*By department*",
            lines=[_department_line(d, s.period) for d in s.departments],
            more=_more("departments"),
        )
    )

    def attention_more(n: int) -> str:
        hidden = {line.department.key: line.department for line in s.attention[-n:]}
        first = next(iter(hidden))
        where = (
            f"see {_command(first)} for the full list"
            if len(hidden) == 1
            else f"see each department, e.g. {_command(first)}"
        )
        return f"…and {n} more — {where}"

    if s.attention:
        parts.append(
            _List(
                title=f"*Needs attention* ({len(s.attention)})",
                lines=[_attention_line(line, s.period, people, timezone) for line in s.attention],
                more=attention_more,
                gap="\n\n",
            )
        )
    else:
        parts.append(_section("*Needs attention*\nNothing is at risk or off track."))
    if s.missing:
        parts.append(
            _List(
                title=f"*Not reported for {label}* ({len(s.missing)})",
                lines=[_missing_line(d, people) for d in s.missing],
                more=_more("departments", f"see {_command('missing')}"),
            )
        )
    else:
        parts.append(_section(f"Every department has reported for {label}. ✔"))
    fallback = (
        f"{escape(s.goal.name)} — {label}: {_plural(s.counts.total, 'initiative')}, "
        f"{len(s.attention)} needing attention, "
        f"{_plural(len(s.missing), 'department')} not reported"
    )
    return _message(fallback, parts)


def _initiative_item(line: InitiativeLine, period: str, people: People, timezone: str) -> str:
    return "\n".join(
        [
            f"{_number(line)} {_status(line.latest, period)}",
            escaped_excerpt(line.text, _TEXT),
            *_note_lines(line.latest, people, _NOTE, timezone),
        ]
    )


def render_department_summary(s: DepartmentSummary, people: People, *, timezone: str) -> Message:
    """Each initiative of a department: status, percent, latest note, who and when."""
    label = period_label(s.period)
    key = s.department.key
    reported = "✔ reported" if s.reported else f"not yet reported for {_month(s.period)}"
    parts: list[_Part] = [
        _header(s.department.name),
        _context(
            f"{label} · {reported} · Owners: {_owners(s.department, people)}",
            f"Report with {_command('update', key)}",
        ),
        _section(_totals(s.counts)),
    ]
    if s.initiatives:
        lines = s.initiatives

        def more(n: int) -> str:
            first_hidden = lines[len(lines) - n].number
            hint = f"{_command('history', key, first_hidden)} shows any one of them"
            return f"…and {n} more initiatives — {hint}"

        parts += [
            DividerBlock(),
            _List(
                lines=[_initiative_item(line, s.period, people, timezone) for line in lines],
                more=more,
                gap="\n\n",
            ),
        ]
    fallback = (
        f"{escape(s.department.name)} — {label}: {_plural(s.counts.total, 'initiative')}, "
        f"{reported}"
    )
    return _message(fallback, parts)


def render_missing(
    m: MissingReport, people: People, failed: Sequence[tuple[str, str]] = ()
) -> Message:
    """Departments that have not reported for the period, with their owners; for admins, the
    prompts Slack would not take (`failed`: department name, error)."""
    label = period_label(m.period)
    summary = f"{m.reported} of {_plural(m.expected, 'department')} reported for {label}"
    parts: list[_Part] = [_header(f"Updates for {label}")]
    if m.expected == 0:
        parts.append(_section("No department has initiatives yet, so nobody needs to report."))
    elif not m.missing:
        parts.append(_section(f"🎉 *Every department has reported for {label}.*"))
    else:
        parts.append(
            _List(
                title=f"*{summary}.* Still to report:",
                lines=[_missing_line(d, people) for d in m.missing],
                more=_more("departments"),
            )
        )
    if failed:
        parts.append(
            _List(
                title=f"*Prompts not delivered for {label}* (retried every 15 minutes):",
                lines=[
                    f"• {_name(name)} — `{escaped_excerpt(error, 80)}`" for name, error in failed
                ],
                more=_more("prompts"),
            )
        )
    return _message(summary, parts)


def _history_item(update: UpdateView, people: People, timezone: str) -> str:
    head = f"*{period_label(update.period)}* · {update.status.label}"
    if update.percent is not None:
        head += f" · {update.percent}%"
    if update.late:
        head += " · (late)"
    lines = [head]
    if update.note.strip():
        lines.append(f"> {escaped_excerpt(update.note, _NOTE)}")
    source = _SOURCES.get(update.source, escape(update.source))
    day = _day(update.received_at, timezone, year=True)
    lines.append(f"— {people(update.author)}, {day} via {source}")
    return "\n".join(lines)


def render_history(h: InitiativeHistory, people: People, *, timezone: str) -> Message:
    """Every update of one initiative, newest first."""
    key = h.department.key
    title = f"{h.department.name} #{h.number}"
    parts: list[_Part] = [
        _header(title),
        _section(escaped_excerpt(h.text, 1000) or "—"),
        _context(
            f"{_plural(len(h.updates), 'update')}, newest first · "
            f"{_command(key)} shows the whole department"
        ),
        DividerBlock(),
    ]
    if h.updates:
        parts.append(
            _List(
                lines=[_history_item(u, people, timezone) for u in h.updates],
                more=lambda n: f"…and {_plural(n, 'older update')} not shown",
                gap="\n\n",
            )
        )
    else:
        parts.append(_section(f"No updates yet. {_command('update', key)} adds one."))
    return _message(f"{escape(title)}: {_plural(len(h.updates), 'update')}", parts)


def _or_list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def render_not_found(text: str, suggestions: Sequence[Target]) -> Message:
    """A short error echoing what was typed, naming the closest goals or departments."""
    typed = escaped_excerpt(text, _ECHO)
    said = f"I couldn't find “{typed}” in the plan." if typed else "Which goal or department?"
    if suggestions:
        options = [f"{_command(t.key)} ({_name(t.name)})" for t in suggestions]
        answer = f"{said} Did you mean {_or_list(options)}?"
    else:
        answer = f"{said} {_command('goals')} lists the goals."
    return _message(
        answer,
        [_section(answer), _context(f"{_command('help')} shows everything I can answer.")],
    )


def render_error(text: str) -> Message:
    """A short plain error; `text` is escaped."""
    shown = f"⚠️ {escaped_excerpt(text, limits.SECTION_PACK - 10)}"
    return _message(shown, [_section(shown)])


def render_owners_set(department_name: str, owners: Sequence[str], people: People) -> Message:
    """The confirmation an admin sees after `/plan owner`."""
    named = ", ".join(people(user) for user in owners)
    shown = f"✅ *{escape(excerpt(department_name, _NAME))}* is now owned by {named}."
    return _message(shown, [_section(shown)])


def with_share_button(message: Message, command_text: str) -> Message:
    """The message with a "Share in channel" button carrying the command that produced it."""
    button = ActionsBlock(
        elements=[
            ButtonElement(
                text="Share in channel",
                action_id=SHARE_ACTION,
                value=excerpt(command_text, limits.BUTTON_VALUE) or "help",
            )
        ]
    ).to_dict()
    kept = message.blocks[: limits.MESSAGE_BLOCKS - 1]
    return Message(text=message.text, blocks=[*kept, button])


def _is_share_button(block: dict[str, Any]) -> bool:
    return block.get("type") == "actions" and any(
        element.get("action_id") == SHARE_ACTION for element in block.get("elements", [])
    )


def shared_by(message: Message, who: str) -> Message:
    """The answer as posted for everyone: without its share button, closed by who shared it.
    `who` comes from `people` (a name, so that nobody is pinged)."""
    kept = [block for block in message.blocks if not _is_share_button(block)]
    note = _context(f"Shared by {who}").to_dict()
    return Message(text=message.text, blocks=[*kept[: limits.MESSAGE_BLOCKS - 1], note])


def _home_department_parts(s: DepartmentSummary, people: People) -> list[_Part]:
    key = s.department.key
    reported = "✔ reported" if s.reported else f"not yet reported for {_month(s.period)}"
    lines = [
        f"{_number(line)} {_status(line.latest, s.period)} — "
        f"{escaped_excerpt(line.text, _HOME_TEXT)}"
        for line in s.initiatives
    ]
    return [
        _header(s.department.name),
        _context(f"{period_label(s.period)} · {_compact(s.counts)} · {reported}"),
        _List(
            lines=lines or ["No initiatives yet."],
            more=_more("initiatives", f"see {_command(key)} for the full list"),
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Update",
                    action_id=HOME_UPDATE_ACTION,
                    value=key,
                    style="primary",
                )
            ]
        ),
    ]


_NOT_AN_OWNER = (
    "You are not the owner of any department yet, so there is nothing here for you to update.\n"
    "A plan administrator assigns owners with {owner} — ask yours to add you, "
    "and your department's initiatives will appear here with an *Update* button."
)


def render_home(
    departments: Sequence[DepartmentSummary], overview: GoalsOverview | None, people: People
) -> list[dict[str, Any]]:
    """The App Home tab: the viewer's departments with an Update button each, then (for admins
    and leadership) the goals overview; for someone who owns nothing, how to get assigned."""
    parts: list[_Part] = []
    overview_parts = _overview_parts(overview) if overview is not None else []
    if departments:
        # Each department needs a header, a context, a section and its button.
        room = limits.VIEW_BLOCKS - len(overview_parts) - (1 if overview_parts else 0) - 1
        shown = departments[: max(room // 4, 1)]
        for summary in shown:
            parts += _home_department_parts(summary, people)
        hidden = len(departments) - len(shown)
        if hidden:
            parts.append(
                _context(
                    f"…and {_plural(hidden, 'more department')} — "
                    f"type {_command('<department>')} for any of them"
                )
            )
    else:
        parts += [
            _header("Welcome to Plan Bot"),
            _section(_NOT_AN_OWNER.format(owner=_command("owner", "<department>", "@you"))),
            _context(
                f"Meanwhile {_command('help')} shows what you can ask, "
                f"such as {_command('goals')} or {_command('missing')}."
            ),
        ]
    if overview_parts:
        parts += [DividerBlock(), *overview_parts]
    return _lay_out(parts, limits.VIEW_BLOCKS, _UNLIMITED)
