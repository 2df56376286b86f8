"""A month in the life of the update cycle, through the real request path and a controlled
clock: prompts on the first business day (New Year's Day moves them), one click, a thread reply,
the form, reminders only for the silent, a late answer, and `/plan safety` reflecting it all."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.workspace import Workspace
from jobs.scheduler import Cycle
from models.db import session_scope
from models.planfile import read_plan_file
from models.plans import load_plan, set_owners
from models.samples import add_sample_updates
from models.status import Status
from models.tables import Department, Initiative, Prompt, Reminder, Update
from tests.helpers import ADMIN, CHIEF

NY = ZoneInfo("America/New_York")
PERIOD = "2025-12"  # reported on in January 2026, whose 1st is a holiday
POLICE, DEV, HEALTH, STRANGER = "U0POLICE", "U0DEVLEAD", "U0HEALTH", "U0STRANGER"
UPDATES, FIRE_CHANNEL = "C0UPDATES", "C0FIRE"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, *args: int) -> None:
        self.moment = datetime(*args, tzinfo=NY)  # type: ignore[misc]


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 1, 1, 9, 30, tzinfo=NY))


async def _staff(ws: Workspace, hartford: int) -> None:
    async with session_scope(ws.engine) as session:
        # In this city the plan has been reported on since July 2025.
        await load_plan(session, read_plan_file(), period="2025-07")
        await add_sample_updates(session, hartford, "2025-07", 5, skip_last_share=0)
        departments = {d.key: d for d in (await session.exec(select(Department))).all()}
        await set_owners(session, departments["fire"], [CHIEF], FIRE_CHANNEL)
        await set_owners(session, departments["police"], [POLICE])
        await set_owners(session, departments["dds"], [DEV])
        await set_owners(session, departments["hhs"], [HEALTH])


@pytest.fixture
async def city(database_url: str, hartford: int, clock: Clock) -> AsyncIterator[Workspace]:
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        now=clock,
        updates_channel=UPDATES,
        users={CHIEF: "Fire Chief", POLICE: "Police Lead", DEV: "Dev Lead", HEALTH: "Health Lead"},
    ) as ws:
        await _staff(ws, hartford)
        yield ws


def cycle(ws: Workspace) -> Cycle:
    return Cycle(ws.ctx, ws.app.client, timedelta(hours=72))


def prompt_posts(ws: Workspace) -> dict[str, dict]:
    """Prompts posted, by department key (from the message metadata)."""
    return {
        c.args["metadata"]["event_payload"]["department"]: c.response["message"]
        | {"channel": c.response["channel"]}
        for c in ws.slack.calls_to("chat.postMessage")
        if c.ok and (c.args.get("metadata") or {}).get("event_type") == "planbot_prompt"
    }


async def updates_for(ws: Workspace, key: str, period: str = PERIOD) -> list[Update]:
    async with session_scope(ws.engine) as session:
        return list(
            (
                await session.exec(
                    select(Update)
                    .join(Initiative)
                    .join(Department)
                    .where(Department.key == key, Update.period == period)
                    .order_by(Initiative.number)
                )
            ).all()
        )


async def test_a_month_in_the_life(
    city: Workspace, clock: Clock, database_url: str, hartford: int
) -> None:
    ws = city
    # New Year's Day: a holiday, so no prompt yet.
    assert (await cycle(ws).run_due()).ran == []
    assert prompt_posts(ws) == {}

    # Friday 2 January, 09:00: the first business day.
    clock.set(2026, 1, 2, 9, 0, 30)
    first = await cycle(ws).run_due()
    assert first.prompts is not None
    assert sorted(first.prompts.posted) == ["dds", "fire", "hhs", "police"]
    posts = prompt_posts(ws)
    assert posts["fire"]["channel"] == FIRE_CHANNEL and posts["police"]["channel"] == UPDATES
    fire_prompt = json.dumps(posts["fire"]["blocks"])
    assert f"<@{CHIEF}>" in fire_prompt and "December 2025" in fire_prompt
    assert "Submit update" in fire_prompt and "No change" in fire_prompt
    # Unowned departments are listed for the admin, once.
    admin_dms = [c for c in ws.slack.calls_to("chat.postMessage") if c.args["channel"] == ADMIN]
    assert len(admin_dms) == 1 and "Finance" in json.dumps(admin_dms[0].args)

    # A second tick, and a restart mid-month: no prompt twice.
    assert (await cycle(ws).run_due()).prompts.posted == []  # type: ignore[union-attr]
    async with Workspace(
        database_url, admins=(ADMIN,), now=clock, updates_channel=UPDATES
    ) as restarted:
        clock.set(2026, 1, 2, 14, 0)
        again = await cycle(restarted).run_due()
        assert again.prompts is not None and again.prompts.posted == []
        assert restarted.slack.calls_to("chat.postMessage") == []
    assert len(prompt_posts(ws)) == 4

    # The Fire chief: one click on "No change".
    clock.set(2026, 1, 2, 15, 0)
    reply = await ws.click(
        "prompt_no_change",
        f"fire|{PERIOD}",
        user=CHIEF,
        channel=FIRE_CHANNEL,
        message_ts=posts["fire"]["ts"],
    )
    assert "Recorded no change for 6 initiatives" in reply.text
    fire = await updates_for(ws, "fire")
    assert len(fire) == 6 and {u.source for u in fire} == {"form"}
    assert not any(u.late for u in fire)
    await ws.slack.wait_for("chat.update")
    refreshed = ws.slack.calls_to("chat.update")[-1].args
    assert refreshed["ts"] == posts["fire"]["ts"] and "updated by" in json.dumps(refreshed)

    # The Police lead answers in the thread, in plain words.
    posted_before = len(ws.slack.calls_to("chat.postMessage"))
    await ws.event(
        {
            "type": "message",
            "channel": UPDATES,
            "user": POLICE,
            "ts": "1767370000.000100",
            "thread_ts": posts["police"]["ts"],
            "channel_type": "channel",
            "text": "1 on track - 12 recruits started the academy\n"
            "2 at risk 40% waiting on the union agreement\n3: done",
        }
    )
    await ws.slack.wait_for("reactions.add")
    # The summary reply follows the reaction: wait for it rather than race it.
    await ws.slack.wait_for("chat.postMessage", count=posted_before + 1)
    police = {u.initiative_id: u for u in await updates_for(ws, "police")}
    assert sorted((u.status, u.percent, u.note) for u in police.values()) == sorted(
        [
            (Status.ON_TRACK, None, "12 recruits started the academy"),
            (Status.AT_RISK, 40, "waiting on the union agreement"),
            (Status.COMPLETE, None, ""),
        ]
    )
    summary = [
        c
        for c in ws.slack.calls_to("chat.postMessage")
        if c.args.get("thread_ts") == posts["police"]["ts"]
    ]
    assert len(summary) == 1 and "waiting on the union agreement" in json.dumps(summary[0].args)

    # Someone who does not own Police replies: told privately, nothing recorded.
    await ws.event(
        {
            "type": "message",
            "channel": UPDATES,
            "user": STRANGER,
            "ts": "1767370001.000100",
            "thread_ts": posts["police"]["ts"],
            "text": "1 off track",
        }
    )
    refusal = await ws.slack.wait_for("chat.postEphemeral")
    assert refusal[-1].args["user"] == STRANGER
    assert len(await updates_for(ws, "police")) == 3

    # Development Services uses the form: a bad percent first.
    await ws.click(
        "prompt_submit",
        f"dds|{PERIOD}",
        user=DEV,
        channel=UPDATES,
        message_ts=posts["dds"]["ts"],
        expect_followup=False,
    )
    (opened,) = await ws.slack.wait_for("views.open")
    view = opened.args["view"]
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert {"status-1", "percent-1", "note-1", "status-10"} <= set(inputs)
    # Work complete before December is listed, not asked about again.
    asked = {int(b.split("-")[1]) for b in inputs if b.startswith("status-")}
    listed = next(b for b in view["blocks"] if b.get("block_id") == "complete")
    done = {int(o["value"]) for o in listed["accessory"]["options"]}
    assert asked | done == set(range(1, 11)) and not asked & done
    values = {
        f"status-{n}": {
            "status": {"type": "static_select", "selected_option": {"value": "on_track"}}
        }
        for n in sorted(asked)
    }
    values["percent-4"] = {"percent": {"type": "plain_text_input", "value": "150"}}
    values["note-4"] = {"note": {"type": "plain_text_input", "value": "<!channel> go"}}
    answer = await ws.submit(view, values, user=DEV)
    assert answer["response_action"] == "errors" and "percent-4" in answer["errors"]
    assert await updates_for(ws, "dds") == []
    values["percent-4"] = {"percent": {"type": "plain_text_input", "value": "45"}}
    values["note-4"] = {"note": {"type": "plain_text_input", "value": "Permits <!channel> live"}}
    assert await ws.submit(view, values, user=DEV) == {}
    dds = await updates_for(ws, "dds")
    assert len(dds) == len(asked)
    assert [(u.percent, u.note) for u in dds if u.percent is not None] == [
        (45, "Permits <!channel> live")
    ]
    # A stranger's forged submission of the same form writes nothing.
    forged = await ws.submit(view, values, user=STRANGER)
    assert forged["response_action"] == "errors"
    assert len(await updates_for(ws, "dds")) == len(asked)

    # Wednesday 7 January, 09:00: three business days on, only Health has not answered.
    ws.slack.reset()
    clock.set(2026, 1, 7, 9, 0, 10)
    due = await cycle(ws).run_due()
    assert due.reminders is not None and due.reminders.reminded == ["hhs"]
    assert sorted(due.reminders.answered) == ["dds", "fire", "police"]
    sent = ws.slack.calls_to("chat.postMessage")
    assert {c.args["channel"] for c in sent} == {UPDATES, HEALTH}
    assert [c.args.get("thread_ts") for c in sent if c.args["channel"] == UPDATES] == [
        posts["hhs"]["ts"]
    ]
    assert (await cycle(ws).run_due()).reminders.reminded == []  # type: ignore[union-attr]
    async with session_scope(ws.engine) as session:
        assert len((await session.exec(select(Reminder))).all()) == 1

    # February 3: December has closed. Health answers at last: recorded, flagged late.
    clock.set(2026, 2, 3, 10, 0)
    posted_before = len(ws.slack.calls_to("chat.postMessage"))
    await ws.event(
        {
            "type": "message",
            "channel": UPDATES,
            "user": HEALTH,
            "ts": "1770130000.000100",
            "thread_ts": posts["hhs"]["ts"],
            "text": "all on track",
        }
    )
    await ws.slack.wait_for("reactions.add")  # calls were reset before the reminders
    health = await updates_for(ws, "hhs")
    assert health and all(u.late and u.status == Status.ON_TRACK for u in health)
    # "all on track" leaves finished work alone, and the answer in the thread says so.
    answer = (await ws.slack.wait_for("chat.postMessage", count=posted_before + 1))[-1]
    assert answer.args["thread_ts"] == posts["hhs"]["ts"]
    left = re.search(r"Left as Complete: ([#\d, ]+)", json.dumps(answer.args, ensure_ascii=False))
    assert left is not None
    assert len(health) + len(left.group(1).split(",")) == 10

    # And leadership sees it: police #2 needs attention, with its note.
    clock.set(2026, 1, 8, 9, 0)
    safety = await ws.command("safety", user="U0COO")
    shown = json.dumps(safety.message["blocks"], ensure_ascii=False)
    assert "Police #2" in shown and "waiting on the union agreement" in shown


async def test_down_on_the_first_prompts_go_out_once_on_return(
    city: Workspace, clock: Clock
) -> None:
    ws = city
    clock.set(2026, 1, 2, 16, 45)  # back seven hours after the prompt time
    assert sorted((await cycle(ws).run_due()).prompts.posted) == [  # type: ignore[union-attr]
        "dds",
        "fire",
        "hhs",
        "police",
    ]
    assert (await cycle(ws).run_due()).prompts.posted == []  # type: ignore[union-attr]
    assert len(prompt_posts(ws)) == 4


async def test_down_past_the_catch_up_window_posts_nothing_by_itself(
    city: Workspace, clock: Clock
) -> None:
    clock.set(2026, 1, 9, 9, 30)  # a week late: an operator decides (planbot jobs run prompts)
    assert "prompts" not in (await cycle(city).run_due()).ran
    assert prompt_posts(city) == {}


async def test_a_failed_post_is_retried_on_the_next_tick(city: Workspace, clock: Clock) -> None:
    from bot.standin import Fault

    ws = city
    ws.slack.inject("chat.postMessage", Fault.error("internal_error"))
    clock.set(2026, 1, 2, 9, 1)
    first = await cycle(ws).run_due()
    assert first.prompts is not None and len(first.prompts.failed) == 1
    async with session_scope(ws.engine) as session:
        states = sorted(p.state for p in (await session.exec(select(Prompt))).all())
    assert states.count("failed") == 1
    clock.set(2026, 1, 2, 9, 16)
    second = await cycle(ws).run_due()
    assert second.prompts is not None and len(second.prompts.posted) == 1
    assert len(prompt_posts(ws)) == 4
