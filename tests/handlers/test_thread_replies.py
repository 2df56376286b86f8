"""A lead answers the monthly prompt in its thread, in plain words, through signed events: what
is clear is recorded at once and shown back, what is not is asked with a button per reading,
Undo restores what a reply changed, and an edited reply is read again whole."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from bot.workspace import Workspace
from models.cycle import UpdateEntry, department_state, record_updates
from models.db import session_scope
from models.plans import active_plan
from models.status import Status
from models.tables import Department, Initiative, Update
from tests.helpers import (
    CHIEF,
    OTHER,
    UPDATES,
    count_updates,
    current,
    find_department,
    fire_workspace,
    mrkdwn_texts,
    reply_event,
    thread_posts,
)

ON, RISK, OFF, DONE = Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK, Status.COMPLETE


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    async for ws in fire_workspace(database_url):
        yield ws


async def reply(ws: Workspace, prompt_ts: str, ts: str, text: str, user: str = CHIEF) -> Any:
    """The lead replies in the prompt's thread; returns the bot's answer there."""
    before = len([c for c in ws.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")])
    await ws.event(reply_event(ts, prompt_ts, text, user=user))
    return (await thread_posts(ws, prompt_ts, before + 1))[-1]


def shown(post: Any) -> str:
    return "\n".join(mrkdwn_texts(post.args["blocks"]))


def buttons(post: Any) -> dict[str, tuple[str, str]]:
    """Each button's label, with its action id and value."""
    found: dict[str, tuple[str, str]] = {}
    for block in post.args["blocks"]:
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found[element["text"]["text"]] = (element["action_id"], element["value"])
    return found


def as_message(post: Any) -> dict[str, Any]:
    """The bot's post as Slack hands it back in a click's payload."""
    return {"ts": post.response["ts"], "text": post.args["text"], "blocks": post.args["blocks"]}


async def click(ws: Workspace, post: Any, label: str, user: str = CHIEF) -> Any:
    action_id, value = buttons(post)[label]
    return await ws.click(
        action_id,
        value,
        user=user,
        channel=UPDATES,
        message_ts=post.response["ts"],
        message=as_message(post),
    )


async def history(ws: Workspace, number: int) -> list[Update]:
    async with session_scope(ws.engine) as session:
        return list(
            (
                await session.exec(
                    select(Update)
                    .join(Initiative)
                    .join(Department)
                    .where(Department.key == "fire", Initiative.number == number)
                    .order_by(Update.period, Update.received_at, Update.id)  # type: ignore[arg-type]
                )
            ).all()
        )


async def seed(ws: Workspace, period: str, entries: list[UpdateEntry]) -> None:
    """Earlier updates, as if given in another month."""
    async with session_scope(ws.engine) as session:
        plan = await active_plan(session)
        department = await find_department(session, "fire")
        assert plan.id is not None and department.id is not None
        state = await department_state(session, plan.id, period, department.id)
        assert state is not None
        await record_updates(session, state, entries, author=CHIEF, source="form", late=False)


async def test_all_but_one_records_the_exception_and_leaves_finished_work(
    fire: tuple[Workspace, str],
) -> None:
    ws, prompt_ts = fire
    await seed(ws, "2026-09", [UpdateEntry(3, DONE), UpdateEntry(4, ON, 50)])
    answer = await reply(
        ws,
        prompt_ts,
        "1800000000.000100",
        "all on track except 4, which is delayed by the union contract",
    )
    now = await current(ws)
    assert {n: u.status for n, u in now.items()} == {1: ON, 2: ON, 4: RISK, 5: ON, 6: ON}
    assert now[4].note == "delayed by the union contract" and now[1].note == ""
    text = shown(answer)
    assert "*#4* 🟡 At risk — delayed by the union contract" in text
    for number in (1, 2, 5, 6):
        assert f"*#{number}* 🟢 On track" in text
    assert "Left as Complete: #3" in text  # finished work is not reopened by "all …"
    assert "Undo" in buttons(answer)
    (reaction,) = ws.slack.calls_to("reactions.add")
    assert reaction.args["timestamp"] == "1800000000.000100"
    assert await ws.slack.wait_for("chat.update"), "the prompt shows the new statuses"


