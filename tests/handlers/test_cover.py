"""Cover for absent owners and reminders in people's own hours (issue 16, items 6 and 7).

`/plan away until DATE [@delegate]` and `/plan back`; a Slack status that says so (🌴, "OOO",
"vacation") counts as away; while away an owner is not reminded, the prompt and the reminder
name who answers meanwhile, the delegate may answer, and the answer records whom it was for.
Direct-message reminders go at the prompt's hour in the recipient's own time zone, on working
days, never at night — each once, whichever process runs the tick."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.workspace import Workspace
from handlers.commands.parse import AwayRequest, CommandError, read_away
from jobs.prompts import post_monthly_prompts
from jobs.reminders import send_due_reminder_dms, send_reminders
from jobs.scheduler import Cycle
from models.absence import SlackStatus
from models.calendar import their_hours
from models.db import session_scope
from models.tables import Absence, ReminderDM
from tests.helpers import (
    ADMIN,
    CHIEF,
    OTHER,
    PERIOD,
    UPDATES,
    count_updates,
    current,
    mrkdwn_texts,
    own,
    reply_event,
    thread_posts,
)

DEPUTY = "U0DEPUTY"
ISLANDER = "U0ISLAND"  # an owner who works from Honolulu
# The first reminder for October: Thursday, November 5, 9:00 in Hartford (14:00 UTC).
REMINDER_DAY = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
PROMPT_DAY = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, Clock]]:
    """Fire owned by the chief; the clock at the prompt's morning, nothing posted yet."""
    clock = Clock(PROMPT_DAY)
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        now=clock,
        updates_channel=UPDATES,
        process_before_response=True,
    ) as ws:
        ws.slack.users.update(
            {CHIEF: "Fire Chief", DEPUTY: "Deputy Chief", ISLANDER: "Kai", OTHER: "Someone"}
        )
        await own(ws, "fire", CHIEF)
        yield ws, clock


async def post_prompt(ws: Workspace) -> tuple[str, str]:
    """The October prompt of Fire: its ts and what it says."""
    before = len(ws.slack.calls_to("chat.postMessage"))
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert run.posted == ["fire"]
    post = ws.slack.calls_to("chat.postMessage")[before]
    return post.response["ts"], "\n".join(mrkdwn_texts(post.args["blocks"]))


def direct_messages(ws: Workspace, since: int = 0) -> list[str]:
    """Who got a direct message (a post to a user id), in order."""
    return [
        c.args["channel"]
        for c in ws.slack.calls_to("chat.postMessage")[since:]
        if c.ok and str(c.args["channel"]).startswith("U")
    ]


# --- reading `/plan away` -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "last", "delegate"),
    [
        ("until 2026-12-15 <@U0DEPUTY|deputy>", date(2026, 12, 15), DEPUTY),
        ("until Dec 15", date(2026, 12, 15), None),
        ("till december 15th, 2026 <@U0DEPUTY>", date(2026, 12, 15), DEPUTY),
        ("until 12/15", date(2026, 12, 15), None),
        ("15 Dec", date(2026, 12, 15), None),
        ("until Jan 4", date(2027, 1, 4), None),  # the next January 4
        ("until today", date(2026, 12, 4), None),
    ],
)
def test_away_reads_the_ways_people_write_a_date(
    typed: str, last: date, delegate: str | None
) -> None:
    assert read_away(typed, date(2026, 12, 4)) == AwayRequest(last, delegate)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "Say until when"),
        ("until someday", "Say until when"),
        ("until 2/30", "Say until when"),
        ("until 2026-11-01", "has passed"),
        ("until 2028-01-01", "more than a year"),
        ("<@U0DEPUTY>", "Say until when"),
    ],
)
def test_away_refuses_what_is_not_a_date_ahead(typed: str, said: str) -> None:
    found = read_away(typed, date(2026, 12, 4))
    assert isinstance(found, CommandError) and said in found.problem


async def test_away_and_back_in_slack(city: tuple[Workspace, Clock]) -> None:
    ws, _ = city
    told = await ws.command("away until Nov 20 <@U0DEPUTY>", user=CHIEF)
    assert "You are away until Friday, November 20" in told.text
    assert f"<@{DEPUTY}> may answer for Fire" in told.text, told.text
    status = await ws.command("away", user=CHIEF)
    assert "away until Fri, Nov 20" in status.text and f"<@{DEPUTY}> answers for you" in status.text
    bad = await ws.command("away until <!here>", user=CHIEF)
    assert "Say until when" in bad.text and "<!here>" not in bad.text
    self_delegate = await ws.command(f"away until Nov 20 <@{CHIEF}>", user=CHIEF)
    assert "Name someone else" in self_delegate.text
    async with session_scope(ws.engine) as session:
        (row,) = (await session.exec(select(Absence))).all()
    # Back the day after, at midnight in Hartford: 05:00 UTC in November.
    assert (row.user_id, row.delegate_id) == (CHIEF, DEPUTY)
    assert row.ends_at == datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    back = await ws.command("back", user=CHIEF)
    assert "Welcome back" in back.text
    again = await ws.command("back", user=CHIEF)
    assert "You were not away" in again.text


