"""Measures in the weekly digest: those that missed, or slipped to Near since the previous
digest, are listed with what needs attention (the worst and furthest from target first, each
once, the rest in the thread), with a chart of each against its target uploaded in the thread
and described in its alt text; a plan without measures gets the digest it always had."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from bot.workspace import Workspace
from handlers.messages.chart import MAX_MEASURE_PANELS, measures_alt_text, render_measures_chart
from jobs.scheduler import Cycle
from models.db import session_scope
from models.digest_content import MeasureAttention, MeasureDigest, measure_digest
from models.measurefile import ActualRow, parse_yaml_measures
from models.measures import load_measures, record_actuals
from models.plans import active_plan_id
from models.tables import ActualSource
from tests.helpers import ADMIN, measure_view, mrkdwn_texts

NY = ZoneInfo("America/New_York")
LEADERSHIP = "C0LEADERS"
MONDAY = datetime(2026, 11, 2, 8, 0, 5, tzinfo=NY)  # the open period is October 2026

MEASURES = """
measures:
  - key: response-time
    name: 311 response time
    unit: days
    direction: lower
    department: dpw
    targets: {FY2027: 2.5}
  - key: graduation
    name: Graduation rate
    unit: "%"
    direction: higher
    department: fcyr
    targets: {FY2027: 80}
  - key: potholes
    name: Potholes filled
    unit: count
    direction: higher
    department: dpw
    targets: {FY2027: 400}
  - key: permits
    name: Permits issued
    unit: count
    direction: higher
    department: dds
    targets: {FY2027: 100}
