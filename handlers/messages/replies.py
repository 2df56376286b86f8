"""Reads a lead's plain-words answer to the monthly prompt: `2 at risk 40% waiting on the union`.

`parse_thread_reply` is pure and total: no I/O, it never raises, and its work is linear in the
length of the text (left-to-right tokenising with a cursor, no backtracking regexes). It records
what it can read and reports every other line with a short reason; the caller decides what to
store, what to answer and what to do with a reply that recorded nothing.

Every string it returns (`note`, `source`, `line`) is the person's own text: Slack's three
entities `&amp;`, `&lt;` and `&gt;` are turned back into `&`, `<` and `>`. Escape it (with
`handlers.messages.text.escape`) wherever it is echoed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from models.status import Status

# --- The vocabulary: the one place that says which words mean what --------------------------
#
# Phrases are matched case-insensitively with a run of spaces, one hyphen, one underscore or
# nothing between their words ("on track", "On-Track!", "ontrack", ":large_green_circle:"), and the
# longest phrase wins, so "not started" is never read as anything shorter. Only the words at the
# status position count: "done" later in a note changes nothing. A word that is not here ("not
# on track", "no risk", "started") is not guessed at: the line is reported as unreadable.

STATUS_PHRASES: Mapping[Status, tuple[str, ...]] = {
    Status.ON_TRACK: (
        "on track",
        "green",
        "good",
        "fine",
        "ok",
        "okay",
        "going well",
        "in progress",
        "progressing",
        "underway",
        "under way",
        "large green circle",  # :large_green_circle: as Slack sends 🟢
    ),
    Status.AT_RISK: (
        "at risk",
        "risk",
        "risky",
        "yellow",
        "amber",
        "behind",
        "delayed",
        "slipping",
        "slow",
        "concern",
        "concerned",
        "large yellow circle",  # 🟡
    ),
    Status.OFF_TRACK: (
        "off track",
        "red",
        "blocked",
        "stalled",
        "stuck",
        "stopped",
        "failing",
        "failed",
        "red circle",  # 🔴
    ),
    Status.COMPLETE: (
        "done",
        "complete",
        "completed",
        "finished",
        "closed",
        "delivered",
        "achieved",
        "white check mark",  # ✅
        "heavy check mark",  # ✔️
    ),
    Status.NOT_STARTED: (
        "not started",
        "not yet started",
        "no start",
        "todo",
        "to do",
        "pending",
        "planned",
        "waiting to start",
        "white circle",  # ⚪
    ),
}

# A line starting with one of these instead of a number speaks for every initiative not named on
# another line. Plain "all" makes "all on track" (and "all good") mean the same.
OTHERS_PHRASES: tuple[str, ...] = (
    "all others",
    "all other",
    "all the others",
    "the others",
    "others",
    "all the rest",
    "the rest",
    "rest",
    "everything else",
    "all else",
    "all remaining",
    "remaining",
    "all",
)
# May follow an others phrase: "all other items on track", "remaining initiatives done".
OTHERS_NOUNS: tuple[str, ...] = ("items", "initiatives", "ones", "projects")
# Skipped right before a status: "1 is on track", "2 status: at risk", "the rest are fine".
FILLER_WORDS: tuple[str, ...] = ("is", "are", "status", "still", "now", "currently")
# May stand before an initiative number: "No. 3", "item 3", "#3" (and "item #3").
NUMBER_WORDS: tuple[str, ...] = ("no", "nr", "number", "item", "initiative")
PERCENT_WORDS: tuple[str, ...] = ("percent", "per cent", "pct")

# Stripped from the start of a line: bullets, dashes and Slack's quote mark.
LIST_MARKERS = "-*•◦▪–—>"
# Skipped between the number, the percent and the status, and trimmed from the start of a note.
SEPARATORS = ":.)-—–,;=!"

# How much of a reply is looked at; the rest is reported once as "too long to read".
MAX_LINES = 200
MAX_LINE_CHARS = 4000
MAX_NOTE_CHARS = 2000


# --- Results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyLine:
    """One initiative's update as the lead typed it; number 0 is "all others"."""

    number: int
    status: Status
    percent: int | None  # 0..100
    note: str  # raw user text: escape it when echoing
    source: str  # the line as typed, trimmed, for the summary


@dataclass(frozen=True)
class Unreadable:
    """A line the parser could not record, and why, in words a lead understands."""

    line: str  # the line as typed, trimmed (at most MAX_LINE_CHARS characters)
    reason: str


@dataclass(frozen=True)
class ParsedReply:
    lines: tuple[ReplyLine, ...]  # in the order typed, one per initiative number
    others: ReplyLine | None  # applies to every initiative not named in `lines`
    unreadable: tuple[Unreadable, ...]

    @property
    def is_empty(self) -> bool:
        """Nothing recorded and nothing unreadable: the reply had no text worth answering."""
        return not self.lines and self.others is None and not self.unreadable


# --- Parsing ---------------------------------------------------------------------------------

T = TypeVar("T")

