"""Two bot processes on one PostgreSQL database, as real processes: each prompt, reminder and
digest is posted exactly once, and a retried event delivered to the other replica records its
update once.

One stand-in for Slack (served by this test's event loop) is Slack for every process. Each
process gets its own bot token, so the stand-in's calls say which process made them, and its own
application_name on the database. A `Gate` (a table lock held by the test) stops each process at
its first claim until the other is waiting there too, so the claims really race instead of one
process finishing before the other has started; posts are answered after a short delay, as
Slack's are, so that the two fan-outs keep overlapping."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot import slack_requests
from bot.standin import Call, SlackStandin
from models.db import create_engine, session_scope, sync_url
from models.planfile import read_plan_file
from models.plans import load_plan, set_owners
from models.tables import Department
from tests.serving import printed_table

pytestmark = pytest.mark.postgres

SECRET = "replica-test-signing-secret"
NAMES = ("a", "b")
TOKENS = ("xoxb-replica-a-token", "xoxb-replica-b-token")
APPS = tuple(f"planbot-{name}" for name in NAMES)
UPDATES, FIRE_CHANNEL, LEADERS = "C0UPDATES", "C0FIRE", "C0LEADERS"
CHIEF, DEPUTY = "U0CHIEF", "U0DEPUTY"
LOADED_PERIOD = "2026-05"  # "(completed)" items are imported here, before every period below
POST_DELAY = 0.04  # seconds the stand-in takes to answer chat.postMessage

# Every department with initiatives has an owner (Fire has two) and its own channel, but Police,
# which posts in the updates channel. (Posts are paced at one a second per channel: a channel
# each keeps a fan-out quick.)
OWNED = [d.key for d in read_plan_file().departments if d.initiatives]
OWNERS: dict[str, tuple[str, ...]] = {key: (f"U0{key.upper()}",) for key in OWNED}
OWNERS["fire"] = (CHIEF, DEPUTY)
CHANNELS = {key: UPDATES if key == "police" else f"C0{key.upper()}" for key in OWNED}

SERVE = (sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1")

T = TypeVar("T")


class SlowSlack(SlackStandin):
    """The stand-in, answering chat.postMessage after `post_delay` seconds."""

    def __init__(self, *, post_delay: float = POST_DELAY, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.post_delay = post_delay

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"] == "chat.postMessage" and self.post_delay:
            await asyncio.sleep(self.post_delay)
        return await super()._handle_api(request)


# --- the database -----------------------------------------------------------------------------


def truncate_all(url: str) -> None:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            tables = conn.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).scalars()
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture
async def planned(postgres_database: str) -> str:
    """The PostgreSQL test database, emptied, with the Hartford plan loaded and every
    department with initiatives owned."""
    truncate_all(postgres_database)
    engine = create_engine(postgres_database)
    try:
        async with session_scope(engine) as session:
            await load_plan(session, read_plan_file(), period=LOADED_PERIOD)
        async with session_scope(engine) as session:
            for department in (await session.exec(select(Department))).all():
                if department.key in OWNERS:
                    channel = None if department.key == "police" else CHANNELS[department.key]
                    await set_owners(session, department, OWNERS[department.key], channel)
    finally:
        await engine.dispose()
    return postgres_database


async def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(sa.text(sql), params)]
    finally:
        await engine.dispose()


class Gate:
    """Writes to one table held back (an EXCLUSIVE lock: reads pass, INSERT and UPDATE wait)
    until every named process has a session waiting on it, then let go all at once. The
    processes then make their claims on that table at the same moment, instead of one after
    the other by the luck of start-up times. Processes are told apart by the application_name
    their DATABASE_URL gives them."""

    def __init__(self, url: str, table: str) -> None:
        self.url, self.table = url, table
        self.waiting: dict[str, int] = {}

    async def __aenter__(self) -> Gate:
        self.engine = create_engine(self.url)
        self.conn = await self.engine.connect()
        await self.conn.execute(sa.text(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE"))
        return self

    async def _waiting(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.text(
                    "SELECT a.application_name, count(*) FROM pg_locks l "
                    "JOIN pg_class c ON c.oid = l.relation "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE NOT l.granted AND c.relname = :table AND l.database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "GROUP BY a.application_name"
                ),
                {"table": self.table},
            )
            return {str(name): int(count) for name, count in rows}

    async def open(
        self, names: Sequence[str], *, sessions: int = 0, alive: Callable[[], None] = lambda: None
    ) -> None:
        """Wait (bounded) until each of `names` has a session queued (and `sessions` in all),
        then release them together. `alive` raises if a process the test waits on has died."""

        async def queued() -> bool:
            alive()
            self.waiting = await self._waiting()
            return all(n in self.waiting for n in names) and sum(self.waiting.values()) >= sessions

        try:
            await until(queued, timeout=60, what=f"{', '.join(names)} to wait on {self.table}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; waiting: {self.waiting}") from None
        await self.conn.commit()

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.close()
        await self.engine.dispose()


def named(url: str, name: str) -> str:
    """The database URL, with `name` as the application_name its sessions show."""
    return (
        make_url(url)
        .update_query_dict({"application_name": name})
        .render_as_string(hide_password=False)
    )


# --- processes --------------------------------------------------------------------------------


def environment(database_url: str, slack: SlackStandin, name: str, **extra: str) -> dict[str, str]:
    """One process's settings: `name` ("a" or "b") picks its token and application_name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PLANBOT_"))}
    env.update(
        DATABASE_URL=named(database_url, f"planbot-{name}"),
        SLACK_BOT_TOKEN=TOKENS[NAMES.index(name)],
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.base_url,
        PLANBOT_UPDATES_CHANNEL=UPDATES,
        PLANBOT_LOG_FORMAT="json",
        COLUMNS="400",
        **extra,
    )
    return env


