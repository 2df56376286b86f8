"""The thread-reply corpus (`thread_replies.yaml`) as test cases: what a careful person reads
from each reply, and how to compare it with what the reader read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from handlers.reading.replies import Known, ReplyReading
from models.status import Status

CORPUS = Path(__file__).with_name("thread_replies.yaml")


@dataclass(frozen=True)
class Expected:
    """One initiative's expected reading: a status (and percent), or a question."""

    status: Status | None  # None: the bot asks
    percent: int | None = None
    choices: tuple[Status, ...] = ()  # for a question: readings it must offer

    @classmethod
    def parse(cls, text: str) -> Expected:
        text = str(text).strip()
        if text.startswith("ask"):
            _, _, offered = text.partition(":")
            return cls(
                None, choices=tuple(Status(s.strip()) for s in offered.split("/") if s.strip())
            )
        found = re.fullmatch(r"(\w+)(?:\s+(\d+)%)?", text)
        assert found, f"cannot read the expectation {text!r}"
        percent = int(found.group(2)) if found.group(2) else None
        return cls(Status(found.group(1)), percent)

    def describe(self) -> str:
        if self.status is None:
            return "ask" + (":" + "/".join(self.choices) if self.choices else "")
        return self.status.value + (f" {self.percent}%" if self.percent is not None else "")


@dataclass(frozen=True)
class Case:
    category: str
    department: str
    reply: str
    expect: dict[int, tuple[Expected, ...]]  # any of these readings is right
    notes: dict[int, str]
    reason: str | None

    @property
    def id(self) -> str:
        return f"{self.category}: {self.reply.strip().splitlines()[0][:60]}"


def load_corpus(path: Path = CORPUS) -> tuple[dict[str, list[Known]], list[Case]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    departments = {
        key: [
            Known(
                int(row["number"]),
                str(row["text"]),
                Status(row["last"]) if row.get("last") else None,
                row.get("percent"),
            )
            for row in rows
        ]
        for key, rows in data["departments"].items()
    }
    cases: list[Case] = []
    groups: Any = data["cases"]
    items = (
        [(category, case) for category, rows in groups.items() for case in rows]
        if isinstance(groups, dict)
        else [(case.get("category", "cases"), case) for case in groups]
    )
    for category, case in items:
        cases.append(
            Case(
                category=category,
                department=case["dept"],
                reply=case["reply"],
                expect={int(k): alternatives(v) for k, v in (case.get("expect") or {}).items()},
                notes={int(k): str(v) for k, v in (case.get("notes") or {}).items()},
                reason=case.get("reason"),
            )
        )
    return departments, cases


def alternatives(value: Any) -> tuple[Expected, ...]:
    """`on_track 70%`, or `ask | on_track 70%` when a careful person accepts either."""
    return tuple(Expected.parse(part) for part in str(value).split("|"))


def judge(reading: ReplyReading, number: int, expected: tuple[Expected, ...]) -> str | None:
    """None when the reader read `number` as one of the expected readings; otherwise what it
    did instead."""
    problems = [_judge(reading, number, one) for one in expected]
    return None if None in problems else problems[0]


def _judge(reading: ReplyReading, number: int, expected: Expected) -> str | None:
    got = reading.reading(number)
    asked = [q for q in reading.questions if number in q.numbers]
    refused = [u for u in reading.unreadable if number in u.numbers]
    if expected.status is None:
        if got is not None:
            return f"recorded {got.status.value} {got.percent}"
        if not asked and not refused:
            return "neither recorded nor asked"
        offered = {c.status for q in asked for c in q.choices if c.number == number}
        missing = [s for s in expected.choices if s not in offered]
        if missing:
            return f"asked, offering {sorted(offered)} without {missing}"
        return None
    if got is None:
        return "asked" if asked else ("refused" if refused else "not recorded")
    if got.status != expected.status or got.percent != expected.percent:
        return f"recorded {got.status.value} {got.percent}"
    return None


def untouched(reading: ReplyReading, number: int) -> str | None:
    if reading.reading(number) is not None:
        got = reading.reading(number)
        assert got is not None
        return f"recorded {got.status.value}"
    if any(number in q.numbers for q in reading.questions):
        return "asked"
    return None
