"""Reads that are fresh for every caller, shared by the callers that ask at once.

A cached `/plan` answer is reused only while the plan's revision stands, and the revision must
be read from the database for each request: another replica may have written a moment ago.
Under load that one read was most of the cached path's cost (a pooled connection, its thread
hand-offs on SQLite, a session). `FreshReads` keeps the guarantee and shares the cost: a caller
gets a value from a read that *started after it asked*, so it sees every write committed before
its request arrived (in this process or any other); the callers that ask while a read is in
flight wait for the next one, started as soon as that one ends, which serves them all. At most
one read is in flight, and under load one read answers many requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class FreshReads(Generic[T]):
    """`await reads.get()`: the value of `read()`, from a read started after the call."""

    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        # The callers waiting for a read that has not started yet (it starts when the one in
        # flight ends), and the task that runs reads while callers wait.
        self._waiting: asyncio.Future[T] | None = None
        self._reader: asyncio.Task[None] | None = None
        self.reads = 0  # how many reads were made (for tests and the benchmark)

    async def get(self) -> T:
        loop = asyncio.get_running_loop()
        if self._waiting is None or self._waiting.get_loop() is not loop:
            self._waiting = loop.create_future()
            self._waiting.add_done_callback(_retrieved)
        waiting = self._waiting
        if self._reader is None or self._reader.done() or self._reader.get_loop() is not loop:
            self._reader = asyncio.ensure_future(self._run())
        # A caller that gives up (cancelled) leaves the read to the others.
        return await asyncio.shield(waiting)

    async def _run(self) -> None:
        while self._waiting is not None:
            # Everyone waiting now asked before this read starts; later callers wait for the
            # next one.
            waiting, self._waiting = self._waiting, None
            self.reads += 1
            try:
                value = await self._read()
            except asyncio.CancelledError:
                waiting.cancel()
                if self._waiting is not None:
                    self._waiting.cancel()
                    self._waiting = None
                raise
            except Exception as error:
                waiting.set_exception(error)
            else:
                waiting.set_result(value)


def _retrieved(future: asyncio.Future[Any]) -> None:
    """A failed read that every caller gave up on is not "never retrieved"."""
    if not future.cancelled():
        future.exception()
