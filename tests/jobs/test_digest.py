"""The weekly digest: numbers that add up against the database, changes between digests, stale
work, hostile notes, Slack's limits on a huge plan, the chart, and exactly once a week."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from sqlmodel import select

from bot.workspace import Workspace
from handlers.digest_build import digest_for, settled_charts
from handlers.messages.chart import render_charts, render_trend
from handlers.messages.limits import check_message
from handlers.people import PeopleNames
from jobs.scheduler import Cycle
from jobs.weekly_digest import post_weekly_digest
from models.db import concurrent_reads, session_scope
from models.digest_content import DigestFigures
from models.plans import load_plan, set_owners
from models.samples import add_sample_updates
from models.status import Status
from models.synthetic import synthetic_plan
from models.tables import Department, DepartmentOwner, Digest, Initiative, Update
from tests import helpers
from tests.helpers import ADMIN, CHIEF, PERIOD, mrkdwn_texts

NY = ZoneInfo("America/New_York")
LEADERSHIP = "C0LEADERS"
CITY_USERS = {CHIEF: "Fire Chief", "U0POLICE": "Police <!here> Lead"}


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 2, 8, 0, 5, tzinfo=NY))  # Monday 08:00, November 2


@pytest.fixture
async def city(database_url: str, hartford: int, clock: Clock) -> AsyncIterator[Workspace]:
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        now=clock,
        digest_channel=LEADERSHIP,
        users=CITY_USERS,
    ) as ws:
        async with session_scope(ws.engine) as session:
            await add_sample_updates(session, hartford, "2026-05", 6)
            departments = {d.key: d for d in (await session.exec(select(Department))).all()}
            for key, owner in [
                ("fire", CHIEF),
                ("police", "U0POLICE"),
                ("dds", "U0DEV"),
                ("hhs", "U0HEALTH"),
                ("finance", "U0FIN"),
                ("ests", "U0ESTS"),
            ]:
                await set_owners(session, departments[key], [owner])
        yield ws


def posted_digests(ws: Workspace) -> list:
    return [
        c
        for c in ws.slack.calls_to("chat.postMessage")
        if (c.args.get("metadata") or {}).get("event_type") == "planbot_digest"
    ]


async def add_update(
    ws: Workspace,
    key: str,
    number: int,
    status: Status,
    note: str,
    when: datetime,
    period: str = PERIOD,
) -> None:
    await helpers.add_update(
        ws.engine, key, number, period, status, when, author=CHIEF, source="form", note=note
    )


async def test_digest_numbers_add_up(city: Workspace, clock: Clock) -> None:
    ws = city
    run = await post_weekly_digest(
        ws.ctx, ws.app.client, Cycle(ws.ctx, ws.app.client, timedelta(hours=72)).names
    )
    assert run.outcome == "posted" and run.week == "2026-11-02"
    (main,) = posted_digests(ws)
    blocks = main.args["blocks"]
    check_message(blocks, main.args["text"])
    shown = json.dumps(blocks, ensure_ascii=False)
    async with session_scope(ws.engine) as session:
        latest: Counter[str | None] = Counter()
        for initiative_id in (await session.exec(select(Initiative.id))).all():
            status = (
                await session.exec(
                    select(Update.status)
                    .where(Update.initiative_id == initiative_id)
                    .order_by(Update.period.desc(), Update.received_at.desc(), Update.id.desc())  # type: ignore[attr-defined,union-attr]
                )
            ).first()
            latest[status] += 1
        owned = set((await session.exec(select(DepartmentOwner.department_id))).all())
        with_initiatives = set((await session.exec(select(Initiative.department_id))).all())
        reported = set(
            (
                await session.exec(
                    select(Initiative.department_id)
                    .join(Update)
                    .where(Update.period == PERIOD, Update.source != "plan")
                )
            ).all()
        )
    assert sum(latest.values()) == 87 and "87 initiatives" in shown
    for status in Status:
        if latest[status.value]:
            assert f"{status.emoji} {latest[status.value]}" in shown
    expected, unowned = len(with_initiatives), len(with_initiatives - owned)
    assert (
        f"{len(reported)} of {expected} departments with initiatives reported for October 2026 "
        f"({len(reported) * 100 // expected}%); {unowned} have no owner"
    ) in shown
    # Owners named, not pinged; a hostile display name is shown, not executed.
    assert "<@" not in json.dumps(main.args) and "<!here>" not in json.dumps(main.args)


async def test_changes_between_two_digests_and_stale_work(city: Workspace, clock: Clock) -> None:
    ws = city
    cycle = Cycle(ws.ctx, ws.app.client, timedelta(hours=72))
    assert (await cycle.run_due()).digest.outcome == "posted"  # type: ignore[union-attr]
    async with session_scope(ws.engine) as session:
        fire3 = (
            await session.exec(
                select(Update.status)
                .join(Initiative)
                .join(Department)
                .where(Department.key == "fire", Initiative.number == 3)
                .order_by(Update.period.desc(), Update.received_at.desc(), Update.id.desc())  # type: ignore[attr-defined,union-attr]
            )
        ).first()
    new = Status.OFF_TRACK if fire3 != Status.OFF_TRACK else Status.ON_TRACK
    await add_update(
        ws, "fire", 3, new, "Roof <!channel> & <@U123> leak", datetime(2026, 11, 4, 12, tzinfo=NY)
    )
    # A stale item: ESTS #2 on track in the three latest periods.
    for period, day in (("2026-08", 3), ("2026-09", 4), ("2026-10", 5)):
        await add_update(
            ws, "ests", 2, Status.ON_TRACK, "steady", datetime(2026, 11, day, 13, tzinfo=NY), period
        )
    first_posted = clock.moment
    clock.moment = datetime(2026, 11, 9, 8, 1, tzinfo=NY)
    assert (await cycle.run_due()).digest.outcome == "posted"  # type: ignore[union-attr]
    async with session_scope(ws.engine) as session:
        received = (
            await session.exec(
                select(sa.func.count())
                .select_from(Update)
                .where(Update.received_at > first_posted, Update.received_at <= clock.moment)
            )
        ).one()
    second = posted_digests(ws)[-1]
    everything = json.dumps(
        [
            second.args,
            *[
                c.args
                for c in ws.slack.calls_to("chat.postMessage")
                if c.args.get("thread_ts") == second.response["ts"]
            ],
        ],
        ensure_ascii=False,
    )
    assert f"{new.emoji} {new.word}" in everything and "Fire #3" in everything
    assert f"{received} new updates" in everything
    assert "no progress since" in everything and "Emergency Services" in everything
    assert "<!channel>" not in everything and "&lt;!channel&gt;" in everything
    assert "<@U123>" not in everything and "&amp;" in everything


async def test_chart_is_uploaded_in_the_thread(city: Workspace) -> None:
    ws = city
    run = await post_weekly_digest(
        ws.ctx, ws.app.client, Cycle(ws.ctx, ws.app.client, timedelta(hours=1)).names
    )
    (complete,) = await ws.slack.wait_for("files.completeUploadExternal")
    assert complete.args.get("thread_ts") == run.ts
    pngs = list(ws.slack.uploads.values())
    assert len(pngs) == 2
    for png in pngs:
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and 5_000 < len(png) < 1_000_000


async def test_the_charts_are_drawn_while_the_content_is_queried_and_match_it(
    city: Workspace,
) -> None:
    ws = city
    built = await digest_for(ws.ctx, ws.app.client, PeopleNames(), preview=False, charts=True)
    assert built.charts is not None
    alone = render_charts(
        DigestFigures(built.content.goals, built.content.trend), built.content.period
    )
    assert built.charts == alone  # the same data draws the same bytes
    assert built.charts.by_goal_title == "Status by goal, October 2026"
    without = await digest_for(ws.ctx, ws.app.client, PeopleNames(), preview=False)
    assert without.charts is None and without.content == built.content


@pytest.mark.parametrize("charts", [False, True], ids=["preview", "with charts"])
async def test_without_a_pool_the_parts_are_read_one_after_the_other_and_say_the_same(
    city: Workspace, database_url: str, clock: Clock, charts: bool
) -> None:
    """An engine without a pool of the bot's own (an in-memory SQLite database is one
    connection; here a caller's NullPool) reads the digest's parts one after the other, not at
    once (with charts three reads, without two): the same digest, word for word, and the
    same charts, byte for byte."""
    at_once = await digest_for(
        city.ctx, city.app.client, PeopleNames(), preview=False, charts=charts
    )
    assert concurrent_reads(city.engine)
    options = {"poolclass": NullPool}
    async with Workspace(
        database_url, now=clock, digest_channel=LEADERSHIP, users=CITY_USERS, engine_options=options
    ) as apart:
        assert not concurrent_reads(apart.engine)
        in_turn = await digest_for(
            apart.ctx, apart.app.client, PeopleNames(), preview=False, charts=charts
        )
    assert in_turn.content == at_once.content
    assert in_turn.messages == at_once.messages
    assert in_turn.charts == at_once.charts
    assert (at_once.charts is not None) == charts
    assert at_once.content.attention and at_once.content.trend  # a digest with something in it


async def test_a_chart_that_fails_to_draw_is_logged_and_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # render_trend refuses periods without counts: a real failure, in a worker thread.
    drawing = asyncio.ensure_future(asyncio.to_thread(render_trend, ["2026-10"], [], "Trend"))
    with caplog.at_level(logging.ERROR, logger="handlers.digest_build"):
        assert await settled_charts(drawing) is None
    assert "could not be drawn" in caplog.text and "1 periods but 0 counts" in caplog.text


async def test_exactly_once_a_week_even_across_a_crash(city: Workspace, clock: Clock) -> None:
    ws = city
    cycle = Cycle(ws.ctx, ws.app.client, timedelta(hours=72))
    # A process claimed this week's digest, Slack accepted the post, and the process died
    # before recording it.
    async with session_scope(ws.engine) as session:
        session.add(
            Digest(
                channel_id=LEADERSHIP,
                week="2026-11-02",
                state="posting",
                attempts=1,
                claimed_at=clock.moment - timedelta(minutes=30),
            )
        )
    accepted = ws.slack.seed_message(
        LEADERSHIP,
        "Plan digest",
        user="UPLANBOT",
        metadata={"event_type": "planbot_digest", "event_payload": {"week": "2026-11-02"}},
    )
    run = await post_weekly_digest(ws.ctx, ws.app.client, cycle.names)
    assert run.outcome == "posted" and run.ts == accepted["ts"]
    assert posted_digests(ws) == []  # found, not posted again
    assert (await post_weekly_digest(ws.ctx, ws.app.client, cycle.names)).outcome == "already"
    clock.moment += timedelta(hours=3)
    assert (await cycle.run_due()).digest.outcome == "already"  # type: ignore[union-attr]
    async with session_scope(ws.engine) as session:
        rows = (await session.exec(select(Digest))).all()
    assert [(r.week, r.state, r.message_ts) for r in rows] == [
        ("2026-11-02", "posted", accepted["ts"])
    ]


async def test_digest_preview_is_private_and_records_nothing(city: Workspace) -> None:
    reply = await city.command("digest", user="U0COO")
    assert reply.message["response_type"] == "ephemeral"
    assert "Preview" in reply.text and "nothing was recorded" in reply.text
    async with session_scope(city.engine) as session:
        assert (await session.exec(select(sa.func.count()).select_from(Digest))).one() == 0
    assert posted_digests(city) == []


async def test_digest_fits_slack_on_a_10000_initiative_plan(sqlite_url: str) -> None:
    async with Workspace(
        sqlite_url,
        admins=(ADMIN,),
        digest_channel=LEADERSHIP,
        now=lambda: datetime(2026, 11, 2, 8, 0, tzinfo=NY),
    ) as ws:
        async with session_scope(ws.engine) as session:
            plan = await load_plan(session, synthetic_plan(200, 50, 40, seed=11), period=PERIOD)
            await add_sample_updates(session, plan.plan_id, "2026-08", 3, skip_last_share=0.4)
            departments = (await session.exec(select(Department))).all()
            for index, department in enumerate(departments[:150]):
                await set_owners(session, department, [f"U0OWNER{index}"])
        run = await post_weekly_digest(
            ws.ctx, ws.app.client, Cycle(ws.ctx, ws.app.client, timedelta(hours=1)).names
        )
        assert run.outcome == "posted" and run.thread_messages >= 1
        messages = [c.args for c in ws.slack.calls_to("chat.postMessage")]
        for message in messages:
            check_message(message["blocks"], message["text"])
        assert "more" in json.dumps(messages[0]["blocks"])


async def test_the_main_post_reads_in_twenty_seconds(city: Workspace, clock: Clock) -> None:
    """The week it covers, the response rate, what got worse, the five most serious items, one
    line per Mayor's goal — on one screen; everything else in the thread."""
    ws = city
    cycle = Cycle(ws.ctx, ws.app.client, timedelta(hours=72))
    assert (await cycle.run_due()).digest.outcome == "posted"  # type: ignore[union-attr]
    await add_update(
        ws, "fire", 3, Status.OFF_TRACK, "Roof leak", datetime(2026, 11, 4, 12, tzinfo=NY)
    )
    clock.moment = datetime(2026, 11, 9, 8, 1, tzinfo=NY)
    assert (await cycle.run_due()).digest.outcome == "posted"  # type: ignore[union-attr]
    second = posted_digests(ws)[-1]
    blocks = second.args["blocks"]
    assert blocks[0]["text"]["text"] == "Weekly plan digest · Nov 2 – Nov 9, 2026"
    texts = mrkdwn_texts(blocks)
    assert "departments with initiatives reported for October 2026" in texts[0]
    main = "\n".join(texts)
    assert len(main.splitlines()) <= 32
    worse = main.split("*Got worse this week*", 1)[1].split("*Most serious*", 1)[0]
    assert "*Fire #3*" in worse and "→ 🔴 Off track" in worse
    serious = main.split("*Most serious*", 1)[1].split("*Goals*", 1)[0]
    assert len(re.findall(r"^(?:🔴 Off track|🟡 At risk) · ", serious, re.MULTILINE)) == 5
    goals = main.split("*Goals*", 1)[1]
    for name in ("Safety", "Jobs and Economic Development", "Education", "Quality of Life"):
        assert f"*{name}* — " in goals
    assert "Not reported for" not in main
    thread = json.dumps(
        [
            c.args
            for c in ws.slack.calls_to("chat.postMessage")
            if c.args.get("thread_ts") == second.response["ts"]
        ],
        ensure_ascii=False,
    )
    assert "*Not reported for October 2026*" in thread and "*Other goals*" in thread


async def test_the_text_and_the_chart_give_the_same_figures_for_the_open_month(
    city: Workspace,
) -> None:
    """The trend's last column (October, still being reported: some departments have not
    answered) is the digest's totals, not a drop to "no update"."""
    ws = city
    built = await digest_for(ws.ctx, ws.app.client, PeopleNames(), preview=False, charts=True)
    content = built.content
    assert content.response.missing  # October is still being reported
    (last_period, last_counts) = content.trend[-1]
    assert last_period == PERIOD
    assert last_counts == content.totals
    main = "\n".join(mrkdwn_texts(built.messages.main.blocks))
    for status, count in content.totals.shown():
        word = (status.word if status else "No update").lower()
        assert f"{count} {word}" in main
