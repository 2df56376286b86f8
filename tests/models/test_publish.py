"""Publishing a period (issue 17, item 1): the snapshot shows the plan as it stood at the end of
the period, names people by role, carries only the notes left in, and is written once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from models.db import session_scope
from models.plans import set_owners
from models.publish import (
    ROLE_DEPUTY,
    ROLE_LEAD,
    AlreadyPublished,
    build_snapshot,
    notes_to_review,
    publish,
    published_periods,
)
from models.status import Status
from models.tables import Initiative, Update
from tests.helpers import CHIEF, find_department

DEPUTY = "U0DEPUTY"
WHEN = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def add(
    engine: AsyncEngine,
    number: int,
    period: str,
    status: str,
    note: str = "",
    author: str = CHIEF,
    on_behalf_of: str | None = None,
) -> None:
    async with session_scope(engine) as session:
        fire = await find_department(session, "fire")
        initiative = (
            await session.exec(
                select(Initiative).where(
                    Initiative.department_id == fire.id, Initiative.number == number
                )
            )
        ).one()
        assert initiative.id is not None
        session.add(
            Update(
                initiative_id=initiative.id,
                period=period,
                status=Status(status),
                note=note,
                author=author,
                on_behalf_of=on_behalf_of,
                source="thread",
                received_at=datetime(int(period[:4]), int(period[5:]), 27, tzinfo=UTC),
            )
        )


@pytest.fixture
async def fire_reported(engine: AsyncEngine, hartford: int) -> int:
    async with session_scope(engine) as session:
        fire = await find_department(session, "fire")
        await set_owners(session, fire, [CHIEF])
    await add(engine, 1, "2026-10", "on_track", "12 recruits started the academy")
    await add(engine, 2, "2026-10", "at_risk", "waiting on the union <!channel>")
    await add(engine, 3, "2026-09", "off_track", "roof leak", author=DEPUTY, on_behalf_of=CHIEF)
    await add(engine, 1, "2026-11", "complete", "November: done")  # after the period
    return hartford


async def test_the_snapshot_is_the_period_as_it_stood(
    engine: AsyncEngine, fire_reported: int
) -> None:
    async with session_scope(engine) as session:
        snap = await build_snapshot(session, fire_reported, "2026-10", start_month=7)
    by_id = {i["id"]: i for i in snap["initiatives"]}
    # November's update is not October's truth.
    assert by_id["fire-1"]["status"] == "on_track" and by_id["fire-1"]["as_of"] == "2026-10"
    assert by_id["fire-1"]["reported_for_period"] is True
    assert by_id["fire-3"]["status"] == "off_track" and by_id["fire-3"]["as_of"] == "2026-09"
    assert by_id["fire-3"]["reported_for_period"] is False
    # People by role, never by Slack identity.
    assert (
        by_id["fire-1"]["updated_by"] == ROLE_LEAD and by_id["fire-3"]["updated_by"] == ROLE_DEPUTY
    )
    assert CHIEF not in str(snap) and DEPUTY not in str(snap)
    fire = next(d for d in snap["departments"] if d["key"] == "fire")
    assert fire["counts"]["on_track"] == 1 and fire["counts"]["off_track"] == 1
    assert sum(snap["counts"].values()) == len(snap["initiatives"])
    notes = notes_to_review(snap)
    assert [(n.initiative, n.text) for n in notes if n.department == "Fire"] == [
        ("fire-1", "12 recruits started the academy"),
        ("fire-2", "waiting on the union <!channel>"),
        ("fire-3", "roof leak"),
    ]


async def test_publish_once_with_notes_left_out(engine: AsyncEngine, fire_reported: int) -> None:
    async with session_scope(engine) as session:
        done = await publish(
            session,
            fire_reported,
            "2026-10",
            by="U0ADMIN",
            now=WHEN,
            start_month=7,
            left_out=["fire-2"],
        )
    assert done.left_out == ["fire-2"] and len(done.etag) == 32
    assert "waiting on the union" not in done.content and "roof leak" in done.content
    assert "U0ADMIN" not in done.content
    async with session_scope(engine) as session:
        with pytest.raises(AlreadyPublished) as refused:
            await publish(session, fire_reported, "2026-10", by="U0OTHER", now=WHEN, start_month=7)
        assert refused.value.publication.published_by == "U0ADMIN"
        assert await published_periods(session, fire_reported) == ["2026-10"]
