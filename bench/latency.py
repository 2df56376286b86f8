"""`/plan <goal>` and `/plan <department>` through the ASGI app, and SQL statements per answer.

Each request is signed beforehand; only `await ws.send(request)` (the signed request in, the
response out, through httpx's ASGI transport) is timed. Answers come in the acknowledgement,
so the response is the answer; one that took the "Working on it…" path is counted as slow.

Beside each figure, the framework's floor (issue 18): the bare Bolt app of bench/bare_bolt.py,
which only acknowledges, sent the same signed command the same way, in the same process,
just before; each figure is also given as a multiple of it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from bench import bare_bolt
from bench.common import Row, Settings, ms, percentile, say
from bench.data import DIGEST_CHANNEL, HARTFORD, NOW, Workload
from bench.profiling import profiled
from bot import slack_requests
from bot.workspace import Workspace
from models.db import count_statements

USER = "U0BENCHUSER"  # not an admin, not an owner: the same answer path on every plan
TIME_BUDGET_SECONDS = 120.0  # per command: a slow database cannot hold the run hostage
PROFILED_REQUESTS = 50

TARGET_MS = {"hartford": 50.0, "large": 150.0}
# `/plan measures` judges every measure of the plan (2,000 on Large) to list them worst first:
# a list asked for now and then, not the COO's daily question. Its own target: answered in the
# acknowledgement with a wide margin (Slack waits 3 s).
LIST_TARGET_MS = 500.0


@dataclass(frozen=True)
class Commands:
    goal: str
    department: str
    history: str


COMMANDS = {
    "hartford": Commands("safety", "fire", "history fire 3"),
    "large": Commands("goal-1", "dept-1", "history dept-1 3"),
}


def workspace(url: str) -> Workspace:
    return Workspace(url, now=lambda: NOW, digest_channel=DIGEST_CHANNEL)


def _request(ws: Workspace, text: str, n: int) -> slack_requests.SignedRequest:
    return slack_requests.slash_command(
        ws.signing_secret,
        text,
        user_id=USER,
        channel_id="C0BENCH",
        response_url=ws.slack.response_url(f"bench-{n}"),
    )


def _answered(response: Any) -> bool:
    """A 200 whose body is the answer itself (blocks), not an error or "Working on it…"."""
    if response.status_code != 200:
        return False
    body = response.json()
    return bool(body.get("blocks")) and "went wrong" not in body.get("text", "")


async def _invalidate(ws: Workspace) -> None:
    """Move the plan's revision, as any update would, so the next answer is computed afresh."""
    async with ws.engine.begin() as conn:
        await conn.execute(sa.text("UPDATE plans SET revision = revision + 1"))


async def time_command(
    ws: Workspace, text: str, settings: Settings, *, cold: bool = False
) -> dict[str, Any]:
    """Repeated requests; with `cold`, the answer cache is invalidated (untimed) before each,
    so every answer runs its queries and rendering."""

    def request(n: int) -> slack_requests.SignedRequest:
        return _request(ws, text, n)

    async def invalidate() -> None:
        await _invalidate(ws)

    return await _timed(
        ws.send, request, settings, answered=_answered, before=invalidate if cold else None
    )


class BareBolt:
    """bench/bare_bolt.py's app (Bolt, the Starlette adapter, an ack and nothing else) behind
    httpx's ASGI transport, as `Workspace.send` sends to Plan Bot; its one `auth.test` goes to
    the workspace's stand-in, as Plan Bot's does."""

    def __init__(self, ws: Workspace) -> None:
        self.secret = ws.signing_secret
        self.slack = ws.slack
        asgi = bare_bolt.build(self.secret, "xoxb-bench-floor", ws.slack.base_url)
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://bare.local"
        )

    async def send(self, request: slack_requests.SignedRequest) -> httpx.Response:
        return await self.http.post("/slack/events", content=request.body, headers=request.headers)

    async def aclose(self) -> None:
        await self.http.aclose()


async def time_floor(
    bare: BareBolt, ws: Workspace, text: str, settings: Settings
) -> dict[str, Any]:
    """The bare Bolt ack of the same signed `/plan {text}`, timed as `time_command` times."""

    def request(n: int) -> slack_requests.SignedRequest:
        return _request(ws, text, n)

    return await _timed(bare.send, request, settings, answered=_acked)


def _acked(response: Any) -> bool:
    return bool(response.status_code == 200)


