"""Every connection is taken for longer than the pool waits (a stalled database, a rush that
outran it): the work after an acknowledged thread reply gets no connection. Nothing was
written, so the lead is told so in the thread and asked to send it again — as when the database
is down (tests/reliability/test_database_down.py) — rather than "something went wrong" with a
traceback in the log; sent again once connections are free, the reply is recorded."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot.workspace import Workspace
from handlers.errors import THREAD_NOT_RECORDED
from jobs.prompts import post_monthly_prompts
from tests.helpers import (
    ADMIN,
    CHIEF,
    NOW,
    PEOPLE,
    PERIOD,
    current,
    every_connection_taken,
    own,
    reply_event,
    thread_posts,
)

UPDATES = "C0UPDATES"
WAIT = 0.3  # seconds a session waits for a connection (the pool's 30 s, shortened)


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        users=PEOPLE,
        updates_channel=UPDATES,
        now=lambda: NOW,
        engine_options={"pool_timeout": WAIT},
    ) as ws:
        await own(ws, "fire", CHIEF)
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        assert run.posted == ["fire"]
        yield ws, str(ws.slack.calls_to("chat.postMessage")[0].response["ts"])


async def test_a_reply_that_gets_no_connection_is_answered_in_its_thread(
    fire: tuple[Workspace, str], caplog: pytest.LogCaptureFixture
) -> None:
    ws, ts = fire
    async with every_connection_taken(ws):
        with caplog.at_level(logging.WARNING):
            answer = await ws.event(reply_event("1790000000.000100", ts, "3 at risk, no crew"))
            assert answer.status_code == 200
            (said,) = await thread_posts(ws, ts, 1)
    assert said.args["text"] == THREAD_NOT_RECORDED
    assert [r.levelname for r in caplog.records if "not recorded" in r.getMessage()] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await current(ws) == {}
    # Sent again with connections to spare: recorded.
    await ws.event(reply_event("1790000000.000200", ts, "3 at risk, no crew"))
    await thread_posts(ws, ts, 2)
    assert (await current(ws))[3].status == "at_risk"


async def test_a_plan_command_that_gets_no_connection_says_the_database_is_not_answering(
    fire: tuple[Workspace, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A lookup records nothing: it is told the database is not answering (not "something went
    wrong"), privately, with one warning in the log and no traceback; asked again, it answers."""
    ws, _ = fire
    async with every_connection_taken(ws):
        with caplog.at_level(logging.WARNING):
            reply = await ws.command("fire", user=CHIEF)
    assert reply.message["response_type"] == "ephemeral"
    assert "database is not answering" in reply.text and "went wrong" not in reply.text
    assert [r.levelname for r in caplog.records if "not answered" in r.getMessage()] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    again = await ws.command("fire", user=CHIEF)
    assert "not answering" not in again.text and "Fire" in again.text
