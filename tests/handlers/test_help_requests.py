"""'Ask for help' (issue 16, item 2): from the prompt, the thread answer and `/plan fire 3`, a
small form; the request is recorded, posted once as a thread in the escalation channel naming
the initiative, its status, note and owner and mentioning the escalation people; acknowledged
and resolved by buttons with who and when, the lead told each time; shown in `/plan <goal>` and
the digest until resolved."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from bot.standin import Fault
from bot.workspace import Workspace
from handlers.ids import ActionId
from handlers.messages.help import BLOCKED, UNBLOCK, WHICH
from jobs.help_requests import post_waiting_help
from jobs.prompts import post_monthly_prompts
from jobs.weekly_digest import post_weekly_digest
from models.db import session_scope
from models.tables import HelpRequest
from tests.helpers import (
    ADMIN,
    CHIEF,
    COO,
    NOW,
    OTHER,
    PERIOD,
    UPDATES,
    mrkdwn_texts,
    own,
    reply_event,
    reported_before,
    thread_posts,
)

LEADERS = "C0LEADERS"


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        now=lambda: NOW,
        updates_channel=UPDATES,
        digest_channel=LEADERS,
        escalation_users=(COO,),
        process_before_response=True,
    ) as ws:
        ws.slack.users.update({CHIEF: "Fire Chief", COO: "Chief Operating Officer"})
        await own(ws, "fire", CHIEF)
        await reported_before(ws, "fire", 3, "2026-09", "at_risk")
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        assert run.posted == ["fire"]
        yield ws, ws.slack.calls_to("chat.postMessage")[0].response["ts"]


def buttons(blocks: list[dict[str, Any]], action_id: str) -> list[dict[str, Any]]:
    return [
        e
        for b in blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("action_id") == action_id
    ]


async def open_help(ws: Workspace, value: str, user: str = CHIEF) -> dict[str, Any]:
    before = len(ws.slack.calls_to("views.open"))
    await ws.click(ActionId.ASK_HELP, value, user=user, channel=UPDATES, expect_followup=False)
    opened = await ws.slack.wait_for("views.open", count=before + 1)
    return dict(opened[-1].response["view"])  # as Slack shows it: with its id and hash


def typed(blocked: str, unblock: str = "", which: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {
        BLOCKED: {BLOCKED: {"type": "plain_text_input", "value": blocked}},
        UNBLOCK: {UNBLOCK: {"type": "plain_text_input", "value": unblock}},
    }
    if which is not None:
        values[WHICH] = {WHICH: {"type": "static_select", "selected_option": {"value": which}}}
    return values


async def requests(ws: Workspace) -> list[HelpRequest]:
    async with session_scope(ws.engine) as session:
        return list((await session.exec(select(HelpRequest).order_by(HelpRequest.id))).all())


def posts_in(ws: Workspace, channel: str, thread: str | None = None) -> list[Any]:
    return [
        c
        for c in ws.slack.calls_to("chat.postMessage")
        if c.ok and c.args["channel"] == channel and c.args.get("thread_ts") == thread
    ]


async def test_help_asked_from_the_prompt_acknowledged_and_resolved(
    fire: tuple[Workspace, str],
) -> None:
    ws, _ = fire
    prompt = ws.slack.calls_to("chat.postMessage")[0].args["blocks"]
    (button,) = buttons(prompt, ActionId.ASK_HELP)
    form = await open_help(ws, button["value"])
    assert [b["block_id"] for b in form["blocks"] if b["type"] == "input"] == [
        WHICH,
        BLOCKED,
        UNBLOCK,
    ]
    refused = await ws.submit(form, typed("   ", which="3"), user=CHIEF)
    assert refused["response_action"] == "errors" and BLOCKED in refused["errors"]
    assert await requests(ws) == []

    hostile = "The union <!channel> has not *signed* & <@U0OTHER> waits"
    assert await ws.submit(form, typed(hostile, "Labor Relations", which="3"), user=CHIEF) == {}
    (request,) = await requests(ws)
    assert (request.status, request.state, request.asked_by) == ("open", "posted", CHIEF)
    (post,) = posts_in(ws, LEADERS)
    shown = "\n".join(mrkdwn_texts(post.args["blocks"]))
    assert "Help requested: Fire #3" in json.dumps(post.args["blocks"], ensure_ascii=False)
    assert "🟡 At risk" in shown and "Labor Relations" in shown
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown and "<@U0OTHER>" not in shown
    assert f"<@{COO}>" in shown  # the escalation people are pinged
    assert f"<@{CHIEF}>" not in shown and "@Fire Chief" in shown  # the lead is named, not pinged
    (told,) = [c for c in ws.slack.calls_to("chat.postMessage") if c.args["channel"] == CHIEF]
    assert "Asked for help on *Fire #3*" in told.args["text"]

    # Shown in the goal and the digest while open.
    goal = await ws.command("safety", user=COO)
    assert "Help requested* (1)" in goal.text and "Fire #3" in goal.text

    # A stranger cannot acknowledge; the COO can, once.
    (ack_button,) = buttons(post.args["blocks"], ActionId.HELP_ACKNOWLEDGE)
    stranger = await ws.click(
        ActionId.HELP_ACKNOWLEDGE, ack_button["value"], user=OTHER, channel=LEADERS
    )
    assert "Only the escalation contacts" in json.dumps(stranger.followups)
    assert (await requests(ws))[0].status == "open"
    await ws.click(
        ActionId.HELP_ACKNOWLEDGE,
        ack_button["value"],
        user=COO,
        channel=LEADERS,
        expect_followup=False,
    )
    again = await ws.click(
        ActionId.HELP_ACKNOWLEDGE, ack_button["value"], user=COO, channel=LEADERS
    )
    assert "Nothing changed" in json.dumps(again.followups)
    (request,) = await requests(ws)
    assert (request.status, request.acknowledged_by) == ("acknowledged", COO)
    updated = ws.slack.calls_to("chat.update")[-1]
    assert "Acknowledged by" in json.dumps(updated.args["blocks"], ensure_ascii=False)
    assert not buttons(updated.args["blocks"], ActionId.HELP_ACKNOWLEDGE)
    (step,) = posts_in(ws, LEADERS, post.response["ts"])
    assert "acknowledged this request" in step.args["text"]
    news = [c for c in ws.slack.calls_to("chat.postMessage") if c.args["channel"] == CHIEF]
    assert len(news) == 2 and "was acknowledged by" in news[-1].args["text"]

    await ws.click(
        ActionId.HELP_RESOLVE,
        ack_button["value"],
        user=ADMIN,
        channel=LEADERS,
        expect_followup=False,
    )
    (request,) = await requests(ws)
    assert (request.status, request.resolved_by) == ("resolved", ADMIN)
    assert len(posts_in(ws, LEADERS, post.response["ts"])) == 2
    news = [c for c in ws.slack.calls_to("chat.postMessage") if c.args["channel"] == CHIEF]
    assert len(news) == 3 and "was resolved by" in news[-1].args["text"]
    goal = await ws.command("safety", user=COO)
    assert "Help requested" not in goal.text


async def test_help_from_the_thread_answer_and_from_an_initiative(
    fire: tuple[Workspace, str],
) -> None:
    ws, ts = fire
    await ws.event(reply_event("1796400000.000100", ts, "1 on track - academy started"))
    (answer,) = await thread_posts(ws, ts, 1)
    (button,) = buttons(answer.args["blocks"], ActionId.ASK_HELP)
    form = await open_help(ws, button["value"])
    assert any(b["block_id"] == WHICH for b in form["blocks"] if b["type"] == "input")

    shown = await ws.command("fire 3", user=CHIEF)
    (button,) = buttons(shown.message["blocks"], ActionId.ASK_HELP)
    assert button["value"] == "fire|2026-10|3"
    form = await open_help(ws, button["value"])
    assert not any(b["type"] == "input" and b["block_id"] == WHICH for b in form["blocks"])
    assert await ws.submit(form, typed("waiting on the grant"), user=CHIEF) == {}
    # The same submission delivered again records nothing more.
    assert await ws.submit(form, typed("waiting on the grant"), user=CHIEF) == {}
    (request,) = await requests(ws)
    assert request.blocked == "waiting on the grant"


async def test_only_those_who_report_may_ask(fire: tuple[Workspace, str]) -> None:
    ws, _ = fire
    before = len(ws.slack.calls_to("views.open"))
    refused = await ws.click(ActionId.ASK_HELP, f"fire|{PERIOD}|3", user=OTHER, channel=UPDATES)
    assert "nothing was recorded" in json.dumps(refused.followups)
    assert len(ws.slack.calls_to("views.open")) == before
    form = await open_help(ws, f"fire|{PERIOD}|3")
    forged = await ws.submit(form, typed("let me in"), user=OTHER)
    assert forged["response_action"] == "errors"
    assert await requests(ws) == []


async def test_a_failed_post_is_recorded_and_posted_once_later(
    fire: tuple[Workspace, str],
) -> None:
    ws, _ = fire
    form = await open_help(ws, f"fire|{PERIOD}|3")
    ws.slack.inject("chat.postMessage", *[Fault.server_error(500)] * 4)
    assert await ws.submit(form, typed("the roof"), user=CHIEF) == {}
    (request,) = await requests(ws)
    assert (request.status, request.state) == ("open", "failed")
    told = [c for c in ws.slack.calls_to("chat.postMessage") if c.ok and c.args["channel"] == CHIEF]
    assert "is recorded" in told[-1].args["text"]
    run = await post_waiting_help(ws.ctx, ws.app.client)
    assert run.posted == [request.id]
    assert len(posts_in(ws, LEADERS)) == 1
    assert (await post_waiting_help(ws.ctx, ws.app.client)).posted == []
    assert len(posts_in(ws, LEADERS)) == 1


async def test_the_digest_lists_requests_until_resolved(fire: tuple[Workspace, str]) -> None:
    ws, _ = fire
    form = await open_help(ws, f"fire|{PERIOD}|3")
    await ws.submit(form, typed("hiring frozen"), user=CHIEF)
    await post_weekly_digest(ws.ctx, ws.app.client, ws.ctx.people)
    digest = [c for c in posts_in(ws, LEADERS) if "Help requested" in json.dumps(c.args["blocks"])]
    assert digest, "the digest lists the open request"
    assert "hiring frozen" in json.dumps(digest[-1].args["blocks"])


async def test_the_lead_may_resolve_but_not_acknowledge(fire: tuple[Workspace, str]) -> None:
    ws, _ = fire
    form = await open_help(ws, f"fire|{PERIOD}|3")
    await ws.submit(form, typed("found another way"), user=CHIEF)
    (request,) = await requests(ws)
    refused = await ws.click(
        ActionId.HELP_ACKNOWLEDGE, str(request.id), user=CHIEF, channel=LEADERS
    )
    assert "Only the escalation contacts" in json.dumps(refused.followups)
    await ws.click(
        ActionId.HELP_RESOLVE, str(request.id), user=CHIEF, channel=LEADERS, expect_followup=False
    )
    (request,) = await requests(ws)
    assert (request.status, request.resolved_by) == ("resolved", CHIEF)
