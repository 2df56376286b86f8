"""A reason with every red and amber (issue 16, item 1): the form refuses At risk or Off track
without a note, inline on the note and writing nothing; a thread reply without one is recorded
and the bot asks why in its answer, once; `PLANBOT_REASON_REQUIRED=false` turns it off."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.workspace import Workspace
from handlers.reading.form import REASON_ERROR
from jobs.prompts import post_monthly_prompts
from tests.helpers import (
    ADMIN,
    CHIEF,
    NOW,
    PERIOD,
    UPDATES,
    chosen,
    count_updates,
    current,
    fire_workspace,
    mrkdwn_texts,
    open_form,
    own,
    reply_event,
    thread_posts,
    typed_note,
)


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    async for found in fire_workspace(database_url):
        yield found


def shown(post: object) -> str:
    return "\n".join(mrkdwn_texts(post.args["blocks"]))  # type: ignore[attr-defined]


async def test_the_form_refuses_a_red_without_a_reason(fire: tuple[Workspace, str]) -> None:
    ws, _ = fire
    view = await open_form(ws, CHIEF)
    refused = await ws.submit(
        view,
        {
            "status-1": chosen("on_track"),
            "status-2": chosen("at_risk"),
            "status-3": chosen("off_track"),
            "note-3": typed_note("   "),  # blank is no reason
        },
        user=CHIEF,
    )
    assert refused["response_action"] == "errors"
    assert refused["errors"] == {"note-2": REASON_ERROR, "note-3": REASON_ERROR}
    assert await count_updates(ws) == 0  # nothing of the page, not even the on-track line
    done = await ws.submit(
        view,
        {
            "status-1": chosen("on_track"),
            "status-2": chosen("at_risk"),
            "note-2": typed_note("waiting on the union agreement"),
            "status-3": chosen("off_track"),
            "note-3": typed_note("the grant fell through"),
        },
        user=CHIEF,
    )
    assert done == {}
    recorded = await current(ws)
    assert (
        recorded[2].note == "waiting on the union agreement" and recorded[3].status == "off_track"
    )


async def test_a_thread_reply_is_recorded_and_asked_why_once(fire: tuple[Workspace, str]) -> None:
    ws, ts = fire
    reply = reply_event("1796400000.000100", ts, "1 on track\n2 at risk\n3 off track - roof leak")
    assert (await ws.event(reply)).status_code == 200
    (answer,) = await thread_posts(ws, ts, 1)
    text = shown(answer)
    assert "*#2* 🟡 At risk" in text  # recorded, not refused
    assert "❓ *Why?* #2 is 🟡 At risk without a reason" in text
    assert "#3" not in text.split("Why?")[1].split("\n")[0]  # #3 gave one
    assert (await current(ws))[2].status == "at_risk"

    again = reply_event("1796400000.000200", ts, "2 at risk")  # the same again: nothing new
    assert (await ws.event(again)).status_code == 200
    later = [p for p in await thread_posts(ws, ts, 1) if "Why?" in shown(p)]
    assert len(later) == 1

    why = reply_event("1796400000.000300", ts, "2 at risk - waiting on the union agreement")
    assert (await ws.event(why)).status_code == 200
    posts = await thread_posts(ws, ts, 2)
    assert "Why?" not in shown(posts[-1])
    assert (await current(ws))[2].note == "waiting on the union agreement"


async def test_asking_why_can_be_turned_off(database_url: str, hartford: int) -> None:
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        now=lambda: NOW,
        updates_channel=UPDATES,
        process_before_response=True,
        reason_required=False,
    ) as ws:
        await own(ws, "fire", CHIEF)
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        ts = ws.slack.calls_to("chat.postMessage")[0].response["ts"]
        assert run.posted == ["fire"]
        view = await open_form(ws, CHIEF)
        assert await ws.submit(view, {"status-2": chosen("at_risk")}, user=CHIEF) == {}
        reply = reply_event("1796400000.000100", ts, "3 off track")
        assert (await ws.event(reply)).status_code == 200
        (answer,) = await thread_posts(ws, ts, 1)
        assert "Why?" not in shown(answer)
        recorded = await current(ws)
        assert recorded[2].status == "at_risk" and recorded[3].status == "off_track"


async def test_a_red_chosen_with_the_buttons_is_asked_why_when_it_has_no_reason(
    fire: tuple[Workspace, str],
) -> None:
    from tests.handlers.test_thread_replies import click, reply

    ws, ts = fire
    unclear = await reply(
        ws, ts, "1800000000.000200", "5 isn't on track\n6 isn't on track - no budget"
    )
    chosen = await click(ws, unclear, "#5 → 🟡 At risk")
    asked = json.dumps(chosen.followups[-1]["blocks"], ensure_ascii=False)
    assert "recorded, chosen by" in asked and "*Why?* #5 is 🟡 At risk without a reason" in asked
    assert (await current(ws))[5].status == "at_risk"  # recorded, not refused
    explained = await click(ws, unclear, "#6 → 🟡 At risk")
    assert "Why?" not in json.dumps(explained.followups[-1]["blocks"], ensure_ascii=False)
