"""Reporting through Slack, edge by edge: edits, retried deliveries, `/plan update`, App Home's
Update button, a form of many pages, and refusals that write nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.workspace import Workspace
from models.db import session_scope
from models.plans import load_plan, set_owners
from models.status import Status
from models.synthetic import synthetic_plan
from models.tables import Department
from tests.helpers import (
    ADMIN,
    CHIEF,
    NOW,
    OTHER,
    PERIOD,
    UPDATES,
    count_updates,
    current,
    fire_workspace,
    reply_event,
    thread_posts,
)


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    async for ws in fire_workspace(database_url):
        yield ws


async def test_edited_reply_updates_what_was_recorded(fire: tuple[Workspace, str]) -> None:
    ws, prompt_ts = fire
    await ws.event(reply_event("1800000000.000200", prompt_ts, "1 at risk 30% union talks"))
    await thread_posts(ws, prompt_ts, 1)
    first = await current(ws)
    assert first[1].status == Status.AT_RISK and first[1].percent == 30
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": UPDATES,
        "message": {
            "type": "message",
            "user": CHIEF,
            "ts": "1800000000.000200",
            "thread_ts": prompt_ts,
            "text": "1 on track 60% agreement signed",
        },
        "previous_message": {"ts": "1800000000.000200", "text": "1 at risk 30% union talks"},
    }
    await ws.event(edited)
    await thread_posts(ws, prompt_ts, 2)  # a summary for the reply, another for the edit
    now = await current(ws)
    assert now[1].status == Status.ON_TRACK and now[1].percent == 60
    assert now[1].note == "agreement signed" and now[1].source == "thread"


async def test_retried_event_records_once(fire: tuple[Workspace, str]) -> None:
    ws, prompt_ts = fire
    event = reply_event("1800000000.000300", prompt_ts, "2 done\n3 behind - short staffed")
    first = await ws.event(event, event_id="EvRETRY1")
    assert first.status_code == 200
    await thread_posts(ws, prompt_ts, 1)
    again = await ws.event(event, event_id="EvRETRY1", retry_num=1)
    assert again.status_code == 200
    await ws.event(event, event_id="EvRETRY1", retry_num=2)
    assert await count_updates(ws) == 2
    summaries = [
        c for c in ws.slack.calls_to("chat.postMessage") if c.args.get("thread_ts") == prompt_ts
    ]
    assert len(summaries) == 1


async def test_unreadable_reply_offers_the_form(fire: tuple[Workspace, str]) -> None:
    ws, prompt_ts = fire
    await ws.event(reply_event("1800000000.000400", prompt_ts, "thanks! <!channel> see notes"))
    (summary,) = await thread_posts(ws, prompt_ts, 1)
    shown = json.dumps(summary.args)
    assert "Submit update" in shown and "<!channel>" not in shown
    assert await count_updates(ws) == 0
    assert ws.slack.calls_to("reactions.add") == []


async def test_thread_on_an_unknown_message_is_ignored(fire: tuple[Workspace, str]) -> None:
    ws, _ = fire
    response = await ws.event(reply_event("1800000000.000500", "1700000000.999999", "1 done"))
    assert response.status_code == 200
    await ws.event(
        reply_event("1800000000.000600", "1700000000.999999", "1 done", user=ADMIN)
        | {"channel": "C0ELSEWHERE"}
    )
    assert await count_updates(ws) == 0
    assert ws.slack.calls_to("chat.postEphemeral") == []


async def test_plan_update_opens_the_form_for_owners_only(fire: tuple[Workspace, str]) -> None:
    ws, _ = fire
    await ws.command("update", user=CHIEF, wait=0)
    (opened,) = await ws.slack.wait_for("views.open")
    assert "Fire" in json.dumps(opened.args["view"]["title"])
    refused = await ws.command("update fire", user=OTHER)
    assert "owners" in refused.text and len(ws.slack.calls_to("views.open")) == 1
    nothing = await ws.command("update", user=OTHER)
    assert "do not own a department" in nothing.text
    await ws.command("update police", user=ADMIN, wait=0)  # admins may report for anyone
    await ws.slack.wait_for("views.open", count=2)


async def test_buttons_refuse_non_owners_and_write_nothing(fire: tuple[Workspace, str]) -> None:
    ws, prompt_ts = fire
    refused = await ws.click(
        "prompt_no_change", f"fire|{PERIOD}", user=OTHER, channel=UPDATES, message_ts=prompt_ts
    )
    assert "Only Fire" in refused.text and "nothing was recorded" in refused.text
    assert refused.message.get("response_type") == "ephemeral"
    forged = await ws.click(
        "prompt_no_change", "fire|<!channel>", user=CHIEF, channel=UPDATES, message_ts=prompt_ts
    )
    assert forged.status == 200 and "<!channel>" not in forged.text
    assert await count_updates(ws) == 0


async def test_home_update_button_opens_the_form(fire: tuple[Workspace, str]) -> None:
    ws, _ = fire
    await ws.click("home_update", "fire", user=CHIEF, channel=None, expect_followup=False)
    (opened,) = await ws.slack.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "update_form"


async def test_a_department_of_300_initiatives_is_paged_never_cut(database_url: str) -> None:
    async with Workspace(database_url, admins=(ADMIN,), now=lambda: NOW) as ws:
        async with session_scope(ws.engine) as session:
            await load_plan(session, synthetic_plan(1, 60, 4, seed=3), period=PERIOD)
            department = (await session.exec(select(Department))).one()
            await set_owners(session, department, [CHIEF])
        await ws.command("update", user=CHIEF, wait=0)
        (opened,) = await ws.slack.wait_for("views.open")
        view = opened.args["view"]
        seen: list[int] = []
        for page in range(1, 10):  # noqa: B007 - the last page number is checked below
            numbers = sorted(
                {
                    int(b["block_id"].split("-")[1])
                    for b in view["blocks"]
                    if b.get("block_id", "").startswith("status-")
                }
            )
            seen += numbers
            values = {
                f"status-{n}": {
                    "status": {"type": "static_select", "selected_option": {"value": "complete"}}
                }
                for n in numbers
            }
            answer = await ws.submit(view, values, user=CHIEF)
            if not answer:
                break
            assert answer["response_action"] == "update", answer
            view = answer["view"]
        assert page == 3 and seen == list(range(1, 61))
        assert await count_updates(ws) == 60
