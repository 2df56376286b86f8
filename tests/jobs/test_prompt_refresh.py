"""Prompts show their answers at Slack's pace (issue 18): answers that arrive while a prompt waits
for its turn are one edit; every replica shares the workspace's `chat.update` budget, so a burst
draws no 429; a prompt Slack could not edit keeps waiting and the tick edits it; a deleted one is
given up. Driven through signed thread replies, against the stand-in enforcing Slack's limits."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot import slack_requests
from bot.app import build_app
from bot.server import build_asgi
from bot.standin import Fault
from bot.workspace import Workspace
from jobs.prompt_refresh import PACE_KEY
from jobs.prompts import post_monthly_prompts
from jobs.scheduler import Cycle
from models.db import session_scope
from models.tables import PostPace, PromptRefresh
from tests.helpers import ADMIN, NOW, PERIOD, own, reply_event, thread_posts

UPDATES = "C0UPDATES"
LEADS = {"fire": "U0FIRE", "police": "U0POLICE", "dpw": "U0DPW", "hhs": "U0HHS"}


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, dict[str, str]]]:
    """Four departments, each with its lead, their October prompts posted; yields each
    department's prompt ts."""
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        users={lead: key.title() for key, lead in LEADS.items()},
        updates_channel=UPDATES,
        now=lambda: NOW,
    ) as ws:
        for key, lead in LEADS.items():
            await own(ws, key, lead)
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        assert sorted(run.posted) == sorted(LEADS)
        prompts = {
            c.args["metadata"]["event_payload"]["department"]: str(c.response["ts"])
            for c in ws.slack.calls_to("chat.postMessage")
            if "metadata" in c.args
        }
        ws.slack.enforce_slack_limits()
        yield ws, prompts


async def hold_the_budget(ws: Workspace, seconds: float) -> None:
    """As if another replica had just spent the workspace's chat.update budget."""
    async with session_scope(ws.engine) as session:
        await session.merge(PostPace(key=PACE_KEY, next_at=time.time() + seconds, gap=1.0))


def prompt_text(ws: Workspace, ts: str) -> str:
    (message,) = [m for m in ws.slack.messages[UPDATES] if m["ts"] == ts]
    return json.dumps(message.get("blocks"), ensure_ascii=False)


async def shows(ws: Workspace, ts: str, *texts: str, timeout: float = 20.0) -> str:
    """Wait until the prompt shows every one of `texts`; what it shows."""
    deadline = time.monotonic() + timeout
    while True:
        shown = prompt_text(ws, ts)
        if all(t in shown for t in texts):
            return shown
        if time.monotonic() > deadline:
            raise AssertionError(f"the prompt never showed {texts}: {shown[:2000]}")
        await asyncio.sleep(0.05)


def edits_of(ws: Workspace, ts: str) -> list[str]:
    return [str(c.args["ts"]) for c in ws.slack.calls_to("chat.update") if c.args["ts"] == ts]


async def reply(ws: Workspace, prompt: str, n: int, text: str, lead: str) -> None:
    ts = f"1800000000.{n:06d}"
    assert (await ws.event(reply_event(ts, prompt, text, user=lead))).status_code == 200


async def waiting(ws: Workspace) -> list[PromptRefresh]:
    async with session_scope(ws.engine) as session:
        rows = await session.exec(select(PromptRefresh))
        return [r for r in rows.all() if r.wanted > r.shown]


async def test_answers_that_arrive_while_the_prompt_waits_are_one_edit(
    city: tuple[Workspace, dict[str, str]],
) -> None:
    ws, prompts = city
    await hold_the_budget(ws, 6.0)
    lines = [
        "1 on track",
        "2 at risk - waiting on the union",
        "3 off track, no staff",
        "4 complete",
    ]
    for n, line in enumerate(lines, start=1):
        await reply(ws, prompts["fire"], n, line, LEADS["fire"])
    await thread_posts(ws, prompts["fire"], 4)  # each answered in the thread
    assert edits_of(ws, prompts["fire"]) == []  # the budget is spent: the prompt waits
    shown = await shows(
        ws, prompts["fire"], "*2.* 🟡 At risk", "*3.* 🔴 Off track", "*4.* ✅ Complete"
    )
    assert f"updated by <@{LEADS['fire']}>" in shown
    assert len(edits_of(ws, prompts["fire"])) == 1  # four answers, one edit
    assert ws.slack.count_rate_limited("chat.update") == 0
    assert await _drained(ws)
    assert len(edits_of(ws, prompts["fire"])) == 1  # and nothing left for a second one


