"""The digest's charts, drawn in a process of their own.

Drawing the Large plan's three charts is ~0.45 s of Python (matplotlib). Drawn in a worker
thread they share the interpreter lock with the digest's own queries and Block Kit, so the two
barely overlap. Here one worker process, with matplotlib loaded once, draws each chart as soon
as its figures are queried while this process goes on with the rest, and sends the PNG back as
bytes; this process never loads matplotlib at all.

The process is spawned (never forked: this process runs an event loop and threads) on the first
digest that asks for charts, in the background, and reused; it is shut down after IDLE_SECONDS
without drawing (the digest is weekly) and when the interpreter exits. Whenever it cannot draw
— still starting (the first digest after start-up), dead or broken — the charts are drawn in a
worker thread of this process instead, as they always were, and the log says why; a dead process
is replaced at the next digest. The pictures are the same bytes either way.

No SQL and no Slack here; `handlers.messages.chart` draws.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import multiprocessing
import os
import threading
from collections.abc import Awaitable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

MAX_MEASURE_PANELS = 6  # the measures' chart: two rows of three stay readable in Slack
IDLE_SECONDS = 300.0

# The parts of the charts, by the function of `handlers.messages.chart` that draws each.
PARTS = {"by_goal": "by_goal_part", "trend": "trend_part", "measures": "measures_part"}

ChartPart = tuple[bytes | None, str, str]  # the PNG (None: no chart), its title, its alt text


@dataclass(frozen=True)
class DigestCharts:
    """The digest's images, PNG bytes, with the titles they are uploaded under; the measures'
    chart only when some measure is off target, with its alt text (the figures in words)."""

    by_goal: bytes
    by_goal_title: str
    trend: bytes
    trend_title: str
    measures: bytes | None = None
    measures_title: str = ""
    measures_alt: str = ""


def assemble_charts(by_goal: ChartPart, trend: ChartPart, measures: ChartPart) -> DigestCharts:
    """The three parts, drawn apart, as the digest's charts."""
    if by_goal[0] is None or trend[0] is None:
        raise ValueError("the status charts are always drawn")
    return DigestCharts(
        by_goal=by_goal[0],
        by_goal_title=by_goal[1],
        trend=trend[0],
        trend_title=trend[1],
        measures=measures[0],
        measures_title=measures[1],
        measures_alt=measures[2],
    )


def draw_part(part: str, args: tuple[Any, ...]) -> ChartPart:
    """One part of the charts (a key of PARTS), here and now."""
    # matplotlib takes about a second to import: only where a chart is drawn.
    from handlers.messages import chart

    drawn: ChartPart = getattr(chart, PARTS[part])(*args)
    return drawn


# --- in the worker process -----------------------------------------------------------------------


def _prepare() -> None:
    """The worker's start: matplotlib loaded and its fonts read (by drawing a small chart), then
    everything loaded so far kept out of the garbage collector's way."""
    from handlers.messages.chart import render_trend
    from models.queries import StatusCounts
    from models.status import Status

    render_trend(["2026-01"], [StatusCounts({Status.ON_TRACK: 1})], "Warming up")
    gc.collect()
    gc.freeze()


def _ready() -> int:
    return os.getpid()


def _draw_in_worker(part: str, args: tuple[Any, ...]) -> ChartPart:
    # A chart is thousands of short-lived objects: no collection while drawing (~10% of the
    # time), their cycles are collected between charts.
    gc.disable()
    try:
        return draw_part(part, args)
    finally:
        gc.enable()


# --- in the bot's process ------------------------------------------------------------------------


