"""The public site on the Large plan (issue 17): pages read by residents, not a few leaders.

A period of the Large plan is published (on a private copy of its SQLite file), then
`planbot serve` with `PLANBOT_PUBLIC=true` runs as a real process on loopback beside a bare
Starlette app that returns a static page of the same size (`bench/bare_static.py`). The same
load (httpx, concurrent workers, keep-alive) goes to each page of planbot and to the bare app
sized like it, one after the other in the same run; throughput is compared as a ratio, and
planbot's latency percentiles are reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    Row,
    Settings,
    child,
    child_env,
    free_port,
    log_file,
    ms,
    percentile,
    python,
    say,
    until_ready,
)
from bench.data import LARGE, LAST_PERIOD, NOW, fresh_sqlite_copy
from models.db import create_engine, session_scope
from models.plans import active_plan_id
from models.publish import publish

RATIO_TARGET = 0.8
P95_TARGET_SECONDS = 0.020
READY_SECONDS = 60.0


async def _publish(url: str) -> dict[str, str]:
    """Publish the Large plan's last period; the paths of a goal and an initiative page."""
    engine = create_engine(url)
    try:
        async with session_scope(engine) as session:
            plan_id = await active_plan_id(session)
            done = await publish(
                session, plan_id, LAST_PERIOD, by="U0BENCH", now=NOW, start_month=7
            )
        snap = json.loads(done.content)
        return {
            "home": f"/public/{LAST_PERIOD}/",
            "goal": f"/public/{LAST_PERIOD}/goals/{snap['goals'][0]['key']}",
            "initiative": f"/public/{LAST_PERIOD}/initiatives/{snap['initiatives'][0]['id']}",
        }
    finally:
        await engine.dispose()


async def _load(url: str, seconds: float, workers: int) -> dict[str, Any]:
    """GET `url` from `workers` keep-alive clients for `seconds`: rate and latencies."""
    latencies: list[float] = []
    bad = 0
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
        await client.get(url)  # rendered once, then served from memory
        end = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal bad
            while time.monotonic() < end:
                started = time.perf_counter()
                answer = await client.get(url)
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    bad += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "count": len(latencies),
        "bad": bad,
    }


def _combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one load as one: mean rate, the worst round's percentiles, all failures."""
    return {
        "rps": sum(r["rps"] for r in runs) / len(runs),
        "p50": max(r["p50"] for r in runs),
        "p95": max(r["p95"] for r in runs),
        "count": sum(r["count"] for r in runs),
        "bad": sum(r["bad"] for r in runs),
        "rounds": [r["rps"] for r in runs],
    }


async def run_public_pages(settings: Settings) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="planbot-bench-public-") as folder:
        workdir = Path(folder)
        url = fresh_sqlite_copy(LARGE, workdir)
        paths = await _publish(url)
        seconds = 3.0 if settings.quick else 8.0
        workers = settings.throughput_workers
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = child_env(
            DATABASE_URL=url,
            SLACK_BOT_TOKEN="xoxb-bench-public",
            SLACK_SIGNING_SECRET="bench-public-secret",
            SLACK_API_URL="http://127.0.0.1:9/api/",
            PLANBOT_SCHEDULER="false",
            PLANBOT_LOG_FORMAT="json",
            PLANBOT_PUBLIC="true",
        )
        log = log_file("public-planbot.log")
        args = [python(), "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        results: dict[str, dict[str, Any]] = {}
        sizes: dict[str, int] = {}
        with contextlib.ExitStack() as stack:
            process = stack.enter_context(child(args, env, log, workdir))
            await until_ready(base, process, log, what="server", timeout=READY_SECONDS)
            async with httpx.AsyncClient() as client:
                for name, path in paths.items():
                    page = await client.get(base + path)
                    assert page.status_code == 200, (path, page.status_code)
                    sizes[name] = len(page.content)
            # A bare app per page size, all running beside planbot: each page and its yardstick
            # are loaded in turn, twice, so that the machine's moods fall on both alike.
            bare: dict[str, str] = {}
            for name in paths:
                bare_port = free_port()
                bare_args = [
                    python(),
                    "-m",
                    "bench.bare_static",
                    "--port",
                    str(bare_port),
                    "--size",
                    str(sizes[name]),
                ]
                bare_log = log_file("public-bare.log")
                bare_process = stack.enter_context(child(bare_args, child_env(), bare_log, workdir))
                bare[name] = f"http://127.0.0.1:{bare_port}"
                await until_ready(
                    bare[name], bare_process, bare_log, what="bare server", timeout=READY_SECONDS
                )
            for name, path in paths.items():
                say(
                    f"public pages: {name} ({sizes[name]:,} bytes) and its bare twin, "
                    f"{workers} workers, 2 × {seconds / 2:.0f} s each, then one reader…"
                )
                rounds: dict[str, list[dict[str, Any]]] = {"planbot": [], "bare": []}
                for _ in range(2):
                    rounds["planbot"].append(await _load(base + path, seconds / 2, workers))
                    rounds["bare"].append(await _load(bare[name] + "/page", seconds / 2, workers))
                results[name] = _combined(rounds["planbot"])
                results[f"bare-{name}"] = _combined(rounds["bare"])
                results[f"one-{name}"] = await _load(base + path, seconds / 2, 1)
                results[f"bare-one-{name}"] = await _load(bare[name] + "/page", seconds / 2, 1)
    rows = []
    for name in paths:
        mine, bare = results[name], results[f"bare-{name}"]
        one, bare_one = results[f"one-{name}"], results[f"bare-one-{name}"]
        ratio = mine["rps"] / bare["rps"] if bare["rps"] else 0.0
        say(
            f"  {name}: planbot {mine['rps']:.0f} req/s, one reader p95 {ms(one['p95'])}; "
            f"bare {bare['rps']:.0f} req/s, one reader p95 {ms(bare_one['p95'])}; "
            f"ratio {ratio:.2f}"
        )
        rows.append(
            Row(
                f"Public site, {name} page over HTTP: planbot ÷ bare Starlette (same size)",
                f"Large, {sizes[name]:,} bytes; {workers} keep-alive clients, {seconds:.0f} s "
                "each; p95 of one reader",
                "SQLite",
                f"**{ratio:.2f}** — planbot {mine['rps']:.0f} req/s, one reader p95 "
                f"{ms(one['p95'])}; bare {bare['rps']:.0f} req/s, one reader p95 "
                f"{ms(bare_one['p95'])} (at {workers} clients p95 {ms(mine['p95'])} and "
                f"{ms(bare['p95'])}: the queue of a saturated 2-core machine)",
                f"ratio ≥ {RATIO_TARGET}, p95 ≤ {ms(P95_TARGET_SECONDS)}",
                ratio >= RATIO_TARGET
                and one["p95"] <= P95_TARGET_SECONDS
                and mine["bad"] == 0
                and bare["bad"] == 0,
                {
                    "planbot": mine,
                    "bare": bare,
                    "one": one,
                    "bare_one": bare_one,
                    "ratio": ratio,
                    "bytes": sizes[name],
                },
            )
        )
    return rows
