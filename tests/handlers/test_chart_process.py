"""The chart process: the digest's charts drawn in a process of their own are the same bytes as
drawn here; a process that died is survived (the charts are drawn in a thread, the log says
so, and the next digest gets a new process); an idle process stops; none outlives its test."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.chart_process import MAX_MEASURE_PANELS, ChartDrawing, ChartProcess, DigestCharts
from handlers.messages.chart import render_charts
from models.digest_content import DigestFigures, MeasureAttention, MeasureDigest
from models.queries import GoalLine, GoalsOverview, StatusCounts
from models.status import Status
from tests.helpers import PERIOD, goal_ref, measure_view

PERIODS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
WAIT = 120.0  # seconds: a generous bound for a busy machine, never a speed requirement


def figures() -> DigestFigures:
    goals = GoalsOverview(
        PERIOD,
        [
            GoalLine(
                goal_ref(f"goal-{n}", f"Goal {n}: safer streets", "city-plan"),
                StatusCounts(
                    {Status.ON_TRACK: 3 + n, Status.AT_RISK: n % 3, Status.OFF_TRACK: 1, None: 1}
                ),
            )
            for n in range(5)
        ],
    )
    trend = [
        (p, StatusCounts({Status.ON_TRACK: 10 + i, Status.OFF_TRACK: 5 - i % 3, None: 2}))
        for i, p in enumerate(PERIODS)
    ]
    attention = []
    for n in range(MAX_MEASURE_PANELS + 2):  # more than the chart draws: it says so
        view = measure_view(
            n, f"Measure {n}", {p: 50.0 + n + i for i, p in enumerate(PERIODS[-3:])}, 80.0, "%"
        )
        attention.append(MeasureAttention(view, view.status(PERIOD, 7), None))
    return DigestFigures(goals, trend, MeasureDigest(len(attention), attention, PERIODS, 7))


async def draw(process: ChartProcess, shown: DigestFigures) -> DigestCharts:
    drawing = ChartDrawing(PERIOD, process)
    drawing.draw("by_goal", shown.goals)
    drawing.draw("trend", shown.trend)
    measures = shown.measures
    drawing.draw("measures", measures.shown(MAX_MEASURE_PANELS), len(measures.attention))
    return await drawing.charts()


async def ready(process: ChartProcess) -> int:
    for _ in range(int(WAIT * 20)):
        if process.pid is not None:
            return process.pid
        await asyncio.sleep(0.05)
    raise AssertionError("the chart process never became ready")


def running(pid: int) -> bool:
    """Whether the process runs (a zombie waiting to be reaped does not)."""
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except FileNotFoundError:
        return False


async def gone(pid: int) -> bool:
    for _ in range(int(WAIT * 20)):
        if not running(pid):
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
async def process() -> AsyncIterator[ChartProcess]:
    charts = ChartProcess(idle_seconds=WAIT)
    try:
        yield charts
    finally:
        await asyncio.to_thread(charts.close)


async def test_the_process_draws_the_same_bytes_as_this_process(process: ChartProcess) -> None:
    process.start()
    pid = await ready(process)
    assert pid != os.getpid() and running(pid)
    shown = figures()
    drawn = await draw(process, shown)
    assert drawn == render_charts(shown, PERIOD)
    assert drawn.measures is not None and drawn.measures_alt.endswith(
        "2 more are listed in the digest."
    )
    assert process.pid == pid  # the same process drew, and is kept for the next digest
    await asyncio.to_thread(process.close)
    assert await gone(pid)


async def test_a_dead_process_is_survived_and_replaced(
    process: ChartProcess, caplog: pytest.LogCaptureFixture
) -> None:
    process.start()
    pid = await ready(process)
    os.kill(pid, signal.SIGKILL)
    assert await gone(pid)
    shown = figures()
    with caplog.at_level(logging.INFO, logger="handlers.chart_process"):
        drawn = await draw(process, shown)
    assert drawn == render_charts(shown, PERIOD)  # drawn in a thread instead
    assert "the chart process stopped" in caplog.text
    assert process.pid is None
    process.start()  # the next digest's
    replaced = await ready(process)
    assert replaced != pid
    assert await draw(process, shown) == drawn


async def test_charts_asked_for_before_the_process_is_ready_are_drawn_here(
    process: ChartProcess, caplog: pytest.LogCaptureFixture
) -> None:
    # Never started: ChartDrawing starts it, and draws in a thread meanwhile.
    shown = figures()
    with caplog.at_level(logging.INFO, logger="handlers.chart_process"):
        drawn = await draw(process, shown)
    assert drawn == render_charts(shown, PERIOD)
    if "not ready" not in caplog.text:  # the process was quicker than this thread: fine too
        assert process.pid is not None
    await ready(process)


async def test_an_idle_process_stops() -> None:
    process = ChartProcess(idle_seconds=0.5)
    try:
        process.start()
        pid = await ready(process)
        assert await gone(pid)
        assert process.pid is None
    finally:
        await asyncio.to_thread(process.close)


async def test_a_kept_process_stays_until_closed() -> None:
    process = ChartProcess(idle_seconds=0.2)
    try:
        process.start(keep=True)
        pid = await ready(process)
        await asyncio.sleep(1.0)
        assert running(pid) and process.pid == pid
    finally:
        await asyncio.to_thread(process.close)
    assert await gone(pid)
