"""The first business day at scale (issue 18): a thousand leads answering within the same minute.

1,000 departments × 3 initiatives, each with its own owner and channel, their month's prompts
posted; the stand-in enforces Slack's published limit of every method the bot calls
(`SlackStandin.enforce_slack_limits`: `chat.update` and `reactions.add` at Tier 3, 50 a minute
for the workspace; posts 1 a second per channel, 50 a second in all). Within one minute, at
seeded random moments, signed over HTTP to `planbot serve`: 1,000 "No change" clicks, 500 form
submissions and 500 thread replies in plain sentences, and one in twenty of the clicks and
replies delivered a second time (Slack's retries, a double click's replay). Measured:

- every answer recorded exactly once (rows per initiative and kind of answer, in the database);
- every click and event acknowledged, within Slack's 3 s (p50, p95, max);
- 429s drawn, by method; the most `chat.update` calls in any 60 seconds;
- the prompts' refreshes: how many prompts show the latest status of every initiative when the
  queue has drained (each compared with the database), and how long the drain took;
- the served process's peak RSS.

On SQLite, on PostgreSQL, and on PostgreSQL with two replicas (the load split between them).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import random
import re
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.common import DATA_DIR, Row, Settings, mb, ms, percentile, say, status_kib
from bench.data import Workload, admin_engine, fanout_workload, fresh_sqlite_copy, postgres_url
from bench.served import Server
from bot import slack_requests
from bot.app import plan_context
from bot.settings import load_settings
from bot.slack_client import build_web_client
from bot.standin import SlackStandin
from handlers.ids import ActionId, CallbackId
from handlers.messages.prompt import OVERTAKEN
from handlers.reading.buttons import prompt_value
from handlers.updates import FormMetadata
from jobs.prompts import PROMPT_EVENT, post_monthly_prompts
from models.attention import NO_CHANGE_NOTE
from models.db import create_engine, sync_url
from models.status import Status

RUSH_SECONDS = 60.0
# Knobs for trying things (not for the table): PLANBOT_BENCH_RUSH_DATABASES=SQLitex1 (or
# PostgreSQLx1, PostgreSQLx2, comma-separated) runs only those; PLANBOT_BENCH_RUSH_DRAIN_MINUTES=0
# stops after the minute and its answers.
DATABASES = os.environ.get("PLANBOT_BENCH_RUSH_DATABASES", "")
DRAIN_MINUTES = float(os.environ.get("PLANBOT_BENCH_RUSH_DRAIN_MINUTES", "40"))
ACK_P95_TARGET = 0.300
ACK_LIMIT = 3.0
RSS_TARGET_MIB = 400
REDELIVERED = 0.05  # of clicks and replies, sent a second time
SENTENCES = (
    "1 on track, 2 at risk - waiting on budget approval, 3 on track",
    "all on track",
    "1 complete. 2 on track, hiring done. 3 delayed because the vendor backed out",
    "#2 off track - lost the grant; others on track",
    "1 on track 2 on track 3 at risk (permits)",
)
STATUS_WORDS = {s.word: s.value for s in Status}  # "On track" → "on_track"
# An initiative's line on the prompt: '*1.* 🟢 On track · 15% — Open the academy' (the percent
# only when one was given).
LINE = re.compile(r"\*(\d+)\.\* \S+ ([A-Z][a-z]+(?: [a-z]+)?)(?: · \d+%)? —")


@dataclass(frozen=True)
class Department:
    key: str
    owner: str
    channel: str
    prompt_ts: str


@dataclass
class Sent:
    kind: str
    department: str
    seconds: float = 0.0
    status: int = 0


@dataclass
class Outcome:
    sent: list[Sent] = field(default_factory=list)
    peak_kib: dict[int, int] = field(default_factory=dict)


async def run_rush(settings: Settings, *, postgres: bool) -> list[Row]:
    workload = fanout_workload(rush_departments(settings))
    rows: list[Row] = []
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rush-", dir=DATA_DIR) as scratch:
        runs = [("SQLite", 1)] + ([("PostgreSQL", 1), ("PostgreSQL", 2)] if postgres else [])
        if DATABASES:
            runs = [r for r in runs if f"{r[0]}x{r[1]}" in DATABASES.split(",")]
        for database, replicas in runs:  # each from the same data, fresh
            if database == "SQLite":
                url = fresh_sqlite_copy(workload, Path(scratch))
                rows.append(await _rush(settings, workload, database, url, replicas, Path(scratch)))
                continue
            url = _postgres_copy(settings.postgres_url, workload)
            try:
                rows.append(await _rush(settings, workload, database, url, replicas, Path(scratch)))
            finally:
                _drop(settings.postgres_url, url)
    return rows


def _postgres_copy(base: str, workload: Workload) -> str:
    """A fresh database made from the workload's (made beforehand by `ensure_postgres`) with
    CREATE DATABASE … TEMPLATE: each run starts from the same data."""
    template = make_url(postgres_url(base, workload)).database
    name = f"{template}_rush_{os.getpid()}"  # two benches at once each have their own
    admin = admin_engine(base)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _drop(base: str, url: str) -> None:
    name = make_url(url).database
    admin = admin_engine(base)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def rush_departments(settings: Settings) -> int:
    return 100 if settings.quick else 1000


async def _post_prompts(url: str, slack: SlackStandin, secret: str) -> tuple[str, list[Department]]:
    """The month's prompts, posted as the scheduler would (Slack's limits not yet enforced)."""
    settings = load_settings(
        slack_bot_token="xoxb-bench-rush",
        slack_signing_secret=secret,
        slack_app_token=None,
        slack_api_url=slack.base_url,
        database_url=url,
        canvases=False,
    )
    engine = create_engine(url)
    try:
        ctx = plan_context(settings, engine)
        period = ctx.open_period()
        client = build_web_client("xoxb-bench-rush", slack.base_url)
        for attempt in range(3):  # as the scheduler's next tick would, after a failed run
            try:
                run = await post_monthly_prompts(ctx, client, period)
            except sa.exc.OperationalError as exc:
                say(f"  the fan-out stopped ({str(exc.orig)[:60]}); running it again")
                if attempt == 2:
                    raise
                continue
            if not run.failed:
                break
        else:
            raise RuntimeError(f"prompts not posted: {run.failed[:3]}")
    finally:
        await engine.dispose()
    owners = _owners(url)
    departments = []
    for call in slack.calls_to("chat.postMessage"):
        meta = call.args.get("metadata") or {}
        if meta.get("event_type") != PROMPT_EVENT or not call.ok:
            continue
        key = meta["event_payload"]["department"]
        departments.append(
            Department(key, owners[key], str(call.response["channel"]), str(call.response["ts"]))
        )
    return period, sorted(departments, key=lambda d: d.key)


def _read(url: str, sql: str, **params: Any) -> list[Any]:
    """The rows of one statement, read outside the bot (a connection of its own)."""
    engine = sa.create_engine(sync_url(url), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).all())
    finally:
        engine.dispose()


def _owners(url: str) -> dict[str, str]:
    rows = _read(
        url,
        "SELECT d.key, o.user_id FROM departments d "
        "JOIN department_owners o ON o.department_id = d.id",
    )
    return {key: user for key, user in rows}


def _schedule(
    departments: list[Department], period: str, secret: str, slack: SlackStandin, seed: int
) -> list[tuple[float, str, Department, Any]]:
    """(moment, kind, department, build) for every request of the minute; `build()` signs it
    when it is sent (Slack's signatures are only good for five minutes)."""
    rng = random.Random(seed)
    n = len(departments)
    plan: list[tuple[float, str, Department, Any]] = []
    for d in departments:

        def click(d: Department = d) -> Any:  # sent twice: a double click
            return slack_requests.block_action(
                secret,
                user_id=d.owner,
                action_id=ActionId.NO_CHANGE,
                value=prompt_value(d.key, period),
                response_url=slack.response_url(f"click-{d.key}"),
                channel_id=d.channel,
                message_ts=d.prompt_ts,
            )

        at = rng.uniform(0, RUSH_SECONDS)
        plan.append((at, "click", d, click))
        if rng.random() < REDELIVERED:
            plan.append((min(RUSH_SECONDS, at + rng.uniform(0.05, 2.0)), "click again", d, click))
    for i, d in enumerate(departments[: n // 2]):

        def form(d: Department = d, i: int = i) -> Any:
            statuses = [Status.ON_TRACK, Status.AT_RISK, Status.ON_TRACK]
            values: dict[str, Any] = {}
            for number, status in enumerate(statuses, start=1):
                values[f"status-{number}"] = {
                    "status": {"type": "static_select", "selected_option": {"value": status}}
                }
                values[f"note-{number}"] = {
                    "note": {"type": "plain_text_input", "value": "waiting on the state grant"}
                }
            view = {
                "id": f"VRUSH{i:05d}",
                "hash": f"h{i}",
                "type": "modal",
                "callback_id": CallbackId.UPDATE_FORM,
                "private_metadata": FormMetadata(d.key, period, 1).dump(),
                "blocks": [],
            }
            return slack_requests.view_submission(secret, user_id=d.owner, view=view, values=values)

        plan.append((rng.uniform(0, RUSH_SECONDS), "form", d, form))
    for i, d in enumerate(departments[n // 2 :]):
        text = SENTENCES[i % len(SENTENCES)]
        ts = f"{int(time.time()) + 10}.{i:06d}"
        event_id = f"EvRUSH{i:06d}"

        def reply(
            d: Department = d,
            text: str = text,
            ts: str = ts,
            event_id: str = event_id,
            retry: int | None = None,
        ) -> Any:
            body = {
                "type": "message",
                "channel": d.channel,
                "user": d.owner,
                "ts": ts,
                "thread_ts": d.prompt_ts,
                "text": text,
            }
            if retry is None:
                slack.seed_message(d.channel, text, user=d.owner, thread_ts=d.prompt_ts, ts=ts)
            return slack_requests.event(secret, body, event_id=event_id, retry_num=retry)

        at = rng.uniform(0, RUSH_SECONDS)
        plan.append((at, "reply", d, reply))
        if rng.random() < REDELIVERED:  # Slack retrying the event: the same id
            again = functools.partial(reply, retry=1)
            plan.append((min(RUSH_SECONDS, at + rng.uniform(0.5, 2.5)), "reply again", d, again))
    return sorted(plan, key=lambda p: p[0])


async def _rush(
    settings: Settings,
    workload: Workload,
    database: str,
    url: str,
    replicas: int,
    scratch: Path,
) -> Row:
    label = f"{database}{', two replicas' if replicas == 2 else ''}"
    users = {workload.owner(i): f"Lead {i + 1}" for i in range(len(workload.plan().departments))}
    async with SlackStandin(users=users) as slack:
        servers = [Server("planbot", url, slack.base_url, scratch) for _ in range(replicas)]
        secret = servers[0].secret
        for server in servers[1:]:
            server.secret = secret
            server.env["SLACK_SIGNING_SECRET"] = secret
        for server in servers:
            server.env["PLANBOT_CANVASES"] = "false"
        say(f"rush ({label}): posting {workload.label}'s prompts…")
        for i in range(len(users)):  # the workspace has them: conversations.list shows them
            slack.add_channel(workload.channel(i), f"dept-{i + 1}")
        period, departments = await _post_prompts(url, slack, secret)
        slack.reset()
        slack.enforce_slack_limits(posts_per_channel_per_second=1.0, posts_per_second=50.0)
        plan = _schedule(departments, period, secret, slack, seed=18)
        outcome = Outcome()
        processes = [server.start() for server in servers]
        try:
            entered = [p.__enter__() for p in processes]
            for server, process in zip(servers, entered, strict=True):
                await server.ready(process)
            # Deployed before the morning: each replica's start-up checks (the doctor reads the
            # member and channel lists at Tier 2's pace) are done before the first answer.
            await _checked(servers[0].log, replicas)
            slack.reset()
            say(f"rush ({label}): {len(plan):,} requests within {RUSH_SECONDS:.0f} s…")
            started = time.monotonic()
            sampler = asyncio.create_task(_sample(entered, outcome))
            await _send(plan, servers, outcome)
            sent_in = time.monotonic() - started
            await _settle(slack, departments)
            asked_again = await _click_again(plan, slack, servers, outcome)
            drained, drain_seconds = await _drain(url, started)
            sampler.cancel()
        finally:
            for p in processes:
                p.__exit__(None, None, None)
        once = _recorded_once(url, departments, period)
        current, compared, stale = _prompts_current(url, slack, departments, period)
        updates = [c.at for c in slack.calls_to("chat.update") if c.ok]
        limited = Counter(c.method for c in slack.calls if c.status == 429)
    acks = [s.seconds for s in outcome.sent]
    failed = sum(1 for s in outcome.sent if s.status != 200)
    p95 = percentile(acks, 95)
    window = _most_in_window(updates, 60.0)
    peak = max(outcome.peak_kib.values(), default=0)
    ok = (
        once.ok
        and failed == 0
        and max(acks) < ACK_LIMIT
        and p95 <= ACK_P95_TARGET
        and not limited
        and drained
        and current == compared
        and peak <= RSS_TARGET_MIB * 1024
    )
    counts = Counter(s.kind.split()[0] for s in outcome.sent)
    by_kind = {
        kind: percentile([s.seconds for s in outcome.sent if s.kind.split()[0] == kind], 95)
        for kind in counts
    }
    kinds = ", ".join(f"{kind} {ms(p)}" for kind, p in sorted(by_kind.items()))
    say(
        f"  {once.text}; acks p50 {ms(statistics.median(acks))} p95 {ms(p95)} "
        f"max {ms(max(acks))} (p95 by kind: {kinds}), {failed} failed; 429s {dict(limited) or 0}; "
        f"prompts current {current}/{compared}, drained in {drain_seconds:.0f} s; "
        f"chat.update ≤ {window}/min; peak {mb(peak)}"
    )
    for key, shown, held in stale[:5]:
        say(f"  not current: {key}: shows {shown}, the database holds {held}")
    return Row(
        "Rush hour: a minute of answers from every department",
        f"{len(departments):,} departments × 3 initiatives, each its own owner and channel; "
        f"{counts['click']:,} clicks, {counts['form']:,} forms, {counts['reply']:,} thread "
        f"replies in {RUSH_SECONDS:.0f} s (sent in {sent_in:.0f} s), 1 in 20 redelivered; "
        "Slack's limits enforced",
        label,
        f"{once.text}{_asked(asked_again)}; acks p50 {ms(statistics.median(acks))}, p95 "
        f"{ms(p95)} ({kinds}), max "
        f"{ms(max(acks))} ({failed} not 200); 429s: {_limited(limited)}; prompts: "
        f"{current:,} of {compared:,} show their latest state, all refreshed "
        f"{drain_seconds / 60:.1f} min after the rush began, at most {window} `chat.update` "
        f"in any minute; peak RSS {mb(peak)}",
        f"each once; acks p95 ≤ {ms(ACK_P95_TARGET)}, all < 3 s; no 429; every prompt current; "
        f"≤ {RSS_TARGET_MIB} MB",
        ok,
        {
            "requests": dict(counts),
            "recorded": once.rows,
            "duplicates": once.duplicates,
            "missing": once.missing,
            "clicked_again": asked_again,
            "ack_p50": statistics.median(acks),
            "ack_p95": p95,
            "ack_max": max(acks),
            "ack_p95_by_kind": by_kind,
            "failed": failed,
            "rate_limited": dict(limited),
            "prompts_current": current,
            "prompts_compared": compared,
            "prompts_not_current": [
                {"department": key, "shows": shown, "holds": held}
                for key, shown, held in stale[:20]
            ],
            "drain_seconds": drain_seconds,
            "updates_in_a_minute": window,
            "peak_rss_kib": peak,
            "replicas": replicas,
        },
    )


async def _checked(log: Path, replicas: int, most: float = 180.0) -> None:
    deadline = time.monotonic() + most
    while time.monotonic() < deadline:
        done = log.read_text(errors="replace").count("planbot doctor says more")
        if done >= replicas:
            return
        await asyncio.sleep(0.5)
    say(f"  the start-up checks did not finish in {most:.0f} s; the rush starts anyway")


async def _send(
    plan: list[tuple[float, str, Department, Any]], servers: list[Server], outcome: Outcome
) -> None:
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as http:
        start = time.monotonic()

        async def one(n: int, at: float, kind: str, d: Department, build: Any) -> None:
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            request = build()
            server = servers[n % len(servers)]
            sent = Sent(kind, d.key)
            began = time.perf_counter()
            try:
                response = await http.post(
                    f"{server.base}/slack/events", content=request.body, headers=request.headers
                )
                sent.status = response.status_code
            except httpx.HTTPError:
                sent.status = 0
            sent.seconds = time.perf_counter() - began
            outcome.sent.append(sent)

        await asyncio.gather(*(one(n, *p) for n, p in enumerate(plan)))


async def _sample(processes: list[Any], outcome: Outcome) -> None:
    while True:
        for process in processes:
            try:
                kib = status_kib(process.pid, "VmRSS")
            except (OSError, ValueError):
                continue
            outcome.peak_kib[process.pid] = max(outcome.peak_kib.get(process.pid, 0), kib)
        await asyncio.sleep(0.5)


async def _click_again(
    plan: list[tuple[float, str, Department, Any]],
    slack: SlackStandin,
    servers: list[Server],
    outcome: Outcome,
) -> int:
    """As a lead told that their "No change" was overtaken does: click it once more (only if
    no click of theirs was recorded; a double click's second one may have been). How many."""
    asked: set[str] = set()
    answered: set[str] = set()  # any other answer to a click: recorded, or its repeat
    for c in slack.responses:
        if c.ok and c.method.startswith("response:click-"):
            told = OVERTAKEN in str(c.args.get("text", ""))
            (asked if told else answered).add(c.method.removeprefix("response:click-"))
    again = [
        (0.0, "reclick", d, build)
        for _, kind, d, build in plan
        if kind == "click" and d.key in asked - answered
    ]
    if again:
        await _send(again, servers, outcome)
    return len(again)


async def _settle(slack: SlackStandin, departments: list[Department], most: float = 120.0) -> None:
    """Until every click has its answer and every reply its answer in the thread (or `most`)."""
    half = len(departments) // 2
    deadline = time.monotonic() + most
    while time.monotonic() < deadline:
        clicks = {c.method for c in slack.responses if c.ok}
        threads = {
            c.args.get("thread_ts")
            for c in slack.calls_to("chat.postMessage")
            if c.ok and c.args.get("thread_ts")
        }
        if len(clicks) >= len(departments) and len(threads) >= len(departments) - half:
            return
        await asyncio.sleep(0.5)


async def _drain(url: str, started: float) -> tuple[bool, float]:
    """Wait until no prompt waits for its refresh: whether it drained, and when (seconds
    after the rush began). The full run waits as long as Slack's pace needs (a thousand
    prompts at 45 a minute: about 23 minutes)."""
    most = DRAIN_MINUTES * 60.0
    while time.monotonic() - started < most:
        ((waiting,),) = _read(
            url,
            "SELECT count(*) FROM prompt_refreshes WHERE wanted > shown OR holder IS NOT NULL",
        )
        if waiting == 0:
            return True, time.monotonic() - started
        await asyncio.sleep(2.0)
    return False, time.monotonic() - started


@dataclass(frozen=True)
class Once:
    ok: bool
    text: str
    rows: int
    duplicates: int
    missing: int


def _recorded_once(url: str, departments: list[Department], period: str) -> Once:
    """Each answer's rows: one per initiative and kind of answer (a click's "No change", the
    form, the thread), never two; every click, form and reply recorded something."""
    rows = _read(
        url,
        "SELECT d.key, i.number, u.source, u.note FROM updates u "
        "JOIN initiatives i ON i.id = u.initiative_id "
        "JOIN departments d ON d.id = i.department_id "
        "WHERE u.period = :p AND u.source IN ('form', 'thread')",
        p=period,
    )
    kinds = Counter()
    answered: dict[str, set[str]] = defaultdict(set)
    for key, number, source, note in rows:
        kind = "click" if source == "form" and note == NO_CHANGE_NOTE else str(source)
        kinds[(key, number, kind)] += 1
        answered[kind].add(key)
    duplicates = sum(n - 1 for n in kinds.values() if n > 1)
    half = len(departments) // 2
    expected = {
        "click": {d.key for d in departments},
        "form": {d.key for d in departments[:half]},
        "thread": {d.key for d in departments[half:]},
    }
    missing = sum(len(want - answered[kind]) for kind, want in expected.items())
    ok = duplicates == 0 and missing == 0
    text = (
        f"{len(rows):,} rows, every answer recorded once"
        if ok
        else f"{len(rows):,} rows: {duplicates} duplicated ({_by_kind(kinds)}), "
        f"{missing} answers missing"
    )
    return Once(ok, text, len(rows), duplicates, missing)


def _asked(again: int) -> str:
    if not again:
        return ""
    leads = "lead was" if again == 1 else "leads were"
    return f" ({again} {leads} told another update overtook their click, and clicked again)"


def _by_kind(kinds: Counter[tuple[str, int, str]]) -> str:
    """Which kinds of answer were recorded twice: what to look at first."""
    twice: Counter[str] = Counter()
    for (_, _, kind), n in kinds.items():
        twice[kind] += max(0, n - 1)
    twice = +twice  # only the kinds recorded twice
    return ", ".join(f"{kind} {n}" for kind, n in twice.most_common()) or "none"


def _prompts_current(
    url: str, slack: SlackStandin, departments: list[Department], period: str
) -> tuple[int, int, list[tuple[str, dict[int, str], dict[int, str]]]]:
    """How many prompts show, for every initiative, the status the database holds now; of
    those that do not, what each shows and what the database holds."""
    rows = _read(
        url,
        # The latest as the bot orders them (models/queries.py latest_update_id).
        "SELECT key, number, status FROM (SELECT d.key, i.number, u.status, row_number() OVER "
        "(PARTITION BY u.initiative_id ORDER BY u.period DESC, u.received_at DESC, u.id DESC) "
        "AS nth FROM updates u JOIN initiatives i ON i.id = u.initiative_id "
        "JOIN departments d ON d.id = i.department_id) AS latest WHERE nth = 1",
    )
    latest: dict[str, dict[int, str]] = defaultdict(dict)
    for key, number, status in rows:
        latest[key][int(number)] = str(status)
    current = 0
    stale: list[tuple[str, dict[int, str], dict[int, str]]] = []
    for d in departments:
        message = next(
            (m for m in slack.messages.get(d.channel, []) if m["ts"] == d.prompt_ts), None
        )
        blocks = json.dumps((message or {}).get("blocks"), ensure_ascii=False)
        shown = {int(n): STATUS_WORDS.get(word, word) for n, word in LINE.findall(blocks)}
        if shown and shown == latest[d.key]:
            current += 1
        elif set(shown) != set(latest[d.key]):  # a line this check cannot read: say which
            lines = [line for line in blocks.split("\\n") if line.lstrip('"').startswith("*")]
            stale.append((d.key, {0: f"unread lines: {lines[:3]}"}, latest[d.key]))
        else:
            stale.append((d.key, shown, latest[d.key]))
    return current, len(departments), stale


def _most_in_window(moments: list[float], seconds: float) -> int:
    moments = sorted(moments)
    most = 0
    first = 0
    for last, at in enumerate(moments):
        while at - moments[first] > seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def _limited(limited: Counter[str]) -> str:
    if not limited:
        return "none"
    return ", ".join(f"{n} {method}" for method, n in limited.most_common())