# --- the delegate answers, and the answer says for whom -------------------------------------


async def test_a_delegate_answers_for_an_owner_away(city: tuple[Workspace, Clock]) -> None:
    ws, _ = city
    await ws.command(f"away until Nov 20 <@{DEPUTY}>", user=CHIEF)
    ts, shown = await post_prompt(ws)
    # The chief is not pinged while away; the deputy is asked in their place.
    assert f"<@{DEPUTY}>, how did October go?" in shown
    assert f"<@{CHIEF}>" not in shown
    assert "@Fire Chief is away until Fri, Nov 20" in shown
    assert f"<@{DEPUTY}> answers for Fire meanwhile" in shown

    stranger = reply_event("1796400000.000100", ts, "1 on track", user=OTHER)
    await ws.event(stranger)
    assert await count_updates(ws) == 0

    refreshes = len(ws.slack.calls_to("chat.update"))
    reply = reply_event("1796400000.000200", ts, "2 at risk - waiting on the union", user=DEPUTY)
    assert (await ws.event(reply)).status_code == 200
    await thread_posts(ws, ts, 1)
    recorded = await current(ws)
    assert (recorded[2].author, recorded[2].on_behalf_of) == (DEPUTY, CHIEF)
    # The prompt follows at the workspace's pace for chat.update (jobs/prompt_refresh.py).
    refreshed = (await ws.slack.wait_for("chat.update", count=refreshes + 1))[-1]
    assert f"updated by <@{DEPUTY}> for <@{CHIEF}>" in json.dumps(refreshed.args["blocks"])
    department = await ws.command("fire", user=ADMIN)
    assert f"<@{DEPUTY}> for <@{CHIEF}>" in department.text

    # Back: the deputy no longer answers for Fire.
    await ws.command("back", user=CHIEF)
    later = reply_event("1796400000.000300", ts, "3 on track", user=DEPUTY)
    await ws.event(later)
    assert 3 not in await current(ws)


async def test_an_owner_answering_records_nobody_else(city: tuple[Workspace, Clock]) -> None:
    ws, _ = city
    await ws.command(f"away until Nov 20 <@{DEPUTY}>", user=CHIEF)
    ts, _ = await post_prompt(ws)
    await ws.event(reply_event("1796400000.000100", ts, "1 on track", user=CHIEF))
    await thread_posts(ws, ts, 1)
    assert (await current(ws))[1].on_behalf_of is None


# --- who is reminded while away -------------------------------------------------------------------


async def test_nobody_away_is_reminded_and_the_delegate_is(city: tuple[Workspace, Clock]) -> None:
    ws, clock = city
    await ws.command(f"away until Nov 20 <@{DEPUTY}>", user=CHIEF)
    ts, _ = await post_prompt(ws)
    clock.at = REMINDER_DAY
    before = len(ws.slack.calls_to("chat.postMessage"))
    run = await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    assert run.reminded == ["fire"]
    assert direct_messages(ws, before) == [DEPUTY]
    (in_thread,) = [
        c for c in ws.slack.calls_to("chat.postMessage")[before:] if c.args.get("thread_ts") == ts
    ]
    said = json.dumps(in_thread.args["blocks"], ensure_ascii=False)
    assert f"<@{DEPUTY}>" in said and f"<@{CHIEF}>" not in said


@pytest.mark.parametrize(
    ("text", "emoji", "away"),
    [
        ("Vacationing", ":palm_tree:", True),
        ("OOO until Monday", "", True),
        ("Out of office", ":airplane:", True),
        ("on vacation 🌴", "", True),
        ("Back from vacation", "", False),
        ("In a meeting", ":spiral_calendar_pad:", False),
        ("", "", False),
    ],
)
def test_a_slack_status_says_away(text: str, emoji: str, away: bool) -> None:
    now = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
    assert SlackStatus(text, emoji).says_away(now) is away
    expired = SlackStatus(text, emoji, int((now - timedelta(hours=1)).timestamp()))
    assert expired.says_away(now) is False