@dataclass
class Result:
    token: str
    returncode: int
    stdout: str
    stderr: str

    def table(self) -> dict[str, list[str]]:
        """The printed table's rows, label → department keys."""
        rows = printed_table(self.stdout)
        return {k: [] if v == "—" else [p.strip() for p in v.split(",")] for k, v in rows.items()}


async def planbot(
    database_url: str,
    slack: SlackStandin,
    cwd: Path,
    *args: str,
    names: Sequence[str] = NAMES,
    gate: str | None = None,
) -> list[Result]:
    """`planbot ARGS` in one process per name (each with its token), started together and
    awaited together. With `gate`, writes to that table are held until every process is
    waiting to write to it."""
    started, gated = time.monotonic(), 0.0
    async with contextlib.AsyncExitStack() as stack:
        held = await stack.enter_async_context(Gate(database_url, gate)) if gate else None
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                *args,
                env=environment(database_url, slack, name),
                cwd=cwd,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for name in names
        ]
        try:
            talks = asyncio.gather(*(p.communicate() for p in processes))
            if held is not None:

                def alive() -> None:
                    assert not talks.done(), "a process ended before it reached the gate"

                await held.open([f"planbot-{name}" for name in names], alive=alive)
                gated = time.monotonic() - started
            outputs = await asyncio.wait_for(talks, timeout=60)
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    results = [
        Result(TOKENS[NAMES.index(name)], p.returncode or 0, out.decode(), err.decode())
        for name, p, (out, err) in zip(names, processes, outputs, strict=True)
    ]
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
    waited = f", all at the {gate} gate after {gated:.1f}s" if gate else ""
    print(f"{' '.join(args[:3])} x{len(names)}: {time.monotonic() - started:.1f}s{waited}")
    return results