_DIGITS = "0123456789"
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY = re.compile("&amp;|&lt;|&gt;")  # fixed alternatives: linear, no backtracking
_MAX_NUMBER_DIGITS = 9
_SHOWN_DIGITS = 12


def _table(entries: Iterable[tuple[str, T]]) -> dict[str, T]:
    """Phrases keyed without their spaces: "on track" and "ontrack" are the same key."""
    table: dict[str, T] = {}
    for phrase, value in entries:
        key = phrase.replace(" ", "")
        if table.get(key, value) != value:
            raise ValueError(f"the phrase {phrase!r} has two meanings")
        table[key] = value
    return table


_STATUS = _table((phrase, status) for status, ps in STATUS_PHRASES.items() for phrase in ps)
_STATUS_EMOJI = {status.emoji: status for status in Status}  # 🟢 🟡 🔴 ✅ ⚪ pasted as such
_OTHERS = _table((phrase, True) for phrase in OTHERS_PHRASES)
_OTHERS_NOUNS = _table((word, True) for word in OTHERS_NOUNS)
_FILLERS = _table((word, True) for word in FILLER_WORDS)
_NUMBER_WORDS = _table((word, True) for word in NUMBER_WORDS)
_PERCENT_WORDS = _table((word, True) for word in PERCENT_WORDS)

_ALL_PHRASES = [
    *(p for ps in STATUS_PHRASES.values() for p in ps),
    *OTHERS_PHRASES,
    *OTHERS_NOUNS,
    *FILLER_WORDS,
    *NUMBER_WORDS,
    *PERCENT_WORDS,
]
_MAX_WORDS = max(len(p.split()) for p in _ALL_PHRASES)
_LONGEST_KEY = max(len(p.replace(" ", "")) for p in _ALL_PHRASES)


@dataclass(frozen=True)
class _Tail:
    status: Status
    percent: int | None
    note: str


def parse_thread_reply(text: str | None, numbers: Collection[int] | None = None) -> ParsedReply:
    """Read a thread reply to the monthly prompt, one initiative per line.

    `numbers` are the department's initiative numbers: when given, any other number is reported
    as unreadable ("no initiative #9"). A number named twice is recorded the first time; the
    second line is reported ("#2 appears twice"). Blank lines, and lines holding only bullets or
    quote marks, are skipped. At most MAX_LINES lines are read and a line longer than
    MAX_LINE_CHARS is not; what is left is reported once as "too long to read".
    """
    known = None if numbers is None else frozenset(numbers)
    lines: list[ReplyLine] = []
    others: ReplyLine | None = None
    unreadable: list[Unreadable] = []
    named: set[int] = set()
    read = 0
    raw_lines = (text or "").splitlines()
    for index, raw in enumerate(raw_lines):
        line = _unescape(raw).strip()
        start = _skip(line, 0, LIST_MARKERS)
        if start == len(line):
            continue
        if read == MAX_LINES:
            rest = 1 + sum(1 for later in raw_lines[index + 1 :] if _has_content(later))
            more = "1 more line" if rest == 1 else f"{rest} more lines"
            unreadable.append(Unreadable(line[:MAX_LINE_CHARS], f"too long to read ({more})"))
            break
        read += 1
        if len(line) > MAX_LINE_CHARS:
            unreadable.append(Unreadable(line[:MAX_LINE_CHARS], "too long to read"))
            continue
        result = _read_line(line, start, known)
        if isinstance(result, str):
            unreadable.append(Unreadable(line, result))
            continue
        number, tail = result
        if number == 0 and others is not None:
            unreadable.append(Unreadable(line, '"all others" appears twice'))
        elif number in named:
            unreadable.append(Unreadable(line, f"#{number} appears twice"))
        else:
            recorded = ReplyLine(number, tail.status, tail.percent, tail.note, line)
            if number == 0:
                others = recorded
            else:
                named.add(number)
                lines.append(recorded)
    return ParsedReply(tuple(lines), others, tuple(unreadable))


def _read_line(s: str, i: int, known: frozenset[int] | None) -> tuple[int, _Tail] | str:
    """The number (0 for "all others") and the rest of one line, or why it cannot be read."""
    found = _number(s, i)
    if found is not None:
        digits, i = found
        number = _initiative(digits)
        if number is None or (known is not None and number not in known):
            shown = digits if number is None else str(number)
            return f"no initiative #{_shown(shown)}"
        tail = _tail(s, _skip(s, i, SEPARATORS))
        return tail if isinstance(tail, str) else (number, tail)
    others = _match(s, i, _OTHERS)
    if others is None:
        return "no initiative number"
    i = _skip(s, others[1], SEPARATORS)
    noun = _match(s, i, _OTHERS_NOUNS)
    if noun is not None:
        i = _skip(s, noun[1], SEPARATORS)
    tail = _tail(s, i)
    return tail if isinstance(tail, str) else (0, tail)


