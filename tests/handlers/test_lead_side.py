"""The lead's side, through the real request path: the form does not ask again about work that
is complete (it lists it, with a way to reopen one), and the prompt and every reminder say when
the update is due — the period's close."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.workspace import Workspace
from handlers.ids import ActionId
from jobs.prompts import post_monthly_prompts
from jobs.reminders import send_reminders
from models.db import session_scope
from models.status import Status
from models.tables import Department, Initiative, Update
from tests.helpers import (
    ADMIN,
    CHIEF,
    PEOPLE,
    PERIOD,
    chosen,
    opened_form,
    own,
    pick_in_form,
    typed_note,
)

NOW = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)  # October is open; it closes on December 1
UPDATES = "C0UPDATES"
DUE = "Tuesday, December 1, 9:00 AM"


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    """Fire owned by the chief, #3 complete since September; requests are answered after their
    listeners finish."""
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        users=PEOPLE,
        now=lambda: NOW,
        updates_channel=UPDATES,
        process_before_response=True,
    ) as ws:
        await own(ws, "fire", CHIEF)
        async with session_scope(ws.engine) as session:
            fire_3 = (
                await session.exec(
                    select(Initiative.id)
                    .join(Department, Department.id == Initiative.department_id)
                    .where(Department.key == "fire", Initiative.number == 3)
                )
            ).one()
            session.add(
                Update(
                    initiative_id=fire_3,
                    period="2026-09",
                    status=Status.COMPLETE,
                    percent=100,
                    note="Handed over",
                    author=CHIEF,
                    source="form",
                    received_at=datetime(2026, 10, 2, 14, tzinfo=UTC),
                )
            )
        yield ws


def input_blocks(view: dict[str, Any]) -> set[str]:
    return {b["block_id"] for b in view["blocks"] if b["type"] == "input"}


async def statuses(ws: Workspace) -> dict[int, list[str]]:
    async with session_scope(ws.engine) as session:
        rows = (
            await session.exec(
                select(Initiative.number, Update.status)
                .join(Update, Update.initiative_id == Initiative.id)
                .join(Department, Department.id == Initiative.department_id)
                .where(Department.key == "fire", Update.period == PERIOD)
                .order_by(Update.received_at, Update.id)
            )
        ).all()
    found: dict[int, list[str]] = {}
    for number, status in rows:
        found.setdefault(number, []).append(status)
    return found


async def test_the_form_does_not_ask_again_about_complete_work(fire: Workspace) -> None:
    view = await opened_form(fire, CHIEF)
    assert "status-3" not in input_blocks(view) and "note-3" not in input_blocks(view)
    assert {"status-1", "status-2", "status-4"} <= input_blocks(view)
    (listed,) = [b for b in view["blocks"] if b.get("block_id") == "complete"]
    assert "✅ Complete — not asked again* (1)" in listed["text"]["text"]
    assert "#3* Continue to educate" in listed["text"]["text"]
    assert listed["accessory"]["action_id"] == ActionId.REOPEN
    assert [o["value"] for o in listed["accessory"]["options"]] == ["3"]
    assert await fire.submit(view, {"status-1": chosen("on_track")}, user=CHIEF) == {}
    assert await statuses(fire) == {1: ["on_track"]}


async def test_a_complete_initiative_can_be_reopened(fire: Workspace) -> None:
    view = await opened_form(fire, CHIEF)
    await pick_in_form(fire, view, ActionId.REOPEN, "3", user=CHIEF)
    (updated,) = await fire.slack.wait_for("views.update")
    assert updated.args["view_id"] == view["id"] and updated.args["hash"] == view["hash"]
    reopened = updated.response["view"]
    status_3 = next(b for b in reopened["blocks"] if b.get("block_id") == "status-3")
    assert "initial_option" not in status_3["element"]  # reopened: the lead says what it is now
    assert "Reopened: it was ✅ Complete" in json.dumps(reopened, ensure_ascii=False)
    assert not [b for b in reopened["blocks"] if b.get("block_id") == "complete"]
    values = {"status-3": chosen("at_risk"), "note-3": typed_note("Site found unsafe")}
    assert await fire.submit(reopened, values, user=CHIEF) == {}
    assert await statuses(fire) == {3: ["at_risk"]}


async def test_only_an_owner_can_reopen(fire: Workspace) -> None:
    view = await opened_form(fire, CHIEF)
    await pick_in_form(fire, view, ActionId.REOPEN, "3", user="U0STRANGER")
    await pick_in_form(fire, view, ActionId.REOPEN, "1", user=CHIEF)  # not complete
    assert fire.slack.calls_to("views.update") == []


async def test_the_prompt_and_every_reminder_say_when_the_update_is_due(fire: Workspace) -> None:
    ws = fire
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert run.posted == ["fire"]
    (prompt,) = [c for c in ws.slack.calls_to("chat.postMessage") if c.args["channel"] == UPDATES]
    assert f"Due by *{DUE}*" in json.dumps(prompt.args["blocks"], ensure_ascii=False)
    before = len(ws.slack.calls_to("chat.postMessage"))
    for ordinal in (1, 2):
        reminded = await send_reminders(ws.ctx, ws.app.client, PERIOD, ordinal)
        assert reminded.reminded == ["fire"]
    posts = ws.slack.calls_to("chat.postMessage")[before:]
    thread = [c for c in posts if c.args.get("thread_ts")]
    direct = [c for c in posts if c.args["channel"] == CHIEF]
    assert len(thread) == 2 and len(direct) == 2
    for post in thread + direct:
        assert f"due by *{DUE}*" in json.dumps(post.args["blocks"], ensure_ascii=False)
