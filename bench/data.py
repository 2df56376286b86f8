"""The workloads: deterministic (seeded) plans with months of updates, made once and cached.

The plan itself goes in through the product's own loader (`load_plan`); owners, channels and the
months of updates are bulk inserts (Core `insert(...)` with lists of dicts, ~10,000 rows a
statement), not one ORM object per row. SQLite copies live in `bench/.data/`; PostgreSQL ones
in `planbot_bench_*` databases. Either is reused when its marker says it holds this workload at
the right row count, and rebuilt otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.engine import make_url

from bench.common import DATA_DIR, console, say
from models.db import create_engine, session_scope, sync_url, upgrade
from models.measure_status import fiscal_label
from models.measurefile import SAMPLE_MEASURES, read_measure_file
from models.measures import load_measures
from models.periods import next_period, recent_periods
from models.planfile import PlanSpec, read_plan_file
from models.plans import load_plan
from models.samples import add_sample_actuals, next_month
from models.status import Status
from models.synthetic import synthetic_plan
from models.tables import (
    Actual,
    Department,
    DepartmentOwner,
    Digest,
    Goal,
    Initiative,
    Measure,
    MeasureGoal,
    MeasureTarget,
    Update,
)

# Raise when the generator changes: cached copies of an older version are rebuilt.
GENERATOR_VERSION = 5
CHUNK = 10_000

# The clock every benchmark runs at: the open period is LAST_PERIOD, the last one generated.
LAST_PERIOD = "2026-10"
NOW = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
DIGEST_CHANNEL = "C0LEADERSHIP"
# A digest was posted a week earlier, so this week's lists what changed since (most of the
# last period's updates arrive between the 3rd and the 9th).
PREVIOUS_DIGEST_WEEK = "2026-11-02"
PREVIOUS_DIGEST_AT = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)

_NOTES = {
    Status.NOT_STARTED: [
        "Scoping with the vendor; kickoff planned for next month",
        "Waiting for the budget to be adopted",
    ],
    Status.ON_TRACK: [
        "Milestones met this month",
        "Pilot running in two neighborhoods, feedback collected weekly",
        "Contract signed, work started on schedule",
    ],
    Status.AT_RISK: [
        "Waiting on the union agreement",
        "Procurement is slower than planned; second bid round",
    ],
    Status.OFF_TRACK: [
        "Grant not awarded; looking for other funding",
        "Key position vacant since the spring",
    ],
    Status.COMPLETE: ["Done and handed over to operations"],
}
# How a status moves from one month to the next: slowly, so that after two or three years a
# plan still has work on track, at risk and off track (about 40 % complete after 24 months).
_NEXT = {
    Status.NOT_STARTED: [Status.NOT_STARTED] * 3 + [Status.ON_TRACK],
    Status.ON_TRACK: [Status.ON_TRACK] * 22 + [Status.AT_RISK] * 2 + [Status.COMPLETE],
    Status.AT_RISK: [Status.AT_RISK] * 2 + [Status.ON_TRACK, Status.OFF_TRACK],
    Status.OFF_TRACK: [Status.OFF_TRACK] * 2 + [Status.AT_RISK],
    Status.COMPLETE: [Status.COMPLETE],
}


@dataclass(frozen=True)
class Workload:
    name: str  # file and database name
    label: str  # as the results table shows it
    plan: Callable[[], PlanSpec]
    plan_args: str  # what `plan` makes, for the fingerprint
    months: int
    seed: int
    owner_prefix: str
    measures: int = 0  # per department, each with an actual for every period
    sample_measures: bool = False  # the bundled sample measures, with sample actuals

    @property
    def periods(self) -> list[str]:
        return recent_periods(LAST_PERIOD, self.months) if self.months else []

    @property
    def fingerprint(self) -> str:
        text = (
            f"v{GENERATOR_VERSION}|{self.plan_args}|{self.months}|{self.seed}|{LAST_PERIOD}"
            f"|m{self.measures}|s{self.sample_measures}"
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def owner(self, position: int) -> str:
        return f"{self.owner_prefix}{position + 1:05d}"

    def channel(self, position: int) -> str:
        return f"C{self.owner_prefix[1:]}{position + 1:05d}"


HARTFORD = Workload(
    "hartford",
    "Hartford: 19 departments, 87 initiatives, 24 months (2,088 updates); the 10 sample measures",
    read_plan_file,
    "hartford-bundled",
    24,
    2016,
    "UH",
    sample_measures=True,
)
LARGE = Workload(
    "large",
    "Large: 200 departments, 10,000 initiatives, 40 goals, 36 months (360,000 updates); "
    "2,000 measures (72,000 actuals)",
    lambda: synthetic_plan(200, 50, 40, seed=7),
    "synthetic(200,50,40,seed=7)",
    36,
    7,
    "UL",
    measures=10,
)


def fanout_workload(departments: int) -> Workload:
    return Workload(
        f"fanout{departments}",
        f"{departments:,} departments × 3 initiatives, each its own owner and channel",
        lambda: synthetic_plan(departments, 3, 8, seed=11),
        f"synthetic({departments},3,8,seed=11)",
        1,
        11,
        "UF",
    )


# --- where a workload lives ------------------------------------------------------------------


def sqlite_path(workload: Workload) -> Path:
    return DATA_DIR / f"{workload.name}.db"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def postgres_url(base: str, workload: Workload) -> str:
    return (
        make_url(base)
        .set(database=f"planbot_bench_{workload.name}")
        .render_as_string(hide_password=False)
    )


def admin_engine(base: str) -> sa.Engine:
    return sa.create_engine(sync_url(base), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def postgres_available(base: str) -> str | None:
    """None when the server answers, else why not."""
    engine = admin_engine(base)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0]
    finally:
        engine.dispose()
    return None


def _marker(url: str) -> tuple[str, int] | None:
    """The workload's fingerprint and the updates table's row count, if the database is ours."""
    engine = sa.create_engine(sync_url(url), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("bench_workload"):
                return None
            row = conn.execute(sa.text("SELECT fingerprint FROM bench_workload")).first()
            count = conn.execute(sa.text("SELECT count(*) FROM updates")).scalar_one()
            return (row[0], int(count)) if row else None
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()


def expected_updates(workload: Workload, spec: PlanSpec) -> int:
    imported = sum(1 for d in spec.departments for i in d.initiatives if i.status is not None)
    return workload.months * spec.initiative_count + imported


def ensure_sqlite(workload: Workload) -> str:
    """The workload's SQLite file (made now if missing or stale); its URL."""
    path = sqlite_path(workload)
    spec = workload.plan()
    wanted = (workload.fingerprint, expected_updates(workload, spec))
    if path.exists() and _marker(sqlite_url(path)) == wanted:
        say(f"data: {workload.name} on SQLite: reused {path.relative_to(DATA_DIR.parent.parent)}")
        upgrade(sqlite_url(path))  # data made by an older schema gets the new migrations
        _analyze_sqlite(path)  # a migration's new index has no statistics yet
        return sqlite_url(path)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.db")
    for stale in (path, partial):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{stale}{suffix}").unlink(missing_ok=True)
    say(f"data: {workload.name} on SQLite: generating…")
    asyncio.run(_generate(sqlite_url(partial), workload, spec))
    partial.rename(path)
    return sqlite_url(path)