def _tail(s: str, i: int) -> _Tail | str:
    """Percent, status, percent (one of the two), then the note."""
    typed: str | None = None
    found = _percent(s, i)
    if found is not None:
        typed, i = found
        i = _skip(s, i, SEPARATORS)
    status = _status(s, i)
    if status is None:
        return "no status word"
    i = _skip(s, status[1], SEPARATORS)
    if typed is None:
        found = _percent(s, i)
        if found is not None:
            typed, i = found
    percent = None
    if typed is not None:
        percent = _percent_value(typed)
        if percent is None:
            return f"{_shown(typed)}% is not between 0 and 100"
    note = s[_skip(s, i, SEPARATORS) :][:MAX_NOTE_CHARS].rstrip()
    return _Tail(status[0], percent, note)


def _number(s: str, i: int) -> tuple[str, int] | None:
    """The digits of an initiative number at s[i] ("3", "#3", "(3", "No. 3", "item 3") and the
    end, or None; a percent ("40% done") is not an initiative number."""
    n = len(s)
    if i < n and s[i] == "(":
        i += 1
    word = _match(s, i, _NUMBER_WORDS)
    if word is not None:
        i = word[1]
        if i < n and s[i] == ".":
            i += 1
    i = _skip(s, i, "")
    if i < n and s[i] == "#":
        i = _skip(s, i + 1, "")
    start = i
    while i < n and s[i] in _DIGITS:
        i += 1
    if i == start or _percent(s, start) is not None:
        return None
    return s[start:i], i


def _initiative(digits: str) -> int | None:
    """The number typed, or None when it cannot be an initiative's (0, or absurdly long)."""
    significant = digits.lstrip("0")
    if not significant or len(significant) > _MAX_NUMBER_DIGITS:
        return None
    return int(significant)


def _percent(s: str, i: int) -> tuple[str, int] | None:
    """A percent at s[i] — "40%", "40 %", "12.5%", "40 percent" — as typed (digits only) and
    where it ends, or None."""
    n = len(s)
    j = i
    while j < n and s[j] in _DIGITS:
        j += 1
    if j == i:
        return None
    if j + 1 < n and s[j] == "." and s[j + 1] in _DIGITS:
        j += 1
        while j < n and s[j] in _DIGITS:
            j += 1
    typed = s[i:j]
    k = _skip(s, j, "")
    if k < n and s[k] == "%":
        return typed, k + 1
    word = _match(s, k, _PERCENT_WORDS)
    if word is not None:
        return typed, word[1]
    return None


def _percent_value(typed: str) -> int | None:
    """A typed percent rounded to a whole number (half up), or None if outside 0..100."""
    whole, _, fraction = typed.partition(".")
    whole = whole.lstrip("0") or "0"
    if len(whole) > 3:
        return None
    value = int(whole)
    if value > 100 or (value == 100 and fraction.strip("0")):
        return None
    return value + 1 if fraction[:1] >= "5" else value


def _status(s: str, i: int) -> tuple[Status, int] | None:
    """The status phrase at s[i], after any filler words, and where it ends."""
    for _ in range(len(FILLER_WORDS) + 1):
        if i < len(s) and s[i] in _STATUS_EMOJI:
            end = i + 1
            if end < len(s) and s[end] == "\ufe0f":  # the emoji presentation selector
                end += 1
            return _STATUS_EMOJI[s[i]], end
        found = _match(s, i, _STATUS)
        if found is not None:
            return found
        filler = _match(s, i, _FILLERS)
        if filler is None:
            return None
        i = _skip(s, filler[1], SEPARATORS)
    return None


def _match(s: str, i: int, table: Mapping[str, T]) -> tuple[T, int] | None:
    """The longest phrase of `table` starting at s[i] and where it ends, or None.

    Reads at most _MAX_WORDS words of at most _LONGEST_KEY letters each, so the work is bounded
    whatever follows.
    """
    n = len(s)
    best: tuple[T, int] | None = None
    key = ""
    for _ in range(_MAX_WORDS):
        start = i
        while i < n and s[i].isalpha() and i - start <= _LONGEST_KEY:
            i += 1
        if i == start or (i < n and s[i].isalpha()):
            break  # no word here, or one longer than any phrase
        key += s[start:i].casefold()
        if len(key) > _LONGEST_KEY:
            break
        if key in table:
            best = (table[key], i)
        if i < n and s[i] in "-_":
            i += 1
        else:
            i = _skip(s, i, "")
    return best


def _skip(s: str, i: int, chars: str) -> int:
    """The first index from i that is neither whitespace nor one of `chars`."""
    n = len(s)
    while i < n and (s[i] in chars or s[i].isspace()):
        i += 1
    return i


def _has_content(raw: str) -> bool:
    line = _unescape(raw)
    return _skip(line, 0, LIST_MARKERS) < len(line)


def _unescape(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group()], text)


def _shown(typed: str) -> str:
    """Typed digits short enough to quote in a reason."""
    return typed if len(typed) <= _SHOWN_DIGITS else typed[:_SHOWN_DIGITS] + "…"
