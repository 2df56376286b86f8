"""The COO's next questions, through the real request path: the plan-wide lists (`/plan off
track`, `/plan at risk`, `/plan stale`), one initiative (`/plan fire 3`), who owns what
(`/plan owners`), what changed (`/plan changes`), a goal's answer that leads with what needs
attention, and misspellings that are answered rather than questioned."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.workspace import Workspace
from handlers.messages.limits import check_message
from handlers.people import PeopleNames
from jobs.weekly_digest import post_weekly_digest
from models.db import session_scope
from models.samples import add_sample_updates
from models.tables import Department, Initiative, Update
from tests.helpers import (
    ADMIN,
    CHIEF,
    COO,
    PEOPLE,
    chosen,
    mrkdwn_texts,
    open_form,
    own,
    typed_note,
)

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # November is the open period
LEADERSHIP = "C0LEADERS"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def city(database_url: str, hartford: int, clock: Clock) -> AsyncIterator[Workspace]:
    """Hartford with six months of sample data, Fire owned by the chief; requests are answered
    after their listeners finish."""
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        users=PEOPLE,
        now=clock,
        digest_channel=LEADERSHIP,
        process_before_response=True,
    ) as ws:
        async with session_scope(ws.engine) as session:
            await add_sample_updates(session, hartford, "2026-06", 6, now=NOW)
        await own(ws, "fire", CHIEF)
        yield ws


def blocks_of(reply_message: dict) -> str:
    return json.dumps(reply_message.get("blocks", []), ensure_ascii=False)


# --- misspellings -----------------------------------------------------------------------------


async def test_a_clear_misspelling_is_answered_and_said(city: Workspace) -> None:
    fier = (await city.command("fier", user=COO)).message
    assert fier["blocks"][0]["text"]["text"] == "Fire"
    assert "Showing *Fire*, the closest match to “fier”." in blocks_of(fier)
    exact = (await city.command("fire", user=COO)).message
    assert "closest match" not in blocks_of(exact)


async def test_department_said_in_full_is_found(city: Workspace) -> None:
    works = (await city.command("public works department", user=COO)).message
    assert works["blocks"][0]["text"]["text"] == "Public Works"
    assert "closest match" not in blocks_of(works)
    safety = (await city.command("the safety goal", user=COO)).message
    assert safety["blocks"][0]["text"]["text"] == "Safety"


# --- the plan-wide lists ----------------------------------------------------------------------


async def latest_statuses(ws: Workspace) -> dict[tuple[str, int], str]:
    """Each initiative's latest status, by (department name, number), read the slow way."""
    async with session_scope(ws.engine) as session:
        rows = (
            await session.exec(
                select(Department.name, Initiative.number, Update.status)
                .join(Initiative, Initiative.department_id == Department.id)
                .join(Update, Update.initiative_id == Initiative.id)
                .order_by(Update.period, Update.received_at, Update.id)
            )
        ).all()
    return {(name, number): status for name, number, status in rows}


@pytest.mark.parametrize(
    ("typed", "status", "title"),
    [("off track", "off_track", "Off track"), ("at risk", "at_risk", "At risk")],
)
async def test_plan_wide_list_names_each_initiative_once_under_a_goal(
    city: Workspace, typed: str, status: str, title: str
) -> None:
    reply = await city.command(typed, user=COO)
    message = reply.message
    assert message["response_type"] == "ephemeral"
    check_message(message["blocks"], message["text"])
    assert message["blocks"][0]["text"]["text"] == f"{title} across the plan — November 2026"
    shown = "\n".join(mrkdwn_texts(message["blocks"]))
    expected = {key for key, s in (await latest_statuses(city)).items() if s == status}
    assert expected
    named = re.findall(r"· \*([^*#]+) #(\d+)\*", shown)
    assert sorted((name.replace("&amp;", "&"), int(n)) for name, n in named) == sorted(expected)
    groups = [int(n) for n in re.findall(r"^\*[^*]+\* \((\d+)\)$", shown, re.MULTILINE)]
    assert sum(groups) == len(expected)
    assert f"*{len(expected)} initiatives*" in shown
    assert "Share in channel" in blocks_of(message)


