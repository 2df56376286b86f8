"""Numbers people can trust, through the real request path: a lead's own update is the one
shown, loading the plan is not reporting, one response rate everywhere, a department with
nothing to report is not "missing", and stale means no progress."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.workspace import Workspace
from handlers.people import PeopleNames
from jobs.weekly_digest import post_weekly_digest
from models.db import session_scope
from models.samples import SAMPLE_AUTHOR, add_sample_updates
from models.status import Status
from models.tables import Department, Initiative, Update
from tests.helpers import (
    ADMIN,
    CHIEF,
    COO,
    PEOPLE,
    chosen,
    open_form,
    own,
    typed_note,
    typed_percent,
)

# The 2nd of December: November is the open period, and the month's sample answers would
# (before) have been dated up to the 11th, in the future.
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
OPEN = "2026-11"


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    """Hartford with six months of sample data up to the open period, Fire owned by the chief;
    requests are answered after their listeners finish."""
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        users=PEOPLE,
        now=lambda: NOW,
        process_before_response=True,
    ) as ws:
        async with session_scope(ws.engine) as session:
            await add_sample_updates(session, hartford, "2026-06", 6, now=NOW)
        await own(ws, "fire", CHIEF)
        yield ws


async def fire_initiative_not_complete(ws: Workspace) -> int:
    """The number of a Fire initiative the samples left open (the form asks about it)."""
    async with session_scope(ws.engine) as session:
        rows = (
            await session.exec(
                select(Initiative.number, Update.status)
                .join(Update, Update.initiative_id == Initiative.id)
                .join(Department, Department.id == Initiative.department_id)
                .where(Department.key == "fire", Update.period == OPEN)
                .order_by(Initiative.number)
            )
        ).all()
    return next(number for number, status in rows if status != Status.COMPLETE)


async def test_no_sample_is_dated_in_the_future(city: Workspace) -> None:
    async with session_scope(city.engine) as session:
        samples = select(Update.received_at).where(Update.author == SAMPLE_AUTHOR)
        newest = max((await session.exec(samples)).all())
    assert newest <= NOW


async def test_the_chiefs_own_update_is_the_one_shown(city: Workspace) -> None:
    ws = city
    number = await fire_initiative_not_complete(ws)
    view = await open_form(ws, CHIEF)
    values = {f"status-{number}": chosen("at_risk"), f"note-{number}": typed_note("Chief's word")}
    assert await ws.submit(view, values, user=CHIEF) == {}

    department = json.dumps((await ws.command("fire", user=COO)).message, ensure_ascii=False)
    shown = department.split(f"*#{number}*", 1)[1].split("*#", 1)[0]
    assert "Chief's word" in shown and "🟡 At risk" in shown
    assert "@sample" not in shown and "USAMPLE" not in shown

    history = (await ws.command(f"history fire {number}", user=COO)).message
    newest = json.dumps(history["blocks"][4], ensure_ascii=False)
    assert "November 2026" in newest and "Chief's word" in newest and f"<@{CHIEF}>" in newest


# --- the plan just loaded: its own statuses are a baseline, not reports ------------------------

LOADED_NOW = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)  # October is open; the plan loaded in it


@pytest.fixture
async def just_loaded(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    """Hartford as loaded, nobody has answered; Health & Human Services #8 and #9 are marked
    "(completed)" in the plan."""
    async with Workspace(database_url, admins=(ADMIN,), users=PEOPLE, now=lambda: LOADED_NOW) as ws:
        await own(ws, "hhs", "U0HEALTH")
        yield ws


async def test_loading_the_plan_is_not_reporting(just_loaded: Workspace) -> None:
    ws = just_loaded
    missing = (await ws.command("missing", user=COO)).text
    assert "0 of 18 departments with initiatives reported for October 2026 (0%)" in missing
    assert "Health &amp; Human Services" in missing

    hhs = (await ws.command("hhs", user=COO)).text
    assert "not yet reported for October" in hhs and "✔ reported" not in hhs
    assert "✅ Complete · from the plan" in hhs
    assert "<@>" not in hhs

    history = (await ws.command("history hhs 8", user=COO)).text
    assert "*September 2026* · ✅ Complete" in history
    assert "— from the plan" in history and "<@>" not in history

    quality = (await ws.command("quality of life", user=COO)).text
    assert "Health &amp; Human Services* — ✅ 2" in quality
    assert "Every department has reported" not in quality


async def test_a_department_with_no_initiatives_has_nothing_to_report(
    just_loaded: Workspace,
) -> None:
    mayor = (await just_loaded.command("mayor", user=COO)).text
    assert "not yet reported" not in mayor
    assert "no initiatives, so nothing to report" in mayor
    assert "Mayor" not in (await just_loaded.command("missing", user=COO)).text


async def test_one_response_rate_everywhere(city: Workspace) -> None:
    """Missing, goals and the digest say the same sentence about the same departments."""
    ws = city
    async with session_scope(ws.engine) as session:
        with_initiatives = set((await session.exec(select(Initiative.department_id))).all())
        reported = set(
            (
                await session.exec(
                    select(Initiative.department_id)
                    .join(Update)
                    .where(Update.period == OPEN, Update.source != "plan")
                )
            ).all()
        )
    expected = len(with_initiatives)
    sentence = (
        f"{len(reported)} of {expected} departments with initiatives reported for November 2026 "
        f"({len(reported) * 100 // expected}%); {expected - 1} have no owner"
    )
    for command in ("missing", "goals", "digest"):
        answer = (await ws.command(command, user=COO)).text
        assert sentence in answer, command


# --- stale means no progress ------------------------------------------------------------------

LEADERSHIP = "C0LEADERS"


async def record(ws: Workspace, number: int, period: str, percent: int, note: str) -> None:
    """Fire #number on track at `percent`, reported for a past `period` a few days after it."""
    year, month = (int(part) for part in period.split("-"))
    async with session_scope(ws.engine) as session:
        initiative = (
            await session.exec(
                select(Initiative.id)
                .join(Department, Department.id == Initiative.department_id)
                .where(Department.key == "fire", Initiative.number == number)
            )
        ).one()
        session.add(
            Update(
                initiative_id=initiative,
                period=period,
                status=Status.ON_TRACK,
                percent=percent,
                note=note,
                author=CHIEF,
                source="form",
                received_at=datetime(year, month + 1, 3, 14, tzinfo=UTC),
            )
        )


