"""What profiling found behind each missed target, shown under the results table when that
target is missed: the cause (file, function) with the measurement behind it, and the proposed
fix. Profiled on 2026-11-26 with `python -m bench --profile` (cProfile), `EXPLAIN (ANALYZE,
BUFFERS)` on PostgreSQL and `-X importtime`, on the 2-core shared machine of the results table.
Update an entry when the code it describes changes."""

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

**Proposed fix.** (1) `gc.freeze()` once the app is built — at the end of `bot/app.py:
build_app` (so that serve, Socket Mode, local mode and the in-process Workspace all get it),
or in `bot/server.py: build_asgi`'s lifespan start-up — so that the collector stops walking
the import-time objects on every full collection. (2) `models/queries.py: goal_summary`, with
a fixed number of statements: count in SQL (`GROUP BY department, status` over the
latest-update subquery, with the reported flag per department) and fetch full rows only for
`status IN ('at_risk', 'off_track')` — O(departments + attention items) Python work instead
of O(initiatives); short of that, one `DepartmentRef` per department, statuses mapped through
a dict instead of `Status(...)`, no `UpdateView` for lines that are only counted. (3) Cache the
directory (see the throughput finding)."""

_DIGEST = """\
**Cause.** The build is ≈ 0.3 s (SQLite) / 1.1–1.6 s (PostgreSQL) of SQL, ≈ 0.3 s of Python
turning 10,000 rows into content, ≈ 0.06–0.1 s of Block Kit and ≈ 0.5–0.8 s of charts.
Statement by statement (Large, one build; `models/…`):

- `digest.py: digest_content`, every initiative's latest update with `last_different` and
  `first_period`: 104 ms SQLite, 380–530 ms PostgreSQL. `last_different` reads every update of
  every initiative (36 each; `status` is not in `ix_updates_latest`, so 360,000 row lookups);
  on PostgreSQL the latest-update join also hashes all 360,000 updates (as below).
- `digest.py: _trend`: 106 ms SQLite, 380–630 ms PostgreSQL. `updates.id = (correlated
  subquery)` for every update row of 6 periods; PostgreSQL estimates it at 303 rows, nests a
  loop over departments (5,970,000 join-filter rows) and JIT-compiles the plan (≈ 100 ms).
- `queries.py: goals_overview`: 30 ms SQLite, 190–270 ms PostgreSQL. `LEFT JOIN updates ON
  updates.id = (correlated subquery)`: PostgreSQL hashes all 360,000 updates (spilling to disk
  at `work_mem` 4 MB) and runs the subquery twice per initiative.
- `digest.py: digest_content`, changes since the last digest: 70 ms SQLite, 110–160 ms
  PostgreSQL: a correlated `prior_status` lookup per recent update (9,100).

The charts (`handlers/messages/chart.py`): `render_status_by_goal` 360–800 ms (25 bars drawn
with one `ax.barh` call per *segment*, ~100 calls ≈ 0.2 s, ~240 text artists ≈ 0.3 s, PNG
encoding ≈ 45 ms), `render_trend` 130–280 ms. In Python, `digest_content` builds 41,000
`Status(...)` values and an `ItemRef` per initiative.

Garbage collection adds ≈ 150–200 ms a build: 7 full collections over 5 builds took ≈ 1 s
(SQLite) and ≈ 1.1 s (PostgreSQL); with `gc.freeze()` after start-up, ≈ 0.1 s.

**Fixes**, biggest first. Done since this was first measured: `gc.freeze()` after start-up
(`bot/server.py: serve`) and no JIT on PostgreSQL (`models/db.py: create_engine`); the digest
still misses its target, and these remain to do:
3. `models/queries.py: latest_update_id` / `initiative_rows` / `goals_overview` and
   `models/digest.py`: on PostgreSQL join the latest update with `LEFT JOIN LATERAL
   (SELECT … FROM updates WHERE initiative_id = initiatives.id ORDER BY period DESC,
   received_at DESC, id DESC LIMIT 1) ON true` (SQLAlchemy `.lateral()`), keeping the scalar
   subquery on SQLite, which has no LATERAL and already plans it well: goals overview measured
   190–260 ms → 67–77 ms.
4. `models/digest.py: _trend`: rank rows with `row_number() OVER (PARTITION BY initiative_id,
   period ORDER BY received_at DESC, id DESC)` over the 6 periods and count `rn = 1`: measured
   on PostgreSQL 105–120 ms instead of 380–630 ms (on SQLite 150 ms vs 106 ms: keep the
   current form there, or accept it).