def ensure_postgres(base: str, workload: Workload) -> str:
    """The workload's PostgreSQL database (made now if missing or stale); its URL."""
    url = postgres_url(base, workload)
    name = make_url(url).database
    spec = workload.plan()
    wanted = (workload.fingerprint, expected_updates(workload, spec))
    admin = admin_engine(base)
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
        if exists and _marker(url) == wanted:
            say(f"data: {workload.name} on PostgreSQL: reused database {name}")
            upgrade(url)  # data made by an older schema gets the new migrations
            _vacuum(url)
            return url
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    say(f"data: {workload.name} on PostgreSQL: generating database {name}…")
    asyncio.run(_generate(url, workload, spec))
    _vacuum(url)
    return url


def _analyze_sqlite(path: Path) -> None:
    engine = sa.create_engine(sync_url(sqlite_url(path)), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
            conn.commit()
    finally:
        engine.dispose()


def _vacuum(url: str) -> None:
    """What autovacuum does to a table soon after a bulk insert, done now rather than part-way
    through a measurement: statistics, and the visibility map that lets index-only scans skip
    the table."""
    engine = admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


def fresh_sqlite_copy(workload: Workload, into: Path) -> str:
    """A private copy of the workload's SQLite file (made beforehand by `ensure_sqlite`)."""
    source = sqlite_path(workload)
    if not source.exists():
        raise FileNotFoundError(f"{source}: run ensure_sqlite first")
    target = into / f"{workload.name}.db"
    shutil.copyfile(source, target)
    return sqlite_url(target)


def drop_postgres(base: str, workload: Workload) -> None:
    admin = admin_engine(base)
    try:
        with admin.connect() as conn:
            name = f"planbot_bench_{workload.name}"
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --- generating ------------------------------------------------------------------------------


def _progress() -> Progress:
    return Progress(
        TextColumn("  {task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


async def _generate(url: str, workload: Workload, spec: PlanSpec) -> None:
    upgrade(url)
    engine = create_engine(url)
    first = workload.periods[0]
    try:
        with _progress() as progress:
            plan_task = progress.add_task(f"{workload.name}: plan", total=spec.initiative_count)

            def loaded(done: int, total: int) -> None:
                progress.update(plan_task, completed=done, total=total)

            async with session_scope(engine) as session:
                result = await load_plan(session, spec, period=first, progress=loaded)
            plan_id = result.plan_id
            total = workload.months * spec.initiative_count
            rows_task = progress.add_task(f"{workload.name}: updates", total=total)
            async with engine.begin() as conn:
                initiatives, completed = await _owners_and_channels(conn, workload, plan_id)
            batch: list[dict[str, Any]] = []
            for row in _updates(workload, initiatives, completed):
                batch.append(row)
                if len(batch) == CHUNK:
                    await _insert(engine, batch)
                    progress.advance(rows_task, len(batch))
                    batch = []
            if batch:
                await _insert(engine, batch)
                progress.advance(rows_task, len(batch))
            if workload.measures:
                await _measures(engine, workload, plan_id)
            if workload.sample_measures:
                async with session_scope(engine) as session:
                    await load_measures(
                        session,
                        plan_id,
                        read_measure_file(SAMPLE_MEASURES).measures,
                        source=SAMPLE_MEASURES.name,
                        sample=True,
                    )
                    await add_sample_actuals(
                        session, plan_id, first, workload.months, start_month=7, now=NOW
                    )
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(Digest),
                [
                    {
                        "channel_id": DIGEST_CHANNEL,
                        "week": PREVIOUS_DIGEST_WEEK,
                        "state": "posted",
                        "message_ts": "1793365200.000100",
                        "claimed_at": PREVIOUS_DIGEST_AT,
                        "attempts": 1,
                        "created_at": PREVIOUS_DIGEST_AT,
                        "posted_at": PREVIOUS_DIGEST_AT,
                    }
                ],
            )
            await conn.execute(
                sa.text("CREATE TABLE bench_workload (fingerprint VARCHAR(40) NOT NULL)")
            )
            await conn.execute(
                sa.text("INSERT INTO bench_workload (fingerprint) VALUES (:f)"),
                {"f": workload.fingerprint},
            )
        if engine.dialect.name == "sqlite":
            async with engine.connect() as conn:
                await conn.execute(sa.text("ANALYZE"))
                await conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        await engine.dispose()
    say(f"data: {workload.name}: {spec.initiative_count:,} initiatives, {total:,} updates made")


async def _measures(engine: Any, workload: Workload, plan_id: int) -> None:
    """`workload.measures` measures per department, each serving one or two of the plan's
    goals, with a target per fiscal year and an actual for every period: a walk around its
    target, so that some are met, some near and some missed. Bulk inserts, as the updates."""
    rng = random.Random(workload.seed + 15)
    async with engine.begin() as conn:
        departments = (
            await conn.execute(
                sa.select(Department.id, Department.key)
                .where(Department.plan_id == plan_id)
                .order_by(Department.position)
            )
        ).all()
        goals = list(
            (await conn.execute(sa.select(Goal.id).where(Goal.plan_id == plan_id))).scalars()
        )
        measures = []
        for d_index, (department_id, key) in enumerate(departments):
            for n in range(workload.measures):
                unit, direction = rng.choice(
                    [("%", "higher"), ("days", "lower"), ("count", "higher"), ("dollars", "higher")]
                )
                measures.append(
                    {
                        "plan_id": plan_id,
                        "key": f"{key}-m{n + 1}",
                        "name": f"{key} measure {n + 1}",
                        "description": "",
                        "unit": unit,
                        "direction": direction,
                        "frequency": "monthly",
                        "aggregation": rng.choice(["latest", "latest", "sum"]),
                        "band": 0.1,
                        "department_id": department_id,
                        "position": d_index * workload.measures + n,
                        "aliases": [],
                        "sample": False,
                    }
                )
        await conn.execute(sa.insert(Measure), measures)
        rows = (
            await conn.execute(
                sa.select(Measure.id, Measure.aggregation)
                .where(Measure.plan_id == plan_id)
                .order_by(Measure.id)
            )
        ).all()
        targets, links, levels = [], [], {}
        years = sorted({fiscal_label(p, 7) for p in workload.periods})
        for measure_id, aggregation in rows:
            level = rng.uniform(10, 1000)
            levels[measure_id] = (level, aggregation)
            for year in years:
                yearly = level * 12 if aggregation == "sum" else level
                targets.append({"measure_id": measure_id, "scope": year, "value": yearly})
            for goal_id in rng.sample(goals, k=rng.choice((1, 2))):
                links.append({"measure_id": measure_id, "goal_id": goal_id})
        await conn.execute(sa.insert(MeasureTarget), targets)
        await conn.execute(sa.insert(MeasureGoal), links)
    batch: list[dict[str, Any]] = []
    for period in workload.periods:
        for measure_id, (level, _) in levels.items():
            batch.append(
                {
                    "measure_id": measure_id,
                    "period": period,
                    "value": round(level * rng.uniform(0.8, 1.15), 2),
                    "note": "",
                    "author": "bench",
                    "source": "api",
                    "source_ref": None,
                    "received_at": _received(period, 2, 0),
                }
            )
            if len(batch) == CHUNK:
                async with engine.begin() as conn:
                    await conn.execute(sa.insert(Actual), batch)
                batch = []
    if batch:
        async with engine.begin() as conn:
            await conn.execute(sa.insert(Actual), batch)


async def _insert(engine: Any, rows: list[dict[str, Any]]) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.insert(Update), rows)


async def _owners_and_channels(
    conn: Any, workload: Workload, plan_id: int
) -> tuple[list[tuple[int, int]], set[int]]:
    """An owner and a channel for every department (bulk); the initiatives as (id, position of
    their department), and those the plan file marked complete."""
    departments = (
        await conn.execute(
            sa.select(Department.id, Department.position)
            .where(Department.plan_id == plan_id)
            .order_by(Department.position)
        )
    ).all()
    await conn.execute(
        sa.insert(DepartmentOwner),
        [{"department_id": d, "user_id": workload.owner(p)} for d, p in departments],
    )
    table = Department.__table__
    await conn.execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values(channel_id=sa.bindparam("b_channel")),
        [{"b_id": d, "b_channel": workload.channel(p)} for d, p in departments],
    )
    position = dict(departments)
    initiatives = [
        (i, position[d])
        for i, d in (
            await conn.execute(
                sa.select(Initiative.id, Initiative.department_id)
                .where(Initiative.department_id.in_(list(position)))
                .order_by(Initiative.id)
            )
        ).all()
    ]
    # The plan file's own "(completed)" rows: received at a fixed time, not the wall clock.
    first = workload.periods[0] if workload.periods else LAST_PERIOD
    await conn.execute(
        sa.update(Update)
        .where(Update.source == "import")
        .values(received_at=_received(first, 0, 0))
    )
    completed = set(
        (
            await conn.execute(
                sa.select(Update.initiative_id).where(Update.status == Status.COMPLETE)
            )
        ).scalars()
    )
    return initiatives, completed


