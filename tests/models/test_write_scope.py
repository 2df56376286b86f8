"""Writers in one process take turns on SQLite (issue 18): a writer waits for the one before it
to commit, instead of polling SQLite's lock, and every write lands; on PostgreSQL they do not
wait for each other."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from models.db import POOL_OVERFLOW, POOL_SIZE, Turns, session_scope, write_scope
from models.tables import PostPace


async def test_writers_take_turns_on_sqlite_and_not_on_postgresql(engine: AsyncEngine) -> None:
    order: list[str] = []
    first_inside = asyncio.Event()

    async def first() -> None:
        async with write_scope(engine) as session:
            session.add(PostPace(key="first", next_at=1.0, gap=1.0))
            await session.flush()
            order.append("first in")
            first_inside.set()
            await asyncio.sleep(0.2)  # holds its transaction open a while
            order.append("first out")

    async def second() -> None:
        await first_inside.wait()
        async with write_scope(engine) as session:
            order.append("second in")
            session.add(PostPace(key="second", next_at=2.0, gap=1.0))

    await asyncio.gather(first(), second())
    if engine.dialect.name == "sqlite":
        assert order == ["first in", "first out", "second in"]
    else:
        assert order == ["first in", "second in", "first out"]
    async with session_scope(engine) as session:
        keys = (await session.exec(select(PostPace.key).order_by(PostPace.key))).all()
    assert keys == ["first", "second"]


async def test_a_writer_an_acknowledgement_waits_for_goes_first_on_sqlite(
    engine: AsyncEngine,
) -> None:
    """One writer holds the database; a writer already answered queues, then a form (urgent)
    arrives: the form goes next. On PostgreSQL nobody waits."""
    order: list[str] = []
    holding = asyncio.Event()

    async def holder() -> None:
        async with write_scope(engine) as session:
            session.add(PostPace(key="holder", next_at=1.0, gap=1.0))
            holding.set()
            await asyncio.sleep(0.2)
            order.append("holder")

    async def writer(key: str, *, urgent: bool, after: float) -> None:
        await holding.wait()
        await asyncio.sleep(after)
        async with write_scope(engine, urgent=urgent) as session:
            session.add(PostPace(key=key, next_at=1.0, gap=1.0))
            order.append(key)

    await asyncio.gather(
        holder(),
        writer("answered", urgent=False, after=0.0),
        writer("form", urgent=True, after=0.05),
    )
    if engine.dialect.name == "sqlite":
        assert order == ["holder", "form", "answered"]
    else:
        assert order == ["answered", "form", "holder"]
    async with session_scope(engine) as session:
        assert len((await session.exec(select(PostPace.key))).all()) == 3


async def test_a_writer_given_up_while_waiting_does_not_hold_up_the_rest() -> None:
    turns = Turns()
    await turns.take()
    waiting = asyncio.create_task(turns.take())
    behind = asyncio.create_task(turns.take())
    await asyncio.sleep(0)
    waiting.cancel()  # e.g. the request's task cancelled while it queued
    await asyncio.sleep(0)
    turns.give()
    await asyncio.wait_for(behind, 1)  # the one behind it gets the turn
    turns.give()
    await asyncio.wait_for(turns.take(), 1)  # and the database is free again after it
    assert waiting.cancelled()


async def test_writers_queued_for_their_turn_leave_the_connections_to_reads(
    engine: AsyncEngine,
) -> None:
    """One writer holds the database while more writers queue than the pool has connections:
    a read (a `/plan` answer, which its acknowledgement waits for) still gets a connection at
    once. On PostgreSQL nobody queues, and the read is not held up either."""
    holding, release = asyncio.Event(), asyncio.Event()
    queued = POOL_SIZE + POOL_OVERFLOW + 5

    async def holder() -> None:
        async with write_scope(engine) as session:
            session.add(PostPace(key="holder", next_at=1.0, gap=1.0))
            await session.flush()
            holding.set()
            await release.wait()

    async def writer(n: int) -> None:
        async with write_scope(engine) as session:
            session.add(PostPace(key=f"writer {n}", next_at=1.0, gap=1.0))

    held = asyncio.create_task(holder())
    await holding.wait()
    if engine.dialect.name == "sqlite":
        writers = [asyncio.create_task(writer(n)) for n in range(queued)]
    else:  # writers would not queue: their rows' inserts do not wait for each other
        writers = []
    await asyncio.sleep(0.2)  # every writer has asked for what it waits for
    try:
        async with asyncio.timeout(2):  # a /plan answer's budget before "Working on it…"
            async with session_scope(engine) as session:
                # It reads what is committed: nothing yet, the holder's row still in flight.
                assert (await session.exec(select(PostPace.key))).all() == []
    finally:
        release.set()
        await asyncio.gather(held, *writers)
    async with session_scope(engine) as session:
        keys = (await session.exec(select(PostPace.key))).all()
    assert len(keys) == 1 + len(writers)  # and every write landed
