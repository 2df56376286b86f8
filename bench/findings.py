"""What profiling found behind each missed target, shown under the results table when that
target is missed: the cause (file, function) with the measurement behind it, and the proposed
fix. Profiled on 2026-11-26 with `python -m bench --profile` (cProfile), `EXPLAIN (ANALYZE,
BUFFERS)` on PostgreSQL and `-X importtime`, on the 2-core shared machine of the results table.
Update an entry when the code it describes changes; what was fixed, and how much it bought, is
in `docs/performance.md`."""

from __future__ import annotations

_GC = """\
Python's cyclic garbage collector: every ~10–12 requests a full (generation 2) collection walks
the ≈ 136,000 objects the process keeps from start-up (Bolt, SQLAlchemy, the app) and stops
everything for 90–100 ms; those pauses are the slow 5 % (the timings above are p50 plus
exactly those spikes, periodically). Measured with a `gc.callbacks` hook on `/plan goal-1`
(Large, SQLite, 150 requests): 13 generation-2 collections, median pause 92–104 ms, p95 164–173
ms; with `gc.freeze()` after start-up the same pauses take 2–3 ms and the p95 is 95–98 ms."""

_GOAL_LARGE = f"""\
**Cause of the p95.** {_GC}

**Cause of the p50** (70–100 ms). `/plan goal-1` aligns ~974 initiatives and the answer is
built row by row in Python although it shows only counts, one line per department (200) and the
at-risk / off-track items. In `models/queries.py: goal_summary`, `initiative_rows()` fetches
every aligned initiative with its latest update (6–17 ms of SQL), then `_line` /
`_update_view` make an `InitiativeLine` + `UpdateView` per row, each with `Status(...)` (an
Enum lookup) and `UTCDateTime.process_result_value` on `received_at`, and the `departments`
dict comprehension makes a `DepartmentRef` per *row* instead of per department: these are the
top own-time entries in cProfile; `goal_summary` is ≈ 44 ms of the p50. `models/lookup.py:
load_directory` adds 2 statements, 240 ORM objects and a `normalise()` of every name and
alias per request (≈ 3–5 ms).

**Done since:** `gc.freeze()` after start-up (`bot/server.py: serve`); the latest update
through LATERAL on PostgreSQL (`models/queries.py: latest_update`). **Remaining, if it misses
again:** `models/queries.py: goal_summary` counting in SQL (`GROUP BY department, status`
over the latest update) and fetching full rows only for `status IN ('at_risk', 'off_track')`,
so the Python work follows departments and attention items rather than initiatives; caching
the `Directory` by plan revision."""

_DIGEST = """\
**Where the time goes** (Large, SQLite): the charts are drawn in a process of their own while
the rest is queried (`handlers/chart_process.py`), and on two cores a build is bound by CPU:
≈ 0.68–0.83 s in the bot's process (SQL in SQLite's threads, ≈ 0.25 s of Python) and ≈ 0.34 s
in the chart process (sixth session, at f247542), against 2 × 0.6 s. Since bf7a6f4 a build
with charts reads in three at once (the goals and the measures, the trend, the standing), so
that the measures chart, the slowest, is not queued behind the trend's long statement; the
two paths then end together, the standing and its text (≈ 0.04 s of Block Kit) and the last
chart both at ≈ 0.53–0.6 s. The sixth session cut the charts by ~40 % side by side
(unhinted text, one compound path per status, PNG rows unfiltered, labels without ticks),
every picture but the text's hinting the same pixel for pixel. Four runs of the session's last
commits moved the p50 between 0.57 and 0.66 s: the target is met or missed by the machine's
load, not by a margin. The first build adds its names (a users.list page) and cold statement
caches, ≈ 0.07–0.1 s. What would help next: the trend's one SQLite statement (≈ 0.17 s: a
backward probe per initiative and month), the attention list's (≈ 0.08–0.16 s) and what
changed (≈ 0.06 s), and less Python per row in the measures (≈ 0.1 s). A PostgreSQL build of
~5 s was once a generic plan after psycopg prepared a statement run five times: connections
force custom plans since 6ccee66 (`models/db.py`); if it comes back, check `SHOW
plan_cache_mode` on the bot's connections."""

_THROUGHPUT = """\
**Where a cached answer's time goes** (issue 18, py-spy of the served process under load and
cProfile in process, Hartford/SQLite): the request check (`bot/request_checks.py`: signature,
shape; ≈ 8 % of the event loop's samples), the request log line (≈ 6 %), Bolt's own dispatch
(as in the bare app), the answer's JSON (≈ 4 %) and the revision read (≈ 2 %). Before issue 18
the revision was read through an ORM session on a pooled aiosqlite connection, ≈ 300 µs of CPU
(thread hand-offs) and, with 16 senders, pool overflow connections opened and closed on every
request (a thread and the PRAGMAs each): ≈ 3.6 ms of CPU per request against bare Bolt's 0.7.

**Done since** (docs/performance.md, "Issue 18"): the revision read on SQLite on a connection
of its own (≈ 5 µs), shared reads started after each request on PostgreSQL; no session on the
cached path; the reply with its Share button kept with the answer; Bolt takes the body our
check parsed; log lines skip the redaction expressions when nothing secret-shaped is in them;
our middlewares called directly by Bolt; a cached answer acknowledged without a task or timer.
**Remaining, if it misses again:** the request log line (formatting and a write per request),
the shape check, the answer's JSON serialised by Bolt on every ack. Bolt's listener runner
checks for the acknowledgement every 10 ms, a floor both apps share."""

