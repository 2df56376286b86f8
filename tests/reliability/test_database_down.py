"""The database goes down under a running bot: nothing a lead sends vanishes without a word. A
thread reply is answered in its thread that it was not recorded and must be sent again (Slack
does not deliver an acknowledged event twice); a click and a form are answered privately, in
time, that nothing was recorded; once the database is back, the same reply is recorded.

The PostgreSQL cluster here is the test's own, started on a port of its own and stopped under
the bot; the machine's shared server is never touched. It needs PostgreSQL's server programs
(initdb, pg_ctl): on a machine without them the tests skip, except in CI, where they fail."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.workspace import Workspace
from handlers.errors import DATABASE_DOWN
from handlers.ids import ActionId
from handlers.reading.buttons import prompt_value
from jobs.prompts import post_monthly_prompts
from models.db import session_scope, upgrade
from models.planfile import read_plan_file
from models.plans import load_plan
from tests.helpers import (
    ADMIN,
    CHIEF,
    NOW,
    PEOPLE,
    PERIOD,
    chosen,
    current,
    mrkdwn_texts,
    opened_form,
    own,
    reported_before,
    thread_posts,
)

UPDATES = "C0UPDATES"
BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
pytestmark = pytest.mark.postgres  # CI fails a run where these were skipped


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A PostgreSQL cluster of the test's own, run as the `postgres` user when we are root."""

    def __init__(self, root: Path) -> None:
        assert BIN is not None
        self.data, self.port = root / "data", free_port()
        self.log = root / "server.log"
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(BIN / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if BIN is None or not (BIN / "initdb").exists():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    # Not under pytest's own temporary folder: the postgres user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="planbot-own-cluster-"))
    own_cluster = Cluster(root)
    own_cluster.start()
    upgrade(own_cluster.url)
    try:
        yield own_cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            own_cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def fire(cluster: Cluster) -> AsyncIterator[tuple[Workspace, str, Cluster]]:
    """Fire owned by the chief and its October prompt posted, on the test's own cluster."""
    engine = sa.create_engine(cluster.url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    async with Workspace(
        cluster.url, admins=(ADMIN,), users=PEOPLE, updates_channel=UPDATES, now=lambda: NOW
    ) as ws:
        async with session_scope(ws.engine) as session:
            await load_plan(session, read_plan_file(), period=PERIOD)
        await own(ws, "fire", CHIEF)
        await reported_before(ws, "fire", 1, "2026-09", "on_track")
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        assert run.posted == ["fire"]
        ts = str(ws.slack.calls_to("chat.postMessage")[0].response["ts"])
        try:
            yield ws, ts, cluster
        finally:
            cluster.start() if not (cluster.data / "postmaster.pid").exists() else None


def reply(ts: str, thread_ts: str, text: str) -> dict:
    """A thread reply to the bot's prompt, as Slack delivers it (naming the parent's author)."""
    return {
        "type": "message",
        "channel": UPDATES,
        "user": CHIEF,
        "ts": ts,
        "thread_ts": thread_ts,
        "parent_user_id": "UPLANBOT",
        "text": text,
    }


async def test_a_thread_reply_while_the_database_is_down_is_answered_not_lost(
    fire: tuple[Workspace, str, Cluster],
) -> None:
    ws, ts, cluster = fire
    cluster.stop()
    response = await ws.event(reply("1790000000.000100", ts, "3 at risk, waiting on the union"))
    assert response.status_code == 200
    (said,) = await thread_posts(ws, ts, 1)
    assert "not recorded" in said.args["text"] and "send it again" in said.args["text"]
    cluster.start()
    await ws.event(reply("1790000000.000200", ts, "3 at risk, waiting on the union"))
    await thread_posts(ws, ts, 2)
    assert (await current(ws))[3].note == "waiting on the union"


async def test_a_click_while_the_database_is_down_is_answered_privately(
    fire: tuple[Workspace, str, Cluster],
) -> None:
    ws, ts, cluster = fire
    cluster.stop()
    answer = await ws.click(
        ActionId.NO_CHANGE,
        prompt_value("fire", PERIOD),
        user=CHIEF,
        channel=UPDATES,
        message_ts=ts,
    )
    assert answer.status == 200
    (private,) = answer.followups
    assert private["response_type"] == "ephemeral"
    assert DATABASE_DOWN in "\n".join(mrkdwn_texts(private["blocks"]))
    cluster.start()
    assert await current(ws) == {}  # nothing was recorded


async def test_a_form_while_the_database_is_down_stays_open_and_says_so(
    fire: tuple[Workspace, str, Cluster],
) -> None:
    ws, _, cluster = fire
    view = await opened_form(ws, CHIEF)
    cluster.stop()
    answer = await ws.submit(view, {"status-2": chosen("complete")}, user=CHIEF)
    assert answer["response_action"] == "errors"
    assert json.dumps(answer).count("nothing was recorded") == 1
    cluster.start()
    assert await current(ws) == {}


async def test_a_reply_without_its_parents_author_is_still_answered_in_its_thread(
    fire: tuple[Workspace, str, Cluster],
) -> None:
    """Slack names the parent's author on thread replies; where it does not, the bot asks
    Slack whose thread it is (Slack is up; only the database is down)."""
    ws, ts, cluster = fire
    cluster.stop()
    event = reply("1790000000.000300", ts, "all on track")
    del event["parent_user_id"]
    assert (await ws.event(event)).status_code == 200
    (said,) = await thread_posts(ws, ts, 1)
    assert "not recorded" in said.args["text"]


async def test_a_reply_in_someone_elses_thread_gets_nothing(
    fire: tuple[Workspace, str, Cluster],
) -> None:
    ws, _, cluster = fire
    chat = ws.slack.seed_message(UPDATES, "Lunch at noon?", user="U0SOMEONE")
    cluster.stop()
    event = reply("1790000000.000400", chat["ts"], "3 on track")
    event["parent_user_id"] = "U0SOMEONE"
    before = len(ws.slack.calls)
    assert (await ws.event(event)).status_code == 200
    await asyncio.sleep(0.3)  # give a wrong answer the time to appear
    posted = [
        c for c in ws.slack.calls[before:] if c.method in ("chat.postMessage", "chat.postEphemeral")
    ]
    assert posted == []
