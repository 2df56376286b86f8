"""`--profile`: cProfile (the standard library's) around what a benchmark measures, in a pass
of its own after the timed one, so that profiling never inflates a reported figure.

Profiles go to `bench/.data/profiles/NAME.prof` (open them with `python -m pstats FILE`); the
functions with the most time of their own are printed on the terminal.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
from collections.abc import Iterator
from pathlib import Path

from bench.common import DATA_DIR, say

PROFILES = DATA_DIR / "profiles"
TOP = 15


def profile_path(name: str) -> Path:
    PROFILES.mkdir(parents=True, exist_ok=True)
    return PROFILES / f"{name}.prof"


@contextlib.contextmanager
def profiled(name: str) -> Iterator[None]:
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        path = profile_path(name)
        profile.dump_stats(path)
        show(path)


def show(path: Path, top: int = TOP) -> None:
    """The functions with the most time of their own (coroutines' cumulative times count each
    resumption as a call, so own time is the figure to read)."""
    if not path.exists():
        say(f"profile: {path} was not written")
        return
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    say(f"profile: {path.relative_to(DATA_DIR.parent.parent)} (top {top} by own time)")
    for line in lines[start:]:
        say("  " + line)
