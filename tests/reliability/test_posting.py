"""Posting exactly once at Slack's pace: a post Slack took but answered with a 5xx is found, not
sent again; a rate-limited workspace slows every fan-out down and fails none of it; two
fan-outs at once share one pace. (How long a limited fan-out takes against the bound the limit
sets is measured in bench/, not here.)"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bot.standin import Fault
from bot.workspace import Workspace
from jobs.prompts import PROMPT_EVENT, post_monthly_prompts
from jobs.reminders import REMINDER_EVENT, send_reminders
from models.db import create_engine, session_scope
from models.planfile import read_plan_file
from models.plans import set_owners
from tests.helpers import ADMIN, CHIEF, NOW, PEOPLE, PERIOD, find_department, reported_before

UPDATES = "C0UPDATES"
OWNED = [d.key for d in read_plan_file().departments if d.initiatives]


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    """Every department with initiatives owned, each in a channel of its own."""
    async with Workspace(
        database_url, admins=(ADMIN,), users=PEOPLE, updates_channel=UPDATES, now=lambda: NOW
    ) as ws:
        async with session_scope(ws.engine) as session:
            for key in OWNED:
                department = await find_department(session, key)
                await set_owners(session, department, [CHIEF], f"C0{key.upper()[:9]}")
        yield ws


def posts_of(ws: Workspace, event: str) -> Counter[str]:
    """How many of our posts of `event` Slack holds, by department (from their metadata)."""
    held: Counter[str] = Counter()
    for messages in ws.slack.messages.values():
        for message in messages:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == event:
                held[metadata["event_payload"]["department"]] += 1
    return held


async def test_a_prompt_slack_took_but_answered_500_is_not_posted_twice(city: Workspace) -> None:
    ws = city
    ws.slack.inject(
        "chat.postMessage", Fault.accepted_then_error(500), Fault.accepted_then_error(502)
    )
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert sorted(run.posted) == sorted(OWNED) and run.failed == []
    assert posts_of(ws, PROMPT_EVENT) == Counter(dict.fromkeys(OWNED, 1))


async def test_a_reminder_slack_took_but_answered_500_is_in_its_thread_once(
    city: Workspace,
) -> None:
    ws = city
    await reported_before(ws, "fire", 1, "2026-09", "on_track")
    await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    ws.slack.inject("chat.postMessage", Fault.accepted_then_error(503))
    run = await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    assert sorted(run.reminded) == sorted(OWNED) and run.failed == []
    assert posts_of(ws, REMINDER_EVENT) == Counter(dict.fromkeys(OWNED, 1))
    again = await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    assert again.reminded == [] and sorted(again.already) == sorted(OWNED)


@pytest.mark.parametrize("per_second", [2, 5])
async def test_a_rate_limited_workspace_slows_the_fan_out_and_fails_nothing(
    city: Workspace, per_second: int
) -> None:
    ws = city
    ws.slack.enforce_rate_limits(None, per_second)
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert sorted(run.posted) == sorted(OWNED) and run.failed == []
    assert posts_of(ws, PROMPT_EVENT) == Counter(dict.fromkeys(OWNED, 1))
    limited = [c for c in ws.slack.calls_to("chat.postMessage") if c.status == 429]
    # Slowed down, not hammering: far fewer refusals than posts.
    assert len(limited) < len(OWNED), len(limited)


async def test_two_fan_outs_at_once_share_one_pace(city: Workspace, database_url: str) -> None:
    ws = city
    ws.slack.enforce_rate_limits(None, 3)
    other_engine = create_engine(database_url)  # another process's connections
    try:
        other = dataclasses.replace(ws.ctx, engine=other_engine)
        a, b = await asyncio.gather(
            post_monthly_prompts(ws.ctx, ws.app.client, PERIOD),
            post_monthly_prompts(other, ws.app.client, PERIOD),
        )
    finally:
        await other_engine.dispose()
    assert sorted(a.posted + b.posted) == sorted(OWNED) and a.failed == b.failed == []
    assert posts_of(ws, PROMPT_EVENT) == Counter(dict.fromkeys(OWNED, 1))
    limited = [c for c in ws.slack.calls_to("chat.postMessage") if c.status == 429]
    assert len(limited) < len(OWNED), len(limited)


async def test_on_a_large_workspace_prompts_go_out_while_its_members_are_still_being_read(
    database_url: str, hartford: int
) -> None:
    # Four users.list pages of 200 members, the fourth at Slack's Tier 2 pace. Every owner is
    # on the first page but one, on the last: on vacation, a co-owner answers meanwhile.
    leads = {key: f"U0LEAD{n:03d}" for n, key in enumerate(OWNED)}
    late, last = "U0LATE", OWNED[-1]
    users = {
        **PEOPLE,
        **{lead: f"Lead of {key}" for key, lead in leads.items()},
        **{f"U0MEMBER{n:04d}": f"Member {n}" for n in range(650)},
        late: "Late Lead",
    }
    async with Workspace(
        database_url, admins=(ADMIN,), users=users, updates_channel=UPDATES, now=lambda: NOW
    ) as ws:
        async with session_scope(ws.engine) as session:
            for key in OWNED:
                owners = [late, leads[key]] if key == last else [leads[key]]
                department = await find_department(session, key)
                await set_owners(session, department, owners, f"C0{key.upper()[:9]}")
        ws.slack.set_status(late, "Vacationing", ":palm_tree:", int(NOW.timestamp()) + 86_400)
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert sorted(run.posted) == sorted(OWNED) and run.failed == []
    assert posts_of(ws, PROMPT_EVENT) == Counter(dict.fromkeys(OWNED, 1))
    pages = ws.slack.calls_to("users.list")
    assert len(pages) == 4
    prompts = {
        c.args["metadata"]["event_payload"]["department"]: c
        for c in ws.slack.calls_to("chat.postMessage")
        if c.ok and (c.args.get("metadata") or {}).get("event_type") == PROMPT_EVENT
    }
    # The departments whose people were read first did not wait for the last page…
    early = [key for key, call in prompts.items() if call.at < pages[-1].at]
    assert len(early) >= len(OWNED) // 2 and last not in early, early
    # …and the one that did knows its owner is away: not pinged, the co-owner asked.
    text = str(prompts[last].args["text"]) + str(prompts[last].args.get("blocks"))
    assert f"<@{late}>" not in text and f"<@{leads[last]}>" in text


async def test_a_catch_up_run_with_every_prompt_in_slack_reads_nobodys_status(
    city: Workspace,
) -> None:
    ws = city
    first = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert sorted(first.posted) == sorted(OWNED)
    ws.ctx.people._seen.clear()  # the bot's few minutes of memory of statuses have passed
    asked = len(ws.slack.calls_to("users.info")) + len(ws.slack.calls_to("users.list"))
    again = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert again.posted == [] and sorted(again.already) == sorted(OWNED)
    assert len(ws.slack.calls_to("users.info")) + len(ws.slack.calls_to("users.list")) == asked
    assert posts_of(ws, PROMPT_EVENT) == Counter(dict.fromkeys(OWNED, 1))
