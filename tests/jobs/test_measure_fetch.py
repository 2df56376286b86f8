"""Measures fetched from their data sources, against a real HTTP server on loopback: good CSV
and JSON are stored once however often fetched; a source that is down, slow, failing or sending
garbage fails alone, in one line, writes nothing, and is tried again on the next run."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web
from sqlmodel import select

from bot.workspace import Workspace
from jobs.measure_fetch import fetch_measures
from models.db import session_scope
from models.measurefile import parse_yaml_measures
from models.measures import load_measures
from models.tables import Actual
from tests.helpers import ADMIN, PEOPLE

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # November 2026 is open


class Source:
    """What each URL of the city's open-data server answers; changed by the test."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, str, str]] = {}
        self.slow: set[str] = set()
        self.hits: dict[str, int] = {}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits[name] = self.hits.get(name, 0) + 1
        if name in self.slow:
            await asyncio.sleep(3)
        status, kind, body = self.answers.get(name, (404, "text/plain", "no such dataset"))
        return web.Response(status=status, text=body, content_type=kind)


@pytest.fixture
async def server() -> AsyncIterator[tuple[Source, str]]:
    source = Source()
    app = web.Application()
    app.router.add_get("/{name}", source.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield source, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def definitions(base: str, down: int) -> str:
    return f"""
measures:
  - key: potholes
    name: Potholes filled
    unit: count
    direction: higher
    department: dpw
    source: {{url: "{base}/potholes.csv", format: csv, value: filled, period: month}}
  - key: 311-response
    name: 311 response time
    unit: days
    direction: lower
    department: mhis
    source: {{url: "{base}/311.json", value: stats.avg_days}}
  - key: recycling
    name: Recycling rate
    unit: "%"
    direction: higher
    department: dpw
    source: {{url: "{base}/recycling.json", format: json, value: rate, period: period}}
  - key: permits
    name: Permits online
    unit: "%"
    direction: higher
    department: dds
    source: {{url: "http://127.0.0.1:{down}/permits.csv", value: share}}
"""


@pytest.fixture
async def city(
    database_url: str, hartford: int, server: tuple[Source, str]
) -> AsyncIterator[tuple[Workspace, Source]]:
    source, base = server
    async with Workspace(database_url, admins=(ADMIN,), users=PEOPLE, now=lambda: NOW) as ws:
        async with session_scope(ws.engine) as session:
            specs = parse_yaml_measures(definitions(base, closed_port())).measures
            await load_measures(session, hartford, specs, source="m.yaml")
        yield ws, source


async def actuals(ws: Workspace) -> list[tuple[str, str, float, str]]:
    async with session_scope(ws.engine) as session:
        rows = await session.exec(select(Actual).order_by(Actual.measure_id, Actual.period))
        return [(str(a.measure_id), a.period, a.value, a.source) for a in rows]


async def test_good_sources_are_stored_once_and_bad_ones_fail_alone(
    city: tuple[Workspace, Source],
) -> None:
    ws, source = city
    source.answers = {
        "potholes.csv": (200, "text/csv", "month,filled\n2026-09,390\n2026-10,412\n"),
        "311.json": (200, "application/json", json.dumps({"stats": {"avg_days": "2.4"}})),
        "recycling.json": (500, "text/plain", "upstream error"),
    }
    run = await fetch_measures(ws.ctx, timeout=1.0)
    assert run.stored == {"potholes": 2, "311-response": 1}
    failed = dict(run.failed)
    assert set(failed) == {"recycling", "permits"}
    assert "answered HTTP 500" in failed["recycling"]
    assert "could not be reached" in failed["permits"]
    stored = await actuals(ws)
    assert [(p, v, s) for _, p, v, s in stored] == [
        ("2026-09", 390.0, "fetch"),
        ("2026-10", 412.0, "fetch"),
        ("2026-11", 2.4, "fetch"),  # no period in the source: the open period's value
    ]
    again = await fetch_measures(ws.ctx, timeout=1.0)
    assert again.stored == {"potholes": 0, "311-response": 0}
    assert again.unchanged == {"potholes": 2, "311-response": 1}
    assert len(await actuals(ws)) == 3


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ((200, "text/plain", "<html>maintenance</html>"), "not JSON"),
        ((200, "application/json", json.dumps([{"period": "2026-10"}])), "no 'rate' in it"),
        ((200, "application/json", json.dumps([{"period": "2026-10", "rate": "high"}])), "'high'"),
        ((200, "application/json", json.dumps([{"period": "Oct", "rate": 20}])), "not a period"),
        ((200, "application/json", "[]"), "no records"),
    ],
)
async def test_garbage_writes_nothing_and_is_said(
    city: tuple[Workspace, Source], answer: tuple[int, str, str], why: str
) -> None:
    ws, source = city
    source.answers = {"recycling.json": answer}
    run = await fetch_measures(ws.ctx, timeout=1.0)
    assert why in dict(run.failed)["recycling"]
    assert await actuals(ws) == []


async def test_a_slow_source_times_out_and_is_tried_again_next_run(
    city: tuple[Workspace, Source],
) -> None:
    ws, source = city
    source.answers = {
        "recycling.json": (200, "application/json", '[{"period": "2026-09", "rate": 19.5}]')
    }
    source.slow = {"recycling.json"}
    run = await fetch_measures(ws.ctx, timeout=0.5)
    assert "did not answer within 0.5 s" in dict(run.failed)["recycling"]
    assert await actuals(ws) == []
    source.slow = set()  # the next day it answers
    later = await fetch_measures(ws.ctx, timeout=1.0)
    assert later.stored["recycling"] == 1
    assert [(p, v) for _, p, v, _ in await actuals(ws)] == [("2026-09", 19.5)]
    assert source.hits["recycling.json"] == 2
