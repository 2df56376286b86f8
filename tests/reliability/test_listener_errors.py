"""Whatever fails inside a listener, the person who acted is told privately and Slack gets an
answer, not its generic error; the failure is logged once. The fault here is a row the code
cannot read (a status no version of Plan Bot writes), put in the database as a bad migration or
a hand edit would."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.workspace import Workspace
from handlers.ids import ActionId
from handlers.reading.buttons import prompt_value
from jobs.prompts import post_monthly_prompts
from tests.helpers import ADMIN, CHIEF, PEOPLE, PERIOD, mrkdwn_texts, opened_form, own

UPDATES = "C0UPDATES"


async def break_fire(ws: Workspace) -> None:
    """A Fire update the code cannot read: a status no version of Plan Bot writes."""
    async with ws.engine.begin() as conn:
        fire_one = (
            await conn.execute(
                sa.text(
                    "SELECT initiatives.id FROM initiatives JOIN departments "
                    "ON departments.id = initiatives.department_id "
                    "WHERE departments.key = 'fire' ORDER BY initiatives.number LIMIT 1"
                )
            )
        ).scalar_one()
        await conn.execute(
            sa.text(
                "INSERT INTO updates (initiative_id, period, status, note, author, source, "
                "received_at, late) VALUES (:i, :p, 'exploded', '', 'U0X', 'form', "
                ":t, false)"
            ),
            {"i": fire_one, "p": PERIOD, "t": "2026-10-05 12:00:00"},
        )


@pytest.fixture(params=[False, True], ids=["ack first", "process before response"])
async def broken(
    request: pytest.FixtureRequest, database_url: str, hartford: int
) -> AsyncIterator[tuple[Workspace, str]]:
    """Fire owned by the chief, its prompt posted; then a Fire update the code cannot read."""
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        users=PEOPLE,
        updates_channel=UPDATES,
        process_before_response=request.param,
    ) as ws:
        await own(ws, "fire", CHIEF)
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        assert run.posted == ["fire"]
        ts = str(ws.slack.calls_to("chat.postMessage")[0].response["ts"])
        await break_fire(ws)
        yield ws, ts


def said(payload: dict) -> str:
    return "\n".join(mrkdwn_texts(payload.get("blocks") or [])) + str(payload.get("text") or "")


async def test_a_failing_click_is_answered_privately(
    broken: tuple[Workspace, str], caplog: pytest.LogCaptureFixture
) -> None:
    ws, ts = broken
    caplog.set_level(logging.ERROR, logger="handlers")
    reply = await ws.click(
        ActionId.NO_CHANGE,
        prompt_value("fire", PERIOD),
        user=CHIEF,
        channel=UPDATES,
        message_ts=ts,
    )
    assert reply.status == 200
    private = [f for f in reply.followups if "may not have been recorded" in said(f)]
    assert len(private) == 1, reply.followups
    assert private[0]["response_type"] == "ephemeral"
    assert private[0].get("replace_original") is False  # the prompt stays as it was
    failures = [r for r in caplog.records if r.name == "handlers.errors"]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert "prompt_no_change" in failures[0].getMessage()


async def test_a_failing_thread_reply_is_answered_in_its_thread_privately(
    broken: tuple[Workspace, str],
) -> None:
    ws, ts = broken
    response = await ws.event(
        {
            "type": "message",
            "channel": UPDATES,
            "user": CHIEF,
            "ts": "1790000000.000100",
            "thread_ts": ts,
            "text": "3 on track",
        }
    )
    assert response.status_code == 200  # not a 500: Slack would deliver it again
    ephemeral = await ws.slack.wait_for("chat.postEphemeral")
    assert ephemeral[0].args["user"] == CHIEF and ephemeral[0].args["channel"] == UPDATES
    assert ephemeral[0].args["thread_ts"] == ts
    assert "may not have been recorded" in said(ephemeral[0].args)


async def test_a_failing_command_is_answered_privately(broken: tuple[Workspace, str]) -> None:
    ws, _ = broken
    # `/plan update` reads the broken row before it opens the form: no form, and a private word.
    before = len(ws.slack.calls_to("views.open"))
    reply = await ws.command("update fire", user=CHIEF, wait=1)
    assert reply.status == 200
    assert reply.message["response_type"] == "ephemeral"
    assert "may not have been recorded" in said(reply.message)
    assert len(ws.slack.calls_to("views.open")) == before


@pytest.mark.parametrize("before_response", [False, True], ids=["ack first", "before response"])
async def test_a_failing_form_stays_open_and_says_so(
    database_url: str, hartford: int, before_response: bool
) -> None:
    async with Workspace(
        database_url, admins=(ADMIN,), users=PEOPLE, process_before_response=before_response
    ) as ws:
        await own(ws, "fire", CHIEF)
        view = await opened_form(ws, CHIEF)
        await break_fire(ws)
        answer = await ws.submit(view, {}, user=CHIEF)
    assert answer["response_action"] == "errors"
    (shown,) = answer["errors"].values()
    assert shown.startswith("Something went wrong on our side")
