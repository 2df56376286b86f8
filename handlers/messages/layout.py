"""Laying out a Slack message: whole lines packed into sections within Slack's limits, and the
small pieces every builder uses (header, section, context, plural, a command, a day).

Every builder in handlers/messages/ goes through here, so that no message is cut mid-line
whatever the plan's size: a `Lines` part shows as many whole lines as its share of the room
allows and counts the rest ("…and 37 more"); `continue_lines` carries a list on in a thread.
No SQL, no Slack calls, nothing about the plan beyond names.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from handlers.messages import limits
from handlers.messages.text import escape, escaped_excerpt, excerpt
from models.periods import local_now, period_label

# `people` turns a Slack user id into the text shown for that person: `<@U1>` where only the
# caller sees the answer, a name where it is shared. Its output is trusted mrkdwn.
People = Callable[[str], str]

# Room left in every message for one more block (the "Share in channel" button, a few characters).
MESSAGE_BLOCKS = limits.MESSAGE_BLOCKS - 1
MESSAGE_CHARS = limits.MESSAGE_BLOCKS_TEXT - 1000
UNLIMITED = sys.maxsize
NAME = 100  # how much of a plan name (goal, department) a line shows, escaped


@dataclass(frozen=True)
class Message:
    """A message to send: `text` is the plain fallback a notification shows, `blocks` the body."""

    text: str
    blocks: list[dict[str, Any]]

    def as_reply(self) -> dict[str, Any]:
        """Keyword arguments for `ack`, `respond` or `chat.postMessage`."""
        return {"text": self.text, "blocks": self.blocks}


@dataclass(frozen=True)
class Lines:
    """Lines shown whole, packed into sections; the ones that do not fit are counted by `more`."""

    lines: Sequence[str]
    more: Callable[[int], str]  # the closing line when the last n lines are left out
    title: str = ""
    gap: str = "\n"  # between lines
    most_lines: int = UNLIMITED  # shown at most, even when more would fit
    unread: int = 0  # lines after these that were never read (a bounded query): counted too


Part = Block | Lines


class Sections:
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


def whole_line(line: str) -> str:
    """A line is never longer than a section; builders keep lines far shorter than that."""
    if len(line) <= limits.SECTION_PACK:
        return line
    head = line[: limits.SECTION_PACK - 1]
    space = max(head.rfind(" "), head.rfind("\n"))
    return (head[:space] if space > 0 else head) + "…"


def fits(cost: tuple[int, int], most_blocks: int, most_chars: int) -> bool:
    return cost[0] <= most_blocks and cost[1] <= most_chars


def pack(part: Lines, most_chars: int, most_blocks: int) -> tuple[list[str], int]:
    """Section texts for as many whole lines as fit (and `most_lines` allows), then the
    "…and N more" line; and how many lines were shown."""
    lines = [whole_line(line) for line in part.lines]
    sections = Sections()
    if part.title:
        sections.add(part.title, "")
    if (
        not part.unread
        and len(lines) <= part.most_lines
        and fits(sections.cost(*((line, part.gap) for line in lines)), most_blocks, most_chars)
    ):
        for line in lines:
            sections.add(line, part.gap)
        return sections.done(), len(lines)
    # Not everything fits: keep room for the closing line after each line taken.
    shown = 0
    for line in lines[: part.most_lines]:
        hidden = len(lines) - shown - 1 + part.unread
        closing = [(whole_line(part.more(hidden)), "\n")] if hidden else []
        if not fits(sections.cost((line, part.gap), *closing), most_blocks, most_chars):
            break
        sections.add(line, part.gap)
        shown += 1
    if shown < len(lines) or part.unread:
        closing_line = whole_line(part.more(len(lines) - shown + part.unread))
        if not fits(sections.cost((closing_line, "\n")), most_blocks, most_chars):
            return [], 0
        sections.add(closing_line, "\n")
    return sections.done(), shown


def share_fairly(needs: Sequence[int], budget: int) -> list[int]:
    """Split a budget so that no one gets more than they need and the rest share equally."""
    grants = [0] * len(needs)
    left = max(budget, 0)
    order = sorted(range(len(needs)), key=lambda i: needs[i])
    for position, i in enumerate(order):
        grants[i] = min(needs[i], left // (len(needs) - position))
        left -= grants[i]
    return grants


def lay_out(parts: Sequence[Part], most_blocks: int, most_chars: int) -> list[dict[str, Any]]:
    """Blocks for `parts`: fixed blocks as they are, lists sharing what room is left fairly."""
    return lay_out_counted(parts, most_blocks, most_chars)[0]


def lay_out_counted(
    parts: Sequence[Part], most_blocks: int, most_chars: int
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """`lay_out`'s blocks, and how many lines of each list, by position in `parts`, were
    shown (the digest continues the rest in its thread)."""
    fixed = {i: part.to_dict() for i, part in enumerate(parts) if isinstance(part, Block)}
    lists = {i: part for i, part in enumerate(parts) if isinstance(part, Lines)}
    blocks_left = most_blocks - len(fixed)
    chars_left = most_chars - limits.text_length(fixed.values())
    char_needs = [measure(pack(p, UNLIMITED, UNLIMITED)[0])[1] for p in lists.values()]
    char_grants = share_fairly(char_needs, chars_left)
    block_needs = [
        measure(pack(p, chars, UNLIMITED)[0])[0]
        for p, chars in zip(lists.values(), char_grants, strict=True)
    ]
    block_grants = share_fairly(block_needs, blocks_left)
    packed = {
        i: pack(p, chars, blocks)
        for (i, p), chars, blocks in zip(lists.items(), char_grants, block_grants, strict=True)
    }
    out: list[dict[str, Any]] = []
    for i in range(len(parts)):
        if i in fixed:
            out.append(fixed[i])
        else:
            out.extend(section(text).to_dict() for text in packed[i][0])
    return out, {i: shown for i, (_, shown) in packed.items()}


def measure(texts: Sequence[str]) -> tuple[int, int]:
    return len(texts), sum(len(t) for t in texts)


def message(fallback: str, parts: Sequence[Part]) -> Message:
    return Message(
        text=excerpt(fallback, limits.NOTIFICATION_TEXT),
        blocks=lay_out(parts, MESSAGE_BLOCKS, MESSAGE_CHARS),
    )


def header(text: str) -> HeaderBlock:
    # plain_text: Slack parses no mentions or links in it, so plan names go in unescaped.
    return HeaderBlock(
        text=PlainTextObject(text=excerpt(text, limits.HEADER_TEXT) or "—", emoji=True)
    )


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=t) for t in texts])


@lru_cache(maxsize=4096)  # a digest names the same departments and goals thousands of times
def plan_name(text: str) -> str:
    """A plan name (goal, department) for mrkdwn."""
    return escaped_excerpt(text, NAME) or "—"


def command(*words: str | int) -> str:
    return "`/plan " + " ".join(escape(str(w)) for w in words) + "`"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def month_name(period: str) -> str:
    return period_label(period).split(" ")[0]


def day(moment: datetime, timezone: str, year: bool = False) -> str:
    """'Nov 2' (', 2026' with the year): the day on the plan's calendar, not UTC's, so an update
    sent at 9 pm in Hartford is shown on the day it was sent."""
    local = local_now(timezone, moment)
    return f"{local:%b} {local.day}" + (f", {local.year}" if year else "")


def more(what: str, hint: str = "") -> Callable[[int], str]:
    return lambda n: f"…and {n} more {what}" + (f" — {hint}" if hint else "")


# --- a list carried on in following messages ---------------------------------------------------


@dataclass(frozen=True)
class Continued:
    """A list carried on elsewhere (a digest's thread) from line `start` on, under its name."""

    name: str
    lines: Sequence[str]
    start: int
    gap: str


def _continue(
    rest: Continued, start: int, most_blocks: int, most_chars: int
) -> tuple[list[str], int]:
    """Section texts for as many of the rest's lines from `start` on as fit, under a title
    saying which they are ("*Needs attention* (11–120 of 120)"); and how many were taken."""
    total = len(rest.lines)

    def title(last: int) -> str:
        return f"*{rest.name}* ({start + 1}–{last} of {total})"

    # Take lines under the longest title this chunk could have, then write the real one.
    sections = Sections()
    sections.add(title(total), "")
    taken = 0
    for line in rest.lines[start:]:
        if not fits(sections.cost((line, rest.gap)), most_blocks, most_chars):
            break
        sections.add(line, rest.gap)
        taken += 1
    while taken:
        final = Sections()
        final.add(title(start + taken), "")
        for line in rest.lines[start : start + taken]:
            final.add(line, rest.gap)
        texts = final.done()
        if fits(measure(texts), most_blocks, most_chars):
            return texts, taken
        taken -= 1
    return [], 0


def continue_in_pages(
    lists: Sequence[Continued], most_blocks: int, most_chars: int
) -> list[list[str]]:
    """Section texts carrying each list on from its `start`, in order, split into pages (one
    message each) of at most `most_blocks` sections and `most_chars` characters; each run of
    lines is titled with which lines it holds ("*Needs attention* (11–120 of 120)")."""
    pages: list[list[str]] = []
    page: list[str] = []
    for rest in lists:
        start = rest.start
        while start < len(rest.lines):
            used = measure(page)
            texts, taken = _continue(rest, start, most_blocks - used[0], most_chars - used[1])
            if not taken:
                if not page:  # unreachable: a line is never longer than a section
                    raise ValueError(f"a line of {rest.name!r} fits on no page")
                pages.append(page)
                page = []
                continue
            page += texts
            start += taken
    if page:
        pages.append(page)
    return pages