async def test_one_initiative_in_full(city: Workspace) -> None:
    message = (await city.command("fire 4", user=COO)).message
    assert message["blocks"][0]["text"]["text"] == "Fire #4"
    shown = "\n".join(mrkdwn_texts(message["blocks"]))
    assert "Goals: Safety, Protect the City's Natural and Built Environment" in shown
    assert f"Owners: <@{CHIEF}>" in shown
    assert "*Latest:* " in shown
    for month in ("November", "October", "September", "August", "July", "June"):
        assert f"*{month} 2026* — " in shown
    assert "May 2026" not in shown
    nothing = (await city.command("fire 99", user=COO)).text
    assert "Fire has no initiative #99" in nothing


async def test_who_owns_what_and_when_they_last_answered(city: Workspace) -> None:
    view = await open_form(city, CHIEF)
    at_risk = {"status-4": chosen("at_risk"), "note-4": typed_note("waiting on parts")}
    assert await city.submit(view, at_risk, user=CHIEF) == {}
    shown = "\n".join(mrkdwn_texts((await city.command("owners", user=COO)).message["blocks"]))
    fire = next(line for line in shown.splitlines() if line.startswith("• *Fire*"))
    assert f"<@{CHIEF}>" in fire and "✔ reported for November" in fire
    assert f"last answer <@{CHIEF}>, Dec 2" in fire
    assert "1 of 18 departments with initiatives have an owner" in shown


async def test_what_changed_since_the_last_digest(city: Workspace, clock: Clock) -> None:
    before = (await city.command("changes", user=COO)).text
    assert "in the last seven days (no digest yet)" in before
    assert (await post_weekly_digest(city.ctx, city.app.client, PeopleNames())).outcome == "posted"
    clock.moment = NOW + timedelta(hours=2)
    view = await open_form(city, CHIEF)
    off_track = {"status-4": chosen("off_track"), "note-4": typed_note("the grant fell through")}
    assert await city.submit(view, off_track, user=CHIEF) == {}
    changes = (await city.command("changes", user=COO)).message
    shown = "\n".join(mrkdwn_texts(changes["blocks"]))
    assert changes["blocks"][0]["text"]["text"] == "What changed since Dec 2, 2026"
    assert "since the last digest · 1 change, 1 for the worse" in shown
    assert "• *Fire #4* 🟢 On track → 🔴 Off track" in shown
    safety = "\n".join(
        mrkdwn_texts((await city.command("changes safety", user=COO)).message["blocks"])
    )
    assert "*Fire #4*" in safety  # Fire #4 serves Safety
    education = (await city.command("changes education", user=COO)).text
    assert "Fire #4" not in education and "No initiative changed status." in education


# --- a goal leads with what needs attention ---------------------------------------------------


async def test_a_goal_leads_with_what_needs_attention(city: Workspace) -> None:
    message = (await city.command("safety", user=COO)).message
    shown = "\n".join(mrkdwn_texts(message["blocks"]))
    assert shown.index("*Needs attention*") < shown.index("*By department*")
    lines = [line for line in shown.splitlines() if re.match(r"^\*[^*]+\* — .* — ", line)]
    off_track = [line.count("🔴") and int(re.search(r"🔴 (\d+)", line).group(1)) for line in lines]
    at_risk = [int(m.group(1)) if (m := re.search(r"🟡 (\d+)", line)) else 0 for line in lines]
    ranks = [(-o, -a) for o, a in zip(off_track, at_risk, strict=True)]
    assert ranks == sorted(ranks) and len(lines) == 6
    # The objectives in one line, and in full on asking.
    assert "*Objectives:* Continue to refine our “Community Policing” plan" in shown
    assert "(and 2 more) · all of them: `/plan safety objectives`" in shown
    assert "Deploy new technology" not in shown
    full = "\n".join(
        mrkdwn_texts((await city.command("safety objectives", user=COO)).message["blocks"])
    )
    assert "• Deploy new technology to prevent and fight crime" in full


async def test_help_names_the_new_questions(city: Workspace) -> None:
    shown = (await city.command("help", user=COO)).text
    for command in ("off track", "at risk", "stale", "fire 3", "owners", "changes"):
        assert f"`/plan {command}`" in shown, command


async def test_a_misspelling_never_changes_owners(city: Workspace) -> None:
    answer = (await city.command("owner fier <@U0NEW>", user=ADMIN)).text
    assert "/plan fire" in answer and "is now owned by" not in answer
    owners = "\n".join(mrkdwn_texts((await city.command("owners", user=COO)).message["blocks"]))
    assert "U0NEW" not in owners
