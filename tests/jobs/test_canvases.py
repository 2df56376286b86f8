"""Canvases (issue 17, item 4): each department's channel shows its initiatives on a canvas,
created once and edited after answers — a burst of answers coalesced into one or two edits,
from one process however many try — and created again when someone deletes it in Slack; the
digest channel shows the whole plan after each digest. A workspace that does not allow
canvases, or a bot with them turned off, records answers as before."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot import slack_requests
from bot.standin import DEFAULT_SCOPES, Fault
from bot.workspace import Workspace
from handlers.ids import ActionId
from handlers.messages.limits import CANVAS_MARKDOWN
from handlers.reading.buttons import prompt_value
from jobs.canvases import DEBOUNCE_SECONDS, CanvasOutcome, refresh_department_canvas
from jobs.prompts import post_monthly_prompts
from jobs.scheduler import Cycle
from models.canvases import canvas_row, department_canvas
from models.db import session_scope
from models.measurefile import ActualRow, parse_yaml_measures
from models.measures import load_measures, record_actuals
from models.plans import load_plan, set_owners
from models.synthetic import synthetic_plan
from models.tables import ActualSource, Canvas, Department
from tests.helpers import (
    ADMIN,
    CHIEF,
    NOW,
    PEOPLE,
    PERIOD,
    UPDATES,
    chosen,
    count_updates,
    current,
    find_department,
    opened_form,
    own,
    reply_event,
    reported_before,
    thread_posts,
    typed_note,
)

LEADERSHIP = "C0LEAD"
CREATE = "conversations.canvases.create"
EDIT = "canvases.edit"


async def workspace_with_fire(database_url: str, **settings: Any) -> AsyncIterator[Workspace]:
    """Fire owned by the chief, its October prompt posted in the updates channel."""
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        users=PEOPLE,
        now=lambda: NOW,
        updates_channel=UPDATES,
        digest_channel=LEADERSHIP,
        process_before_response=True,
        **settings,
    ) as ws:
        await own(ws, "fire", CHIEF)
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        assert run.posted == ["fire"]
        yield ws


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    async for ws in workspace_with_fire(database_url):
        yield ws


def prompt_ts(ws: Workspace) -> str:
    return str(ws.slack.calls_to("chat.postMessage")[0].response["ts"])  # type: ignore[index]


async def fire_id(ws: Workspace) -> int:
    async with session_scope(ws.engine) as session:
        department = await find_department(session, "fire")
    assert department.id is not None
    return department.id


async def settled(ws: Workspace, timeout: float = 20.0) -> Canvas:
    """Fire's canvas once no answer is waiting for an edit and nobody is editing it."""
    key = department_canvas(await fire_id(ws))
    deadline = time.monotonic() + timeout
    while True:
        async with session_scope(ws.engine) as session:
            row = await canvas_row(session, key)
        if row is not None and row.shown >= row.wanted > 0 and row.holder is None:
            return row
        assert time.monotonic() < deadline, f"fire's canvas never settled: {row}"
        await asyncio.sleep(0.05)


def canvas_calls(ws: Workspace) -> list[str]:
    return [c.method for c in ws.slack.calls if c.method.startswith(("canvases.", CREATE))]


_replies = iter(range(100, 10_000))


