"""Database engines, sessions and migrations, for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

DEFAULT_DATABASE_URL = "sqlite:///planbot.db"


class DatabaseUrlError(ValueError):
    """The database URL names no database we can use."""


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DatabaseUrlError("not a database URL") from exc
    backend = parsed.get_backend_name()
    if backend == "postgres":
        parsed = parsed.set(drivername="postgresql")
        backend = "postgresql"
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    return parsed


def sync_url(url: str) -> URL:
    """The URL for synchronous work (migrations): sqlite3 or psycopg."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite")
    return parsed.set(drivername="postgresql+psycopg")


def async_url(url: str) -> URL:
    """The URL for the running bot: aiosqlite or psycopg's async mode."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    return parsed.set(drivername="postgresql+psycopg")


def redact(url: str) -> str:
    """The URL as it may appear in logs: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable database URL>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


CONNECT_TIMEOUT = 2  # seconds


def database_unavailable(error: BaseException) -> bool:
    """The database did not answer (down, restarting, unreachable), as opposed to a query
    it refused: nothing was written, and the same request later will work. No connection
    within the pool's wait (every one taken: a stalled database, a rush) is the same: no
    statement was sent."""
    if isinstance(error, sa.exc.TimeoutError):
        return True
    if isinstance(error, sa.exc.DBAPIError):
        return isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError) or bool(
            error.connection_invalidated
        )
    return isinstance(error, ConnectionError | TimeoutError)


# The pool of connections, as SQLAlchemy would make it, named: `lane` counts on them.
POOL_SIZE = 5  # kept open
POOL_OVERFLOW = 10  # opened beyond those when all are taken, closed once returned
POOL_TIMEOUT = 30.0  # seconds a session waits for a connection before it fails
# Every PostgreSQL connection's settings (see create_engine).
SERVER_OPTIONS = "-c jit=off -c plan_cache_mode=force_custom_plan"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for the bot; SQLite gets foreign keys, WAL and a busy timeout."""
    target = async_url(url)
    pooled = "poolclass" not in kwargs and target.database not in (None, "", ":memory:")
    if pooled:  # an in-memory SQLite database is one connection, not a pool
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT)
    if target.get_backend_name() == "sqlite":
        _ensure_sqlite_folder(target)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        # JIT compiling costs more than it saves on our short queries (measured: bench/). Every
        # statement is planned for its own values: psycopg prepares a statement run five times,
        # and PostgreSQL then switched to a generic plan that took the Large digest from 0.65 s
        # to 5 s a build from the sixth on. A server that does not answer is given up on in 2 s
        # (psycopg's least), so a listener still answers within Slack's 3 s when it is down.
        # A caller's own connect_args add to these; its options come after ours, so win.
        given = dict(kwargs.get("connect_args") or {})
        options = " ".join(part for part in (SERVER_OPTIONS, given.pop("options", "")) if part)
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT, **given, "options": options}
    engine = create_async_engine(target, **kwargs)
    if target.get_backend_name() == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    if pooled and kwargs["max_overflow"] >= 0:  # a negative overflow: no limit to share
        room = kwargs["pool_size"] + kwargs["max_overflow"] - URGENT_CONNECTIONS
        if room >= 1:
            _ROOM[engine.sync_engine] = (room, float(kwargs["pool_timeout"]))
    return engine


def _ensure_sqlite_folder(target: URL) -> None:
    if target.database and target.database != ":memory:":
        Path(target.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def session_scope(
    engine: AsyncEngine, *, urgent: bool = False
) -> AsyncIterator[AsyncSession]:
    """One session, committed when the block ends without an error, rolled back otherwise.
    `urgent`: Slack's acknowledgement waits for it (a form, read and stored before Slack is
    answered); it may use the connections kept for such work (`lane`)."""
    async with lane(engine, urgent=urgent), _session(engine) as session:
        yield session


@asynccontextmanager
async def _session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as session:
        try:
            yield session
            await _to_the_end(session.commit())
        except BaseException:
            await _to_the_end(session.rollback())
            raise


async def _to_the_end(ending: Coroutine[Any, Any, None]) -> None:
    """Commits or rolls back to the end even when this task is cancelled meanwhile (a shutdown,
    a client gone), then raises the cancellation. Both hand the connection back to the pool,
    which rolls it back first: cut short there, the pool logged an error and threw the
    connection away, and a commit cut short left the caller not knowing whether it was kept.
    SQLAlchemy protects an AsyncSession's close the same way, but not these."""
    task = asyncio.ensure_future(ending)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.wait((task,))  # cancelling the wait leaves the task running
        except asyncio.CancelledError as exc:
            cancelled = exc
    if cancelled is None:
        task.result()
        return
    raise cancelled from (None if task.cancelled() else task.exception())


# Connections of the pool kept for work an acknowledgement waits for. Every other session waits
# for a place in the rest of the pool rather than for the pool itself: under a rush of answers
# (issue 18) the work done after each click and reply was acknowledged took every connection,
# and forms — stored before they are acknowledged — waited past Slack's 3 s (hundreds of 500
# in a minute on PostgreSQL, once the machine was busy).
URGENT_CONNECTIONS = 3

