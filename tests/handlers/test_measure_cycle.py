"""Measures in the monthly cycle, through the real request path: the prompt lists the measures
due with their last value and target (a quarterly one only at a quarter's end), asks only why
for a number that arrived by itself off target, and says how many still need a number; the form
has a page of number inputs that refuses a bad value inline and writes nothing; a thread reply
mixes initiative lines and measure lines; "No change" never invents a number; reminders count a
missing number as owed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot import slack_requests
from bot.workspace import Workspace
from handlers.ids import ActionId
from handlers.reading.buttons import prompt_value
from jobs.prompts import post_monthly_prompts
from jobs.reminders import send_reminders
from models.cycle import department_state
from models.db import session_scope
from models.measurefile import ActualRow, parse_yaml_measures
from models.measures import load_measures, record_actuals
from models.plans import active_plan_id
from models.tables import Actual, ActualSource, Measure
from tests.helpers import (
    ADMIN,
    CHIEF,
    NOW,
    PERIOD,
    UPDATES,
    find_department,
    mrkdwn_texts,
    own,
    reply_event,
    reported_before,
    thread_posts,
)

MEASURES = """
measures:
  - key: response-time
    name: Fire response time
    aliases: [response time]
    unit: minutes
    direction: lower
    department: fire
    targets: {FY2027: 4.8}
  - key: inspections
    name: Fire inspections
    unit: count
    direction: higher
    frequency: quarterly
    department: fire
    targets: {FY2027: 400}
  - key: overtime
    name: Overtime spending
    unit: dollars
    direction: lower
    department: fire
    targets: {FY2027: 100000}
"""


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    """Fire owned by the chief with three measures; October's overtime pushed by the city's
    systems, 30% over target; the October prompt posted."""
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        now=lambda: NOW,
        updates_channel=UPDATES,
        process_before_response=True,
    ) as ws:
        await own(ws, "fire", CHIEF)
        async with session_scope(ws.engine) as session:
            await load_measures(
                session, hartford, parse_yaml_measures(MEASURES).measures, source="m.yaml"
            )
            await record_actuals(
                session,
                hartford,
                [
                    ActualRow("response-time", "2026-09", 5.0),
                    ActualRow("overtime", PERIOD, 130000, ref="payroll-2026-10"),
                ],
                source=ActualSource.API,
                author="payroll",
                received_at=NOW - timedelta(days=1),
            )
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        assert run.posted == ["fire"]
        yield ws, ws.slack.calls_to("chat.postMessage")[0].response["ts"]


def text_of(blocks: Any) -> str:
    return "\n".join(mrkdwn_texts(blocks))


async def stored(ws: Workspace) -> list[tuple[str, str, float, str, str]]:
    async with session_scope(ws.engine) as session:
        rows = await session.exec(
            select(Measure.key, Actual).join(Actual).order_by(Actual.received_at, Actual.id)
        )
        return [(k, a.period, a.value, a.source, a.note) for k, a in rows]


async def test_the_prompt_asks_for_what_is_owed(fire: tuple[Workspace, str]) -> None:
    ws, _ = fire
    prompt = text_of(ws.slack.calls_to("chat.postMessage")[0].args["blocks"])
    assert "1 measure still needs a number: *No change* does not give one." in prompt
    assert (
        "• *Fire response time* — *a number, please* (minutes) · last 5 minutes (September) "
        "· target 4.8 minutes"
    ) in prompt
    assert "• *Overtime spending* — $130,000 from the city's systems: ✗ Missed " in prompt
    assert "*Why?* A note is all that is needed" in prompt
    assert "Fire inspections" not in prompt  # quarterly: due in September and December


async def test_a_quarterly_measure_is_due_at_quarter_ends(
    fire: tuple[Workspace, str], hartford: int
) -> None:
    ws, _ = fire
    async with session_scope(ws.engine) as session:
        department = await find_department(session, "fire")
        assert department.id is not None
        due = {}
        for period in ("2026-09", "2026-10", "2026-11", "2026-12", "2027-03"):
            state = await department_state(session, hartford, period, department.id)
            assert state is not None
            due[period] = [m.key for m in state.due_measures]
    assert due["2026-10"] == due["2026-11"] == ["response-time", "overtime"]
    assert (
        due["2026-09"]
        == due["2026-12"]
        == due["2027-03"]
        == [
            "response-time",
            "inspections",
            "overtime",
        ]
    )


async def measures_page(ws: Workspace) -> dict[str, Any]:
    """The form's last page, reached as a lead reaches it: page 1 saved as it is."""
    await ws.command("update fire", user=CHIEF, wait=0)
    opened = (await ws.slack.wait_for("views.open"))[-1].response["view"]
    answer = await ws.submit(opened, {}, user=CHIEF)
    while answer.get("response_action") == "update":
        view = {**answer["view"], "id": opened["id"], "hash": None}
        if any(b.get("block_id", "").startswith("measure-") for b in view["blocks"]):
            return view
        answer = await ws.submit(view, {}, user=CHIEF)
    raise AssertionError(f"no measures page: {answer}")


def number(value: str) -> dict[str, Any]:
    return {"value": {"type": "number_input", "value": value}}


def note(value: str) -> dict[str, Any]:
    return {"note": {"type": "plain_text_input", "value": value}}


