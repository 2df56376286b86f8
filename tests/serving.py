"""`planbot serve` as a real process on loopback, for the tests that need one."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

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


async def start_serve(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`planbot serve` on a free loopback port, once `/healthz` answers 200: the process and
    its base URL. Fails with the process's stderr if it exits first."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
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
