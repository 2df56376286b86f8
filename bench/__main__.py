"""`python -m bench`: every benchmark, then `bench/RESULTS.md`.

    python -m bench                 the full run (several minutes), writes bench/RESULTS.md
    python -m bench --quick         a smoke run of everything (about a minute once data exist)
    python -m bench --only digest   one benchmark (or several: --only latency,statements)
    python -m bench --soak 30       only the soak: 30 minutes of steady load on each database

A partial run (--quick or --only) writes bench/RESULTS.raw.partial.md instead, so it never
replaces the committed table.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import data, rush
from bench.common import BENCH_DIR, DEFAULT_POSTGRES_URL, Row, Settings, say
from bench.report import Machine, command_line, load_average, rewrite, show, write

BENCHMARKS = (
    "startup",
    "throughput",
    "latency",
    "statements",
    "digest",
    "api",
    "fanout",
    "replies",
    "public",
    "rush",
    "soak",
)
ALIASES = {"memory": ("startup", "digest"), "all": BENCHMARKS}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Plan Bot's benchmarks against their targets."
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: fewer requests, shorter loads"
    )
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME]",
        help=f"run only these: {', '.join(BENCHMARKS)} (or memory = startup,digest)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="PostgreSQL server (its planbot_bench_* databases are made and reused); "
        "default $PLANBOT_BENCH_POSTGRES_URL or the tests' server",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile each benchmark with cProfile, in a pass of its own after the timed "
        "one (bench/.data/profiles/*.prof)",
    )
    parser.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="run only the soak, for MINUTES on each database (`--only soak` runs a short one)",
    )
    parser.add_argument("--output", type=Path, help="where the Markdown table goes")
    parser.add_argument(
        "--rewrite",
        action="store_true",
        help="measure nothing: write bench/RESULTS.md again from bench/RESULTS.raw.json "
        "(after bench/findings.py changed)",
    )
    return parser


def _selected(only: str | None) -> list[str]:
    if not only:
        return list(BENCHMARKS)
    chosen: list[str] = []
    for name in (n.strip() for n in only.split(",") if n.strip()):
        names = ALIASES.get(name, (name,))
        for n in names:
            if n not in BENCHMARKS:
                raise SystemExit(f"python -m bench: no benchmark {n!r}; choose from {BENCHMARKS}")
            chosen.append(n)
    return [n for n in BENCHMARKS if n in chosen]


def _failure(name: str, database: str, exc: BaseException) -> Row:
    say(f"{name}: FAILED: {type(exc).__name__}: {exc}")
    traceback.print_exc()
    return Row(
        f"{name}: the benchmark did not complete",
        "—",
        database,
        f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
        "completes",
        False,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.rewrite:
        output = args.output or BENCH_DIR / "RESULTS.md"
        rewrite(BENCH_DIR / "RESULTS.raw.json", output)
        say(f"bench: wrote {output} from RESULTS.raw.json")
        return 0
    selected = ["soak"] if args.soak is not None else _selected(args.only)
    settings = Settings.make(quick=args.quick, postgres_url=args.postgres_url, profile=args.profile)
    partial = ", ".join(
        p
        for p in (
            "--quick" if args.quick else "",
            f"--only {args.only}" if args.only else "",
            f"--soak {args.soak:g}" if args.soak is not None else "",
        )
        if p
    )
    output = args.output or BENCH_DIR / ("RESULTS.raw.partial.md" if partial else "RESULTS.md")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("planbot").setLevel(logging.WARNING)

    postgres_problem = "--no-postgres" if args.no_postgres else None
    if postgres_problem is None:
        postgres_problem = data.postgres_available(args.postgres_url)
    machine = Machine.now(None if postgres_problem else args.postgres_url)
    started = time.perf_counter()
    say(
        f"bench: {', '.join(selected)}{' (quick)' if args.quick else ''} on {machine.cores} cores, "
        f"{machine.cpu}, {machine.python}; load average {machine.load_at_start}"
    )
    if postgres_problem:
        say(f"bench: PostgreSQL not used: {postgres_problem}")

    # Data first (generated once, then reused), so that no benchmark pays for it.
    databases: dict[str, dict[str, str]] = {"hartford": {}, "large": {}}
    wants = set(selected)
    if wants & {"latency", "statements", "startup", "throughput"}:
        databases["hartford"]["SQLite"] = data.ensure_sqlite(data.HARTFORD)
    if wants & {"latency", "statements", "digest", "api"}:
        databases["large"]["SQLite"] = data.ensure_sqlite(data.LARGE)
        if not postgres_problem:
            if wants & {"latency", "statements"}:
                databases["hartford"]["PostgreSQL"] = data.ensure_postgres(
                    args.postgres_url, data.HARTFORD
                )
            databases["large"]["PostgreSQL"] = data.ensure_postgres(args.postgres_url, data.LARGE)
    if "public" in wants:
        data.ensure_sqlite(data.LARGE)
    if "fanout" in wants:
        data.ensure_sqlite(data.fanout_workload(settings.fanout_departments))
    if "rush" in wants:
        rush_workload = data.fanout_workload(rush.rush_departments(settings))
        data.ensure_sqlite(rush_workload)
        if not postgres_problem:
            data.ensure_postgres(args.postgres_url, rush_workload)

    rows: list[Row] = []
    for name in selected:
        rows += _run(name, settings, databases, postgres_problem, args.soak)

    machine.load_at_end = load_average()
    seconds = time.perf_counter() - started
    show(rows)
    raw = write(
        rows, machine, output, command=command_line(), partial=partial or None, seconds=seconds
    )
    shown = output.relative_to(Path.cwd()) if output.is_relative_to(Path.cwd()) else output
    say(f"bench: wrote {shown}")
    say(f"bench: raw figures in {raw.name}; {seconds / 60:.1f} minutes")
    return 0


def _run(
    name: str,
    settings: Settings,
    databases: dict[str, dict[str, str]],
    postgres: str | None,
    soak_minutes: float | None = None,
) -> list[Row]:
    from bench import digest, fanout, latency, measures_api, public_pages, replies, served, soak

    def guarded(database: str, job: Callable[[], list[Row]]) -> list[Row]:
        try:
            return job()
        except Exception as exc:
            return [_failure(name, database, exc)]

    rows: list[Row] = []
    dbs = ["SQLite", "PostgreSQL"]
    if postgres and name in ("latency", "statements", "digest", "api", "soak"):
        chosen = postgres == "--no-postgres"  # asked for: not a miss
        rows.append(
            Row(
                f"{name} on PostgreSQL",
                "—",
                "PostgreSQL",
                f"not run: {postgres}",
                "runs",
                None if chosen else False,
            )
        )
    if name == "startup":
        rows += guarded("SQLite", lambda: asyncio.run(served.run_startup(settings)))
    elif name == "throughput":
        rows += guarded("SQLite", lambda: asyncio.run(served.run_throughput(settings)))
    elif name == "fanout":
        rows += guarded("SQLite", lambda: asyncio.run(fanout.run_fanout(settings)))
    elif name == "replies":
        rows += guarded("—", lambda: replies.run_replies(settings))
    elif name == "rush":
        rows += guarded(
            "—", lambda: asyncio.run(rush.run_rush(settings, postgres=postgres is None))
        )
    elif name == "public":
        rows += guarded("SQLite", lambda: asyncio.run(public_pages.run_public_pages(settings)))
    elif name == "soak":
        minutes = soak.minutes_for(settings, soak_minutes)
        for database in dbs if not postgres else ["SQLite"]:

            def soaked(database: str = database) -> list[Row]:
                return soak.run_soak(database, settings, minutes)

            rows += guarded(database, soaked)
    elif name == "digest":
        for db in dbs:
            if db in databases["large"]:
                url = databases["large"][db]
                rows += guarded(db, lambda db=db, url=url: digest.run_digest(db, url, settings))
    elif name == "api":
        for db in dbs:
            if db in databases["large"]:
                url = databases["large"][db]
                rows += guarded(
                    db, lambda db=db, url=url: measures_api.run_measures_api(db, url, settings)
                )
    elif name in ("latency", "statements"):
        for db in dbs:
            if db not in databases["large"]:
                continue

            def both(db: str = db) -> list[Row]:
                found: list[Row] = []
                counts = {}
                for workload in (data.HARTFORD, data.LARGE):
                    url = databases[workload.name][db]
                    timed, counts[workload.name] = asyncio.run(
                        latency.run_latency(workload, db, url, settings, timing=name == "latency")
                    )
                    found += timed
                if name == "statements":
                    found.append(latency.statement_row(db, counts["hartford"], counts["large"]))
                return found

            rows += guarded(db, both)
    return rows


if __name__ == "__main__":
    sys.exit(main())