async def test_an_unclear_line_is_asked_and_the_first_click_records_it_once(
    fire: tuple[Workspace, str],
) -> None:
    ws, prompt_ts = fire
    answer = await reply(
        ws, prompt_ts, "1800000000.000200", "1 on track\n5 isn't on track - task force has not met"
    )
    assert {n: u.status for n, u in (await current(ws)).items()} == {1: ON}
    assert "isn't on track" in shown(answer)
    labels = buttons(answer)
    assert {"#5 → 🟡 At risk", "#5 → 🔴 Off track"} <= set(labels)

    refused = await click(ws, answer, "#5 → 🔴 Off track", user=OTHER)
    assert "Only Fire" in refused.text and 5 not in await current(ws)

    chosen = await click(ws, answer, "#5 → 🟡 At risk")
    five = (await current(ws))[5]
    assert (five.status, five.note, five.author) == (RISK, "task force has not met", CHIEF)
    replaced = chosen.followups[-1]
    assert replaced["replace_original"] is True
    assert "#5 → 🟡 At risk" not in json.dumps(replaced["blocks"], ensure_ascii=False)
    assert "recorded, chosen by <@U0CHIEF>" in json.dumps(replaced["blocks"], ensure_ascii=False)

    again = await click(ws, answer, "#5 → 🔴 Off track")
    assert "already answered" in again.text
    assert [u.status for u in await history(ws, 5)] == [RISK]


async def test_undo_restores_each_initiative_and_keeps_the_history(
    fire: tuple[Workspace, str],
) -> None:
    ws, prompt_ts = fire
    await seed(ws, "2026-09", [UpdateEntry(1, RISK, 30, "union talks")])
    answer = await reply(ws, prompt_ts, "1800000000.000300", "1 done\n2 on track")
    assert {n: u.status for n, u in (await current(ws)).items()} == {1: DONE, 2: ON}

    undone = await click(ws, answer, "Undo")
    one = (await current(ws))[1]
    assert (one.status, one.percent, one.note, one.source) == (RISK, 30, "union talks", "undo")
    assert [u.status for u in await history(ws, 1)] == [RISK, DONE, RISK]  # append-only
    said = " ".join(json.dumps(f, ensure_ascii=False) for f in undone.followups)
    assert "#1 back to 🟡 At risk" in said
    assert "#2" in said and "nothing before this reply" in said  # #2 had no earlier update

    again = await click(ws, answer, "Undo")
    assert "left as is" in again.text or "nothing left to undo" in again.text
    assert [u.status for u in await history(ws, 1)] == [RISK, DONE, RISK]


async def test_an_edited_reply_is_read_again_whole(fire: tuple[Workspace, str]) -> None:
    ws, prompt_ts = fire
    await seed(ws, "2026-09", [UpdateEntry(2, RISK, None, "staffing")])
    first = await reply(
        ws, prompt_ts, "1800000000.000400", "1 at risk 30%\n2 on track\n4 isn't on track"
    )
    assert {n: u.status for n, u in (await current(ws)).items()} == {1: RISK, 2: ON}
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": UPDATES,
        "message": {
            "type": "message",
            "user": CHIEF,
            "ts": "1800000000.000400",
            "thread_ts": prompt_ts,
            "text": "1 on track 60% agreement signed",
        },
        "previous_message": {"ts": "1800000000.000400", "text": "1 at risk 30%"},
    }
    await ws.event(edited)
    (answer,) = (await thread_posts(ws, prompt_ts, 2))[1:]
    now = await current(ws)
    assert (now[1].status, now[1].percent, now[1].note) == (ON, 60, "agreement signed")
    assert (now[2].status, now[2].note, now[2].source) == (RISK, "staffing", "undo")
    text = shown(answer)
    assert "Read your edited reply again" in text and "back to what they were: #2" in text
    stale = await click(ws, first, "#4 → 🟡 At risk")  # the edit replaced that question
    assert "replaced when the reply was edited" in stale.text
    assert 4 not in await current(ws)


async def test_a_reply_without_an_update_is_answered_once_with_the_buttons(
    fire: tuple[Workspace, str],
) -> None:
    ws, prompt_ts = fire
    answer = await reply(ws, prompt_ts, "1800000000.000500", "will send Friday <!channel>")
    assert {"Submit update", "No change — same as last month"} <= set(buttons(answer))
    assert "<!channel>" not in json.dumps(answer.args)
    await ws.event(reply_event("1800000000.000501", prompt_ts, "see the attached memo"))
    await ws.event(reply_event("1800000000.000502", prompt_ts, "thanks"))
    assert len(await thread_posts(ws, prompt_ts, 1)) == 1  # answered once, not every line
    assert await count_updates(ws) == 0 and ws.slack.calls_to("reactions.add") == []


async def test_no_change_in_words_is_the_no_change_button(fire: tuple[Workspace, str]) -> None:
    ws, prompt_ts = fire
    await seed(ws, "2026-09", [UpdateEntry(1, RISK, 30, "union"), UpdateEntry(3, DONE)])
    answer = await reply(ws, prompt_ts, "1800000000.000600", "no changes this month")
    now = await current(ws)
    assert {n: (u.status, u.percent, u.note) for n, u in now.items()} == {
        1: (RISK, 30, "No change"),
        3: (DONE, None, "No change"),
    }
    assert "#2, #4, #5, #6 had no status yet to repeat" in shown(answer)