_LATENCY_HARTFORD = """\
**Cause** (issue 18: cProfile of 50 answers each computed afresh, `--profile`, Hartford/SQLite,
2026-12-04). A cached answer is ≈ 1.0× the bare Bolt ack; one computed afresh is ≈ 2× it at the
p50 because it runs about a dozen statements, each ≈ 0.3 ms of CPU through aiosqlite's thread
and SQLAlchemy building the statement and its cache key (`_gen_cache_key`, `coercions.expect`
lead the own-time list after the idle poll): in `handlers/commands/plan.py: _lookup`,
`models/queries.py: goal_summary` / `department_summary` (the largest share), the measures
board (`measure_board`), `models/lookup.py: load_directory` (≈ 15 % of the answer),
`models/plans.py: active_plan`, `models/help.py: unresolved`. **Proposed:** the `Directory`
cached by the plan's revision (it changes only with the plan), and the statements built once
(lambda statements or module-level selects) rather than per call."""

_STARTUP = """\
**Cause.** On this machine `PYTHONDONTWRITEBYTECODE=1` is set and `.venv` holds no compiled
bytecode, so every process compiles every module at start: cProfile of one start shows
`builtins.compile` 2.2 s of 3.8 s (2,766 modules). The benchmark therefore starts servers with
a bytecode cache in `bench/.data/pycache`, as the Docker image is built
(`UV_COMPILE_BYTECODE=1`); if it still misses, the remaining cost is imports (`-X importtime`:
`slack_bolt` ≈ 0.4 s, `sqlalchemy` ≈ 0.2–0.5 s), `holidays` importing every country's
calendar from `models/calendar.py: public_holidays` (called twice, from `bot/settings.py:
_holidays` and `Settings.calendar`; ≈ 0.3 s), and `AsyncApp.__init__` calling
`inspect.stack()` (≈ 0.25 s).

**Done since:** bytecode compiled where the bot runs (`UV_COMPILE_BYTECODE=1` in the Makefile
and the Dockerfile). **Remaining, if it misses again:** import only the one country module in
`models/calendar.py` and build the calendar once, not once to validate and again to use."""

_FANOUT = """\
**Cause to check first:** the fan-out (`jobs/delivery.py`, the pace shared through
`models/pace.py`) posts at `POSTS_PER_SECOND` = 48/s (`handlers/messages/limits.py`) after a
burst of its first half second's posts (`POSTS_BURST_SECONDS`): N prompts take at least
(N − 24) / 48 s, 20.3 s for 1,000 against the 20 s bound (1.02 ×). On a quiet machine the rest
is ≈ 0.1 s: the departments' query and the first users.list page before the first post (each
prompt goes as soon as its people's statuses are read; the later pages come at Tier 2's pace
meanwhile). A 429 that still happens is waited out whole (Retry-After ≥ 1 s) and widens every
replica's gap: look for `× 429` in the row."""

_RUSH = """\
**What to look at:** the p95 by kind (a form is stored before it is acknowledged; clicks and
replies are acknowledged first), `not 200` (a form past Slack's 3 s), and the server log in
`bench/.data/logs/planbot.log` for `QueuePool limit … reached` (the pool's connections taken
by work after acknowledgements: three are kept for forms, `models/db.py lane`) or `database is
locked` (SQLite). "Prompts current" is read from the messages the stand-in holds; the bench
names the prompts that differ from the database and what each shows."""

_SOAK = """\
**What to look at:** the per-minute samples the soak prints, and the anonymous memory beside
the total. Python's heap is level through a long run (tracemalloc, `PLANBOT_SOAK_TRACEMALLOC=1`:
35 MiB throughout); the steps of ~9 MB that used to come were glibc arenas taken by database
threads, and `planbot serve` now keeps two (`bot/malloc.py`; check that MALLOC_ARENA_MAX is not
set higher). Work after acknowledgements waits at most the pool's 30 s for a connection, but
a stall (the database or the machine) still piles up that much and leaves memory behind;
compare the load average and the errors column. Not explained yet: the fourth session's
SQLite soak (+8.5 %) stepped 14 MB in minutes 22–24 on an idle machine, 0 errors — run it
again under tracemalloc to tell Python's heap from the allocator's."""

FINDINGS: dict[str, str] = {
    "Rush hour: a minute of answers from every department": _RUSH,
    "Soak: memory of the served process over the second half (VmRSS growth)": _SOAK,
    "latency-goal-large": _GOAL_LARGE,
    "latency-department-large": _GOAL_LARGE,
    "latency-goal-hartford": _LATENCY_HARTFORD,
    "latency-department-hartford": _LATENCY_HARTFORD,
    "digest-time": _DIGEST,
    "throughput": _THROUGHPUT,
    "startup": _STARTUP,
    "fanout": _FANOUT,
}