async def _timed(
    send: Callable[[slack_requests.SignedRequest], Awaitable[Any]],
    request: Callable[[int], slack_requests.SignedRequest],
    settings: Settings,
    *,
    answered: Callable[[Any], bool],
    before: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    for n in range(settings.warmup):
        response = await send(request(n))
        if not answered(response):
            raise RuntimeError(f"no answer in the ack: {response.text[:300]}")
    timings: list[float] = []
    slow = 0
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    while len(timings) < settings.requests and time.monotonic() < deadline:
        signed = request(len(timings))
        if before is not None:
            await before()
        started = time.perf_counter()
        response = await send(signed)
        timings.append(time.perf_counter() - started)
        slow += not answered(response)
    return {
        "n": len(timings),
        "p50": percentile(timings, 50),
        "p95": percentile(timings, 95),
        "max": max(timings),
        "not_in_ack": slow,
        "timings_ms": [round(t * 1000, 2) for t in timings],
    }


def times_floor(figure: float, floor: float) -> str:
    """`p50 12.4 ms = 1.0× bare Bolt's 12.1 ms`, without the name of the percentile."""
    return f"{ms(figure)} = {figure / floor:.1f}× bare Bolt's {ms(floor)}"


FLOOR_CEILING = 2.0  # an answer slower than twice the floor is profiled (docs/performance.md)


async def statements_per_answer(ws: Workspace, commands: Commands) -> dict[str, int]:
    counts = {}
    for name, text in [
        ("goal", commands.goal),
        ("department", commands.department),
        ("goals", "goals"),
        ("missing", "missing"),
        ("history", commands.history),
        ("measures", "measures"),
    ]:
        with count_statements(ws.engine) as seen:
            response = await ws.send(_request(ws, text, 0))
        if not _answered(response):
            raise RuntimeError(f"/plan {text}: no answer in the ack: {response.text[:300]}")
        counts[name] = len(seen)
    return counts


async def run_latency(
    workload: Workload, database: str, url: str, settings: Settings, *, timing: bool = True
) -> tuple[list[Row], dict[str, int]]:
    """p50/p95 of `/plan <goal>` and `/plan <department>` (unless not `timing`); statement
    counts of every answer."""
    commands = COMMANDS[workload.name]
    rows = []
    async with workspace(url) as ws:
        bare = BareBolt(ws)
        # As `planbot serve` does after start-up (bot/server.py).
        gc.collect()
        gc.freeze()
        statements = await statements_per_answer(ws, commands)
        if not timing:
            await bare.aclose()
            return rows, statements
        kinds = [("goal", commands.goal), ("department", commands.department)]
        if workload.measures:
            kinds.append(("every measure", "measures"))
        for kind, text in kinds:
            target = LIST_TARGET_MS if kind == "every measure" else TARGET_MS[workload.name]
            say(f"latency: /plan {text} on {workload.name}, {database}…")
            floor = await time_floor(bare, ws, text, settings)
            result = await time_command(ws, text, settings, cold=True)
            warm = await time_command(ws, text, settings)
            p95 = result["p95"]
            ok = p95 * 1000 <= target and result["not_in_ack"] == 0
            measured = (
                f"p50 {times_floor(result['p50'], floor['p50'])}, p95 "
                f"{times_floor(p95, floor['p95'])} (n={result['n']}, every answer computed "
                f"afresh); repeated, from the answer cache: p50 "
                f"{times_floor(warm['p50'], floor['p50'])}, p95 "
                f"{times_floor(warm['p95'], floor['p95'])}"
            )
            if result["not_in_ack"]:
                measured += f", {result['not_in_ack']} not answered in the ack"
            say(f"  {measured}")
            over = {
                f"{how} {q}": round(figures[q] / floor[q], 2)
                for how, figures in (("afresh", result), ("cached", warm))
                for q in ("p50", "p95")
                if figures[q] > FLOOR_CEILING * floor[q]
            }
            if over:
                say(f"  more than {FLOOR_CEILING:g}× the floor: {over}")
            if settings.profile:
                # Each answer over the ceiling, the way it was over it (afresh or cached).
                for how in sorted({key.split()[0] for key in over}):
                    name = f"latency-{workload.name}-{database.lower()}-{kind}-{how}"
                    say(f"  profiling /plan {text} ({how}, {PROFILED_REQUESTS} requests)…")
                    with profiled(name.replace(" ", "-")):
                        for n in range(PROFILED_REQUESTS):
                            if how == "afresh":
                                await _invalidate(ws)
                            await ws.send(_request(ws, text, n))
            rows.append(
                Row(
                    f"`/plan {text}` ({kind}), signed request → response, ASGI",
                    _short(workload),
                    database,
                    measured,
                    f"p95 ≤ {target:.0f} ms",
                    ok,
                    {
                        **result,
                        "cached": {k: v for k, v in warm.items() if k != "timings_ms"},
                        "floor": {k: v for k, v in floor.items() if k != "timings_ms"},
                        "over_twice_the_floor": over,
                        "finding": f"latency-{kind}-{workload.name}",
                    },
                )
            )
        await bare.aclose()
    return rows, statements


def statement_row(database: str, small: dict[str, int], large: dict[str, int]) -> Row:
    parts = [
        f"{name} {small[name]}" + ("" if small[name] == large[name] else f"≠{large[name]}")
        for name in small
    ]
    return Row(
        "SQL statements per answer (goal, department, goals, missing, history, measures)",
        "Hartford vs Large",
        database,
        ", ".join(parts),
        "the same on both",
        small == large,
        {"hartford": small, "large": large, "finding": "statements"},
    )


def _short(workload: Workload) -> str:
    return "Hartford" if workload is HARTFORD else "Large"
