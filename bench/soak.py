"""Soak: `planbot serve` under steady mixed load for minutes, its memory sampled throughout.

    python -m bench --soak 30        30 minutes on each database (SQLite, then PostgreSQL)
    python -m bench --only soak      the short version `make bench` runs

The bot runs as deployed (`planbot serve`, HTTP, the scheduler on) on a private copy of the
Hartford data, its Web API client pointed at the loopback stand-in (`bot/standin.py`). The
monthly prompts are posted first (`planbot jobs run prompts`, as the scheduler would), so the
thread replies land in real prompt threads. Then one client sends, at a fixed rate, signed
`/plan` commands of many kinds from a few hundred people, signed Events API thread replies
from each department's owner in plain sentences (every one with its own event id), and
"No change" clicks on the prompts. The served process's VmRSS is read every few seconds.

Reported per database: RSS once warmed up, growth over the second half of the run (the target:
at most 5 %), requests sent, and errors (non-200 answers, failed sends, or an error logged by
the server; the target: none).

With PLANBOT_SOAK_TRACEMALLOC=1 the server runs under tracemalloc (through this module's
`traced` entry point, so nothing in the product changes) and writes, every
PLANBOT_SOAK_TRACE_SECONDS, the allocations that grew most since the first snapshot after
warm-up to bench/.data/logs/soak-tracemalloc-<database>.txt. With =objects it counts the
collector's objects by type instead; with =heap, nothing is traced and each layer's own figure
is written side by side every PLANBOT_SOAK_TRACE_SECONDS: VmRSS, glibc's malloc (in use, free,
its heap), pymalloc's arenas, SQLite's own memory, Python's blocks and threads — to tell which
layer takes a step. GLIBC_TUNABLES, when set, is passed on to the server (to try malloc's
settings without changing the product).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import gc
import itertools
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench import data
from bench.common import (
    DATA_DIR,
    Row,
    Settings,
    child,
    child_env,
    free_port,
    log_file,
    mb,
    python,
    say,
    status_kib,
    tail,
    until_ready,
)
from bot import slack_requests
from bot.standin import SlackStandin
from handlers.ids import ActionId

GROWTH_TARGET = 0.05  # at most 5 % over the second half
# Requests a second, steady (the machine is shared; not flat-out); PLANBOT_SOAK_RATE changes it
# (under tracemalloc the server is several times slower).
RATE_PER_SECOND = float(os.environ.get("PLANBOT_SOAK_RATE", "20"))
SAMPLE_SECONDS = 5.0
SHORT_MINUTES = 1.0  # `--only soak` (`make bench`): a short run on each database
# Memory is still warming up for the first 2–3 minutes (caches filling, the pool's connections
# opening): a shorter run's growth is shown for information, not judged.
JUDGED_FROM_MINUTES = 10.0
QUICK_MINUTES = 0.5
BOT_TOKEN = "xoxb-bench-soak"
READY_TIMEOUT_SECONDS = 60.0
PEOPLE = 400  # distinct people asking `/plan` (a large organisation's readers)
WORKLOAD = data.HARTFORD
# PostgreSQL: a database of the soak's own (it writes updates), rebuilt at each run.
PG_WORKLOAD = dataclasses.replace(data.HARTFORD, name="soak_hartford")

# What readers ask: goals, departments, histories, lists, measures, owners.
COMMANDS = [
    "fire",
    "police",
    "public works",
    "safety",
    "goals",
    "missing",
    "measures",
    "off track",
    "at risk",
    "stale",
    "owners",
    "changes",
    "help",
    "history fire 3",
    "history police 2",
    "1",
    "2",
    "3",
]
# What department leads write in a prompt's thread.
REPLIES = [
    "all on track, hiring done",
    "{a} on track - crews hired\n{b} at risk, waiting on budget",
    "{a} delayed - waiting on budget",
    "{a} done\n{b} on track",
    "{a}: at risk 40% waiting on the union agreement",
    "{a} behind schedule, bids came in 20% over",
    "{a} on track, roughly 30% done",
    "all on track except {a} (paused)",
    "no changes this month",
    "{a} isn't on track — budget gap\n{b} on schedule - design review with the council",
    "will send the rest Friday",
    "{a} complete, closed out last week",
]


@dataclasses.dataclass
class Prompt:
    department: str
    channel: str
    ts: str
    owner: str
    no_change: str | None  # the "No change" button's value
    initiatives: int
    blocks: list[dict[str, Any]]
    text: str


@dataclasses.dataclass
class Tally:
    sent: dict[str, int] = dataclasses.field(default_factory=dict)
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    first_errors: list[str] = dataclasses.field(default_factory=list)
    # Each kind's acknowledgement times since `recent` was last read (seconds).
    times: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def count(self, kind: str, error: str | None, took: float | None = None) -> None:
        self.sent[kind] = self.sent.get(kind, 0) + 1
        if took is not None:
            self.times.setdefault(kind, []).append(took)
        if error is not None:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.first_errors) < 5:
                self.first_errors.append(f"{kind}: {error}")

    def recent(self) -> str:
        """Each kind's acknowledgement p50 / p95 since the last call: a stall shows here (a
        `/plan` answer not ready in 2 s is acknowledged with "Working on it…" at 2 s)."""
        said = []
        for kind, times in sorted(self.times.items()):
            times.sort()
            p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
            said.append(f"{kind} {p50 * 1000:.0f}/{p95 * 1000:.0f} ms")
        self.times = {}
        return ", ".join(said)

    @property
    def total(self) -> int:
        return sum(self.sent.values())

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def minutes_for(settings: Settings, soak: float | None) -> float:
    if soak is not None:
        return soak
    return QUICK_MINUTES if settings.quick else SHORT_MINUTES


def run_soak(database: str, settings: Settings, minutes: float) -> list[Row]:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="soak-", dir=DATA_DIR) as scratch:
        workdir = Path(scratch)
        if database == "SQLite":
            data.ensure_sqlite(WORKLOAD)
            url = data.fresh_sqlite_copy(WORKLOAD, workdir)
        else:
            data.drop_postgres(settings.postgres_url, PG_WORKLOAD)
            url = data.ensure_postgres(settings.postgres_url, PG_WORKLOAD)
        try:
            return asyncio.run(_soak(database, url, workdir, minutes))
        finally:
            if database != "SQLite":
                data.drop_postgres(settings.postgres_url, PG_WORKLOAD)


def _env(url: str, api_url: str, secret: str) -> dict[str, str]:
    env = child_env(
        DATABASE_URL=url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=secret,
        SLACK_API_URL=api_url,
        PLANBOT_LOG_FORMAT="json",
    )
    env.update(
        (k, v) for k, v in os.environ.items() if k.startswith(("PLANBOT_SOAK_", "GLIBC_TUNABLES"))
    )
    return env


async def _post_prompts(url: str, slack: SlackStandin, secret: str, workdir: Path) -> list[Prompt]:
    """The monthly prompts, posted by `planbot jobs run prompts` against the stand-in."""
    log = log_file("soak-prompts.log")
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            python(),
            "-m",
            "bot.cli",
            "jobs",
            "run",
            "prompts",
            env=_env(url, slack.base_url, secret),
            cwd=workdir,
            stdout=out,
            stderr=out,
        )
        await asyncio.wait_for(process.wait(), 120)
    prompts: list[Prompt] = []
    for call in slack.calls_to("chat.postMessage"):
        if not call.ok or call.response is None or call.args.get("thread_ts"):
            continue
        no_change = None
        for block in call.args.get("blocks") or []:
            for element in block.get("elements", []):
                if element.get("action_id") == ActionId.NO_CHANGE:
                    no_change = element["value"]
        if no_change is None:
            continue  # not a prompt
        channel = str(call.response["channel"])
        position = int(channel[-5:]) - 1
        prompts.append(
            Prompt(
                department=channel,
                channel=channel,
                ts=str(call.response["ts"]),
                owner=WORKLOAD.owner(position),
                no_change=no_change,
                initiatives=max(1, _initiatives(call.args.get("blocks") or [])),
                blocks=call.args.get("blocks") or [],
                text=str(call.args.get("text") or ""),
            )
        )
    if not prompts:
        raise RuntimeError(f"no prompt was posted: {tail(log)}")
    return prompts


def _initiatives(blocks: list[dict[str, Any]]) -> int:
    """How many initiatives a prompt lists (its lines that start with a number)."""
    count = 0
    for block in blocks:
        text = (block.get("text") or {}).get("text") or ""
        count += sum(1 for line in text.splitlines() if line.lstrip("*• ")[:1].isdigit())
    return count


class Load:
    """The one client: a request every 1/RATE s, of a kind drawn from a fixed mix."""

    def __init__(
        self, base: str, secret: str, slack: SlackStandin, prompts: list[Prompt], seed: int
    ) -> None:
        self.base = base
        self.secret = secret
        self.slack = slack
        self.prompts = prompts
        self.random = random.Random(seed)
        self.tally = Tally()
        self.serial = itertools.count(1)
        self.ts_base = int(time.time())

    def next_request(self) -> tuple[str, slack_requests.SignedRequest]:
        draw = self.random.random()
        if draw < 0.7:
            user = f"UR{self.random.randrange(PEOPLE):05d}"
            return "command", slack_requests.slash_command(
                self.secret,
                self.random.choice(COMMANDS),
                user_id=user,
                channel_id=f"CR{self.random.randrange(50):05d}",
                response_url=self.slack.response_url(f"soak{next(self.serial) % 1000}"),
            )
        prompt = self.random.choice(self.prompts)
        if draw < 0.92 or prompt.no_change is None:
            n = next(self.serial)
            a = 1 + self.random.randrange(prompt.initiatives)
            b = 1 + self.random.randrange(prompt.initiatives)
            text = self.random.choice(REPLIES).format(a=a, b=b)
            event = {
                "type": "message",
                "channel": prompt.channel,
                "user": prompt.owner,
                "ts": f"{self.ts_base + n // 1000}.{n % 1000:03d}{secrets.randbelow(1000):03d}",
                "thread_ts": prompt.ts,
                "text": text,
                "channel_type": "channel",
            }
            return "reply", slack_requests.event(
                self.secret, event, event_id=f"Ev{n:09d}{secrets.token_hex(3).upper()}"
            )
        return "no change", slack_requests.block_action(
            self.secret,
            user_id=prompt.owner,
            action_id=ActionId.NO_CHANGE,
            value=prompt.no_change,
            channel_id=prompt.channel,
            message_ts=prompt.ts,
            message={"ts": prompt.ts, "text": prompt.text, "blocks": prompt.blocks},
            response_url=self.slack.response_url("soak-click"),
        )

    async def run(self, seconds: float, on_tick: Any) -> None:
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        gap = 1.0 / RATE_PER_SECOND
        pending: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(base_url=self.base, limits=limits, timeout=30.0) as client:

            async def send(kind: str, request: slack_requests.SignedRequest) -> None:
                sent = time.perf_counter()
                try:
                    response = await client.post(
                        "/slack/events", content=request.body, headers=request.headers
                    )
                except httpx.HTTPError as exc:
                    self.tally.count(kind, f"{type(exc).__name__}: {exc}")
                    return
                ok = response.status_code == 200
                took = time.perf_counter() - sent
                self.tally.count(kind, None if ok else f"HTTP {response.status_code}", took)

            started = time.monotonic()
            n = 0
            while (now := time.monotonic()) < started + seconds:
                due = started + n * gap
                if due > now:
                    await asyncio.sleep(due - now)
                if len(pending) < 64:  # never pile up more than this: steady, not flat-out
                    task = asyncio.create_task(send(*self.next_request()))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                n += 1
                if n % 200 == 0:
                    on_tick()
            if pending:
                await asyncio.wait(pending, timeout=30)


def _logged_errors(log: Path) -> list[str]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if "Traceback" in line:
                found.append(line)
            continue
        if isinstance(record, dict) and str(record.get("level", "")).lower() in (
            "error",
            "critical",
        ):
            found.append(line[:300])
    return found


async def _soak(database: str, url: str, workdir: Path, minutes: float) -> list[Row]:
    seconds = minutes * 60
    secret = secrets.token_hex(16)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = log_file(f"soak-{database.lower()}.log")
    async with SlackStandin() as slack:
        prompts = await _post_prompts(url, slack, secret, workdir)
        say(f"soak ({database}): {len(prompts)} prompts posted; serving for {minutes:g} min…")
        env = _env(url, slack.base_url, secret)
        if env.get("PLANBOT_SOAK_TRACEMALLOC"):
            env["PLANBOT_SOAK_TRACE_FILE"] = str(
                log.with_name(f"soak-tracemalloc-{database.lower()}.txt")
            )
            entry = [python(), "-m", "bench.soak"]
        else:
            entry = [str(Path(python()).with_name("planbot"))]
        args = [*entry, "serve", "--host", "127.0.0.1", "--port", str(port)]
        with child(args, env, log, workdir) as process:
            await until_ready(base, process, log, timeout=READY_TIMEOUT_SECONDS, pause=0.05)
            samples: list[tuple[float, int]] = []
            started = time.monotonic()
            stop = asyncio.Event()

            async def sample() -> None:
                while not stop.is_set():
                    samples.append((time.monotonic() - started, status_kib(process.pid, "VmRSS")))
                    with_time = samples[-1]
                    if len(samples) % max(1, int(60 / SAMPLE_SECONDS)) == 0:
                        say(
                            f"  {with_time[0] / 60:5.1f} min: {mb(with_time[1])}, "
                            f"(anonymous {mb(status_kib(process.pid, 'RssAnon'))}, files "
                            f"{mb(status_kib(process.pid, 'RssFile'))}, shared "
                            f"{mb(status_kib(process.pid, 'RssShmem'))}), "
                            f"{load.tally.total} requests, {load.tally.failed} errors, "
                            f"{status_kib(process.pid, 'Threads')} threads; acks p50/p95 "
                            f"{load.tally.recent()}"
                        )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)

            def forget() -> None:
                # The stand-in keeps every call; it lives in this process, not the server's,
                # but forgetting keeps the client steady too.
                slack.reset()
                slack.ephemerals.clear()

            load = Load(base, secret, slack, prompts, seed=18)
            sampler = asyncio.create_task(sample())
            await load.run(seconds, forget)
            stop.set()
            await sampler
            samples.append((time.monotonic() - started, status_kib(process.pid, "VmRSS")))
            alive = process.poll() is None
    logged = _logged_errors(log)
    return _rows(database, minutes, samples, load.tally, logged, alive)


def _at(samples: list[tuple[float, int]], moment: float, window: float) -> float:
    """The median RSS (KiB) of the samples within `window` s before `moment`."""
    near = [kib for t, kib in samples if moment - window <= t <= moment]
    if not near:
        near = [min(samples, key=lambda s: abs(s[0] - moment))[1]]
    return statistics.median(near)


def _rows(
    database: str,
    minutes: float,
    samples: list[tuple[float, int]],
    tally: Tally,
    logged: list[str],
    alive: bool,
) -> list[Row]:
    end = samples[-1][0]
    window = min(30.0, end / 10)
    warm = _at(samples, end / 4, window)  # warmed up: a quarter of the way in
    middle = _at(samples, end / 2, window)
    last = _at(samples, end, window)
    growth = (last - middle) / middle
    errors = tally.failed + len(logged) + (0 if alive else 1)
    mix = ", ".join(f"{n:,} {kind}" for kind, n in sorted(tally.sent.items()))
    say(
        f"soak ({database}): {minutes:g} min, {tally.total:,} requests ({mix}), {errors} errors; "
        f"RSS warm {mb(warm)}, middle {mb(middle)}, end {mb(last)} ({growth:+.1%}), "
        f"peak {mb(max(k for _, k in samples))}"
    )
    for problem in tally.first_errors + logged[:5]:
        say(f"  error: {problem}")
    workload = (
        f"Hartford; one client, {RATE_PER_SECOND:.0f} requests/s for {minutes:g} min: /plan "
        f"commands from {PEOPLE} people, thread replies, No change clicks"
    )
    return [
        Row(
            "Soak: memory of the served process over the second half (VmRSS growth)",
            workload,
            database,
            f"**{growth:+.1%}** — {mb(middle)} at half-time, {mb(last)} at the end; "
            f"{mb(warm)} once warm (a quarter in), peak {mb(max(k for _, k in samples))}",
            f"≤ {GROWTH_TARGET:.0%}"
            + (
                ""
                if minutes >= JUDGED_FROM_MINUTES
                else f" (judged from {JUDGED_FROM_MINUTES:g} min)"
            ),
            growth <= GROWTH_TARGET if minutes >= JUDGED_FROM_MINUTES else None,
            {
                "minutes": minutes,
                "rss_kib": samples,
                "warm_kib": warm,
                "middle_kib": middle,
                "end_kib": last,
                "growth": growth,
            },
        ),
        Row(
            "Soak: requests answered without error",
            workload,
            database,
            f"{tally.total:,} requests ({mix}); {errors} errors"
            + (f" ({len(logged)} logged by the server)" if logged else ""),
            "0 errors",
            errors == 0 and tally.total > 0,
            {"sent": tally.sent, "errors": tally.errors, "logged": logged[:20]},
        ),
    ]


# --- the server under tracemalloc (PLANBOT_SOAK_TRACEMALLOC=1) ---------------------------------


def _trace_loop(path: Path, every: float, frames: int) -> None:
    """In a thread of the server: a first snapshot once warm, then every `every` s the traced
    total beside the RSS, and the allocations that grew most since the first snapshot, by line
    and by file (with `frames` frames of traceback when more than one is traced)."""
    time.sleep(every)
    skip = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
        tracemalloc.Filter(False, "<unknown>"),
    ]
    first = tracemalloc.take_snapshot().filter_traces(skip)
    rounds = 0
    while True:
        time.sleep(every)
        rounds += 1
        now = tracemalloc.take_snapshot().filter_traces(skip)
        traced, peak = tracemalloc.get_traced_memory()
        lines = [
            f"--- {rounds * every:.0f} s after the first snapshot: traced {traced / 2**20:.1f} MiB "
            f"(peak {peak / 2**20:.1f}), VmRSS {status_kib(os.getpid(), 'VmRSS') / 1024:.0f} MiB, "
            f"{threading.active_count()} threads"
        ]
        for by in ("filename", "lineno", "traceback") if frames > 1 else ("filename", "lineno"):
            lines.append(f"  by {by}:")
            for stat in now.compare_to(first, by)[:15]:
                where = stat.traceback.format()[-2 * frames :] if by == "traceback" else []
                lines.append(
                    f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  "
                    + (str(stat.traceback[0]) if not where else "")
                )
                lines += [f"      {line}" for line in where]
        with path.open("a") as out:
            out.write("\n".join(lines) + "\n")


def _count_loop(path: Path, every: float) -> None:
    """In a thread of the server: every `every` s, the objects the garbage collector tracks,
    counted by type, against the first count once warm (cheap: no tracing of allocations)."""

    def count() -> Counter[str]:
        return Counter(type(o).__qualname__ for o in gc.get_objects())

    time.sleep(every)
    first = count()
    rounds = 0
    while True:
        time.sleep(every)
        rounds += 1
        now = count()
        grown = sorted(((now[k] - first[k], k) for k in now), reverse=True)[:25]
        lines = [
            f"--- {rounds * every:.0f} s after the first count: {sum(now.values()):,} objects "
            f"({sum(now.values()) - sum(first.values()):+,}), VmRSS "
            f"{status_kib(os.getpid(), 'VmRSS') / 1024:.0f} MiB, {threading.active_count()} threads"
        ]
        lines += [f"  {n:+8,}  {k} ({now[k]:,})" for n, k in grown if n > 0]
        with path.open("a") as out:
            out.write("\n".join(lines) + "\n")


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _pymalloc() -> dict[str, int]:
    """pymalloc's own figures, from `sys._debugmallocstats` (written to the C stderr, so read
    back through a file put in its place for the call)."""
    with tempfile.TemporaryFile() as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    figures = {}
    for key, label in (
        ("arenas", "# arenas allocated current"),
        ("in_blocks", "# bytes in allocated blocks"),
        ("free", "# bytes in available blocks"),
    ):
        for line in text.splitlines():
            if line.startswith(label):
                figures[key] = int(line.split("=")[1].replace(",", "").strip())
    return figures


def _sqlite_status() -> Any:
    """SQLite's own count of the memory it holds (`sqlite3_status64`; 0: all of it, 2: the
    page caches), read from the library Python's sqlite3 module is linked to; -1 where that
    library cannot be loaded."""
    try:
        status64 = ctypes.CDLL("libsqlite3.so.0").sqlite3_status64
    except OSError:
        return lambda op: -1

    def read(op: int) -> int:
        current, highest = ctypes.c_int64(), ctypes.c_int64()
        status64(op, ctypes.byref(current), ctypes.byref(highest), 0)
        return current.value

    return read


def _heap_loop(path: Path, every: float) -> None:
    """In a thread of the server: every `every` s, each layer's figure side by side — VmRSS
    and its anonymous part, glibc's malloc (mallinfo2: bytes in use, free, mmapped), pymalloc
    (arenas, bytes in blocks), the objects the collector tracks, threads — to tell which layer
    takes a step (cheap: nothing is traced)."""
    libc = ctypes.CDLL("libc.so.6")
    mallinfo2 = libc.mallinfo2
    mallinfo2.restype = _Mallinfo2
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
    libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
    libc.fclose.argtypes = (ctypes.c_void_p,)
    xml = path.with_suffix(".malloc.xml")
    xml.write_text("")
    sqlite_status = _sqlite_status()
    started = time.monotonic()
    while True:
        info = mallinfo2()
        py = _pymalloc()
        line = (
            f"{(time.monotonic() - started) / 60:6.2f} min  "
            f"VmRSS {status_kib(os.getpid(), 'VmRSS') / 1024:6.1f}  "
            f"anon {status_kib(os.getpid(), 'RssAnon') / 1024:6.1f}  "
            f"malloc used {info.uordblks / 2**20:6.1f} free {info.fordblks / 2**20:6.1f} "
            f"heap {info.arena / 2**20:6.1f} mmapped {info.hblkhd / 2**20:6.1f} ({info.hblks})  "
            f"pymalloc arenas {py.get('arenas', -1)} blocks {py.get('in_blocks', 0) / 2**20:6.1f} "
            f"free {py.get('free', 0) / 2**20:5.1f}  "
            f"sqlite {sqlite_status(0) / 2**20:5.1f} "
            f"(page caches {sqlite_status(2) / 2**20:5.1f})  "
            f"blocks {sys.getallocatedblocks():,}  gc {len(gc.get_objects()):,}  "
            f"threads {threading.active_count()}"
        )
        with path.open("a") as out:
            out.write(line + "\n")
        # glibc's own account, arena by arena, free chunks by size: whether what is free is
        # whole pages (which malloc_trim could give back) or scattered small pieces.
        with xml.open("a") as out:
            out.write(f"<!-- {(time.monotonic() - started) / 60:.2f} min -->\n")
        stream = libc.fopen(str(xml).encode(), b"a")
        if stream:
            libc.malloc_info(0, stream)
            libc.fclose(stream)
        time.sleep(every)


def traced(argv: list[str]) -> int:
    """`planbot` (`bot.cli.main`) under tracemalloc (PLANBOT_SOAK_TRACEMALLOC=1) or counting
    objects by type (=objects), its growth written to a file."""
    path = Path(os.environ.get("PLANBOT_SOAK_TRACE_FILE", DATA_DIR / "soak-tracemalloc.txt"))
    path.write_text("")
    every = float(os.environ.get("PLANBOT_SOAK_TRACE_SECONDS", "60"))
    if os.environ.get("PLANBOT_SOAK_TRACEMALLOC") == "heap":
        threading.Thread(target=_heap_loop, args=(path, every), daemon=True).start()
    elif os.environ.get("PLANBOT_SOAK_TRACEMALLOC") == "objects":
        threading.Thread(target=_count_loop, args=(path, every), daemon=True).start()
    else:
        frames = int(os.environ.get("PLANBOT_SOAK_TRACE_FRAMES", "1"))
        tracemalloc.start(frames)
        threading.Thread(target=_trace_loop, args=(path, every, frames), daemon=True).start()
    from bot.cli import main

    return main(argv)


if __name__ == "__main__":
    sys.exit(traced(sys.argv[1:]))
