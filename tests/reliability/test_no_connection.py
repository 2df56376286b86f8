"""Every connection is taken for longer than the pool waits (a stalled database, a rush that
outran it): the work after an acknowledged thread reply gets no connection. Nothing was
written, so the lead is told so in the thread and asked to send it again — as when the database
is down (tests/reliability/test_database_down.py) — rather than "something went wrong" with a
traceback in the log; sent again once connections are free, the reply is recorded."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.workspace import Workspace
from handlers.errors import THREAD_NOT_RECORDED
from jobs.prompts import post_monthly_prompts
from models.db import POOL_OVERFLOW, POOL_SIZE, URGENT_CONNECTIONS, session_scope
from tests.helpers import (
    ADMIN,
    CHIEF,
    NOW,
    PEOPLE,
    PERIOD,
    current,
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
    release = asyncio.Event()
    holding = 0

    async def busy() -> None:
        nonlocal holding
        async with session_scope(ws.engine) as session:
            await session.exec(sa.text("SELECT 1"))  # type: ignore[call-overload]
            holding += 1
            await release.wait()

    others = [asyncio.create_task(busy()) for _ in range(POOL_SIZE + POOL_OVERFLOW)]
    try:
        while holding < POOL_SIZE + POOL_OVERFLOW - URGENT_CONNECTIONS:
            await asyncio.sleep(0.01)
        with caplog.at_level(logging.WARNING):
            answer = await ws.event(reply_event("1790000000.000100", ts, "3 at risk, no crew"))
            assert answer.status_code == 200
            (said,) = await thread_posts(ws, ts, 1)
    finally:
        release.set()
        await asyncio.gather(*others, return_exceptions=True)
    assert said.args["text"] == THREAD_NOT_RECORDED
    assert [r.levelname for r in caplog.records if "not recorded" in r.getMessage()] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await current(ws) == {}
    # Sent again with connections to spare: recorded.
    await ws.event(reply_event("1790000000.000200", ts, "3 at risk, no crew"))
    await thread_posts(ws, ts, 2)
    assert (await current(ws))[3].status == "at_risk"