# Per engine made by `create_engine` with a bounded pool: the connections not kept for urgent
# work, and how long the pool lets a session wait.
_ROOM: weakref.WeakKeyDictionary[Any, tuple[int, float]] = weakref.WeakKeyDictionary()
# One lane per engine and event loop (a semaphore belongs to its loop).
_LANES: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Any, asyncio.Semaphore]
] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def lane(engine: AsyncEngine, *, urgent: bool = False) -> AsyncIterator[None]:
    """A place among the pool's connections that are not kept for urgent work; urgent work
    goes straight to the pool. Waiting longer than the pool would is the pool's timeout."""
    kept = _ROOM.get(engine.sync_engine)
    if urgent or kept is None:
        yield
        return
    room, timeout = kept
    lanes = _LANES.setdefault(asyncio.get_running_loop(), weakref.WeakKeyDictionary())
    places = lanes.get(engine.sync_engine)
    if places is None:
        places = lanes[engine.sync_engine] = asyncio.Semaphore(room)
    try:
        if places.locked():  # only a wait needs a timer
            await asyncio.wait_for(places.acquire(), timeout)
        else:
            await places.acquire()
    except TimeoutError:
        raise sa.exc.TimeoutError(
            f"no connection for {timeout:g} s ({room} in use, {URGENT_CONNECTIONS} kept for "
            "acknowledgements)"
        ) from None
    try:
        yield
    finally:
        places.release()


def concurrent_reads(engine: AsyncEngine) -> bool:
    """Whether independent reads may go at once, each on a connection of its own: a pool of
    several, not the one connection of an in-memory SQLite database."""
    return engine.sync_engine in _ROOM


class Turns:
    """Writers to one SQLite database from this process, one at a time, in the order they came
    — except that a writer an acknowledgement waits for (a form, stored before Slack is
    answered) goes before those whose person has been answered already."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())

    async def take(self, *, urgent: bool = False) -> None:
        if not self._held:
            self._held = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting[0 if urgent else 1]
        queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give()  # handed the turn just as it was cancelled: pass it on
            elif turn in queue:
                queue.remove(turn)
            raise

    def give(self) -> None:
        for queue in self._waiting:
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._held = False


# One Turns per SQLite engine and event loop (futures belong to their loop).
_WRITERS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Any, Turns]
] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def write_scope(engine: AsyncEngine, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
    """`session_scope` for a transaction that writes. On SQLite, one such transaction at a time
    in this process (`Turns`): the database goes to the next writer the moment the last one
    commits, where SQLite's busy handler would have each waiter poll (sleeping up to 100 ms a
    time), and an `urgent` writer — one an acknowledgement waits for — goes first. Under a
    thousand answers a minute (issue 18) answers queued behind each other for seconds, and a
    form, acknowledged only once stored, missed Slack's 3 s. PostgreSQL locks rows, not the
    database: nothing changes there."""
    if engine.dialect.name != "sqlite":
        async with session_scope(engine, urgent=urgent) as session:
            yield session
        return
    loop = asyncio.get_running_loop()
    turns = _WRITERS.setdefault(loop, weakref.WeakKeyDictionary()).setdefault(
        engine.sync_engine, Turns()
    )
    # The turn first, then a place among the connections: writers queued for their turn hold
    # no place, so reads (a `/plan` answer, whose acknowledgement waits for it) still find one.
    # Taken the other way round, more queued writers than places held them all (the test:
    # tests/models/test_write_scope.py); a soak of 20 requests a second on SQLite had every
    # `/plan` answer wait past its 2 s for four minutes while clicks and events went through.
    await turns.take(urgent=urgent)
    try:
        async with lane(engine, urgent=urgent), _session(engine) as session:
            yield session
    finally:
        turns.give()


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement the engine sends to the database while the block runs: how tests and
    the benchmarks check that a question costs the same number of statements at any size."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", record)


def alembic_config(url: str) -> Any:
    """Alembic's configuration for our migrations (imported late: Alembic is slow to import)."""
    from alembic.config import Config

    import migrations

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option(
        "sqlalchemy.url", sync_url(url).render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


# Several replicas may start at once: on PostgreSQL one of them migrates while the others wait.
_MIGRATION_LOCK = 7_201_602


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema up to date: the only way tables are created or changed."""
    target = sync_url(url)
    if target.get_backend_name() == "sqlite":
        _ensure_sqlite_folder(target)
    engine = sa.create_engine(target, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if revision == "head" and _revision(conn) == _head():
                return
            postgres = conn.dialect.name == "postgresql"
            if postgres:
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
                conn.commit()
            try:
                from alembic import command

                cfg = alembic_config(url)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                conn.commit()
            finally:
                if postgres:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                    conn.commit()
    finally:
        engine.dispose()


def _head() -> str:
    import migrations

    return migrations.HEAD


def _revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def current_revision(url: str) -> str | None:
    engine = sa.create_engine(sync_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            from alembic.runtime.migration import MigrationContext

            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
