"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, the loaded Hartford plan.

Storage tests take the `database_url` fixture and run once on each database. PostgreSQL is the
server named by PLANBOT_TEST_POSTGRES_URL (default: the local one, database `test`); where none
answers those tests skip, except in CI (CI or PLANBOT_REQUIRE_POSTGRES set), where a skipped
PostgreSQL test fails the run."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.workspace import Workspace
from models.db import create_engine, session_scope, sync_url, upgrade
from models.planfile import read_plan_file
from models.plans import load_plan
from tests.helpers import ADMIN, PEOPLE, PERIOD, truncate_all

POSTGRES_URL = os.environ.get(
    "PLANBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = bool(os.environ.get("CI") or os.environ.get("PLANBOT_REQUIRE_POSTGRES"))

# In CI a browser test (the public site in headless Chromium) may not be skipped either.
REQUIRE_BROWSER = bool(os.environ.get("CI") or os.environ.get("PLANBOT_REQUIRE_BROWSER"))

_skipped_postgres: list[str] = []
_skipped_browser: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "postgres" in report.keywords:
        _skipped_postgres.append(report.nodeid)
    if report.skipped and "browser" in report.keywords:
        _skipped_browser.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if (REQUIRE_POSTGRES and _skipped_postgres) or (REQUIRE_BROWSER and _skipped_browser):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if REQUIRE_POSTGRES and _skipped_postgres:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped_postgres)} PostgreSQL tests were skipped, and this run "
            f"requires PostgreSQL (CI or PLANBOT_REQUIRE_POSTGRES is set); is {POSTGRES_URL} up?",
            red=True,
        )
    if REQUIRE_BROWSER and _skipped_browser:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped_browser)} browser tests were skipped, and this run requires "
            "them (CI or PLANBOT_REQUIRE_BROWSER is set); apt-get install chromium "
            "chromium-driver",
            red=True,
        )


# --- databases ------------------------------------------------------------------------------


def _postgres_admin() -> sa.Engine:
    return sa.create_engine(sync_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server for this test run, migrated to head."""
    admin = _postgres_admin()
    name = f"planbot_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "planbot.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: a SQLite file, then the PostgreSQL test database."""
    if request.param == "sqlite":
        path = tmp_path / "planbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    truncate_all(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only, for tests of behaviour that does not depend on the database."""
    path = tmp_path / "planbot.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def hartford(engine: AsyncEngine) -> int:
    """The bundled Hartford plan, loaded; returns the plan id."""
    async with session_scope(engine) as session:
        result = await load_plan(session, read_plan_file(), period=PERIOD)
    return result.plan_id


def run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine from a sync test."""
    return asyncio.run(coro)


# --- a workspace: the real app, signed requests, a stand-in Web API -------------------------


@pytest.fixture
async def workspace(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    """The Hartford plan in a workspace where ADMIN is an admin and nobody owns anything yet."""
    async with Workspace(database_url, admins=(ADMIN,), users=PEOPLE) as ws:
        yield ws
