"""Each click and each form submission is recorded once: the same signed request delivered twice
(a replay, a retry) gets the same answer and writes nothing more; a double click on "No change"
says nothing new; two different answers are both recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.pool import QueuePool
from sqlmodel import select

from bot import slack_requests
from bot.workspace import Workspace
from handlers.ids import ActionId
from handlers.reading.buttons import prompt_value
from handlers.updates import record_and_refresh
from jobs.prompts import post_monthly_prompts
from models.cycle import DepartmentState, department_state, no_change_entries, no_change_key
from models.db import POOL_SIZE, session_scope
from models.plans import active_plan_id, department_by_key
from models.tables import Source, Update
from tests.helpers import (
    ADMIN,
    CHIEF,
    NOW,
    PEOPLE,
    PERIOD,
    chosen,
    every_connection_taken,
    opened_form,
    own,
    reported_before,
    typed_note,
)

UPDATES = "C0UPDATES"


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    async with Workspace(
        database_url, admins=(ADMIN,), users=PEOPLE, updates_channel=UPDATES, now=lambda: NOW
    ) as ws:
        await own(ws, "fire", CHIEF)
        await reported_before(ws, "fire", 1, "2026-09", "on_track")
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        assert run.posted == ["fire"]
        yield ws, str(ws.slack.calls_to("chat.postMessage")[0].response["ts"])


async def reported(ws: Workspace) -> list[Update]:
    """Updates for the period written through Slack."""
    async with session_scope(ws.engine) as session:
        rows = await session.exec(
            select(Update).where(Update.period == PERIOD, Update.source.not_in(("import", "plan")))
        )
        return list(rows.all())


def no_change(ws: Workspace, ts: str) -> slack_requests.SignedRequest:
    return slack_requests.block_action(
        ws.signing_secret,
        user_id=CHIEF,
        action_id=ActionId.NO_CHANGE,
        value=prompt_value("fire", PERIOD),
        response_url=ws.slack.response_url("no-change"),
        channel_id=UPDATES,
        message_ts=ts,
    )


async def answers(ws: Workspace, count: int) -> list[dict]:
    await ws.slack.wait_for("response:no-change", count=count)
    return [c.args for c in ws.slack.responses if c.method == "response:no-change"]


async def test_a_replayed_no_change_is_recorded_once_and_answered_again(
    fire: tuple[Workspace, str],
) -> None:
    ws, ts = fire
    click = no_change(ws, ts)
    assert (await ws.send(click)).status_code == 200
    first = await answers(ws, 1)
    rows = await reported(ws)
    # The prompt is refreshed after the answer: wait for it rather than race it.
    refreshes = len(await ws.slack.wait_for("chat.update"))
    assert rows and refreshes == 1
    assert (await ws.send(click)).status_code == 200  # the very same signed request again
    second = await answers(ws, 2)
    assert second[1] == first[0]  # the same answer
    assert [u.id for u in await reported(ws)] == [u.id for u in rows]  # nothing more stored
    assert len(ws.slack.calls_to("chat.update")) == refreshes  # the prompt not refreshed again


async def test_a_double_click_on_no_change_says_nothing_new(fire: tuple[Workspace, str]) -> None:
    ws, ts = fire
    assert (await ws.send(no_change(ws, ts))).status_code == 200
    await answers(ws, 1)
    rows = await reported(ws)
    assert (await ws.send(no_change(ws, ts))).status_code == 200  # a second click of its own
    await answers(ws, 2)
    assert len(await reported(ws)) == len(rows)


async def test_a_double_click_handled_at_once_is_recorded_once(
    fire: tuple[Workspace, str],
) -> None:
    """Both clicks of a double click arrive together (two workers, two replicas): each reads
    the department before either has written, and still only one "No change" is stored."""
    ws, ts = fire
    sent = await asyncio.gather(*(ws.send(no_change(ws, ts)) for _ in range(3)))
    assert [r.status_code for r in sent] == [200, 200, 200]
    await answers(ws, 3)  # every click is answered
    rows = await reported(ws)
    assert len(rows) == 1 and rows[0].note == "No change"


async def test_a_no_change_read_before_another_answer_was_stored_records_nothing(
    fire: tuple[Workspace, str],
) -> None:
    """A "No change" repeats the department as the clicker's request read it. When a form is
    stored between that read and the click's write (milliseconds, under a rush), repeating it
    would put back the statuses the form replaced: nothing is recorded and the clicker is
    asked again. The click is driven through the function every surface records with, with
    the department read before the form, as the handler reads it."""
    ws, _ = fire
    told: list[str] = []

    async def answer() -> None:
        told.append("recorded")

    async def changed() -> None:
        told.append("changed")

    async def fire_as_read() -> DepartmentState:
        async with session_scope(ws.engine) as session:
            plan_id = await active_plan_id(session)
            fire_id = (await department_by_key(session, plan_id, "fire")).id
            state = await department_state(session, plan_id, PERIOD, fire_id)
        assert state is not None
        return state

    async def no_change_of(state: DepartmentState, once: str) -> bool:
        """A "No change" of `state`, recorded as the click's handler records it."""
        entries, _ = no_change_entries(state)
        assert entries  # initiative 1 has a status: the click repeats it
        return await record_and_refresh(
            ws.ctx,
            ws.app.client,
            state,
            entries,
            author=CHIEF,
            source=Source.FORM,
            answer=answer,
            once=once,
            same_as=no_change_key(state, CHIEF),
            changed=changed,
        )

    seen = await fire_as_read()
    view = await opened_form(ws, CHIEF)
    closed = await ws.submit(
        view, {"status-1": chosen("off_track"), "note-1": typed_note("no crew")}, user=CHIEF
    )
    assert closed == {}  # stored, and the form closed
    assert (await no_change_of(seen, "click:overtaken"), told) == (False, ["changed"])
    assert [(u.status, u.note) for u in await reported(ws)] == [("off_track", "no crew")]
    # Read again now, the same click is recorded: the form's status is what it repeats.
    assert (await no_change_of(await fire_as_read(), "click:again"), told) == (
        True,
        ["changed", "recorded"],
    )
    rows = await reported(ws)
    assert [(u.status, u.note) for u in rows if u.initiative_id == rows[0].initiative_id] == [
        ("off_track", "no crew"),
        ("off_track", "No change"),
    ]


