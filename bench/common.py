"""What every benchmark shares: where things live, a result row, percentiles, child processes."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / ".data"
DEFAULT_POSTGRES_URL = os.environ.get(
    "PLANBOT_BENCH_POSTGRES_URL",
    os.environ.get("PLANBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)

console = Console(highlight=False, soft_wrap=True)


def say(text: str) -> None:
    """One plain progress line on the terminal (or in a log when not on one)."""
    print(text, flush=True)


@dataclass(frozen=True)
class Settings:
    """How much each benchmark does: the full run, or a smoke run (`--quick`)."""

    quick: bool
    postgres_url: str
    requests: int  # timed /plan requests per command
    warmup: int
    throughput_seconds: float
    throughput_workers: int
    throughput_max_requests: int
    fanout_departments: int
    startup_runs: int
    digest_runs: int
    profile: bool = False  # also profile each benchmark, in a pass of its own

    @classmethod
    def make(cls, *, quick: bool, postgres_url: str, profile: bool = False) -> Settings:
        if quick:
            return cls(quick, postgres_url, 30, 5, 5.0, 16, 50_000, 200, 1, 1, profile)
        return cls(quick, postgres_url, 200, 10, 20.0, 16, 400_000, 1000, 5, 7, profile)


@dataclass
class Row:
    """One line of the results table. `ok` is None for a figure shown for information only."""

    what: str
    workload: str
    database: str
    measured: str
    target: str
    ok: bool | None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return {True: "✅", False: "❌", None: "—"}[self.ok]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), linear between closest ranks (as numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def mb(kib: float) -> str:
    return f"{kib / 1024:.0f} MB"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status_kib(pid: int | str, key: str) -> int:
    """A memory figure (VmRSS, VmHWM, …) from /proc/PID/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


PYCACHE = DATA_DIR / "pycache"


def child_env(*, bytecode: bool = True, **extra: str) -> dict[str, str]:
    """The environment for a child process: ours without any Slack or Plan Bot setting.

    With `bytecode` (the default) the child reads and writes compiled bytecode in
    `bench/.data/pycache`, as the production image does (it is built with
    UV_COMPILE_BYTECODE=1); without, it compiles every module from source at each start, as a
    process does where PYTHONDONTWRITEBYTECODE is set and nothing was compiled."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PLANBOT_"))}
    env.pop("PYTHONPYCACHEPREFIX", None)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:  # an empty cache folder, so that no bytecode is found anywhere
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(DATA_DIR / "no-pycache")
    env.update(
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def child(
    args: Sequence[str], env: dict[str, str], log: Path, cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process whose output goes to `log`; always ended (TERM, then KILL) on the way out."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(args), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, close_fds=True
        )
        try:
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


async def until_ready(
    base: str,
    process: subprocess.Popen[Any],
    log: Path,
    *,
    what: str = "planbot serve",
    timeout: float = 60.0,
    pause: float = 0.02,
) -> float:
    """Seconds until `base`/healthz answers 200; raises if the process exits first (with its
    log's tail) or `timeout` passes."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited: {tail(log)}")
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            await asyncio.sleep(pause)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s")


def python() -> str:
    return sys.executable


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def log_file(name: str) -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "logs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"")
    return path