@dataclass
class Replica:
    name: str
    token: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_ports(count: int) -> list[int]:
    """Distinct free ports: every socket is held until all are chosen."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


@contextlib.asynccontextmanager
async def two_replicas(
    database_url: str, slack: SlackStandin, tmp_path: Path, **extra: str
) -> AsyncIterator[tuple[Replica, Replica]]:
    """`planbot serve` twice (HTTP mode), same settings but the token, both healthy. On the way
    out both are terminated, and neither's output holds a secret."""
    replicas: list[Replica] = []
    logs: list[Any] = []
    try:
        for name, token, port in zip(NAMES, TOKENS, free_ports(2), strict=True):
            path = tmp_path / f"replica-{name}.log"
            logs.append(path.open("wb"))
            process = subprocess.Popen(
                [*SERVE, "--port", str(port)],
                env=environment(database_url, slack, name, **extra),
                cwd=tmp_path,
                stdout=logs[-1],
                stderr=subprocess.STDOUT,
            )
            replicas.append(Replica(name, token, f"http://127.0.0.1:{port}", process, path))
        async with httpx.AsyncClient(timeout=2) as client:
            for replica in replicas:
                await until(lambda r=replica: healthy(client, r), timeout=30, what="/healthz")
        yield replicas[0], replicas[1]
        for replica in replicas:
            assert replica.process.poll() is None, replica.output()
    finally:
        for replica in replicas:
            replica.process.terminate()
        for replica in replicas:
            try:
                await asyncio.to_thread(replica.process.wait, 20)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                await asyncio.to_thread(replica.process.wait, 20)
        for log in logs:
            log.close()
    for replica in replicas:
        output = replica.output()
        for secret in (*TOKENS, SECRET):
            assert secret not in output, f"replica {replica.name} logged a secret"
        assert "Traceback" not in output, output
        assert "scheduled run failed" not in output, output


async def healthy(client: httpx.AsyncClient, replica: Replica) -> bool:
    assert replica.process.poll() is None, replica.output()
    try:
        return (await client.get(f"{replica.base}/healthz")).status_code == 200
    except httpx.TransportError:
        return False