async def test_a_form_submitted_twice_is_recorded_once(fire: tuple[Workspace, str]) -> None:
    ws, _ = fire
    view = await opened_form(ws, CHIEF)
    values = {"status-1": chosen("at_risk"), "note-1": typed_note("waiting on the union")}
    request = slack_requests.view_submission(
        ws.signing_secret, user_id=CHIEF, view=view, values=values
    )
    first = await ws.send(request)
    assert first.status_code == 200, first.text
    rows = await reported(ws)
    assert [(u.status, u.note) for u in rows] == [("at_risk", "waiting on the union")]
    refreshes = len(await ws.slack.wait_for("chat.update"))  # refreshed after the form closed
    again = await ws.send(request)
    assert again.status_code == 200 and again.content == first.content
    assert len(await reported(ws)) == 1
    assert len(ws.slack.calls_to("chat.update")) == refreshes


async def test_two_submissions_of_their_own_are_both_recorded(
    fire: tuple[Workspace, str],
) -> None:
    ws, _ = fire
    for note in ("first thought", "second thought"):
        view = await opened_form(ws, CHIEF)  # each opened form is a view of its own
        await ws.submit(
            view, {"status-1": chosen("on_track"), "note-1": typed_note(note)}, user=CHIEF
        )
    assert [u.note for u in await reported(ws)] == ["first thought", "second thought"]


async def test_a_form_goes_through_while_other_work_holds_every_connection(
    fire: tuple[Workspace, str],
) -> None:
    """The first business day: the work after every click and reply already acknowledged asks
    for more connections than the pool has. A form, stored before Slack is answered, is stored
    and closed at once all the same: the pool keeps connections for it."""
    ws, _ = fire
    view = await opened_form(ws, CHIEF)
    pool = ws.engine.sync_engine.pool
    assert isinstance(pool, QueuePool) and pool.size() == POOL_SIZE
    async with every_connection_taken(ws, extra=5):
        await asyncio.sleep(0.2)  # every other session has taken what it can
        values = {"status-1": chosen("at_risk"), "note-1": typed_note("crew shortage")}
        request = slack_requests.view_submission(
            ws.signing_secret, user_id=CHIEF, view=view, values=values
        )
        async with asyncio.timeout(10):  # Slack gives up after 3 s; the pool's own wait is 30
            answer = await ws.send(request)
        assert answer.status_code == 200, answer.text
        assert "errors" not in answer.text
    assert [(u.status, u.note) for u in await reported(ws)] == [("at_risk", "crew shortage")]
