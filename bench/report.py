"""The machine the run was on, and the results as a Markdown table (and raw JSON)."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import REPO, Row, say
from bench.findings import FINDINGS
from models.db import sync_url


@dataclass
class Machine:
    cores: int
    cpu: str
    memory: str
    python: str
    sqlite: str
    postgres: str
    date: str
    load_at_start: str
    load_at_end: str = ""
    commit: str = ""

    @classmethod
    def now(cls, postgres_url: str | None) -> Machine:
        return cls(
            cores=len(os.sched_getaffinity(0)),
            cpu=_cpu_model(),
            memory=_memory(),
            python=f"{platform.python_implementation()} {platform.python_version()}",
            sqlite=sqlite3.sqlite_version,
            postgres=_postgres_version(postgres_url),
            date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            load_at_start=load_average(),
            commit=_commit(),
        )


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GB"
    except OSError:
        pass
    return "unknown"


def _postgres_version(url: str | None) -> str:
    if url is None:
        return "not used"
    engine = sa.create_engine(sync_url(url), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SHOW server_version")).scalar())
    except sa.exc.OperationalError:
        return "unavailable"
    finally:
        engine.dispose()


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    commit = done.stdout.strip() or "unknown"
    return commit + (", with uncommitted changes" if dirty.stdout.strip() else "")


_ABOUT = """
## Workloads

Deterministic (seeded), generated once with bulk inserts and then reused: SQLite files in
`bench/.data/`, PostgreSQL databases `planbot_bench_*`. Every initiative has an update for every
month, authored by its department's owner; every department has an owner and its own channel.
The clock is fixed at 2026-11-10 15:00 UTC, so the open period is the last one generated
(2026-10); a digest was posted a week before, so this week's lists what changed since.

- **Hartford**: the bundled plan (19 departments, 87 initiatives, 10 goals), 24 months.
- **Large**: `synthetic_plan(200, 50, 40, seed=7)`: 200 departments, 10,000 initiatives,
  40 goals; 36 months, 360,000 updates. `/plan goal-1` is a Mayor's goal with about 1,000
  initiatives aligned to it.

## How each figure is measured

