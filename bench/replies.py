"""How fast the thread-reply reader reads: a long, realistic reply (100 lines), and the worst
of a set of 40,000-character texts built to make a careless reader slow (long runs of digits,
status words, separators, entities, Slack markup, numbers that look like lists)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from bench.common import Row, Settings, say
from handlers.reading.replies import MAX_LINE_CHARS, Known, read_thread_reply
from models.status import Status

DEPARTMENT = [
    Known(n, f"Initiative {n} of the department's work plan", Status.ON_TRACK, 40)
    for n in range(1, 41)
]
# A long reply as a large department writes one: mostly the prompt's own format, a third of
# the lines in freer words (percents in the note, denials, "all … except").
_LINES = [
    "{n} on track - crews hired",
    "{n}: at risk 40% waiting on the union agreement",
    "{n} on track - 12 recruits started the academy",
    "• {n} – done",
    "{n} on track, roughly 30% done",
    "{n} isn't on track — budget gap",
    "Item {n}: complete",
    "{n} not started",
    "{n} behind schedule, bids came in 20% over",
    "{n} on schedule - design review with the council",
]
REPLY_100 = (
    "\n".join(_LINES[i % len(_LINES)].format(n=1 + i % 40) for i in range(99))
    + "\nall others on track except 7 and 9 (paused)"
)
# Every line the long way: several initiatives a line, markup, changes, typos.
_HARD = [
    "{n} on track - crews hired, 3 more in January",
    "{n}: at risk 40% waiting on the union agreement",
    "• *{n}* – :warning: behind schedule, bids came in 20% over",
    "Item {n}: done, closed out Oct 15",
    "{n} isn't on track — $2.4M gap, meeting 10/28 at 4pm",
    "{n} was amber, now back on schedule (55% finished)",
    "{n} on trakc, roughly 30% done",
]
HARD_100 = "\n".join(_HARD[i % len(_HARD)].format(n=1 + i % 40) for i in range(100))

SIZE = 40_000
HOSTILE: dict[str, str] = {
    "digits": ("1" * 3000 + " ") * 13,
    "a long list": ", ".join(str(1 + n % 40) for n in range(10_000)),
    "a long range chain": "-".join(str(1 + n % 40) for n in range(12_000)),
    "status words": "1 " + "on track at risk " * 2400,
    "negations": "1 " + "not isn't no longer " * 1900,
    "separators": "1 " + "-_:;,." * 6600,
    "entities": "&amp;&lt;&gt;" * 3100,
    "slack markup": "<@U1> ~a~ *b* _c_ `d` <http://x|y> :warning: " * 800,
    "spelled numbers": "one and two to three " * 1900,
    "typos": "1 on trakc completd behnd " * 1500,
    "percents": "1 40% 20 percent 15pct (55% finished) " * 1000,
    "many short lines": "1 on track\n" * 3600,
    "one word repeated": "all " * 10_000,
    "except lists": "all on track except " + " and ".join(str(1 + n % 40) for n in range(8000)),
}


def _lines_of(text: str) -> str:
    """`text` repeated to 40,000 characters, in lines just under the reader's line limit (a
    longer line is refused unread, which would measure nothing)."""
    whole = (text * (SIZE // len(text) + 1))[:SIZE]
    width = MAX_LINE_CHARS - 1
    return "\n".join(whole[i : i + width] for i in range(0, SIZE, width))


def _median_ms(read: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def run_replies(settings: Settings) -> list[Row]:
    repeat = 20 if settings.quick else 200
    for _ in range(5):  # warm up the regular expressions and the fuzzy matcher
        read_thread_reply(REPLY_100, DEPARTMENT)
    p50, worst = _median_ms(lambda: read_thread_reply(REPLY_100, DEPARTMENT), repeat)
    say(f"replies: 100 lines p50 {p50:.2f} ms (max {worst:.2f} ms)")
    hard, hard_worst = _median_ms(
        lambda: read_thread_reply(HARD_100, DEPARTMENT, shortcut=False), repeat
    )
    say(f"replies: 100 hard lines p50 {hard:.2f} ms (max {hard_worst:.2f} ms)")
    rows = [
        Row(
            "Thread reply read: a 100-line reply",
            "40 initiatives; two thirds in the prompt's format, a third in free words",
            "—",
            f"median {p50:.2f} ms of {repeat} (max {worst:.2f} ms)",
            "≤ 5 ms",
            p50 <= 5.0,
            {"p50_ms": p50, "max_ms": worst},
        ),
        Row(
            "Thread reply read: 100 hard lines, every line the long way",
            "markup, percents in notes, denials, changes, typos",
            "—",
            f"median {hard:.2f} ms of {repeat} (max {hard_worst:.2f} ms)",
            "(for information)",
            None,
            {"p50_ms": hard, "max_ms": hard_worst},
        ),
    ]
    hostile = {name: _lines_of(text) for name, text in HOSTILE.items()}
    results = {
        name: _median_ms(
            lambda text=text: read_thread_reply(text, DEPARTMENT), 5 if settings.quick else 15
        )[0]
        for name, text in hostile.items()
    }
    slowest = max(results, key=lambda name: results[name])
    say(f"replies: worst 40,000-character text {slowest!r} {results[slowest]:.1f} ms")
    rows.append(
        Row(
            "Thread reply read: the slowest of 14 hostile 40,000-character texts",
            ", ".join(sorted(hostile)),
            "—",
            f"median {results[slowest]:.1f} ms ({slowest}); the others "
            + ", ".join(f"{results[n]:.0f}" for n in sorted(results) if n != slowest)
            + " ms",
            "≤ 50 ms",
            results[slowest] <= 50.0,
            {"ms": results},
        )
    )
    return rows