"""


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


async def add_actuals(ws: Workspace, rows: list[ActualRow], when: datetime) -> None:
    async with session_scope(ws.engine) as session:
        await record_actuals(
            session,
            await active_plan_id(session),
            rows,
            source=ActualSource.API,
            author="city-systems",
            received_at=when,
        )


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, Clock]]:
    clock = Clock(MONDAY)
    async with Workspace(database_url, admins=(ADMIN,), now=clock, digest_channel=LEADERSHIP) as ws:
        yield ws, clock


async def define(ws: Workspace, text: str = MEASURES) -> None:
    async with session_scope(ws.engine) as session:
        await load_measures(
            session,
            await active_plan_id(session),
            parse_yaml_measures(text).measures,
            source="m.yaml",
        )


def digest_posts(ws: Workspace) -> list[Any]:
    return [
        c
        for c in ws.slack.calls_to("chat.postMessage")
        if (c.args.get("metadata") or {}).get("event_type") == "planbot_digest"
    ]


def thread_of(ws: Workspace, ts: str) -> list[Any]:
    return [c for c in ws.slack.calls_to("chat.postMessage") if c.args.get("thread_ts") == ts]


def text(call: Any) -> str:
    return "\n".join(mrkdwn_texts(call.args["blocks"]))


async def test_missed_and_slipped_measures_need_attention_with_their_chart(
    city: tuple[Workspace, Clock],
) -> None:
    ws, clock = city
    await define(ws)
    before_first = MONDAY - timedelta(days=3)
    await add_actuals(
        ws,
        [
            ActualRow("response-time", "2026-09", 2.4),
            ActualRow("response-time", "2026-10", 3.2),  # Missed (lower is better)
            ActualRow("graduation", "2026-10", 82),  # Met
            ActualRow("potholes", "2026-10", 395),  # Near, and no worse than last week
            ActualRow("permits", "2026-10", 120),  # Met
        ],
        before_first,
    )
    cycle = Cycle(ws.ctx, ws.app.client, timedelta(hours=72))
    assert (await cycle.run_due()).digest.outcome == "posted"  # type: ignore[union-attr]
    (first,) = digest_posts(ws)
    shown = text(first)
    assert "*Measures off target* — 1 missed" in shown
    assert "✗ Missed · *311 response time* · 3.2 days vs 2.5 days target" in shown
    assert "Public Works" in shown
    # The first digest has nothing to compare with: a Near measure is not news yet.
    assert "Potholes filled" not in shown and "Graduation rate" not in shown
    assert "1 measure missed" in first.args["text"]

    # During the week graduation slips from Met to Near; potholes moves the right way.
    clock.moment = MONDAY + timedelta(days=3)
    await add_actuals(
        ws,
        [ActualRow("graduation", "2026-10", 75, ref="fix"), ActualRow("potholes", "2026-10", 398)],
        clock.moment,
    )
    clock.moment = MONDAY + timedelta(days=7, minutes=1)
    assert (await cycle.run_due()).digest.outcome == "posted"  # type: ignore[union-attr]
    second = digest_posts(ws)[-1]
    shown = text(second)
    assert "*Measures off target* — 1 missed, 1 near target and worse" in shown
    lines = [line for line in shown.splitlines() if "Missed ·" in line or "Near ·" in line]
    assert lines[0].startswith("✗ Missed · *311 response time*")
    assert lines[1].startswith("≈ Near · *Graduation rate* · 75% vs 80% target")
    assert lines[1].endswith("was ✓ Met")
    assert "Potholes filled" not in shown  # Near, but better than last week

    uploads = [
        c
        for c in ws.slack.calls_to("files.getUploadURLExternal")
        if "measures" in c.args["filename"]
    ]
    assert [c.args["filename"] for c in uploads] == [
        "plan-measures-off-target-2026-11-02.png",
        "plan-measures-off-target-2026-11-09.png",
    ]
    alt = uploads[-1].args["alt_txt"]
    assert "311 response time: 3.2 days against a target of 2.5 days (Missed" in alt
    assert "Graduation rate: 75% against a target of 80% (Near" in alt
    file_id = ws.slack.calls_to("files.getUploadURLExternal")[-1].response["file_id"]
    assert ws.slack.uploads[file_id].startswith(b"\x89PNG")


async def test_a_long_list_goes_on_in_the_thread_each_measure_once(
    city: tuple[Workspace, Clock],
) -> None:
    ws, _ = city
    many = "measures:\n" + "".join(
        f"  - {{key: m{n}, name: 'Measure {n:02d}', unit: count, direction: higher, "
        f"department: dpw, targets: {{FY2027: 100}}}}\n"
        for n in range(1, 9)
    )
    await define(ws, many)
    # Measure n reaches 100 - 6n: all missed but 01 (95, Near); the furthest from target first.
    await add_actuals(
        ws,
        [ActualRow(f"m{n}", "2026-10", 100 - 6 * n) for n in range(1, 9)],
        MONDAY - timedelta(days=1),
    )
    cycle = Cycle(ws.ctx, ws.app.client, timedelta(hours=72))
    assert (await cycle.run_due()).digest.outcome == "posted"  # type: ignore[union-attr]
    (main,) = digest_posts(ws)
    everything = "\n".join(text(c) for c in [main, *thread_of(ws, main.response["ts"])])
    named = [f"Measure {n:02d}" for n in range(1, 9)]
    listed = [name for name in named if f"*{name}*" in everything]
    assert listed == [f"Measure {n:02d}" for n in range(2, 9)]  # 01 is Near on a first digest
    for name in listed:
        assert everything.count(f"*{name}*") == 1
    shown = text(main)
    assert "…and 4 more measures off target — see the thread" in shown
    order = [shown.index(f"*Measure {n:02d}*") for n in (8, 7, 6)]
    assert order == sorted(order)  # furthest from target first


async def test_hostile_measure_names_are_escaped_and_drawn(
    city: tuple[Workspace, Clock],
) -> None:
    ws, _ = city
    await define(
        ws,
        "measures:\n"
        "  - {key: cost, name: 'Cost <!channel> & $ per <@U1> resident $', unit: dollars,\n"
        "     direction: lower, department: finance, targets: {FY2027: 10}}\n",
    )
    await add_actuals(ws, [ActualRow("cost", "2026-10", 14)], MONDAY - timedelta(days=1))
    cycle = Cycle(ws.ctx, ws.app.client, timedelta(hours=72))
    assert (await cycle.run_due()).digest.outcome == "posted"  # type: ignore[union-attr]
    (main,) = digest_posts(ws)
    said = json.dumps(main.args["blocks"], ensure_ascii=False)
    assert "<!channel>" not in said and "&lt;!channel&gt;" in said and "&amp;" in said
    assert "<@U1>" not in said
    uploads = [
        c
        for c in ws.slack.calls_to("files.getUploadURLExternal")
        if "measures" in c.args["filename"]
    ]
    assert len(uploads) == 1 and "$14 against a target of $10" in uploads[0].args["alt_txt"]


async def test_a_plan_without_measures_gets_the_digest_it_always_had(
    city: tuple[Workspace, Clock],
) -> None:
    ws, _ = city
    cycle = Cycle(ws.ctx, ws.app.client, timedelta(hours=72))
    assert (await cycle.run_due()).digest.outcome == "posted"  # type: ignore[union-attr]
    (main,) = digest_posts(ws)
    assert "easure" not in json.dumps(main.args) and "measure" not in main.args["text"]
    names = [c.args["filename"] for c in ws.slack.calls_to("files.getUploadURLExternal")]
    assert names == ["plan-status-by-goal-2026-11-02.png", "plan-status-trend-2026-11-02.png"]


async def test_all_measures_on_target_is_said_in_one_line(
    city: tuple[Workspace, Clock],
) -> None:
    ws, _ = city
    await define(ws)
    await add_actuals(
        ws,
        [ActualRow("response-time", "2026-10", 2.0), ActualRow("graduation", "2026-10", 85)],
        MONDAY - timedelta(days=1),
    )
    cycle = Cycle(ws.ctx, ws.app.client, timedelta(hours=72))
    assert (await cycle.run_due()).digest.outcome == "posted"  # type: ignore[union-attr]
    (main,) = digest_posts(ws)
    assert "No measure missed its target or got worse (4 measures). ✔" in text(main)
    names = [c.args["filename"] for c in ws.slack.calls_to("files.getUploadURLExternal")]
    assert not any("measures" in n for n in names)


async def test_measure_digest_reads_the_previous_digest_from_the_received_times(
    city: tuple[Workspace, Clock],
) -> None:
    """Straight from the model: a value corrected after the previous digest is compared with
    the one it replaced, whatever period it belongs to."""
    ws, _ = city
    await define(ws)
    last_week = MONDAY - timedelta(days=7)
    await add_actuals(ws, [ActualRow("potholes", "2026-10", 420)], last_week - timedelta(days=1))
    await add_actuals(ws, [ActualRow("potholes", "2026-10", 380, ref="x")], MONDAY)
    async with session_scope(ws.engine) as session:
        plan_id = await active_plan_id(session)
        found = await measure_digest(session, plan_id, "2026-10", since=last_week, start_month=7)
        first = await measure_digest(session, plan_id, "2026-10", since=None, start_month=7)
    assert found.count == 4 and [a.measure.key for a in found.attention] == ["potholes"]
    (potholes,) = found.attention
    assert potholes.before is not None and potholes.before.figure == 420
    assert potholes.judged.figure == 380 and potholes.got_worse
    assert first.attention == []  # Near, and no previous digest to have been better at


def test_the_chart_draws_at_most_six_panels_and_says_so() -> None:
    periods = ["2026-08", "2026-09", "2026-10"]
    attention = []
    for n in range(8):
        view = measure_view(
            n,
            f"Measure {n} with a long name that wraps over two lines at least",
            {p: 50.0 + n + i for i, p in enumerate(periods)},
            80.0,
            "%",
        )
        attention.append(MeasureAttention(view, view.status("2026-10", 7), None))
    measures = MeasureDigest(8, attention, periods, 7)
    assert [j.figure for j in measures.series(attention[0])] == [50.0, 51.0, 52.0]
    png = render_measures_chart(measures, "Measures off target — October 2026")
    assert png.startswith(b"\x89PNG") and 10_000 < len(png) < 1_000_000
    alt = measures_alt_text(attention, "October 2026")
    assert alt.count("against a target of 80%") == MAX_MEASURE_PANELS
    assert alt.endswith("2 more are listed in the digest.") and len(alt) <= 1000


def test_a_panels_values_are_written_beside_its_grid_lines() -> None:
    """A panel's values and grid lines are drawn where its y ticks' would be: a light line
    across the panel at each round value, and the value's digits just left of the panel."""
    periods = ["2026-08", "2026-09", "2026-10"]
    view = measure_view(
        0, "Response time", {p: 50.0 + 5 * i for i, p in enumerate(periods)}, 80.0, "min"
    )
    measures = MeasureDigest(
        1, [MeasureAttention(view, view.status("2026-10", 7), None)], periods, 7
    )
    png = render_measures_chart(measures, "Measures off target — October 2026")
    pixels = np.rint(imread(io.BytesIO(png), format="png")[:, :, :3] * 255).astype(int)
    grid = (np.abs(pixels - np.array([round(c * 255) for c in to_rgb("#e3e3e3")])) <= 3).all(axis=2)
    rows = np.flatnonzero(grid.sum(axis=1) > 150)  # long horizontal runs of the grid's colour
    runs = [run for run in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1) if run.size]
    lines = runs[:-1]  # the lowest is the panel's bottom edge, in the same light grey
    assert 2 <= len(lines) <= 5, len(lines)
    left = int(np.flatnonzero(grid[runs[-1][0]]).min())  # the panel's left edge
    dark = (pixels < 150).all(axis=2)
    for line in lines:
        beside = dark[line[0] - 6 : line[-1] + 7, left - 40 : left - 2]
        assert beside.any(), "no value written beside a grid line"
