"""`/plan <goal>` and `/plan <department>` through the ASGI app, and SQL statements per answer.

Each request is signed beforehand; only `await ws.send(request)` (the signed request in, the
response out, through httpx's ASGI transport) is timed. Answers come in the acknowledgement,
so the response is the answer; one that took the "Working on it…" path is counted as slow.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

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
    for n in range(settings.warmup):
        response = await ws.send(_request(ws, text, n))
        if not _answered(response):
            raise RuntimeError(f"/plan {text}: no answer in the ack: {response.text[:300]}")
    timings: list[float] = []
    slow = 0
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    while len(timings) < settings.requests and time.monotonic() < deadline:
        request = _request(ws, text, len(timings))
        if cold:
            await _invalidate(ws)
        started = time.perf_counter()
        response = await ws.send(request)
        timings.append(time.perf_counter() - started)
        slow += not _answered(response)
    return {
        "n": len(timings),
        "p50": percentile(timings, 50),
        "p95": percentile(timings, 95),
        "max": max(timings),
        "not_in_ack": slow,
        "timings_ms": [round(t * 1000, 2) for t in timings],
    }


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
        # As `planbot serve` does after start-up (bot/server.py).
        gc.collect()
        gc.freeze()
        statements = await statements_per_answer(ws, commands)
        if not timing:
            return rows, statements
        kinds = [("goal", commands.goal), ("department", commands.department)]
        if workload.measures:
            kinds.append(("every measure", "measures"))
        for kind, text in kinds:
            target = LIST_TARGET_MS if kind == "every measure" else TARGET_MS[workload.name]
            say(f"latency: /plan {text} on {workload.name}, {database}…")
            result = await time_command(ws, text, settings, cold=True)
            warm = await time_command(ws, text, settings)
            p95 = result["p95"]
            ok = p95 * 1000 <= target and result["not_in_ack"] == 0
            measured = (
                f"p50 {ms(result['p50'])}, p95 {ms(p95)} (n={result['n']}, every answer "
                f"computed afresh); repeated, from the answer cache: p50 {ms(warm['p50'])}, "
                f"p95 {ms(warm['p95'])}"
            )
            if result["not_in_ack"]:
                measured += f", {result['not_in_ack']} not answered in the ack"
            say(f"  {measured}")
            if settings.profile:
                with profiled(f"latency-{workload.name}-{database.lower()}-{kind}"):
                    for n in range(PROFILED_REQUESTS):
                        await ws.send(_request(ws, text, n))
            rows.append(
                Row(
                    f"`/plan {text}` ({kind}), signed request → response, ASGI",
                    _short(workload),
                    database,
                    measured,
                    f"p95 ≤ {target:.0f} ms",
                    ok,
                    {**result, "finding": f"latency-{kind}-{workload.name}"},
                )
            )
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
