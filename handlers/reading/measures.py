"""Measure lines in a thread reply: a line that starts with one of the department's measures —
its key, name or an alias, as a whole word — gives its number (`potholes 412`, `311 response
time: 2.4 days, new triage desk`), or, for a number that arrived by itself, the reason
(`fire-response: two engines out of service`). The other lines are left, untouched, to the
initiatives' reader. A pure function that never raises.

Nothing is guessed: a measure line whose number is not where the number goes (`311 went from
2.1 to 2.4`), or that gives no number for a measure without one this period, is not recorded
and is said back as unread.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from models.cycle import MAX_NOTE
from models.measurefile import read_number

MAX_LINES = 200
_BULLET = re.compile(r"^\s*(?:[-*•·>]+\s*)?")
# Between the name and the number: a separator or a few words that only lead up to it.
_LEAD_IN = re.compile(
    r"^(?:\s*(?:[:=–—-]|\bis\b|\bwas\b|\bat\b|\bof\b|\bnow\b|\bcame in at\b|\bcame to\b))*\s*",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^[-+]?\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?(?![\w.,/-]*\d)")
_ANY_NUMBER = re.compile(r"\d")
_AFTER = re.compile(r"^\s*(?:[,;:.–—-]+|\band\b)?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class KnownMeasure:
    """A department's measure as the reader needs it: the words it answers to, its unit, and
    whether the period has a value already (which a reason alone may explain)."""

    id: int
    name: str
    words: tuple[str, ...]  # key, name, aliases
    unit: str
    has_value: bool
    not_due: str | None = None  # why it takes no value this period ("reported quarterly")


@dataclass(frozen=True)
class MeasureLine:
    measure_id: int
    value: float | None  # None: the reason for the value already recorded
    note: str
    said: str


@dataclass(frozen=True)
class MeasureReading:
    lines: tuple[MeasureLine, ...]
    unreadable: tuple[tuple[str, str], ...]  # (what was typed, why it was not read)
    rest: str  # the lines that name no measure, for the initiatives' reader


def _pattern(word: str) -> re.Pattern[str]:
    """A measure's word at the start of a line, case and separators aside, ending at a word
    boundary: '311 response time' matches '311 Response-Time: 2.4'."""
    parts = [re.escape(p) for p in re.split(r"[\W_]+", word) if p]
    return re.compile(r"^" + r"[\W_]+".join(parts) + r"(?![\w])", re.IGNORECASE)


def _unit_words(unit: str) -> list[str]:
    words = {"%": ["percent", "per cent", "pct"], "dollars": ["dollars", "usd"]}.get(unit, [])
    return [unit, *words] if unit not in ("%", "count") else words


def read_measure_lines(text: str, measures: Sequence[KnownMeasure]) -> MeasureReading:
    if not measures or not text:
        return MeasureReading((), (), text)
    # Longest words first: "fire response time" before "fire".
    patterns = sorted(
        ((_pattern(w), m) for m in measures for w in m.words if re.search(r"\w", w)),
        key=lambda pm: -len(pm[0].pattern),
    )
    found: list[MeasureLine] = []
    unread: list[tuple[str, str]] = []
    rest: list[str] = []
    for index, line in enumerate(text.split("\n")):
        if index >= MAX_LINES:
            rest.append(line)
            continue
        body = _BULLET.sub("", line, count=1)
        match = next(((p.match(body), m) for p, m in patterns if p.match(body)), None)
        if match is None or match[0] is None:
            rest.append(line)
            continue
        name_end, measure = match[0].end(), match[1]
        said = line.strip()
        if measure.not_due is not None:
            unread.append((said, measure.not_due))
            continue
        after = body[name_end:]
        lead = _LEAD_IN.match(after)
        tail = after[lead.end() if lead else 0 :]
        number = _NUMBER.match(tail)
        if number is not None:
            value = read_number(number.group(0))
            if value is None:
                unread.append((said, f"{number.group(0)} is not a number I can record"))
                continue
            note = tail[number.end() :]
            for unit in _unit_words(measure.unit):
                if note.lower().lstrip().startswith(unit.lower()):
                    note = note.lstrip()[len(unit) :]
                    break
            found.append(MeasureLine(measure.id, value, _tidy(note), said))
            continue
        if _ANY_NUMBER.search(tail):
            unread.append(
                (said, f"I could not tell which number is {measure.name}'s: write it first")
            )
            continue
        note = _tidy(tail)
        if measure.has_value and note:
            found.append(MeasureLine(measure.id, None, note, said))
        elif note:
            unread.append((said, f"no number for {measure.name}: write it as the line's first"))
        else:
            unread.append((said, f"no number for {measure.name}"))
    return MeasureReading(tuple(found), tuple(unread), "\n".join(rest))


def _tidy(note: str) -> str:
    """A note without the separators that led to it or the brackets around it."""
    note = _AFTER.sub("", note, count=1).strip()
    if note.startswith("(") and note.endswith(")"):
        note = note[1:-1].strip()
    return note[:MAX_NOTE]
