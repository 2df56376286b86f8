"""`planbot` as a real process: `serve` on loopback, or any command run while this test's event
loop keeps serving the Web API stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.standin import SlackStandin
from models.db import create_engine, session_scope
from models.planfile import read_plan_file
from models.plans import load_plan
from tests.conftest import PEOPLE

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any Slack or Plan Bot setting of the developer's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "PLANBOT_")) and k != "DATABASE_URL"
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


async def start_serve(
    env: dict[str, str], cwd: Path, fd_limit: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`planbot serve` on a free loopback port, once `/healthz` answers 200: the process and
    its base URL. Fails with the process's stderr if it exits first. `fd_limit` caps the
    process's open files (soft and hard), as a host with a low `ulimit -n` would."""
    port = free_port()

    def limit_files() -> None:
        if fd_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limit_files if fd_limit is not None else None,
    )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return process, base
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise AssertionError(process.stderr.read() if process.stderr else "")
            await asyncio.sleep(0.05)
    process.terminate()
    raise AssertionError(f"planbot serve did not answer /healthz: {process.communicate()[1]!r}")


@dataclass
class Served:
    """A running `planbot serve`: where it listens, its stand-in, and its log once stopped."""

    base: str
    port: int
    slack: SlackStandin
    process: subprocess.Popen[bytes]
    stderr: str = ""

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.stderr = self.process.communicate(timeout=30)[1].decode()
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.stderr = self.process.communicate()[1].decode()
        return self.stderr


@contextlib.asynccontextmanager
async def hartford_served(
    sqlite_url: str, cwd: Path, signing_secret: str, fd_limit: int | None = None
) -> AsyncIterator[Served]:
    """`planbot serve` on the Hartford plan (SQLite), against a stand-in, with no scheduler;
    stopped on the way out (`Served.stop()` earlier gives its log)."""
    engine = create_engine(sqlite_url)
    async with session_scope(engine) as session:
        await load_plan(session, read_plan_file(), period="2026-10")
    await engine.dispose()
    async with SlackStandin(users=PEOPLE) as slack:
        env = clean_env(
            DATABASE_URL=sqlite_url,
            SLACK_BOT_TOKEN="xoxb-http-server-test",
            SLACK_SIGNING_SECRET=signing_secret,
            SLACK_API_URL=slack.base_url,
            PLANBOT_LOG_FORMAT="text",
            PLANBOT_SCHEDULER="false",
        )
        process, base = await start_serve(env, cwd, fd_limit=fd_limit)
        served = Served(base, int(base.rsplit(":", 1)[1]), slack, process)
        try:
            yield served
        finally:
            served.stop()


def printed_table(stdout: str) -> dict[str, str]:
    """The rows of the table `planbot` printed (rich, two columns): label → cell, with cells
    rich wrapped onto further lines joined up."""
    rows: dict[str, str] = {}
    label = ""
    for line in stdout.splitlines():
        if "│" not in line:
            continue
        first, second = (cell.strip() for cell in line.split("│")[1:3])
        if first:
            label = first
            rows[label] = second
        else:
            rows[label] += " " + second
    return rows


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def table(self) -> dict[str, str]:
        return printed_table(self.stdout)

    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("planbot:")]


async def run_planbot(*args: str, env: dict[str, str], cwd: Path, timeout: float = 120) -> Result:
    """`planbot ARGS` in a child process. Started without blocking, so a stand-in served by the
    test's event loop keeps answering while the command runs."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())
