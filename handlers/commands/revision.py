"""The active plan's revision, read afresh for every `/plan` answer the cache may give.

Every write bumps the revision (models/plans.py: bump_revision), in whichever process makes it,
so a cached answer is right only if the revision is read *after* the request arrived: a read
made earlier, or remembered, could miss another replica's write. This module makes that read
cheap, not rarer:

- on PostgreSQL (and any database but a SQLite file), through the engine, one read shared by
  the requests that ask at once, started after each of them asked (handlers/commands/fresh.py);
- on a SQLite file, on a connection of its own in the event loop's thread: the one-row read
  takes ≈ 5 µs there, against ≈ 300 µs of CPU through aiosqlite (a pooled connection and five
  hand-offs to its thread). The connection never waits for a lock (busy timeout 0; in WAL mode
  a reader is not blocked by writers anyway): when SQLite says busy, the read goes through the
  engine instead, so the event loop is never held up."""

from __future__ import annotations

import logging
import sqlite3

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from handlers.commands.fresh import FreshReads
from models.tables import Plan

log = logging.getLogger(__name__)

Revision = tuple[int, int]  # the active plan's id and revision

_ACTIVE_REVISION = sa.select(col(Plan.id), col(Plan.revision)).where(col(Plan.active)).limit(1)
_SQL = str(_ACTIVE_REVISION.compile(compile_kwargs={"literal_binds": True}))


async def read_through_engine(engine: AsyncEngine) -> Revision | None:
    """One row, on a pooled connection (no session)."""
    async with engine.connect() as conn:
        row = (await conn.execute(_ACTIVE_REVISION)).first()
    return None if row is None else (int(row[0]), int(row[1]))


def sqlite_file(engine: AsyncEngine) -> str | None:
    """The SQLite file the engine uses; None for any other database or an in-memory one."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:") or url.query:
        return None  # a URI or options: leave it to the engine, which knows them
    return url.database


class WouldWait(Exception):
    """The revision cannot be read without waiting (not a SQLite file, or SQLite is busy)."""


class PlanRevisions:
    """`await revisions.current()`: the active plan's (id, revision), read after the call
    began; None when no plan is loaded."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.shared = FreshReads(lambda: read_through_engine(engine))
        self._file = sqlite_file(engine)
        self._sqlite: sqlite3.Connection | None = None

    async def current(self) -> Revision | None:
        try:
            return self.current_now()
        except WouldWait:
            return await self.shared.get()

    def current_now(self) -> Revision | None:
        """The same, read now without waiting (a SQLite file); WouldWait where it cannot be."""
        if self._file is not None:
            try:
                return self._read_sqlite(self._file)
            except sqlite3.Error as error:
                # Busy (a checkpoint, a writer outside WAL mode) or gone: the engine's way.
                log.debug("revision read on SQLite's own connection: %s", error)
                self._close()
        raise WouldWait

    def _read_sqlite(self, file: str) -> Revision | None:
        if self._sqlite is None:
            # Autocommit: each read sees every write committed before it. Only the event
            # loop's thread uses it, one read at a time (no await in between).
            self._sqlite = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
            self._sqlite.execute("PRAGMA busy_timeout = 0")
            self._sqlite.execute("PRAGMA query_only = 1")
        row = self._sqlite.execute(_SQL).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def _close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None

    def __del__(self) -> None:
        self._close()