async def test_a_vacation_status_counts_as_away(city: tuple[Workspace, Clock]) -> None:
    ws, clock = city
    await own(ws, "fire", CHIEF, ISLANDER)
    until = int(datetime(2026, 11, 13, 5, 0, tzinfo=UTC).timestamp())
    ws.slack.set_status(CHIEF, "Vacationing", ":palm_tree:", until)
    _, shown = await post_prompt(ws)
    assert f"<@{CHIEF}>" not in shown and f"<@{ISLANDER}>, how did October go?" in shown
    assert "@Fire Chief is away until Thu, Nov 12" in shown
    clock.at = REMINDER_DAY
    before = len(ws.slack.calls_to("chat.postMessage"))
    await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    assert CHIEF not in direct_messages(ws, before)
    # Status cleared: the chief is reminded again at the next reminder.
    ws.slack.set_status(CHIEF)
    ws.ctx.people._seen.clear()  # the bot's few minutes of memory of statuses have passed
    clock.at = ws.ctx.calendar.reminder_at(PERIOD, 2)
    before = len(ws.slack.calls_to("chat.postMessage"))
    await send_reminders(ws.ctx, ws.app.client, PERIOD, 2)
    assert CHIEF in direct_messages(ws, before)


async def test_plan_away_outlasts_a_cleared_status(city: tuple[Workspace, Clock]) -> None:
    ws, clock = city
    await ws.command("away until Nov 20", user=CHIEF)
    ws.slack.set_status(CHIEF, "", "")  # says nothing: /plan away is the chief's own word
    await post_prompt(ws)
    clock.at = REMINDER_DAY
    before = len(ws.slack.calls_to("chat.postMessage"))
    await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    assert direct_messages(ws, before) == []
    status = await ws.command("away", user=CHIEF)
    assert "with `/plan away`" in status.text


# --- each in their own hours ----------------------------------------------------------------------


def test_their_hours() -> None:
    from zoneinfo import ZoneInfo

    nine = datetime(2026, 11, 5, 9, 0).time()
    hartford_nine = REMINDER_DAY  # Thursday 9:00 in Hartford
    assert their_hours(hartford_nine, ZoneInfo("America/New_York"), nine) == hartford_nine
    assert their_hours(hartford_nine, ZoneInfo("Pacific/Honolulu"), nine) == datetime(
        2026, 11, 5, 19, 0, tzinfo=UTC
    )
    assert their_hours(hartford_nine, ZoneInfo("Europe/London"), nine) == hartford_nine
    # 23:00 Thursday in Tokyo: Friday 9:00 there.
    assert their_hours(hartford_nine, ZoneInfo("Asia/Tokyo"), nine) == datetime(
        2026, 11, 6, 0, 0, tzinfo=UTC
    )
    # Friday 9:00 in Hartford is Saturday in Tokyo: Monday 9:00 there.
    friday = hartford_nine + timedelta(days=1)
    assert their_hours(friday, ZoneInfo("Asia/Tokyo"), nine) == datetime(
        2026, 11, 9, 0, 0, tzinfo=UTC
    )
    # 19:00 in Hartford: the next morning.
    evening = hartford_nine + timedelta(hours=10)
    assert their_hours(evening, ZoneInfo("America/New_York"), nine) == hartford_nine + timedelta(
        days=1
    )


async def test_reminders_reach_each_owner_at_nine_where_they_are(
    city: tuple[Workspace, Clock],
) -> None:
    ws, clock = city
    await own(ws, "fire", CHIEF, ISLANDER)
    ws.slack.set_time_zone(ISLANDER, "Pacific/Honolulu")
    await post_prompt(ws)
    clock.at = REMINDER_DAY
    before = len(ws.slack.calls_to("chat.postMessage"))
    cycle = Cycle(ws.ctx, ws.app.client, catch_up=timedelta(hours=6))
    first = await cycle.run_due()
    assert first.reminders is not None and first.reminders.reminded == ["fire"]
    assert direct_messages(ws, before) == [CHIEF]  # 9:00 in Hartford; 4:00 in Honolulu
    assert [name for name, _ in first.reminders.direct.later] == [f"fire:{ISLANDER}"]

    clock.at = datetime(2026, 11, 5, 18, 45, tzinfo=UTC)  # 8:45 in Honolulu
    await cycle.run_due()
    assert direct_messages(ws, before) == [CHIEF]
    clock.at = datetime(2026, 11, 5, 19, 0, tzinfo=UTC)  # 9:00 in Honolulu
    # Two replicas' ticks at the same moment: one direct message.
    await asyncio.gather(
        send_due_reminder_dms(ws.ctx, ws.app.client), send_due_reminder_dms(ws.ctx, ws.app.client)
    )
    clock.at += timedelta(minutes=15)
    await cycle.run_due()
    assert direct_messages(ws, before) == [CHIEF, ISLANDER]
    async with session_scope(ws.engine) as session:
        states = sorted((r.user_id, r.state) for r in (await session.exec(select(ReminderDM))))
    assert states == [(ISLANDER, "sent"), (CHIEF, "sent")] or states == [
        (CHIEF, "sent"),
        (ISLANDER, "sent"),
    ]


