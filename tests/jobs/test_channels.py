"""An install that works on day one: Plan Bot joins the public channels it posts in, and a
prompt Slack refuses for its channel (private, missing, archived) is reported to the admins in
one direct message that says what to do, instead of being retried every fifteen minutes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.standin import Call
from bot.workspace import Workspace
from handlers.people import PeopleNames
from jobs.prompts import post_monthly_prompts
from jobs.weekly_digest import post_weekly_digest
from models.db import session_scope
from models.plans import set_owners
from models.tables import Department, Prompt
from tests.helpers import ADMIN, CHIEF, PERIOD, mrkdwn_texts

NOW = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)
UPDATES, FIRE, DEV = "C0UPDATES", "C0FIRE", "C0DEVSVC"
POLICE, DEV_LEAD = "U0POLICE", "U0DEV"


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    """Fire posts in its own channel, Development Services in its own, Police in the updates
    channel."""
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        now=lambda: NOW,
        updates_channel=UPDATES,
        process_before_response=True,
    ) as ws:
        async with session_scope(ws.engine) as session:
            departments = {d.key: d for d in (await session.exec(select(Department))).all()}
            await set_owners(session, departments["fire"], [CHIEF], FIRE)
            await set_owners(session, departments["police"], [POLICE])
            await set_owners(session, departments["dds"], [DEV_LEAD], DEV)
        yield ws


def prompts_in(ws: Workspace, channel: str) -> list[Call]:
    return [
        c
        for c in ws.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel
        and (c.args.get("metadata") or {}).get("event_type") == "planbot_prompt"
    ]


def channel_reports(ws: Workspace, user: str) -> list[Call]:
    """Direct messages to `user` about channels Plan Bot could not post in (admins also hear
    about departments without an owner, in another message)."""
    return [
        c
        for c in ws.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user and "could not post" in c.args.get("text", "")
    ]


async def states(ws: Workspace) -> dict[str, str]:
    """The prompt rows of the departments that have an owner, by department key."""
    async with session_scope(ws.engine) as session:
        rows = await session.exec(
            select(Department.key, Prompt.state)
            .join(Department, Department.id == Prompt.department_id)  # type: ignore[arg-type]
            .where(Prompt.state != "unowned")
        )
        return dict(rows.all())


async def test_a_public_channel_the_bot_is_not_in_is_joined_and_the_prompt_posted(
    city: Workspace,
) -> None:
    ws = city
    ws.slack.add_channel(FIRE, "fire-dept", member=False)
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert run.posted == ["dds", "fire", "police"] and run.blocked == [] and run.failed == []
    (join,) = ws.slack.calls_to("conversations.join")
    assert join.args["channel"] == FIRE and join.ok
    assert ws.slack.channels[FIRE].member  # so the thread replies to its prompt reach the bot
    assert [c.ok for c in prompts_in(ws, FIRE)] == [False, True]  # not_in_channel, then posted
    assert channel_reports(ws, ADMIN) == []


async def test_channels_only_a_person_can_fix_are_reported_once_and_not_retried(
    city: Workspace,
) -> None:
    ws = city
    ws.slack.add_channel(FIRE, "fire-leads", private=True, member=False)
    ws.slack.remove_channel(UPDATES)  # Police posts here: PLANBOT_UPDATES_CHANNEL is wrong
    ws.slack.add_channel(DEV, "dev-services", archived=True)

    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert run.posted == [] and run.failed == []
    assert sorted((b.department_key, b.error) for b in run.blocked) == [
        ("dds", "is_archived"),
        ("fire", "channel_not_found"),
        ("police", "channel_not_found"),
    ]
    assert await states(ws) == {"fire": "blocked", "police": "blocked", "dds": "blocked"}

    (dm,) = channel_reports(ws, ADMIN)  # one direct message naming every department
    text = "\n".join(mrkdwn_texts(dm.args["blocks"]))
    assert "could not post 3 prompts for October 2026" in text
    fire_line = next(line for line in text.splitlines() if "*Fire*" in line)
    assert "`C0FIRE`" in fire_line and "`/invite @Plan Bot`" in fire_line
    police_line = next(line for line in text.splitlines() if "*Police*" in line)
    assert "PLANBOT_UPDATES_CHANNEL" in police_line
    dev_line = next(line for line in text.splitlines() if "*Development Services*" in line)
    assert f"<#{DEV}> is archived" in dev_line and "planbot owners set" in dev_line
    assert "Fire" in dm.args["text"] and "Police" in dm.args["text"]

    # The next checks (every 15 minutes) try none of them again and tell nobody again.
    posts_before = len(ws.slack.calls_to("chat.postMessage"))
    again = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert again.posted == [] and again.blocked == [] and again.failed == []
    assert len(ws.slack.calls_to("chat.postMessage")) == posts_before

    # An admin's `/plan missing` shows them as waiting for a person, not as being retried.
    missing = await ws.command("missing", user=ADMIN)
    assert "Prompts not delivered" in missing.text
    assert "waiting for its channel to be fixed" in missing.text


async def test_invited_to_a_private_channel_its_prompt_goes_out_at_the_next_check(
    city: Workspace,
) -> None:
    ws = city
    ws.slack.add_channel(FIRE, "fire-leads", private=True, member=False)
    first = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert [b.department_key for b in first.blocked] == ["fire"]

    # Someone else joining the channel changes nothing.
    await ws.event({"type": "member_joined_channel", "user": CHIEF, "channel": FIRE})
    assert (await states(ws))["fire"] == "blocked"

    # The chief types `/invite @Plan Bot` in the channel: Slack tells the bot it joined.
    ws.slack.add_channel(FIRE, "fire-leads", private=True, member=True)
    response = await ws.event(
        {"type": "member_joined_channel", "user": ws.slack.bot_user_id, "channel": FIRE}
    )
    assert response.status_code == 200
    assert (await states(ws))["fire"] == "failed"  # to be tried again
    retry = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert retry.posted == ["fire"]
    posted = [c for c in prompts_in(ws, FIRE) if c.ok]
    assert len(posted) == 1 and "Fire" in json.dumps(posted[0].args["blocks"])
    assert len(channel_reports(ws, ADMIN)) == 1  # the first report only


async def test_the_digest_joins_a_public_leadership_channel_by_itself(
    database_url: str, hartford: int
) -> None:
    leadership = "C0LEADERS"
    async with Workspace(
        database_url, admins=(ADMIN,), now=lambda: NOW, digest_channel=leadership
    ) as ws:
        ws.slack.add_channel(leadership, "leadership", member=False)
        run = await post_weekly_digest(ws.ctx, ws.app.client, PeopleNames())
        assert run.outcome == "posted" and run.error is None
        assert [c.args["channel"] for c in ws.slack.calls_to("conversations.join")] == [leadership]
        assert any(m.get("ts") == run.ts for m in ws.slack.messages[leadership])
