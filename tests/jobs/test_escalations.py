"""Who hears about silence (issue 16, item 3): when a month closes — the next month's prompt
time — each department whose prompt was posted and that still has not answered (or owes a
measure's number) is named in one direct message to its escalation contacts, or to the admins
when it has none, with what is missing; never in a channel; once, however often the scheduler
runs. Set by `/plan owner … escalation @x`, `planbot owners set --escalation` or the owners
file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.workspace import Workspace
from handlers.commands.parse import CommandError, parse_plan_command
from jobs.prompts import post_monthly_prompts
from jobs.scheduler import Cycle
from models.db import session_scope
from models.measurefile import parse_yaml_measures
from models.measures import load_measures
from models.ownersfile import parse_owners_csv
from models.plans import active_plan_id
from tests.bot.test_cli import planbot
from tests.helpers import ADMIN, CHIEF, COO, own, reported_before

NY = ZoneInfo("America/New_York")
POLICE = "U0POLICE"
UPDATES = "C0UPDATES"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, Clock]]:
    clock = Clock(datetime(2026, 11, 2, 9, 0, 5, tzinfo=NY))
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        now=clock,
        updates_channel=UPDATES,
        process_before_response=True,
    ) as ws:
        await own(ws, "fire", CHIEF)
        await own(ws, "police", POLICE)
        run = await post_monthly_prompts(ws.ctx, ws.app.client, "2026-10")
        assert sorted(run.posted) == ["fire", "police"]
        for number in range(1, 4):  # Police answered for October; Fire did not
            await reported_before(ws, "police", number, "2026-10", "on_track")
        yield ws, clock


def direct_messages(ws: Workspace, text: str) -> list[Any]:
    return [
        c
        for c in ws.slack.calls_to("chat.postMessage")
        if c.args["channel"].startswith("U") and text in json.dumps(c.args, ensure_ascii=False)
    ]


async def at_close(ws: Workspace, clock: Clock) -> Cycle:
    clock.moment = ws.ctx.calendar.closes_at("2026-10") + timedelta(seconds=5)
    return Cycle(ws.ctx, ws.app.client, timedelta(hours=2))


async def test_silence_goes_to_the_admins_once_and_never_to_a_channel(
    city: tuple[Workspace, Clock],
) -> None:
    ws, clock = city
    cycle = await at_close(ws, clock)
    due = await cycle.run_due()
    assert due.escalations is not None and due.escalations.period == "2026-10"
    assert due.escalations.escalated == ["fire"] and due.escalations.answered == ["police"]
    (dm,) = direct_messages(ws, "did not report")
    assert dm.args["channel"] == ADMIN
    shown = json.dumps(dm.args["blocks"], ensure_ascii=False)
    assert "*Fire* did not report for *October 2026* before it closed" in shown
    assert "6 of 6 initiatives without an update: #1, #2, #3, #4, #5, #6" in shown
    assert f"Owners: <@{CHIEF}>" in shown and "as a Plan Bot admin" in shown
    in_channels = [
        c
        for c in ws.slack.calls_to("chat.postMessage")
        if not c.args["channel"].startswith("U") and "did not report" in json.dumps(c.args)
    ]
    assert in_channels == []
    clock.moment += timedelta(minutes=15)  # the retry tick, and a restart's first tick
    again = await cycle.run_due()
    assert again.escalations is not None and again.escalations.already == ["fire"]
    assert len(direct_messages(ws, "did not report")) == 1


async def test_an_escalation_contact_is_told_instead_of_the_admins(
    city: tuple[Workspace, Clock],
) -> None:
    ws, clock = city
    done = await ws.command(f"owner fire escalation <@{COO}>", user=ADMIN)
    assert "by direct message when a month closes" in done.text
    cycle = await at_close(ws, clock)
    await cycle.run_due()
    (dm,) = direct_messages(ws, "did not report")
    assert dm.args["channel"] == COO
    assert "as Fire's escalation contact" in json.dumps(dm.args["blocks"], ensure_ascii=False)


async def test_a_number_still_owed_is_silence_too(city: tuple[Workspace, Clock]) -> None:
    ws, clock = city
    async with session_scope(ws.engine) as session:
        await load_measures(
            session,
            await active_plan_id(session),
            parse_yaml_measures(
                "measures:\n  - {key: response, name: Police response time, unit: minutes,\n"
                "     direction: lower, department: police, targets: {FY2027: 6}}\n"
            ).measures,
            source="m.yaml",
        )
    cycle = await at_close(ws, clock)
    due = await cycle.run_due()
    assert due.escalations is not None and due.escalations.escalated == ["fire", "police"]
    police = next(
        c for c in direct_messages(ws, "did not report") if "Police" in json.dumps(c.args)
    )
    shown = json.dumps(police.args["blocks"], ensure_ascii=False)
    assert "1 measure without a number: Police response time" in shown
    assert "initiatives without an update" not in shown


async def test_nothing_is_escalated_before_the_close(city: tuple[Workspace, Clock]) -> None:
    ws, clock = city
    clock.moment = ws.ctx.calendar.closes_at("2026-10") - timedelta(days=3)
    due = await Cycle(ws.ctx, ws.app.client, timedelta(hours=2)).run_due()
    assert due.escalations is None and direct_messages(ws, "did not report") == []


@pytest.mark.parametrize(
    ("text", "owners", "backups", "escalation"),
    [
        ("owner fire escalation <@U9>", (), None, ("U9",)),
        ("owner fire <@U1> backup <@U2> escalation <@U9>", ("U1",), ("U2",), ("U9",)),
        ("owner fire <@U1> escalation: <@U9> <@U8> backup <@U2>", ("U1",), ("U2",), ("U9", "U8")),
    ],
)
def test_the_owner_command_reads_escalation_contacts(
    text: str,
    owners: tuple[str, ...],
    backups: tuple[str, ...] | None,
    escalation: tuple[str, ...],
) -> None:
    parsed = parse_plan_command(text)
    assert not isinstance(parsed, CommandError)
    assert (parsed.user_ids, parsed.backup_ids, parsed.escalation_ids) == (
        owners,
        backups,
        escalation,
    )
    assert isinstance(parse_plan_command("owner fire escalation"), CommandError)


def test_escalation_from_the_command_line_and_the_owners_file(
    database_url: str, tmp_path: Path
) -> None:
    assert planbot(database_url, "plan", "load", cwd=tmp_path).returncode == 0
    done = planbot(database_url, "owners", "set", "fire", CHIEF, "--escalation", COO, cwd=tmp_path)
    assert done.returncode == 0 and f"escalation: {COO}" in done.stderr
    listing = planbot(database_url, "owners", "list", cwd=tmp_path)
    fire_row = next(line for line in listing.stdout.splitlines() if "│ fire " in line)
    assert COO in fire_row
    police_row = next(line for line in listing.stdout.splitlines() if "│ police " in line)
    assert "admins" in police_row
    sheet = tmp_path / "owners.csv"
    sheet.write_text(f"department,owners,escalation\nfire,{CHIEF},\npolice,{POLICE},{COO}\n")
    assert planbot(database_url, "owners", "load", str(sheet), cwd=tmp_path).returncode == 0
    listing = planbot(database_url, "owners", "list", cwd=tmp_path)
    fire_row = next(line for line in listing.stdout.splitlines() if "│ fire " in line)
    police_row = next(line for line in listing.stdout.splitlines() if "│ police " in line)
    assert COO not in fire_row and "admins" in fire_row and COO in police_row
    bad = parse_owners_csv("department,owners,escalation\nfire,U0CHIEF,the coo\n")
    assert bad.problems[0][1].startswith("row 2, column 'escalation': 'the'")