@pytest.fixture
async def three_months(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    """Fire #1, #2 and #3 on track in August, September and October (the open period): #1's
    percent went 11% → 20% → 28%, #2 stayed at 30% with nothing new to say, #3 stayed at 40%
    with a new note every month."""
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        users=PEOPLE,
        now=lambda: LOADED_NOW,
        digest_channel=LEADERSHIP,
        process_before_response=True,
    ) as ws:
        await own(ws, "fire", CHIEF)
        for period, first, third in (("2026-08", 11, "Hiring"), ("2026-09", 20, "Interviews")):
            await record(ws, 1, period, first, "Recruits in training")
            await record(
                ws, 2, period, 30, "Waiting for the budget" if first == 11 else "No change"
            )
            await record(ws, 3, period, 40, third)
        view = await open_form(ws, CHIEF)
        values = {
            "status-1": chosen("on_track"),
            "percent-1": typed_percent("28"),
            "note-1": typed_note("Recruits in training"),
            "status-2": chosen("on_track"),
            "percent-2": typed_percent("30"),
            "status-3": chosen("on_track"),
            "percent-3": typed_percent("40"),
            "note-3": typed_note("Offer made"),
        }
        assert await ws.submit(view, values, user=CHIEF) == {}
        yield ws


async def test_stale_means_no_progress(three_months: Workspace) -> None:
    ws = three_months
    run = await post_weekly_digest(ws.ctx, ws.app.client, PeopleNames())
    assert run.outcome == "posted"
    digest = json.dumps(
        [c.args for c in ws.slack.calls_to("chat.postMessage") if c.args["channel"] == LEADERSHIP],
        ensure_ascii=False,
    )
    assert "*Fire #2*" in digest and "August 2026" in digest
    assert "*Fire #1*" not in digest  # its percent moved
    assert "*Fire #3*" not in digest  # something new to say every month
    stale = (await ws.command("stale", user=COO)).text
    assert "🟢 On track · *Fire #2* · 30% · no progress since August 2026" in stale
    assert "*Fire #1*" not in stale and "*Fire #3*" not in stale
