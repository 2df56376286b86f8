"""The served bot holds the C allocator to two arenas (bot/malloc.py): threads that allocate share
them instead of each taking one of its own, which kept memory climbing over long runs. Checked
in a fresh interpreter, with glibc's own account of its arenas (`malloc_stats`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.malloc import MALLOC_ARENAS

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's allocator, as in the Docker image"
)

THREADS = 8

# Eight threads allocate at once (blocks past pymalloc's 512 bytes, so malloc's), all alive
# together; then glibc lists its arenas on stderr.
SCRIPT = textwrap.dedent(
    f"""
    import ctypes, sys, threading
    from bot.malloc import limit_malloc_arenas
    print(limit_malloc_arenas() if sys.argv[1] == "limit" else "-")
    together = threading.Barrier({THREADS})
    kept = []
    def allocate():
        kept.append([bytes(2048) for _ in range(200)])
        together.wait()
    threads = [threading.Thread(target=allocate) for _ in range({THREADS})]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ctypes.CDLL(None).malloc_stats()
    """
)


def arenas(mode: str, **env: str) -> tuple[str, int]:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        env=environment,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
        timeout=60,
    )
    counted = sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))
    return done.stdout.strip(), counted


def test_threads_share_two_arenas_once_limited_and_take_their_own_otherwise() -> None:
    set_it, limited = arenas("limit")
    _, unlimited = arenas("none")
    assert set_it == "True"
    assert limited <= MALLOC_ARENAS
    assert unlimited > MALLOC_ARENAS  # without the limit, threads take arenas of their own


def test_an_operators_malloc_arena_max_is_left_to_glibc() -> None:
    set_it, counted = arenas("limit", MALLOC_ARENA_MAX="4")
    assert set_it == "False"
    assert MALLOC_ARENAS < counted <= 4