def _received(period: str, day: int, minute: int) -> datetime:
    """A moment in the first days of the month after `period`."""
    year, month = (int(p) for p in next_period(period).split("-"))
    return datetime(year, month, 1, 13, tzinfo=UTC) + timedelta(days=day, minutes=minute)


def _updates(
    workload: Workload, initiatives: list[tuple[int, int]], completed: set[int]
) -> Iterator[dict[str, Any]]:
    """Every initiative, every period: a plausible status walk, authored by its department's
    owner, received between the 1st and the 9th of the next month. Deterministic for the seed."""
    rng = random.Random(workload.seed)
    state = {i: Status.COMPLETE if i in completed else Status.NOT_STARTED for i, _ in initiatives}
    percent = dict.fromkeys(state, 0)
    for period in workload.periods:
        day_of = {}  # each department answers on one day, its initiatives minutes apart
        for initiative_id, position in initiatives:
            if position not in day_of:
                day_of[position] = (rng.randint(0, 8), rng.randint(0, 480))
            day, minute = day_of[position]
            status, percent[initiative_id] = next_month(
                rng, _NEXT, state[initiative_id], percent[initiative_id]
            )
            state[initiative_id] = status
            yield {
                "initiative_id": initiative_id,
                "period": period,
                "status": status.value,
                "percent": percent[initiative_id] if status != Status.NOT_STARTED else None,
                "note": rng.choice(_NOTES[status]),
                "author": workload.owner(position),
                "source": "form",
                "source_ref": None,
                "received_at": _received(period, day, minute),
                "late": False,
            }
