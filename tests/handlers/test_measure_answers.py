"""Measures in `/plan` answers, through the real request path: a goal's answer shows its
measures against target worst first, `/plan measures` lists them all missed first, `/plan
measure NAME` finds one as goals are found (key, name, alias, a slip) — and a plan without
measures answers exactly as before."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.workspace import Workspace
from handlers.messages.limits import check_message
from models.db import session_scope
from models.measurefile import ActualRow, parse_yaml_measures
from models.measures import load_measures, record_actuals
from models.tables import ActualSource
from tests.helpers import ADMIN, COO, PEOPLE, measure_view, mrkdwn_texts

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # November 2026 is open: FY2027 with July starts

MEASURES = """
measures:
  - key: 311-response
    name: 311 response time
    aliases: ["311"]
    description: Average days to close a 311 request.
    unit: days
    direction: lower
    department: mhis
    goals: [quality-of-life]
    targets: {FY2027: 2.5}
  - key: fire-response
    name: Fire response time
    unit: minutes
    direction: lower
    department: fire
    goals: [safety]
    targets: {FY2027: 4.8}
  - key: 911-answer
    name: 9-1-1 calls answered within 10 seconds
    unit: "%"
    direction: higher
    department: ests
    goals: [safety]
    targets: {FY2027: 90}
  - key: violent-crime
    name: Violent crimes reported <!channel>
    unit: count
    direction: lower
    aggregation: sum
    department: police
    goals: [safety]
    targets: {FY2027: 1200}
"""


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        users=PEOPLE,
        now=lambda: NOW,
        process_before_response=True,
    ) as ws:
        async with session_scope(ws.engine) as session:
            await load_measures(
                session, hartford, parse_yaml_measures(MEASURES).measures, source="m.yaml"
            )
            rows = [
                ActualRow("311", "2026-10", 2.7),  # 8% over 2.5: Near
                ActualRow("311", "2026-11", 2.4, note="new triage <b>desk</b>"),  # Met
                ActualRow("fire-response", "2026-11", 5.6),  # 17% over: Missed
                ActualRow("911-answer", "2026-11", 91),  # Met
                # 400 a month against 100 a month (1,200 a year): the sum is far over.
                *(ActualRow("violent-crime", p, 400) for p in ("2026-07", "2026-08")),
            ]
            await record_actuals(
                session, hartford, rows, source=ActualSource.API, author="city-systems"
            )
        yield ws


def lines_of(message: dict) -> list[str]:
    return "\n".join(mrkdwn_texts(message.get("blocks", []))).splitlines()


async def test_a_goal_shows_its_measures_worst_first(city: Workspace) -> None:
    reply = await city.command("safety", user=COO)
    answer = reply.message
    check_message(answer["blocks"])
    lines = [line for line in lines_of(answer) if "target" in line]
    # Missed first, in the plan's order; then Met.
    assert lines[0].startswith("✗ Missed · *Fire response time* · 5.6 minutes vs 4.8 minutes")
    assert lines[1].startswith("✗ Missed · *Violent crimes reported &lt;!channel&gt;*")
    assert "800 YTD vs 200 target" in lines[1]  # two months of a 1,200 year
    assert lines[1].endswith("· August")  # its last figure is August's, said so
    assert lines[2].startswith("✓ Met · *9-1-1 calls answered within 10 seconds* · 91% vs 90%")
    assert "<!channel>" not in reply.text  # a name from a file is escaped like any text
    assert any(
        line.startswith("*Measures* (3) — ✗ 2 missed · ✓ 1 met") for line in lines_of(answer)
    )
    assert "311" not in json.dumps(answer)  # another goal's measure


async def test_every_measure_missed_first(city: Workspace) -> None:
    answer = (await city.command("measures", user=COO)).message
    check_message(answer["blocks"])
    names = [line.split(" · ")[1] for line in lines_of(answer) if " vs " in line]
    assert names == [
        "*Fire response time*",
        "*Violent crimes reported &lt;!channel&gt;*",
        "*311 response time*",
        "*9-1-1 calls answered within 10 seconds*",
    ]


@pytest.mark.parametrize("typed", ["311", "311 response time", "311-response", "311 respnse time"])
async def test_one_measure_by_key_name_alias_or_a_slip(city: Workspace, typed: str) -> None:
    answer = (await city.command(f"measure {typed}", user=COO)).message
    check_message(answer["blocks"])
    assert answer["blocks"][0]["text"]["text"] == "311 response time"
    text = "\n".join(lines_of(answer))
    assert "↓ lower is better" in text and "FY2027: 2.5 days" in text
    assert "November 2026 (FY2027) · 2.4 days · ✓ Met · from the city's systems (API)" in text
    assert "October 2026 (FY2027) · 2.7 days · ≈ Near" in text
    assert "&lt;b&gt;desk&lt;/b&gt;" in text  # the note, escaped
    assert ("closest match" in text) == (typed == "311 respnse time")


async def test_a_measure_typed_on_its_own_is_found(city: Workspace) -> None:
    answer = (await city.command("fire response time", user=COO)).message
    assert answer["blocks"][0]["text"]["text"] == "Fire response time"


async def test_an_unknown_measure_is_said_and_suggests(city: Workspace) -> None:
    nothing = await city.command("measure <!here> zzz", user=COO)
    assert "couldn't find a measure called “&lt;!here&gt; zzz”" in nothing.text
    close = await city.command("measure response", user=COO)
    assert "Did you mean" in close.text and "311 response time" in close.text


async def test_a_plan_without_measures_answers_as_before(workspace: Workspace) -> None:
    listed = await workspace.command("measures", user=COO)
    assert "The plan has no measures yet" in listed.text
    safety = await workspace.command("safety", user=COO)
    assert "Measures" not in safety.text and "target" not in safety.text


def test_a_plan_of_thousands_of_measures_lists_what_fits_and_counts_the_rest() -> None:
    """Only the lines a message could show are written; the count of the rest stays right."""
    import re

    from handlers.messages.measures import LISTED_AT_MOST, MeasureBoard, render_measures

    views = [
        measure_view(n, f"Measure {n:04d}", {"2026-10": float(n % 150)}, 100.0, "count")
        for n in range(1, 1201)
    ]
    board = MeasureBoard(views, "2026-10", ["2026-09", "2026-10"], 7)
    message = render_measures(board)
    check_message(message.blocks)
    texts = mrkdwn_texts(message.blocks)
    shown = sum(len(re.findall(r"\*Measure \d{4}\*", t)) for t in texts)
    (closing,) = [m for t in texts for m in re.findall(r"…and (\d+) more measures", t)]
    assert 0 < shown < LISTED_AT_MOST and shown + int(closing) == 1200
    first = next(t for t in texts if "*Measure" in t)
    assert first.startswith("✗ Missed · *Measure 0001*")  # Missed first, in the plan's order