async def test_the_form_takes_numbers_and_refuses_a_bad_one_inline(
    fire: tuple[Workspace, str],
) -> None:
    ws, _ = fire
    page = await measures_page(ws)
    blocks = {b["block_id"]: b for b in page["blocks"] if "block_id" in b}
    ids = {
        b["label"]["text"]: k.removeprefix("measure-")
        for k, b in blocks.items()
        if k.startswith("measure-")
    }
    assert set(ids) == {"Fire response time (minutes)", "Overtime spending ($)"}
    response, overtime = ids["Fire response time (minutes)"], ids["Overtime spending ($)"]
    assert blocks[f"measure-{response}"]["element"]["type"] == "number_input"
    assert "initial_value" not in blocks[f"measure-{response}"]["element"]  # never a guess
    assert (
        "Now $130,000 (missed), from the city's systems"
        in blocks[f"measure-{overtime}"]["hint"]["text"]
    )
    bad = await ws.submit(
        page,
        {f"measure-{response}": number("5,2x"), f"mnote-{overtime}": note("storms")},
        user=CHIEF,
    )
    assert bad["response_action"] == "errors" and f"measure-{response}" in bad["errors"]
    assert [row[0] for row in await stored(ws)] == ["response-time", "overtime"]  # nothing new
    refreshes = len(ws.slack.calls_to("chat.update"))
    done = await ws.submit(
        page,
        {
            f"measure-{response}": number("5.2"),
            f"mnote-{response}": note("two engines in the shop"),
            f"mnote-{overtime}": note("storm callbacks"),
        },
        user=CHIEF,
    )
    assert done == {}
    assert (await stored(ws))[2:] == [
        ("response-time", PERIOD, 5.2, "form", "two engines in the shop"),
        ("overtime", PERIOD, 130000.0, "form", "storm callbacks"),  # the number kept, explained
    ]
    updated = await ws.slack.wait_for("chat.update", count=refreshes + 1)
    refreshed = text_of(updated[-1].args["blocks"])
    assert "still needs a number" not in refreshed and "*Why?*" not in refreshed


async def test_a_note_alone_for_a_measure_without_a_number_is_refused(
    fire: tuple[Workspace, str],
) -> None:
    ws, _ = fire
    page = await measures_page(ws)
    response = next(
        b["block_id"].removeprefix("measure-")
        for b in page["blocks"]
        if b.get("block_id", "").startswith("measure-") and "response" in b["label"]["text"]
    )
    refused = await ws.submit(page, {f"mnote-{response}": note("slower")}, user=CHIEF)
    assert refused["response_action"] == "errors"
    assert "Enter the number this note explains" in refused["errors"][f"measure-{response}"]
    assert len(await stored(ws)) == 2


async def test_a_reply_mixes_initiatives_and_measures(fire: tuple[Workspace, str]) -> None:
    ws, ts = fire
    text = (
        "1 on track - drills done\n"
        "response time 5.2 minutes, two engines in the shop\n"
        "overtime: storm callbacks\n"
        "inspections 120\n"
        "response time went from 5.0 to 5.2"
    )
    assert (await ws.event(reply_event("1796400000.000100", ts, text))).status_code == 200
    (answer,) = await thread_posts(ws, ts, 1)
    shown = text_of(answer.args["blocks"])
    assert "*#1* 🟢 On track — drills done" in shown
    assert "*Fire response time* 5.2 minutes — two engines in the shop" in shown
    assert "*Overtime spending*: reason noted — storm callbacks" in shown
    assert "I could not tell which number is Fire response time's" in shown
    assert "Fire inspections is reported quarterly: none is due for October" in shown
    assert (await stored(ws))[2:] == [
        ("response-time", PERIOD, 5.2, "thread", "two engines in the shop"),
        ("overtime", PERIOD, 130000.0, "thread", "storm callbacks"),
    ]


async def test_no_change_never_gives_a_number_and_reminders_ask_for_it(
    fire: tuple[Workspace, str],
) -> None:
    ws, ts = fire
    for number in range(1, 7):  # every initiative has a status for "No change" to repeat
        await reported_before(ws, "fire", number, "2026-09", "on_track")
    click = slack_requests.block_action(
        ws.signing_secret,
        user_id=CHIEF,
        action_id=ActionId.NO_CHANGE,
        value=prompt_value("fire", PERIOD),
        response_url=ws.slack.response_url("no-change"),
        channel_id=UPDATES,
        message_ts=ts,
    )
    assert (await ws.send(click)).status_code == 200
    said = json.dumps(await ws.slack.wait_for("response:no-change"), default=str)
    assert "1 measure still needs a number" in said and "Fire response time" in said
    assert len(await stored(ws)) == 2  # no number invented
    before = len(ws.slack.calls_to("chat.postMessage"))
    run = await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    assert run.reminded == ["fire"]  # initiatives answered, a number still owed
    reminder = ws.slack.calls_to("chat.postMessage")[before]
    assert "still needed: a number for Fire response time" in text_of(
        reminder.args["blocks"]
    ).replace("Still", "still")
    async with session_scope(ws.engine) as session:
        await record_actuals(
            session,
            await active_plan_id(session),
            [ActualRow("response-time", PERIOD, 5.1)],
            source=ActualSource.FORM,
            author=CHIEF,
            received_at=NOW,
        )
    second = await send_reminders(ws.ctx, ws.app.client, PERIOD, 2)
    assert second.answered == ["fire"] and second.reminded == []
