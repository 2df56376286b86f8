"""A session's end is not cut short by a cancellation (a shutdown, a client gone): what it
wrote is committed, its connection goes back to the pool rolled back, and the task then ends
cancelled. Cut short, the pool logged "Exception during reset or similar" at ERROR and threw
the connection away; the scheduler's shutdown test failed on it about one run in seven."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from models.db import session_scope, write_scope
from models.tables import PostPace


async def _cancelled_while_the_pool_resets(engine: AsyncEngine, scope: Any, key: str) -> None:
    """Runs a session that writes `key`, and cancels its task the moment its connection is
    handed back to the pool, before the pool rolls it back (SQLAlchemy's "reset" event)."""
    writer: asyncio.Task[None] | None = None
    cancels: list[str] = []

    def cancel_the_writer(*_: Any) -> None:
        if writer is not None and not cancels:
            cancels.append("sent")
            writer.cancel()

    async def write() -> None:
        async with scope(engine) as session:
            session.add(PostPace(key=key, next_at=1.0, gap=1.0))

    sa.event.listen(engine.sync_engine.pool, "reset", cancel_the_writer)
    try:
        writer = asyncio.create_task(write())
        with pytest.raises(asyncio.CancelledError):
            await writer
    finally:
        sa.event.remove(engine.sync_engine.pool, "reset", cancel_the_writer)
    assert cancels == ["sent"]
    assert writer.cancelled()


@pytest.mark.parametrize("scope", [session_scope, write_scope], ids=["read", "write"])
async def test_a_session_cancelled_as_it_hands_back_its_connection_ends_cleanly(
    engine: AsyncEngine, scope: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        await _cancelled_while_the_pool_resets(engine, scope, "kept")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    async with session_scope(engine) as session:
        keys = (await session.exec(select(PostPace.key))).all()
    assert keys == ["kept"]
    # The connection was given back whole: the pool holds it, none is left checked out.
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