- `/plan`: a signed slash command built beforehand; only `await ws.send(request)` (request in,
  response out through httpx's ASGI transport, the answer in the ack) is timed; 10 warm-up
  requests, then 200. SQL statements are counted with a `before_cursor_execute` listener around
  one request of each kind.
- Digest: in a fresh child process (so that VmHWM is the bot's imports plus the digest):
  `digest_for(preview=True)` with its charts, drawn in the chart process
  (`handlers/chart_process.py`, started and made ready first, as `planbot serve` does) while
  the rest is queried; that process's memory is reported beside. The first build also looks up
  every name (users.info, on the loopback stand-in); the timed builds after it find them
  cached. The verdict is on the p50 of the warm builds and on the first build.
- Throughput: `planbot serve` (HTTP, `PLANBOT_SCHEDULER=false`) and `bench/bare_bolt.py`
  (AsyncApp + the same Starlette adapter + uvicorn with the same options, acks only), both
  running at once and loaded in turn, in interleaved rounds (A B, B A, A B…); the load generator
  is httpx on the same machine, with 16 concurrent senders. The ratio is the median of the
  rounds' ratios; beside it, each server's CPU time per request (from /proc), which moves less
  with the machine's load than requests per second. The same `/plan safety` is sent again and
  again, so after the first each answer comes from the answer cache (valid while the plan's
  revision stands still; every write moves it, and it is read afresh for every request).
- `/plan` latency is measured twice: with the answer cache invalidated before every request
  (every answer runs its queries and rendering: the verdict is on this), and repeated, from
  the cache. As `planbot serve` does, start-up objects are frozen out of the collector. Beside
  each figure, the floor: the bare Bolt app's ack of the same signed command, sent the same
  way just before, and the figure as a multiple of it.
- Fan-out: `post_monthly_prompts` against the stand-in enforcing 1 post/s per channel and 50/s
  per workspace (429 + Retry-After); posts are counted by department in their message metadata.
- Rush hour (`bench/rush.py`): `planbot serve` on a 1,000-department plan whose prompts were
  just posted, the stand-in enforcing Slack's published tier for every method; a minute of
  signed clicks, form submissions and thread replies at seeded random moments; then the
  database is read for what was recorded and every prompt in the stand-in compared with it,
  once no prompt waits for its refresh.
- Start-up: spawning `planbot serve` until `/healthz` answers 200, with compiled bytecode (as
  the Docker image is built, `UV_COMPILE_BYTECODE=1`; primed by one untimed start); idle RSS is
  VmRSS two seconds later. The same start without any compiled bytecode is shown beside it.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(
    rows: list[Row], machine: Machine, *, command: str, partial: str | None, seconds: float
) -> str:
    passed = sum(1 for r in rows if r.ok)
    judged = sum(1 for r in rows if r.ok is not None)
    lines = [
        "# Plan Bot benchmarks",
        "",
        f"Generated by `{command}` on {machine.date} in {seconds / 60:.1f} minutes"
        f" (commit {machine.commit}). **{passed} of {judged} targets met.**",
    ]
    if partial:
        lines += ["", f"> **Partial run ({partial})**: not the committed results table."]
    lines += [
        "",
        f"- **Machine**: {machine.cores} cores (`nproc`), {machine.cpu}, {machine.memory} RAM",
        f"- **Software**: {machine.python}; SQLite {machine.sqlite}; "
        f"PostgreSQL {machine.postgres} (127.0.0.1)",
        f"- **Load average** (1 / 5 / 15 min) at start {machine.load_at_start}, "
        f"at end {machine.load_at_end}",
        "",
        "The machine is shared and noisy: other engineers run test suites on it while this runs,",
        "so absolute times move from run to run (compare the load average). Figures marked",
        "**ratio** are measured side by side in the same run, on the same machine under the same",
        "load, and are the ones to compare across runs.",
        "",
        "| what | workload | database | measured | target | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r.what, r.workload, r.database, r.measured, r.target, r.verdict]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", _ABOUT.strip(), ""]
    missed = [r for r in rows if r.ok is False]
    if missed:
        lines += ["", "## Targets missed, and why"]
        groups: dict[str, list[Row]] = {}
        for r in missed:
            groups.setdefault(str(r.raw.get("finding") or r.what), []).append(r)
        for key, group in groups.items():
            lines += ["", f"### {group[0].what}", ""]
            lines += [f"- ❌ {r.workload}, {r.database}: {r.measured}" for r in group]
            if key in FINDINGS:
                lines += ["", FINDINGS[key]]
    lines += ["", "Regenerate: `make bench` (or `.venv/bin/python -m bench`).", ""]
    return "\n".join(lines)


def write(
    rows: list[Row],
    machine: Machine,
    output: Path,
    *,
    command: str,
    partial: str | None,
    seconds: float,
) -> Path:
    output.write_text(
        markdown(rows, machine, command=command, partial=partial, seconds=seconds),
        encoding="utf-8",
    )
    raw = output.with_name(output.stem.replace("RESULTS", "RESULTS.raw", 1) + ".json")
    if output.name.startswith("RESULTS.raw"):
        raw = output.with_suffix(".json")
    raw.write_text(
        json.dumps(
            {
                "command": command,
                "partial": partial,
                "seconds": seconds,
                "machine": asdict(machine),
                "rows": [asdict(r) for r in rows],
            },
            indent=1,
            default=_jsonable,
        ),
        encoding="utf-8",
    )
    return raw


def rewrite(raw: Path, output: Path) -> None:
    """The Markdown again from a run's raw figures (after the findings changed, say)."""
    saved = json.loads(raw.read_text(encoding="utf-8"))
    rows = [Row(**r) for r in saved["rows"]]
    output.write_text(
        markdown(
            rows,
            Machine(**saved["machine"]),
            command=saved["command"],
            partial=saved["partial"],
            seconds=saved["seconds"],
        ),
        encoding="utf-8",
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, float | int):
        return value
    return str(value)


def show(rows: list[Row]) -> None:
    """The results as plain lines on the terminal."""
    say("")
    for r in rows:
        say(f"{r.verdict} {r.what} — {r.workload} — {r.database}")
        say(f"    {r.measured}   (target: {r.target})")


def command_line() -> str:
    args = " ".join(sys.argv[1:])
    return f"python -m bench{' ' + args if args else ''}"