async def until(
    check: Callable[[], Awaitable[T] | T], *, timeout: float, what: str, every: float = 0.05
) -> T:
    """Poll `check` until it answers something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(every)


# --- what Slack saw ---------------------------------------------------------------------------


def posts(slack: SlackStandin) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.ok]


def tagged(slack: SlackStandin, event_type: str) -> list[Call]:
    return [
        c for c in posts(slack) if (c.args.get("metadata") or {}).get("event_type") == event_type
    ]


def prompts_for(slack: SlackStandin, period: str) -> list[Call]:
    return [
        c
        for c in tagged(slack, "planbot_prompt")
        if c.args["metadata"]["event_payload"]["period"] == period
    ]


def department_of(call: Call) -> str:
    return str(call.args["metadata"]["event_payload"]["department"])


def once_each(items: Sequence[str]) -> set[str]:
    """The items, checked to be distinct."""
    twice = sorted(k for k, n in Counter(items).items() if n > 1)
    assert not twice, f"more than once: {twice}"
    return set(items)


# --- 1. the digest, raced by two replicas' start-up catch-up ---------------------------------


async def test_two_replicas_post_the_due_digest_once(planned: str, tmp_path: Path) -> None:
    due_now = {"PLANBOT_DIGEST_CHANNEL": LEADERS, "PLANBOT_DIGEST_CRON": "* * * * *"}
    # The digest is due this very minute, so both replicas' start-up catch-up ticks go for it;
    # the gate holds both claims until both replicas are making theirs.
    async with (
        SlowSlack() as slack,
        Gate(planned, "digests") as gate,
        two_replicas(planned, slack, tmp_path, **due_now) as replicas,
    ):

        def alive() -> None:
            for replica in replicas:
                assert replica.process.poll() is None, replica.output()

        await gate.open(APPS, alive=alive)
        await until(lambda: tagged(slack, "planbot_digest"), timeout=30, what="the digest")
        await until(
            lambda: slack.calls_to("files.completeUploadExternal"),
            timeout=30,
            what="the digest's charts",
        )
        await asyncio.sleep(2)  # room for a second replica's post, were there one

        digests = tagged(slack, "planbot_digest")
        assert len(digests) == 1, [c.token for c in digests]
        (post,) = digests
        assert post.args["channel"] == LEADERS and post.token in TOKENS
        week = post.args["metadata"]["event_payload"]["week"]
        rows = await query(
            planned, "SELECT channel_id, week, state, attempts, message_ts FROM digests"
        )
        # one row, claimed once and never again, holding the one post
        assert rows == [(LEADERS, week, "posted", 1, post.response["ts"])]  # type: ignore[index]
        # Its continuation and its charts come from the same replica, once.
        other = [c for c in slack.calls if c.token not in (None, post.token)]
        # (Every replica's start-up checks look the channel up: conversations.info.)
        assert not [
            c
            for c in other
            if c.args.get("channel") == LEADERS and c.method != "conversations.info"
        ]
        assert not [c for c in other if c.method.startswith("files.")]
        assert len(slack.calls_to("files.completeUploadExternal")) == 1


# --- 2. prompts and reminders from two `jobs run` at once ------------------------------------


async def test_prompts_and_reminders_run_twice_at_once_post_once(
    planned: str, tmp_path: Path
) -> None:
    async with SlowSlack() as slack:
        splits: dict[str, tuple[int, int]] = {}
        for period in ("2026-10", "2026-07", "2026-08", "2026-09"):
            a, b = await planbot(
                planned,
                slack,
                tmp_path,
                "jobs",
                "run",
                "prompts",
                "--period",
                period,
                gate="prompts",
            )
            asked = prompts_for(slack, period)
            assert once_each([department_of(c) for c in asked]) == set(OWNED)
            assert {department_of(c): c.args["channel"] for c in asked} == CHANNELS
            # Together the two runs posted each department once; each run accounts for all.
            for run in (a, b):
                table = run.table()
                # The other run's live claims are named as such, never as posted.
                elsewhere = [key.split(" ")[0] for key in table["being posted elsewhere"]]
                assert all(" (by " in key for key in table["being posted elsewhere"])
                accounted = table["posted"] + table["already posted"] + elsewhere
                assert sorted(accounted) == sorted(OWNED)
                assert table["failed"] == [] and table["no owner (skipped)"] == []
                # what a run says it posted is what its token posted
                by_token = [department_of(c) for c in asked if c.token == run.token]
                assert sorted(by_token) == sorted(table["posted"])
            assert once_each(a.table()["posted"] + b.table()["posted"]) == set(OWNED)
            splits[period] = (len(a.table()["posted"]), len(b.table()["posted"]))
            rows = await query(
                planned,
                "SELECT d.key, p.state, p.attempts, p.message_ts FROM prompts p "
                "JOIN departments d ON d.id = p.department_id WHERE p.period = :period",
                period=period,
            )
            ts = {department_of(c): c.response["ts"] for c in asked}  # type: ignore[index]
            assert sorted(rows) == sorted((key, "posted", 1, ts[key]) for key in OWNED)
        print(f"prompts posted by run a / run b, per period: {splits}")

        # The first reminder for 2026-10, twice at once: one thread reminder per department,
        # one direct message per owner.
        thread_of = {
            c.response["ts"]: department_of(c)  # type: ignore[index]
            for c in prompts_for(slack, "2026-10")
        }
        before = len(posts(slack))
        a, b = await planbot(
            planned,
            slack,
            tmp_path,
            "jobs",
            "run",
            "reminders",
            "--period",
            "2026-10",
            "--reminder",
            "1",
            gate="reminders",
        )
        sent = posts(slack)[before:]
        in_threads = [c for c in sent if "thread_ts" in c.args]
        assert once_each([thread_of[c.args["thread_ts"]] for c in in_threads]) == set(OWNED)
        direct = [c for c in sent if "thread_ts" not in c.args]
        everyone = [owner for key in OWNED for owner in OWNERS[key]]
        # Each owner's direct message is recorded once, and sent once — now, when this run
        # falls in their working hours (the real clock: a subprocess), else at their morning.
        dms = await query(
            planned,
            "SELECT d.user_id, d.state, d.due_at FROM reminder_dms d "
            "JOIN prompts p ON p.id = d.prompt_id WHERE p.period = '2026-10'",
        )
        assert once_each([user for user, _, _ in dms]) == set(everyone)
        sent_now = {user for user, state, _ in dms if state == "sent"}
        assert {state for _, state, _ in dms} <= {"sent", "pending"}
        assert once_each([c.args["channel"] for c in direct]) == sent_now
        assert len(sent) == len(OWNED) + len(sent_now)
        for run in (a, b):
            table = run.table()
            elsewhere = [key.split(" ")[0] for key in table["being sent elsewhere"]]
            accounted = table["reminder 1 sent"] + table["already reminded"] + elsewhere
            assert sorted(accounted) == sorted(OWNED)
            assert table["had answered"] == [] and table["failed"] == []
            by_token = {thread_of[c.args["thread_ts"]] for c in in_threads if c.token == run.token}
            assert by_token == set(table["reminder 1 sent"])
        assert once_each(a.table()["reminder 1 sent"] + b.table()["reminder 1 sent"]) == set(OWNED)
        rows = await query(
            planned,
            "SELECT r.ordinal, r.sent_at IS NOT NULL FROM reminders r "
            "JOIN prompts p ON p.id = r.prompt_id WHERE p.period = '2026-10'",
        )
        assert sorted(rows) == [(1, True)] * len(OWNED)
        print(
            "reminders sent by run a / run b:",
            len(a.table()["reminder 1 sent"]),
            len(b.table()["reminder 1 sent"]),
        )


# --- 3. a retried event, delivered to the other replica at the same moment ---------------------


def reply_event(ts: str, thread_ts: str, text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": FIRE_CHANNEL,
        "channel_type": "channel",
        "user": CHIEF,
        "ts": ts,
        "thread_ts": thread_ts,
        "event_ts": ts,
        "text": text,
    }


async def test_a_retried_event_delivered_to_the_other_replica_records_once(
    planned: str, tmp_path: Path
) -> None:
    period = "2026-06"
    replies = {1: "1 on track", 2: "2 at risk 40% waiting on the union agreement", 3: "3: done"}
    async with SlowSlack() as slack, two_replicas(planned, slack, tmp_path) as (a, b):
        (asked,) = await planbot(
            planned,
            slack,
            tmp_path,
            "jobs",
            "run",
            "prompts",
            "--period",
            period,
            "--department",
            "fire",
            names=["a"],
        )
        assert asked.table()["posted"] == ["fire"]
        (prompt,) = prompts_for(slack, period)
        prompt_ts = str(prompt.response["ts"])  # type: ignore[index]

        # Three replies by the Fire Chief; each event goes to replica a, and at the same moment
        # Slack's retry of it (same event id, X-Slack-Retry-Num: 1) goes to replica b.
        sends = []
        reply_ts: dict[int, str] = {}
        for number, text in replies.items():
            message = slack.seed_message(FIRE_CHANNEL, text, user=CHIEF, thread_ts=prompt_ts)
            reply_ts[number] = message["ts"]
            body = reply_event(message["ts"], prompt_ts, text)
            event_id = f"EvREPLICA{number}"
            for replica, retry in ((a, None), (b, 1)):
                request = slack_requests.event(SECRET, body, event_id=event_id, retry_num=retry)
                sends.append((replica, request))
        # Each replica acknowledges at once and records in the background; the gate holds the
        # six deliveries' "first time?" inserts until all six are waiting, then lets them race.
        async with Gate(planned, "slack_events") as gate, httpx.AsyncClient(timeout=10) as client:
            answers = await asyncio.gather(
                *(
                    client.post(f"{replica.base}/slack/events", content=r.body, headers=r.headers)
                    for replica, r in sends
                )
            )
            await gate.open(APPS, sessions=len(sends))
        assert [answer.status_code for answer in answers] == [200] * len(sends)

        def thread_summaries() -> list[Call]:
            return [c for c in posts(slack) if c.args.get("thread_ts") == prompt_ts]

        await until(
            lambda: len(slack.calls_to("reactions.add")) >= len(replies),
            timeout=20,
            what="a ✅ on every reply",
        )
        await until(
            lambda: len(thread_summaries()) >= len(replies),
            timeout=20,
            what="a summary for every reply",
        )
        await asyncio.sleep(2)  # room for the retried delivery's effects, were there any

        rows = await query(
            planned,
            "SELECT i.number, u.status, u.percent, u.author, u.source_ref FROM updates u "
            "JOIN initiatives i ON i.id = u.initiative_id "
            "JOIN departments d ON d.id = i.department_id "
            "WHERE d.key = 'fire' AND u.period = :period AND u.source = 'thread'",
            period=period,
        )
        assert sorted(rows) == [
            (1, "on_track", None, CHIEF, f"{FIRE_CHANNEL}:{reply_ts[1]}"),
            (2, "at_risk", 40, CHIEF, f"{FIRE_CHANNEL}:{reply_ts[2]}"),
            (3, "complete", None, CHIEF, f"{FIRE_CHANNEL}:{reply_ts[3]}"),
        ]
        reactions = slack.calls_to("reactions.add")
        assert sorted(c.args["timestamp"] for c in reactions) == sorted(reply_ts.values())
        assert len(thread_summaries()) == len(replies)
        events = await query(planned, "SELECT event_id FROM slack_events ORDER BY event_id")
        assert events == [(f"EvREPLICA{n}",) for n in replies]
        handled_by = Counter("a" if c.token == a.token else "b" for c in reactions)
        print(f"replies handled by replica: {dict(handled_by)}")


# --- 4. a posting process killed mid fan-out ---------------------------------------------------


async def test_a_fan_out_killed_mid_way_is_finished_by_the_next_run_once(
    planned: str, tmp_path: Path
) -> None:
    """`planbot jobs run prompts` is killed by PID while it posts (Slack answering each post
    slowly). Its claims name it; its process is gone, so the next run on this host takes them
    over at once — never reporting them as posted — and posts each prompt once, finding in the
    channel what Slack took before the kill."""
    period = "2026-10"
    async with SlowSlack(post_delay=0.4) as slack:
        env = environment(planned, slack, "a", PLANBOT_CLAIM_LEASE_SECONDS="600")
        killed = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot.cli", "jobs", "run", "prompts", "--period", period),
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await until(
            lambda: len(prompts_for(slack, period)) >= 3, timeout=60, what="the first prompts"
        )
        os.kill(killed.pid, signal.SIGKILL)
        await killed.wait()
        taken = {department_of(c) for c in prompts_for(slack, period)}
        assert 0 < len(taken) < len(OWNED)
        held = await query(
            planned,
            "SELECT count(*) FROM prompts WHERE period = :period AND state = 'posting' "
            "AND holder LIKE :holder",
            period=period,
            holder=f"%:{killed.pid}:%",
        )
        assert held[0][0] > 0  # the killed run's claims name it, with a lease of ten minutes

        (rerun,) = await planbot(
            planned, slack, tmp_path, "jobs", "run", "prompts", "--period", period, names=("b",)
        )
        table = rerun.table()
        assert table["being posted elsewhere"] == [] and table["failed"] == []
        asked = prompts_for(slack, period)
        assert once_each([department_of(c) for c in asked]) == set(OWNED)
        rows = await query(
            planned,
            "SELECT d.key, p.state FROM prompts p JOIN departments d "
            "ON d.id = p.department_id WHERE p.period = :period",
            period=period,
        )
        assert sorted(rows) == sorted((key, "posted") for key in OWNED)