5. `models/digest.py: digest_content`, staleness: only updates of the last `STALE_PERIODS`
   periods decide whether an item is stale; bound `last_different` to `period >= window` (and
   compute `stale_since` only for the stale ones), or add `status` to `ix_updates_latest` (a
   migration) so the scan is index-only.
6. `handlers/messages/chart.py: render_status_by_goal` / `render_trend`: draw each status's
   segments for all bars in one `barh`/`bar` call with arrays (6 calls, not ~100).
7. Overlap: the charts need only `goals` and `trend`; query those first and draw the charts
   in a thread (`jobs/digest.py` already uses `asyncio.to_thread`) while the other queries run
   — on PostgreSQL the queries are time spent waiting on the server, so the two overlap.

Together these are estimates, not measurements: on SQLite about 0.85–1.0 s; on PostgreSQL
2–4 and 7 are all needed to come near 1 s on this machine.

Not in this figure but found here: the first build names 182 change authors through
`handlers/people.py: PeopleNames.names`, one `users.info` call after another, and the names
are cached for an hour while the digest runs weekly, so every Monday's digest is this cold
build. On the loopback stand-in that costs little; against Slack it is 182 sequential round
trips (≈ 20 s at ~100 ms each) and more calls than users.info's Tier 4 (100+ a minute)
promises, so 429s on a plan this size. Proposed: `users.list` (paginated; one or two calls for
the workspace) or bounded concurrent `users.info`, and a cache measured in days for display
names."""

_THROUGHPUT = """\
**Cause.** The bare Bolt app answers in ≈ 1.5–2 ms of server time (500–730 requests/s here);
Plan Bot spends ≈ 14 ms more computing `/plan safety`, and for an answer this small (16
initiatives) that is fixed cost per request, not data. Measured in process on Hartford/SQLite:
`models/lookup.py: load_directory` 3.2–3.4 ms (2 statements; every goal and department loaded
as ORM objects and every name and alias normalised, on every command); `models/queries.py:
goal_summary` 8–9 ms, of which building the `initiative_rows()` statement and its cache key is
1.7–1.9 ms (new `aliased()` selects on every call: `coercions.expect`, `_gen_cache_key`,
`_setup_collections`, `_clone` lead the served process's profile after the idle poll and
aiosqlite's `SimpleQueue.put_nowait`) and each statement ≈ 0.9 ms even for `SELECT 1` (aiosqlite
hands every cursor call to its thread); `models/plans.py: active_plan` ≈ 1 ms; rendering the
rest. The same request on PostgreSQL costs the same.

**Proposed fix:** move the answer out of the request path. `/plan` answers change only when an
update, an owner or the plan changes (and when the period turns): cache each rendered answer in
`handlers/commands/plan.py: answer_plan_command`, keyed by the query, the period, the caller's
admin flag and a data version bumped in the same transaction as every write (updates, owners,
plan load, prompts), read with one indexed statement so that replicas on PostgreSQL agree.
Measured with that cache patched in (a scratch experiment: `max(updates.id)` as the version):
340 requests/s against bare Bolt's 515 in the same run, a ratio of 0.66 instead of 0.10. For
the misses, and for `/plan goal-1` on Large: cache the `Directory` and the active plan (same
version), build the query skeletons once with `bindparam()` (or `lambda_stmt`), and fold
`goal_summary`'s owners and reported-departments queries into the main one. With a cache the
latency benchmark measures hits; it should then also measure the miss path (a version bump
before each request)."""

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

**Proposed fix:** keep bytecode compiled where it runs (`UV_COMPILE_BYTECODE=1` for `make`'s
`uv sync` too); import only the one country module in `models/calendar.py` (e.g.
`holidays.country_holidays` → `holidays.countries.united_states.US`) and build the calendar
once."""

_FANOUT = """\
**Cause to check first:** `jobs/pacing.py: Pacer` paces at `POSTS_PER_SECOND` = 45/s
(`handlers/messages/limits.py`), so N prompts take at least N / 45 s: 22.2 s for 1,000 against
the 20 s bound (1.11 ×), which leaves 14 % for everything else. A 429 that still happens is
waited out whole (Retry-After ≥ 1 s) by `bot/slack_client.py: RetryAfterHandler`."""

FINDINGS: dict[str, str] = {
    "latency-goal-large": _GOAL_LARGE,
    "latency-department-large": _GOAL_LARGE,
    "latency-goal-hartford": _THROUGHPUT,
    "latency-department-hartford": _THROUGHPUT,
    "digest-time": _DIGEST,
    "throughput": _THROUGHPUT,
    "startup": _STARTUP,
    "fanout": _FANOUT,
}
