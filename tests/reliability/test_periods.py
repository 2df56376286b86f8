"""A button or form names its period, and anyone can send one that names any period: a report
is taken only for a period the plan is reported on — not before its first month, not one that
has not begun — with a clear private word and nothing written otherwise."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.workspace import Workspace
from handlers.ids import ActionId
from handlers.reading.buttons import prompt_value
from models.db import session_scope
from models.tables import Update
from tests.helpers import (
    ADMIN,
    CHIEF,
    NOW,
    PEOPLE,
    chosen,
    mrkdwn_texts,
    opened_form,
    own,
    reported_before,
)


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    """Hartford loaded for October 2026 (its first month), Fire owned by the chief."""
    async with Workspace(database_url, admins=(ADMIN,), users=PEOPLE, now=lambda: NOW) as ws:
        await own(ws, "fire", CHIEF)
        await reported_before(ws, "fire", 1, "2026-09", "on_track")
        yield ws


async def written(ws: Workspace) -> list[Update]:
    async with session_scope(ws.engine) as session:
        rows = await session.exec(select(Update).where(Update.source.not_in(("import", "plan"))))
        return list(rows.all())


@pytest.mark.parametrize(
    ("period", "said"),
    [
        ("1999-01", "January 1999 is before this plan's first month (October 2026)"),
        ("2026-09", "September 2026 is before this plan's first month (October 2026)"),
        ("2027-03", "March 2027 has not begun yet"),
    ],
)
async def test_a_form_for_a_period_outside_the_plan_is_refused_inline(
    fire: Workspace, period: str, said: str
) -> None:
    view = await opened_form(fire, CHIEF)
    metadata = json.loads(view["private_metadata"])
    forged = {**view, "private_metadata": json.dumps({**metadata, "p": period})}
    answer = await fire.submit(forged, {"status-1": chosen("complete")}, user=CHIEF)
    assert answer["response_action"] == "errors"
    (shown,) = answer["errors"].values()
    assert shown.startswith(said) and "nothing was recorded" in shown
    assert await written(fire) == []


async def test_the_plans_own_months_are_still_taken_late(fire: Workspace) -> None:
    view = await opened_form(fire, CHIEF)  # October 2026, the open period on Nov 4
    answer = await fire.submit(view, {"status-1": chosen("complete")}, user=CHIEF)
    assert answer == {}
    assert [(u.period, u.status) for u in await written(fire)] == [("2026-10", "complete")]


async def test_no_change_for_a_month_before_the_plan_is_refused_privately(
    fire: Workspace,
) -> None:
    reply = await fire.click(
        ActionId.NO_CHANGE, prompt_value("fire", "1999-01"), user=CHIEF, channel="C0UPDATES"
    )
    (private,) = reply.followups
    assert private["response_type"] == "ephemeral"
    assert "January 1999 is before this plan's first month" in "\n".join(
        mrkdwn_texts(private["blocks"])
    )
    assert await written(fire) == []