async def test_replicas_share_the_workspace_budget_and_a_burst_draws_no_429(
    city: tuple[Workspace, dict[str, str]],
) -> None:
    ws, prompts = city
    # Every prompt (and so every thread answer) is in one channel here: posts are not the point.
    ws.slack.enforce_slack_limits(posts_per_channel_per_second=None)
    # A second replica: its own app and refresher, the same database and workspace.
    other = build_asgi(build_app(ws.settings, ws.engine, now=lambda: NOW), ws.engine, ws.settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other), base_url="http://replica-2.local"
    ) as second:
        n = 0
        for round_ in range(3):
            for key, ts in prompts.items():
                n += 1
                body = reply_event(f"1800000000.{n:06d}", ts, f"{round_ + 1} on track", LEADS[key])
                request = slack_requests.event(ws.signing_secret, body, event_id=f"Ev{n:08d}")
                via = ws.http if n % 2 else second
                response = await via.post(
                    "/slack/events", content=request.body, headers=request.headers
                )
                assert response.status_code == 200
        for key, ts in prompts.items():
            await shows(ws, ts, "updated by", f"<@{LEADS[key]}>", timeout=30)
            await shows(ws, ts, "*3.* 🟢 On track", timeout=30)
        # Twelve answers at once, beyond Tier 3's few seconds of burst, from two replicas:
        # paced, not refused; and each prompt edited fewer times than it was answered.
        assert ws.slack.count_rate_limited("chat.update") == 0
        assert await _drained(ws)
        assert len(ws.slack.calls_to("chat.update")) < 12


async def _drained(ws: Workspace) -> bool:
    for _ in range(400):
        if await waiting(ws) == []:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_prompt_slack_could_not_edit_waits_for_the_tick(
    city: tuple[Workspace, dict[str, str]],
) -> None:
    ws, prompts = city
    ws.slack.inject("chat.update", *[Fault.server_error()] * 3)  # the client retries twice
    await reply(ws, prompts["police"], 1, "1 off track - the budget", LEADS["police"])
    await thread_posts(ws, prompts["police"], 1)
    for _ in range(400):
        if len(ws.slack.calls_to("chat.update")) >= 3:
            break
        await asyncio.sleep(0.05)
    assert "*1.* 🔴 Off track" not in prompt_text(ws, prompts["police"])
    assert [r.prompt_id for r in await waiting(ws)], "it waits, not lost"
    await Cycle(ws.ctx, ws.app.client, timedelta(hours=2)).run_due()  # the 15-minute tick
    await shows(ws, prompts["police"], "*1.* 🔴 Off track")
    assert await _drained(ws)


async def test_a_deleted_prompt_is_given_up_not_retried(
    city: tuple[Workspace, dict[str, str]],
) -> None:
    ws, prompts = city
    ws.slack.messages[UPDATES] = [
        m for m in ws.slack.messages[UPDATES] if m["ts"] != prompts["dpw"]
    ]
    await reply(ws, prompts["dpw"], 1, "1 on track", LEADS["dpw"])
    await thread_posts(ws, prompts["dpw"], 1)
    for _ in range(400):  # the edit is tried once, and refused
        if ws.slack.calls_to("chat.update"):
            break
        await asyncio.sleep(0.05)
    assert await _drained(ws)
    async with session_scope(ws.engine) as session:
        (row,) = (await session.exec(select(PromptRefresh))).all()
        assert row.last_error == "message_not_found" and row.wanted == row.shown
    tries = len(ws.slack.calls_to("chat.update"))
    await Cycle(ws.ctx, ws.app.client, timedelta(hours=2)).run_due()
    await asyncio.sleep(0.3)
    assert len(ws.slack.calls_to("chat.update")) == tries  # not tried again
    async with session_scope(ws.engine) as session:
        count = (await session.exec(sa.select(sa.func.count()).select_from(PromptRefresh))).one()
    assert count[0] == 1


async def test_a_burst_of_replies_in_a_shared_channel_is_answered_in_turn(
    city: tuple[Workspace, dict[str, str]],
) -> None:
    """Every department's prompt is in one channel; four leads reply within a moment. Slack
    takes about one post a second in a channel: each reply is answered in its thread, in turn,
    and none draws a 429 (which, retried together, used to cost a thread its answer)."""
    ws, prompts = city
    for n, (key, ts) in enumerate(prompts.items(), start=1):
        await reply(ws, ts, n, "1 on track", LEADS[key])
    for ts in prompts.values():
        await thread_posts(ws, ts, 1)
    assert ws.slack.count_rate_limited("chat.postMessage") == 0
    assert ws.slack.count_rate_limited() == 0
