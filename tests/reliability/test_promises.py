"""SPEC's promises under Slack faults: nothing submitted is lost, a crash between "recorded" and
"posted" posts nothing twice, rate limits are waited out, failures are visible to admins."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.standin import Fault
from bot.workspace import Workspace
from jobs.delivery import MOST_ATTEMPTS
from jobs.prompts import post_monthly_prompts, prompt_metadata
from models.db import session_scope
from models.plans import set_owners
from models.status import Status
from models.tables import Department, Initiative, Prompt, Update
from tests.helpers import ADMIN, CHIEF, PERIOD, find_department

NOW = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)
UPDATES = "C0UPDATES"
OWNERS = {"fire": CHIEF, "police": "U0POLICE", "dds": "U0DEV"}


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        now=lambda: NOW,
        updates_channel=UPDATES,
        process_before_response=True,
    ) as ws:
        async with session_scope(ws.engine) as session:
            for key, owner in OWNERS.items():
                department = await find_department(session, key)
                await set_owners(session, department, [owner])
        yield ws


def prompt_posts(ws: Workspace) -> list:
    return [
        c
        for c in ws.slack.calls_to("chat.postMessage")
        if c.ok and (c.args.get("metadata") or {}).get("event_type") == "planbot_prompt"
    ]


async def fire_updates(ws: Workspace) -> list[Update]:
    async with session_scope(ws.engine) as session:
        return list(
            (
                await session.exec(
                    select(Update)
                    .join(Initiative)
                    .join(Department)
                    .where(Department.key == "fire", Update.period == PERIOD)
                    .order_by(Update.id)
                )
            ).all()
        )


async def test_an_update_is_stored_even_when_slack_is_down(city: Workspace) -> None:
    ws = city
    await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    (fire_prompt,) = [
        c for c in prompt_posts(ws) if c.args["metadata"]["event_payload"]["department"] == "fire"
    ]
    for method in ("reactions.add", "chat.postMessage", "chat.update", "chat.getPermalink"):
        ws.slack.inject(method, *[Fault.server_error(503)] * 4)
    response = await ws.event(
        {
            "type": "message",
            "channel": UPDATES,
            "user": CHIEF,
            "ts": "1800000000.000100",
            "thread_ts": fire_prompt.response["ts"],
            "text": "2 at risk 40% waiting on the union",
        },
        event_id="EvOUTAGE",
    )
    # Slack saw a failure and will retry; the retry finds the update already recorded.
    assert response.status_code in (200, 500)
    stored = await fire_updates(ws)
    assert [(u.status, u.percent, u.note) for u in stored] == [
        (Status.AT_RISK, 40, "waiting on the union")
    ]
    await ws.event(
        {
            "type": "message",
            "channel": UPDATES,
            "user": CHIEF,
            "ts": "1800000000.000100",
            "thread_ts": fire_prompt.response["ts"],
            "text": "2 at risk 40% waiting on the union",
        },
        event_id="EvOUTAGE",
        retry_num=1,
    )
    assert len(await fire_updates(ws)) == 1


async def test_a_reply_edited_twice_leaves_one_current_update(city: Workspace) -> None:
    ws = city
    await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    (fire_prompt,) = [
        c for c in prompt_posts(ws) if c.args["metadata"]["event_payload"]["department"] == "fire"
    ]
    thread = fire_prompt.response["ts"]
    base = {
        "type": "message",
        "channel": UPDATES,
        "user": CHIEF,
        "ts": "1800000000.000200",
        "thread_ts": thread,
    }
    await ws.event({**base, "text": "4 at risk"})
    for text in ("4 off track - roof", "4 on track 70% - roof fixed"):
        await ws.event(
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": UPDATES,
                "message": {**base, "text": text},
            }
        )
    rows = await fire_updates(ws)
    assert len(rows) == 3 and len({u.source_ref for u in rows}) == 1  # the history is kept
    answer = await ws.command("fire", user=CHIEF)
    shown = json.dumps(answer.message["blocks"], ensure_ascii=False)
    assert "roof fixed" in shown and "70%" in shown  # …and the last edit is what counts
    async with session_scope(ws.engine) as session:
        latest = (
            await session.exec(
                select(Update.status)
                .join(Initiative)
                .where(Initiative.number == 4)
                .join(Department)
                .where(Department.key == "fire")
                .order_by(Update.period.desc(), Update.received_at.desc(), Update.id.desc())  # type: ignore[attr-defined,union-attr]
            )
        ).first()
    assert latest == Status.ON_TRACK


async def test_a_crash_after_slack_took_the_prompt_posts_nothing_twice(city: Workspace) -> None:
    ws = city
    async with session_scope(ws.engine) as session:
        fire = await find_department(session, "fire")
        police = await find_department(session, "police")
        # Fire: claimed and accepted by Slack, then the process died before recording the ts.
        session.add(
            Prompt(
                department_id=fire.id,
                period=PERIOD,
                channel_id=UPDATES,
                state="posting",
                attempts=1,
                claimed_at=NOW - timedelta(hours=1),
            )
        )
        # Police: recorded, then the process died before posting.
        session.add(
            Prompt(
                department_id=police.id,
                period=PERIOD,
                channel_id=UPDATES,
                state="pending",
                attempts=0,
            )
        )
    accepted = ws.slack.seed_message(
        UPDATES,
        "Fire: your October update is due",
        user="UPLANBOT",
        metadata=prompt_metadata("fire", PERIOD),
    )
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert sorted(run.posted) == ["dds", "fire", "police"]
    posted = sorted(c.args["metadata"]["event_payload"]["department"] for c in prompt_posts(ws))
    assert posted == ["dds", "police"]  # Fire's earlier post was found, not repeated
    async with session_scope(ws.engine) as session:
        rows = {p.department_id: p for p in (await session.exec(select(Prompt))).all()}
    assert rows[fire.id].state == "posted" and rows[fire.id].message_ts == accepted["ts"]
    again = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert again.posted == [] and sorted(again.already) == ["dds", "fire", "police"]


async def test_a_fresh_claim_by_another_process_is_left_alone(city: Workspace) -> None:
    ws = city
    async with session_scope(ws.engine) as session:
        fire = await find_department(session, "fire")
        session.add(
            Prompt(
                department_id=fire.id,
                period=PERIOD,
                channel_id=UPDATES,
                state="posting",
                attempts=1,
                claimed_at=NOW - timedelta(seconds=5),
            )
        )
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    # Not called posted: being posted, by whom, since when.
    assert "fire" not in run.already and "fire" not in run.posted
    assert [key for key, _, _ in run.in_progress] == ["fire"]


async def test_another_hosts_claim_is_in_progress_until_its_lease_lapses(city: Workspace) -> None:
    ws = city
    async with session_scope(ws.engine) as session:
        fire = await find_department(session, "fire")
        session.add(
            Prompt(
                department_id=fire.id,
                period=PERIOD,
                channel_id=UPDATES,
                state="posting",
                attempts=1,
                claimed_at=NOW - timedelta(seconds=20),
                holder="web-2:4242:a1b2c3",
                lease_until=NOW + timedelta(seconds=40),
            )
        )
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert run.in_progress == [("fire", "web-2:4242:a1b2c3", NOW - timedelta(seconds=20))]
    assert "fire" not in run.posted and "fire" not in run.already
    # Its holder stopped renewing: the lease lapsed, and the claim is taken over at once.
    async with session_scope(ws.engine) as session:
        await session.exec(  # type: ignore[call-overload]
            sa.update(Prompt)
            .where(Prompt.department_id == fire.id)
            .values(lease_until=NOW - timedelta(seconds=1))
        )
    again = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert again.posted == ["fire"] and again.in_progress == []
    assert len([c for c in prompt_posts(ws) if "Fire" in c.args["text"]]) == 1


async def test_rate_limits_are_waited_out_and_nothing_is_lost(city: Workspace) -> None:
    ws = city
    ws.slack.inject(
        "chat.postMessage", Fault.rate_limited(retry_after=1), Fault.rate_limited(retry_after=1)
    )
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert sorted(run.posted) == ["dds", "fire", "police"] and run.failed == []
    assert len(prompt_posts(ws)) == 3


async def test_a_prompt_slack_refuses_is_shown_to_admins(city: Workspace) -> None:
    ws = city
    ws.slack.inject("chat.postMessage", Fault.error("internal_error"))
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert len(run.failed) == 1
    failed_key = run.failed[0][0]
    admin_view = await ws.command("missing", user=ADMIN)
    assert "Prompts not delivered" in admin_view.text and "internal_error" in admin_view.text
    assert "retried every 15 minutes" in admin_view.text
    assert "Share in channel" not in admin_view.text
    lead_view = await ws.command("missing", user=CHIEF)
    assert "Prompts not delivered" not in lead_view.text
    # The next tick posts it.
    await asyncio.sleep(0)
    retry = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert retry.posted == [failed_key]
    assert "Prompts not delivered" not in (await ws.command("missing", user=ADMIN)).text


async def test_a_reminder_slack_cannot_take_does_not_stop_the_others(city: Workspace) -> None:
    from jobs.reminders import send_reminders

    ws = city
    await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    # Slack unreachable for the first reminder: every send, each after looking in the thread.
    ws.slack.inject("chat.postMessage", *[Fault.drop()] * MOST_ATTEMPTS)
    run = await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    assert len(run.failed) == 1 and run.failed[0][1] == "ServerDisconnectedError"
    assert sorted([*run.reminded, run.failed[0][0]]) == ["dds", "fire", "police"]


async def test_prompts_slack_cannot_be_reached_for_are_failed_then_retried(
    city: Workspace,
) -> None:
    ws = city
    # Every send of all three posts is dropped (each looked for before it is sent again).
    ws.slack.inject("chat.postMessage", *[Fault.drop()] * (3 * MOST_ATTEMPTS))
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert (
        run.posted == [] and [error for _, error in run.failed] == ["ServerDisconnectedError"] * 3
    )
    async with session_scope(ws.engine) as session:
        states = sorted(p.state for p in (await session.exec(select(Prompt))).all())
    assert states.count("failed") == 3
    retry = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert retry.posted == ["dds", "fire", "police"]