async def reply(ws: Workspace, text: str) -> None:
    """The chief replies `text` in the prompt's thread; the bot has answered by the return."""
    ts = prompt_ts(ws)
    before = len([c for c in ws.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")])
    event = reply_event(f"1796400000.{next(_replies):06d}", ts, text)
    assert (await ws.event(event)).status_code == 200
    await thread_posts(ws, ts, before + 1)


async def test_a_department_canvas_is_created_once_then_edited_after_each_answer(
    fire: Workspace,
) -> None:
    ws = fire
    await reply(ws, "1 on track - 12 recruits started the academy")
    (created,) = await ws.slack.wait_for(CREATE, timeout=15)
    assert created.args["channel_id"] == UPDATES
    assert created.args["title"].startswith("Fire")
    canvas_id = created.response["canvas_id"]  # type: ignore[index]
    shown = ws.slack.canvas_markdown(canvas_id)
    assert "**1.** 🟢 On track" in shown and "12 recruits started the academy" in shown
    assert "updated Nov 4" in shown
    assert (await settled(ws)).canvas_id == canvas_id

    # A No change click: every last status again, shown on the same canvas.
    for number in range(1, 7):
        await reported_before(ws, "fire", number, "2026-09", "on_track")
    click = slack_requests.block_action(
        ws.signing_secret,
        user_id=CHIEF,
        action_id=ActionId.NO_CHANGE,
        value=prompt_value("fire", PERIOD),
        response_url=ws.slack.response_url("no-change"),
        channel_id=UPDATES,
        message_ts=prompt_ts(ws),
    )
    assert (await ws.send(click)).status_code == 200
    await ws.slack.wait_for(EDIT, timeout=15)
    await settled(ws)
    assert "**2.** 🟢 On track" in ws.slack.canvas_markdown(canvas_id)

    # The form: a status and its reason.
    view = await opened_form(ws, CHIEF)
    values = {"status-2": chosen("at_risk"), "note-2": typed_note("waiting on the union")}
    assert await ws.submit(view, values, user=CHIEF) == {}
    await ws.slack.wait_for(EDIT, count=2, timeout=15)
    await settled(ws)
    shown = ws.slack.canvas_markdown(canvas_id)
    assert "**2.** 🟡 At risk — " in shown and "waiting on the union" in shown
    assert len(ws.slack.calls_to(CREATE)) == 1 and ws.slack.calls_to("canvases.create") == []


async def test_a_burst_of_twenty_answers_is_one_edit_per_debounce(fire: Workspace) -> None:
    """Twenty replies in a row, each answered in the thread before the next (in one channel,
    at Slack's post a second): the canvas is edited at most once per debounce window while
    they come, and once after — never once per answer."""
    ws = fire
    started = time.monotonic()
    for i in range(20):
        await reply(ws, f"1 on track - step {i}\n2 off track {i}% - blocked at step {i}")
    windows = int((time.monotonic() - started) // DEBOUNCE_SECONDS) + 1
    await settled(ws)
    calls = canvas_calls(ws)
    assert 1 <= len(calls) <= windows + 1 < 20, (calls, windows)
    assert calls[0] == CREATE
    shown = ws.slack.canvas_markdown((await settled(ws)).canvas_id or "")
    assert "“step 19”" in shown and "🔴 Off track · 19%" in shown and "step 18" not in shown
    assert len(await current(ws)) == 2


async def test_a_canvas_deleted_in_slack_is_created_again_on_the_next_answer(
    fire: Workspace,
) -> None:
    ws = fire
    await reply(ws, "1 on track")
    first = (await settled(ws)).canvas_id
    assert first is not None
    ws.slack.delete_canvas(first)
    await reply(ws, "1 at risk - the budget was cut")
    await ws.slack.wait_for(CREATE, count=2, timeout=15)
    row = await settled(ws)
    assert row.canvas_id not in (None, first)
    assert "the budget was cut" in ws.slack.canvas_markdown(row.canvas_id or "")
    (tried,) = ws.slack.calls_to(EDIT)
    assert tried.response == {"ok": False, "error": "canvas_not_found"}


async def test_two_processes_refreshing_at_once_edit_once(fire: Workspace) -> None:
    ws = fire
    await reply(ws, "1 on track - crews hired")
    department = await fire_id(ws)
    # Two refreshers (two replicas' ticks) start the same edit before the debounce does.
    runs = await asyncio.gather(
        refresh_department_canvas(ws.ctx, ws.app.client, department),
        refresh_department_canvas(ws.ctx, ws.app.client, department),
    )
    outcomes = sorted(r.outcome for r in runs)
    assert outcomes[0] == CanvasOutcome.CREATED
    assert outcomes[1] in (CanvasOutcome.IN_PROGRESS, CanvasOutcome.NOT_WANTED)
    await settled(ws)
    # The debounced edit finds nothing left to do.
    await asyncio.sleep(6)
    assert canvas_calls(ws) == [CREATE]


async def test_a_note_cannot_ping_or_mention_from_a_canvas(fire: Workspace) -> None:
    ws = fire
    view = await opened_form(ws, CHIEF)
    note = "<!channel> @here *x* ![](@U0COO) [click](https://evil.example) <@U0COO>"
    values = {"status-1": chosen("at_risk"), "note-1": typed_note(note)}
    assert await ws.submit(view, values, user=CHIEF) == {}
    row = await settled(ws)
    shown = ws.slack.canvas_markdown(row.canvas_id or "")
    assert "\\<\\!channel\\>" in shown and "<!channel>" not in shown
    assert "@here" not in shown and "@\u200dhere" in shown
    assert "![](" not in shown and "\\!\\[\\]\\(@U0COO\\)" in shown
    assert "[click](" not in shown and "<@U0COO>" not in shown
    assert "\\*x\\*" in shown


async def test_a_workspace_without_canvases_records_answers_and_says_so_once(
    fire: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    ws = fire
    ws.slack.scopes = tuple(s for s in DEFAULT_SCOPES if s != "canvases:write")
    with caplog.at_level(logging.INFO, logger="jobs.canvases"):
        await reply(ws, "1 on track - missing scope")
        row = await settled(ws)
        assert row.last_error == "missing_scope" and row.canvas_id is None
        await reply(ws, "2 on track - still missing")
        await settled(ws)
    assert {1, 2} <= set(await current(ws))
    assert ws.slack.canvases == {}
    told = [r for r in caplog.records if "canvases skipped" in r.getMessage()]
    assert len(told) <= 1  # once per process: an earlier test may have said it already
    assert all("planbot doctor" in r.getMessage() for r in told)


async def test_a_free_workspace_refusing_canvases_records_answers(fire: Workspace) -> None:
    ws = fire
    ws.slack.inject(CREATE, Fault.error("team_tier_cannot_create_channel_canvases"))
    await reply(ws, "1 on track - on a free plan")
    row = await settled(ws)
    assert row.last_error == "team_tier_cannot_create_channel_canvases"
    assert ws.slack.canvases == {} and await count_updates(ws) == 1
    # Tried again after the next answer (the plan may have been upgraded).
    await reply(ws, "2 on track")
    row = await settled(ws)
    assert row.canvas_id is not None and "**2.** 🟢 On track" in ws.slack.canvas_markdown(
        row.canvas_id
    )


async def test_canvases_turned_off_make_no_call(database_url: str, hartford: int) -> None:
    async for ws in workspace_with_fire(database_url, canvases=False):
        await reply(ws, "1 on track")
        assert await count_updates(ws) == 1
        await asyncio.sleep(6)  # past the debounce an answer would start
        await Cycle(ws.ctx, ws.app.client, timedelta(hours=72)).run_due()
        assert canvas_calls(ws) == []
        async with session_scope(ws.engine) as session:
            assert await canvas_row(session, department_canvas(await fire_id(ws))) is None


async def test_the_scheduler_edits_a_canvas_an_answer_left_wanted(fire: Workspace) -> None:
    ws = fire
    ws.slack.inject(CREATE, Fault.server_error(503), Fault.server_error(503))
    ws.slack.inject(CREATE, Fault.server_error(503))  # the client retries 5xx twice
    await reply(ws, "1 on track - Slack was down")
    for _ in range(400):
        async with session_scope(ws.engine) as session:
            row = await canvas_row(session, department_canvas(await fire_id(ws)))
        if row is not None and row.last_error:
            break
        await asyncio.sleep(0.05)
    assert row is not None and row.wanted > row.shown and row.last_error == "http 503"
    await Cycle(ws.ctx, ws.app.client, timedelta(hours=72)).run_due()
    row = await settled(ws)
    assert "Slack was down" in ws.slack.canvas_markdown(row.canvas_id or "")


async def test_the_plan_canvas_follows_the_digest(fire: Workspace) -> None:
    ws = fire
    await reply(ws, "1 off track - the engine failed")
    await settled(ws)
    result = await Cycle(ws.ctx, ws.app.client, timedelta(hours=72)).run_due()
    assert result.digest is not None and result.digest.outcome == "posted"
    plan_runs = [r for r in result.canvases if r.key == "plan"]
    assert [r.outcome for r in plan_runs] == [CanvasOutcome.CREATED]
    made = [c for c in ws.slack.calls_to(CREATE) if c.args["channel_id"] == LEADERSHIP]
    assert len(made) == 1
    shown = ws.slack.canvas_markdown(plan_runs[0].canvas_id or "")
    assert "## Mayor's goals" in shown and "## Needs attention" in shown
    assert "🔴 Off track" in shown and "Fire" in shown and "the engine failed" in shown
    assert "## Not reported for October 2026" in shown


async def test_a_rate_limited_edit_waits_out_retry_after(fire: Workspace) -> None:
    ws = fire
    await reply(ws, "1 on track")
    canvas_id = (await settled(ws)).canvas_id or ""
    ws.slack.inject(EDIT, Fault.rate_limited(retry_after=1))
    await reply(ws, "1 at risk - the ladder truck broke")
    row = await settled(ws)
    assert [c.status for c in ws.slack.calls_to(EDIT)] == [429, 200]
    tried, done = ws.slack.calls_to(EDIT)
    assert done.at - tried.at >= 1.0
    assert row.canvas_id == canvas_id
    assert "the ladder truck broke" in ws.slack.canvas_markdown(canvas_id)


MEASURES = """
measures:
  - key: response-time
    name: Fire response time
    unit: minutes
    direction: lower
    department: fire
    targets: {FY2027: 4.8}
"""


async def test_a_department_canvas_has_a_line_per_measure(fire: Workspace, hartford: int) -> None:
    ws = fire
    async with session_scope(ws.engine) as session:
        await load_measures(
            session, hartford, parse_yaml_measures(MEASURES).measures, source="m.yaml"
        )
        await record_actuals(
            session,
            hartford,
            [ActualRow("response-time", PERIOD, 5.5)],
            source=ActualSource.API,
            author="cad",
            received_at=NOW - timedelta(days=1),
        )
    await reply(ws, "1 on track")
    shown = ws.slack.canvas_markdown((await settled(ws)).canvas_id or "")
    (line,) = [x for x in shown.splitlines() if "Fire response time" in x]
    assert "Missed" in line and "5.5 minutes vs 4.8 minutes target" in line
    assert shown.index("## Initiatives") < shown.index("## Measures")


async def test_a_long_department_lists_what_fits_and_counts_the_rest(sqlite_url: str) -> None:
    async with Workspace(
        sqlite_url, admins=(ADMIN,), now=lambda: NOW, updates_channel=UPDATES
    ) as ws:
        async with session_scope(ws.engine) as session:
            await load_plan(session, synthetic_plan(1, 2500, 4, seed=5), period=PERIOD)
            department = (await session.exec(select(Department))).one()
            await set_owners(session, department, [CHIEF])
        assert department.id is not None
        run = await refresh_department_canvas(
            ws.ctx, ws.app.client, department.id, even_if_shown=True
        )
        assert run.outcome == CanvasOutcome.CREATED
        shown = ws.slack.canvas_markdown(run.canvas_id or "")
        assert len(shown) <= CANVAS_MARKDOWN
        listed = [x for x in shown.splitlines() if x.startswith("- **")]
        last = shown.rstrip().splitlines()[-1]
        assert last == f"…and {2500 - len(listed)} more initiatives."
        assert 1000 < len(listed) < 2500