class ChartProcess:
    """The worker process, started on demand and reused; `draw` falls back to a thread."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._ready: concurrent.futures.Future[int] | None = None
        self._drawing = 0
        self._idle: threading.Timer | None = None
        self._kept = False

    def start(self, *, keep: bool = False) -> None:
        """Start the process in the background unless it runs already; returns at once. A
        process started to be kept runs until `close`; otherwise it stops when idle."""
        with self._lock:
            self._disarm()
            self._kept = self._kept or keep
            if self._executor is None:
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_prepare,
                )
                self._ready = ready = self._executor.submit(_ready)
                # Idle from the moment it is ready to draw.
                ready.add_done_callback(lambda _: self._ready_to_draw(ready))

    def _ready_to_draw(self, ready: concurrent.futures.Future[int]) -> None:
        with self._lock:
            if self._ready is ready and self._drawing == 0:
                self._arm()

    @property
    def pid(self) -> int | None:
        """The worker's process id once it is ready to draw; None before, or without one."""
        ready = self._ready
        if ready is None or not ready.done() or ready.exception() is not None:
            return None
        return ready.result()

    def draw(self, part: str, args: tuple[Any, ...]) -> Awaitable[ChartPart]:
        """One part of the charts, drawn in the process when it is ready, else in a thread."""
        return asyncio.ensure_future(self._draw(part, args))

    async def _draw(self, part: str, args: tuple[Any, ...]) -> ChartPart:
        with self._lock:
            executor, ready = self._executor, self._ready
            if executor is not None and ready is not None and ready.done():
                self._drawing += 1
                self._disarm()
            else:
                executor = None
        if executor is None:
            log.info("the chart process is not ready: the %s chart is drawn in a thread", part)
            return await asyncio.to_thread(draw_part, part, args)
        try:
            if ready is not None and ready.exception() is not None:
                raise BrokenProcessPool(str(ready.exception()))
            return await asyncio.wrap_future(executor.submit(_draw_in_worker, part, args))
        except BrokenProcessPool as exc:
            log.warning(
                "the chart process stopped (%s): the %s chart is drawn in a thread, and a new "
                "process is started for the next digest",
                exc,
                part,
            )
            self._discard(executor)
            return await asyncio.to_thread(draw_part, part, args)
        finally:
            with self._lock:
                self._drawing -= 1
                if self._executor is not None and self._drawing == 0:
                    self._arm()

    def close(self) -> None:
        """Stop the process (waiting for it to exit); the next `start` makes a new one."""
        with self._lock:
            self._disarm()
            self._kept = False
            executor, self._executor, self._ready = self._executor, None, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _discard(self, executor: concurrent.futures.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = self._ready = None
        executor.shutdown(wait=False, cancel_futures=True)

    def _arm(self) -> None:
        """Under the lock: close the process once it has been idle for `idle_seconds`."""
        self._disarm()
        if self._kept:
            return
        self._idle = threading.Timer(self.idle_seconds, self._close_when_idle)
        self._idle.daemon = True
        self._idle.start()

    def _disarm(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _close_when_idle(self) -> None:
        with self._lock:
            if self._drawing or self._idle is not threading.current_thread():
                return  # drawing, or this timer was disarmed as it went off
            self._idle = None
            executor, self._executor, self._ready = self._executor, None, None
        if executor is not None:
            log.info("the chart process was idle for %.0f s: stopped", self.idle_seconds)
            executor.shutdown(wait=True, cancel_futures=True)


# The bot's one chart process.
CHART_PROCESS = ChartProcess()


class ChartDrawing:
    """The charts of one digest, each part sent to be drawn as soon as its figures are in."""

    def __init__(self, period: str, process: ChartProcess = CHART_PROCESS) -> None:
        self.period = period
        self.process = process
        self.parts: dict[str, Awaitable[ChartPart]] = {}
        process.start()

    def draw(self, part: str, *args: Any) -> None:
        self.parts[part] = self.process.draw(part, (*args, self.period))

    async def charts(self) -> DigestCharts:
        """The charts, once every part is drawn; raises what drawing one raised."""
        drawn = await asyncio.gather(*(self.parts[p] for p in PARTS), return_exceptions=True)
        parts: list[ChartPart] = []
        for result in drawn:
            if isinstance(result, BaseException):
                raise result
            parts.append(result)
        return assemble_charts(*parts)

    def abandon(self) -> None:
        """Nobody waits for these charts: their errors are not news."""
        for part in self.parts.values():
            if isinstance(part, asyncio.Future):
                part.add_done_callback(lambda f: f.cancelled() or f.exception())