async def test_an_answer_before_their_morning_cancels_the_message(
    city: tuple[Workspace, Clock],
) -> None:
    ws, clock = city
    await own(ws, "fire", CHIEF, ISLANDER)
    ws.slack.set_time_zone(ISLANDER, "Pacific/Honolulu")
    ts, _ = await post_prompt(ws)
    clock.at = REMINDER_DAY
    run = await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    assert run.direct is not None and run.direct.sent == [f"fire:{CHIEF}"]
    clock.at = REMINDER_DAY + timedelta(hours=1)
    await ws.event(reply_event("1796400000.000100", ts, "all on track", user=CHIEF))
    await thread_posts(ws, ts, 2)  # the reminder, then the answer
    before = len(ws.slack.calls_to("chat.postMessage"))
    clock.at = datetime(2026, 11, 5, 19, 0, tzinfo=UTC)
    later = await send_due_reminder_dms(ws.ctx, ws.app.client)
    assert later.dropped == [(f"fire:{ISLANDER}", "answered")]
    assert direct_messages(ws, before) == []


async def test_nobody_gets_a_reminder_at_night(city: tuple[Workspace, Clock]) -> None:
    """A reminder run late in the evening (by hand, or after a long outage) puts the direct
    messages off until the next working morning."""
    ws, clock = city
    await post_prompt(ws)
    clock.at = datetime(2026, 11, 6, 1, 30, tzinfo=UTC)  # Thursday 20:30 in Hartford
    run = await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    assert run.reminded == ["fire"] and run.direct is not None and run.direct.sent == []
    assert run.direct.later == [(f"fire:{CHIEF}", datetime(2026, 11, 6, 14, 0, tzinfo=UTC))]
    clock.at = datetime(2026, 11, 6, 14, 0, tzinfo=UTC)
    before = len(ws.slack.calls_to("chat.postMessage"))
    morning = await send_due_reminder_dms(ws.ctx, ws.app.client)
    assert morning.sent == [f"fire:{CHIEF}"] and direct_messages(ws, before) == [CHIEF]


async def test_a_message_put_off_past_the_close_is_dropped(city: tuple[Workspace, Clock]) -> None:
    """The month closed before the recipient's morning came (a long outage): the escalation at
    the close has taken over, and the reminder would say "still open"."""
    ws, clock = city
    await own(ws, "fire", CHIEF, ISLANDER)
    ws.slack.set_time_zone(ISLANDER, "Pacific/Honolulu")
    await post_prompt(ws)
    clock.at = REMINDER_DAY
    await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    clock.at = ws.ctx.calendar.closes_at(PERIOD) + timedelta(hours=6)
    before = len(ws.slack.calls_to("chat.postMessage"))
    late = await send_due_reminder_dms(ws.ctx, ws.app.client)
    assert late.dropped == [(f"fire:{ISLANDER}", "closed")]
    assert direct_messages(ws, before) == []


async def test_an_admin_says_someone_else_is_away_and_back(city: tuple[Workspace, Clock]) -> None:
    ws, _ = city
    refused = await ws.command(f"away <@{CHIEF}> until Nov 20", user=OTHER)
    assert "Only a Plan Bot admin" in refused.text
    done = await ws.command(f"away <@{CHIEF}> until Nov 20 <@{DEPUTY}>", user=ADMIN)
    assert f"<@{CHIEF}> is away until Friday, November 20" in done.text
    assert f"<@{DEPUTY}> may answer for Fire and is asked in their place" in done.text
    async with session_scope(ws.engine) as session:
        (row,) = (await session.exec(select(Absence))).all()
    assert (row.user_id, row.delegate_id, row.set_by) == (CHIEF, DEPUTY, ADMIN)
    assert "Only a Plan Bot admin" in (await ws.command(f"back <@{CHIEF}>", user=OTHER)).text
    back = await ws.command(f"back <@{CHIEF}>", user=ADMIN)
    assert f"<@{CHIEF}> is back" in back.text
    async with session_scope(ws.engine) as session:
        assert (await session.exec(select(Absence))).all() == []
