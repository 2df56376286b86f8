"""Writers in one process take turns on SQLite (issue 18): a writer waits for the one before it
to commit, instead of polling SQLite's lock, and every write lands; on PostgreSQL they do not
wait for each other."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from models.db import session_scope, write_scope
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
