"""The C allocator's arenas, held to a few (glibc, which the Docker image and Debian use).

glibc's malloc gives each thread that allocates an arena of its own, up to eight per core, and
an arena's pages stay with the process once touched. The served bot's threads come and go:
aiosqlite runs each database connection in a thread of its own, and the pool opens and closes
connections with the load. Over a 30-minute soak the bot's memory climbed in steps of about
9 MB while Python's own heap stayed level (tracemalloc: 35 MiB throughout); with two arenas the
same run stays level (bench/soak.py; docs/performance.md, "Memory that stays flat").

An operator's MALLOC_ARENA_MAX, when set, is glibc's to apply and is left alone.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's <malloc.h>


def limit_malloc_arenas(most: int = MALLOC_ARENAS) -> bool:
    """At most `most` malloc arenas from now on (call it before the threads start). True when
    the limit was set; False where there is no glibc `mallopt`, or MALLOC_ARENA_MAX is set."""
    if "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done: bool = mallopt(_M_ARENA_MAX, most) == 1  # musl has a mallopt that does nothing: 0
    if not done:
        log.debug("malloc arenas not limited: mallopt refused")
    return done
