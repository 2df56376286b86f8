"""The revision a cached `/plan` answer depends on is read after each request arrived: shared
reads never hand a caller a value read before it asked, and a write in another replica shows
in the next answer of this one, on SQLite (its own connection) and PostgreSQL (the engine)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.workspace import Workspace
from handlers.commands.fresh import FreshReads
from handlers.commands.revision import PlanRevisions, sqlite_file
from tests.helpers import ADMIN, CHIEF, COO, PEOPLE, PERIOD


class Store:
    """A value that reads see as it was when they started, after a gate opens."""

    def __init__(self) -> None:
        self.value = 0
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    async def read(self) -> int:
        seen = self.value  # a statement sees what was committed when it began
        self.started.set()
        await self.gate.wait()
        return seen


async def test_a_caller_never_gets_a_read_started_before_it_asked() -> None:
    store = Store()
    reads = FreshReads(store.read)
    first = asyncio.ensure_future(reads.get())
    await store.started.wait()  # the first read is in flight, and sees 0
    store.value = 1  # a write, committed before the next callers ask
    later = [asyncio.ensure_future(reads.get()) for _ in range(5)]
    await asyncio.sleep(0)
    store.gate.set()
    assert await first == 0
    assert await asyncio.gather(*later) == [1] * 5  # the next read, shared by all five
    assert reads.reads == 2


async def test_a_failed_read_fails_its_callers_only_and_one_that_gives_up_leaves_the_rest() -> None:
    calls = 0

    async def read() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise ConnectionError("database restarting")
        return calls

    reads = FreshReads(read)
    with pytest.raises(ConnectionError):
        await reads.get()
    leaving = asyncio.ensure_future(reads.get())
    staying = asyncio.ensure_future(reads.get())
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying == 2
    assert leaving.cancelled()


async def test_the_revision_follows_writes_made_through_another_connection(
    engine: AsyncEngine, hartford: int
) -> None:
    """On SQLite the read is made on a connection of its own, never through the engine."""
    revisions = PlanRevisions(engine)
    before = await revisions.current()
    assert before is not None and before[0] == hartford
    async with engine.begin() as conn:  # another process's write, as far as it knows
        await conn.execute(sa.text("UPDATE plans SET revision = revision + 1 WHERE active"))
    assert await revisions.current() == (hartford, before[1] + 1)
    on_sqlite = engine.url.get_backend_name() == "sqlite"
    assert (sqlite_file(engine) is not None) == on_sqlite
    assert (revisions.shared.reads == 0) == on_sqlite


@pytest.fixture
def frozen_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("handlers.context.PlanContext.open_period", lambda self: PERIOD)


@pytest.mark.usefixtures("frozen_period")
async def test_an_answer_cached_in_one_replica_follows_a_write_made_in_another(
    database_url: str, hartford: int
) -> None:
    async with (
        Workspace(database_url, admins=(ADMIN,), users=PEOPLE) as one,
        Workspace(database_url, admins=(ADMIN,), users=PEOPLE) as other,
    ):
        first = await one.command("fire", user=COO)
        assert (await one.command("fire", user=COO)).message == first.message  # cached now
        assert CHIEF not in first.text
        changed = await other.command(f"owner fire <@{CHIEF}|chief>", user=ADMIN)
        assert changed.status == 200
        assert CHIEF in (await one.command("fire", user=COO)).text
