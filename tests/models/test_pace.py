"""The workspace's shared pace (models/pace.py): slots one gap apart, a short burst after a quiet
spell as a token bucket allows, and nothing before a 429's Retry-After. Times are given, not
read from the clock, so each slot is known exactly."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models.db import session_scope
from models.pace import IDLE_SECONDS, slow_down, take_slot

GAP = 0.25


async def slots(engine: AsyncEngine, now: float, n: int, burst: int) -> list[float]:
    taken = []
    for _ in range(n):
        async with session_scope(engine) as session:
            slot, _ = await take_slot(session, now, GAP, burst=burst)
        taken.append(slot)
    return taken


async def test_without_a_burst_the_first_slot_is_now_and_the_rest_one_gap_apart(
    engine: AsyncEngine,
) -> None:
    assert await slots(engine, 1000.0, 3, burst=1) == pytest.approx([1000.0, 1000.25, 1000.5])


async def test_a_quiet_budget_lets_a_burst_go_at_once_then_keeps_the_pace(
    engine: AsyncEngine,
) -> None:
    taken = await slots(engine, 1000.0, 6, burst=4)
    # The first four are due by now (none waits); the fifth and sixth one gap apart after. No
    # more than `burst` are ever ahead of the pace: by any moment t, at most
    # burst + (t - now) / gap slots have come due.
    assert taken == pytest.approx([999.25, 999.5, 999.75, 1000.0, 1000.25, 1000.5])
    # A busy budget gives no second burst: the next slot follows the last.
    assert await slots(engine, 1000.1, 1, burst=4) == pytest.approx([1000.75])
    # Quiet again (the slots have run out): a new burst, from the new now.
    later = 1000.75 + IDLE_SECONDS + 1
    assert await slots(engine, later, 2, burst=2) == pytest.approx([later - GAP, later])


async def test_a_429_holds_every_slot_until_its_retry_after_burst_or_not(
    engine: AsyncEngine,
) -> None:
    await slots(engine, 1000.0, 1, burst=4)
    async with session_scope(engine) as session:
        await slow_down(session, until=1003.0, seen_gap=GAP, most_gap=10.0)
    after = await slots(engine, 1000.5, 2, burst=4)
    # Nothing before the Retry-After, and then a gap wider than before (it narrows post by post).
    assert after[0] >= 1003.0 and after[1] - after[0] > GAP


async def test_a_pace_slowed_by_a_429_gets_no_burst_until_it_has_recovered(
    engine: AsyncEngine,
) -> None:
    await slots(engine, 1000.0, 1, burst=4)
    async with session_scope(engine) as session:
        await slow_down(session, until=1003.0, seen_gap=GAP, most_gap=10.0)
    # Well past the Retry-After, but not idle: the widened gap still holds, and no post goes
    # before now — none catches up on the posts the slow-down held back.
    later = 1010.0
    assert later < 1003.0 + IDLE_SECONDS
    taken = await slots(engine, later, 3, burst=4)
    assert taken[0] == pytest.approx(later)
    assert taken[1] - taken[0] > GAP and taken[2] - taken[1] > GAP
