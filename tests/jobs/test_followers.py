"""Followers (issue 16, item 8): `/plan follow safety` — a read-only person gets that goal's
lines of the weekly digest by direct message when the digest goes out, once a week, with or
without a leadership channel, and is never asked to report; `/plan unfollow` stops it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.workspace import Workspace
from jobs.scheduler import Cycle
from tests.helpers import ADMIN, COO

NY = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 2, 8, 0, 5, tzinfo=NY)
READER = "U0READER"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, Clock]]:
    clock = Clock(MONDAY - timedelta(days=3))
    async with Workspace(database_url, admins=(ADMIN,), now=clock) as ws:
        yield ws, clock


def direct_to(ws: Workspace, user: str) -> list[Any]:
    return [c for c in ws.slack.calls_to("chat.postMessage") if c.args["channel"] == user]


async def test_follow_and_unfollow_a_goal(city: tuple[Workspace, Clock]) -> None:
    ws, _ = city
    done = await ws.command("follow safety", user=READER)
    assert "You follow *Safety*" in done.text and "not asked to report" in done.text
    assert "already follow *Safety*" in (await ws.command("follow Safety", user=READER)).text
    await ws.command("follow education", user=READER)
    listed = await ws.command("follow", user=READER)
    assert "You follow *Safety* and *Education*" in listed.text
    guessed = await ws.command("follow sfety", user=READER)  # a change is never guessed
    assert "You follow" not in guessed.text and "safety" in guessed.text.lower()
    stopped = await ws.command("unfollow education", user=READER)
    assert "no longer follow *Education*" in stopped.text
    assert "did not follow" in (await ws.command("unfollow education", user=READER)).text
    assert "You follow *Safety*:" in (await ws.command("follow", user=READER)).text


async def test_followers_get_their_goals_lines_when_the_digest_goes_out(
    city: tuple[Workspace, Clock],
) -> None:
    ws, clock = city
    await ws.command("follow safety", user=READER)
    await ws.command("follow jobs", user=COO)
    cycle = Cycle(ws.ctx, ws.app.client, timedelta(hours=2))
    assert (await cycle.run_due()).followers is None  # not the digest's time yet
    clock.moment = MONDAY
    due = await cycle.run_due()
    assert due.followers is not None and due.digest is None  # no leadership channel set
    assert sorted(due.followers.sent) == [f"{COO}/jobs", f"{READER}/safety"]
    (reader,) = direct_to(ws, READER)
    shown = json.dumps(reader.args["blocks"], ensure_ascii=False)
    assert "Your weekly lines for *Safety* (week of 2026-11-02)" in shown
    assert "Safety" in reader.args["text"] and "/plan unfollow" in shown
    (coo,) = direct_to(ws, COO)
    assert "Jobs and Economic Development" in json.dumps(coo.args, ensure_ascii=False)
    clock.moment += timedelta(minutes=15)  # the retry tick
    again = await cycle.run_due()
    assert again.followers is not None and sorted(again.followers.already) == sorted(
        due.followers.sent
    )
    assert len(direct_to(ws, READER)) == 1
    await ws.command("unfollow safety", user=READER)
    clock.moment = MONDAY + timedelta(days=7)
    next_week = await cycle.run_due()
    assert next_week.followers is not None and next_week.followers.sent == [f"{COO}/jobs"]
    assert len(direct_to(ws, READER)) == 1
