"""`POST /api/measures` on the Large plan: a batch of 1,000 actuals, stored.

Each batch is what a city system sends once a month: 1,000 of the plan's 2,000 measures, a
value each for the open period, every row with its own reference (so that every row is new and
stored). Only the request is timed: the JSON body in, through the real ASGI app (token check,
every row checked, one transaction), the response out. Beside it, in the same run, the same
batch sent again (every row already there: what a retry after a timeout costs).

SQLite runs on a private copy of the Large file; PostgreSQL on the bench database, with the
rows it added deleted afterwards, so that the other benchmarks read the data they always did.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import Row, Settings, ms, percentile, say
from bench.data import LARGE, LAST_PERIOD, NOW, fresh_sqlite_copy
from bot.workspace import Workspace
from models.db import session_scope
from models.tables import Actual, ApiToken, Measure
from models.tokens import create_token

BATCH = 1_000
TARGET_SECONDS = 1.0
TOKEN_NAME = "bench-api"


def run_measures_api(database: str, url: str, settings: Settings) -> list[Row]:
    import asyncio

    if database == "SQLite":
        with tempfile.TemporaryDirectory(prefix="planbot-bench-api-") as folder:
            copy = fresh_sqlite_copy(LARGE, Path(folder))
            return asyncio.run(_measure(database, copy, settings))
    return asyncio.run(_measure(database, url, settings))


async def _measure(database: str, url: str, settings: Settings) -> list[Row]:
    batches = max(3, settings.requests // 20)
    say(f"measures API: {batches} batches of {BATCH:,} actuals on Large, {database}…")
    async with Workspace(url, now=lambda: NOW) as ws:
        try:
            async with session_scope(ws.engine) as session:
                await _forget(session)
                token = await create_token(session, TOKEN_NAME)
                keys = list(
                    (await session.exec(sa.select(Measure.key).order_by(Measure.id))).scalars()
                )
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            rng = random.Random(15)
            stored: list[float] = []
            replayed: list[float] = []
            for n in range(batches):
                chosen = rng.sample(keys, BATCH)
                body = json.dumps(
                    {
                        "actuals": [
                            {
                                "measure": key,
                                "period": LAST_PERIOD,
                                "value": round(rng.uniform(10, 1000), 2),
                                "ref": f"bench-{n}-{i}",
                            }
                            for i, key in enumerate(chosen)
                        ]
                    }
                )
                for times, expected in ((stored, BATCH), (replayed, 0)):
                    started = time.perf_counter()
                    response = await ws.http.post("/api/measures", content=body, headers=headers)
                    times.append(time.perf_counter() - started)
                    answer: dict[str, Any] = response.json()
                    if response.status_code != 200 or answer.get("stored") != expected:
                        raise RuntimeError(
                            f"batch {n}: {response.status_code} {response.text[:300]}"
                        )
        finally:
            async with session_scope(ws.engine) as session:
                await _forget(session)
    p50, p95 = percentile(stored, 50), percentile(stored, 95)
    measured = (
        f"p50 {ms(p50)}, p95 {ms(p95)} (n={len(stored)} batches of {BATCH:,}); the same batch "
        f"again, every row already stored: p50 {ms(percentile(replayed, 50))}"
    )
    say(f"  {measured}")
    return [
        Row(
            f"`POST /api/measures`, a batch of {BATCH:,} actuals stored, ASGI",
            "Large",
            database,
            measured,
            f"p95 ≤ {TARGET_SECONDS:.0f} s",
            p95 <= TARGET_SECONDS,
            {
                "stored_ms": [round(t * 1000, 2) for t in stored],
                "replayed_ms": [round(t * 1000, 2) for t in replayed],
                "finding": "measures-api",
            },
        )
    ]


async def _forget(session: Any) -> None:
    """The bench token and the actuals it sent, gone (a run cut short leaves them behind)."""
    await session.exec(sa.delete(Actual).where(Actual.author == TOKEN_NAME))
    await session.exec(sa.delete(ApiToken).where(ApiToken.name == TOKEN_NAME))
