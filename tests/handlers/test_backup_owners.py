"""Backup owners (issue 16, item 5): set by `/plan owner … backup @x`, `planbot owners set
--backup` or the owners file's `backups` column; a backup may answer for the department (thread
reply, No change) where anyone else is refused; the first reminder goes to the owners only, the
second to the backups as well; `/plan owners` and `planbot owners list` show them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot import slack_requests
from bot.workspace import Workspace
from handlers.commands.parse import CommandError, parse_plan_command
from handlers.ids import ActionId
from handlers.reading.buttons import prompt_value
from jobs.reminders import send_reminders
from models.db import session_scope
from models.ownersfile import parse_owners_csv
from models.tables import DepartmentContact
from tests.bot.test_cli import planbot
from tests.helpers import (
    ADMIN,
    CHIEF,
    COO,
    OTHER,
    PERIOD,
    UPDATES,
    count_updates,
    current,
    fire_workspace,
    reply_event,
    reported_before,
    thread_posts,
)

DEPUTY = "U0DEPUTY"


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    async for found in fire_workspace(database_url):
        ws, _ = found
        ws.slack.users.update({CHIEF: "Fire Chief", DEPUTY: "Deputy Chief", ADMIN: "Budget"})
        yield found


async def backups(ws: Workspace) -> list[str]:
    async with session_scope(ws.engine) as session:
        rows = await session.exec(select(DepartmentContact).order_by(DepartmentContact.user_id))
        return [f"{r.role}:{r.user_id}" for r in rows]


@pytest.mark.parametrize(
    ("text", "owners", "backup_ids"),
    [
        ("owner fire <@U1>", ("U1",), None),
        ("owner fire <@U1> backup <@U2>", ("U1",), ("U2",)),
        ("owner fire <@U1> <@U3> backups <@U2> <@U4>", ("U1", "U3"), ("U2", "U4")),
        ("owner Fire Department backup <@U2>", (), ("U2",)),
        ("owner fire backup: <@U2|deputy>", (), ("U2",)),
    ],
)
def test_the_owner_command_reads_backups(
    text: str, owners: tuple[str, ...], backup_ids: tuple[str, ...] | None
) -> None:
    parsed = parse_plan_command(text)
    assert not isinstance(parsed, CommandError)
    assert (parsed.user_ids, parsed.backup_ids) == (owners, backup_ids)


@pytest.mark.parametrize("text", ["owner fire backup", "owner backup <@U2>", "owner fire"])
def test_an_owner_command_without_people_or_department_is_refused(text: str) -> None:
    assert isinstance(parse_plan_command(text), CommandError)


async def test_a_backup_is_set_in_slack_and_shown(fire: tuple[Workspace, str]) -> None:
    ws, _ = fire
    refused = await ws.command(f"owner fire <@{CHIEF}> backup <@{DEPUTY}>", user=COO)
    assert "Only a Plan Bot admin" in refused.text and await backups(ws) == []
    done = await ws.command(f"owner fire <@{CHIEF}> backup <@{DEPUTY}>", user=ADMIN)
    assert "is now owned by" in done.text and "as backup owner" in done.text
    assert await backups(ws) == [f"backup:{DEPUTY}"]
    only_backups = await ws.command(f"owner fire backup <@{OTHER}>", user=ADMIN)
    assert "is now owned by" not in only_backups.text
    assert await backups(ws) == [f"backup:{OTHER}"]  # replaced; the chief is still the owner
    owners = await ws.command("owners", user=COO)
    assert f"(backup <@{OTHER}>)" in owners.text  # a private answer: a mention pings nobody


async def test_a_backup_may_answer_and_a_stranger_may_not(fire: tuple[Workspace, str]) -> None:
    ws, ts = fire
    await ws.command(f"owner fire <@{CHIEF}> backup <@{DEPUTY}>", user=ADMIN)
    stranger = await ws.event(reply_event("1796400000.000100", ts, "1 on track", user=OTHER))
    assert stranger.status_code == 200
    assert await count_updates(ws) == 0
    reply = reply_event("1796400000.000200", ts, "2 at risk - waiting on the union", user=DEPUTY)
    assert (await ws.event(reply)).status_code == 200
    await thread_posts(ws, ts, 1)
    recorded = await current(ws)
    assert recorded[2].author == DEPUTY and recorded[2].status == "at_risk"

    for number in range(1, 7):
        await reported_before(ws, "fire", number, "2026-09", "on_track")
    click = slack_requests.block_action(
        ws.signing_secret,
        user_id=DEPUTY,
        action_id=ActionId.NO_CHANGE,
        value=prompt_value("fire", PERIOD),
        response_url=ws.slack.response_url("no-change"),
        channel_id=UPDATES,
        message_ts=ts,
    )
    assert (await ws.send(click)).status_code == 200
    said = json.dumps(await ws.slack.wait_for("response:no-change"), default=str)
    assert "Recorded no change" in said
    assert {u.author for n, u in (await current(ws)).items() if n != 2} == {DEPUTY}


async def test_backups_are_reminded_from_the_second_reminder(
    fire: tuple[Workspace, str],
) -> None:
    ws, ts = fire
    await ws.command(f"owner fire <@{CHIEF}> backup <@{DEPUTY}>", user=ADMIN)
    before = len(ws.slack.calls_to("chat.postMessage"))
    first = await send_reminders(ws.ctx, ws.app.client, PERIOD, 1)
    assert first.reminded == ["fire"]
    posts = ws.slack.calls_to("chat.postMessage")[before:]
    assert [c.args["channel"] for c in posts if not c.args.get("thread_ts")] == [CHIEF]
    in_thread = next(c for c in posts if c.args.get("thread_ts") == ts)
    assert DEPUTY not in json.dumps(in_thread.args["blocks"])

    before = len(ws.slack.calls_to("chat.postMessage"))
    second = await send_reminders(ws.ctx, ws.app.client, PERIOD, 2)
    assert second.reminded == ["fire"]
    posts = ws.slack.calls_to("chat.postMessage")[before:]
    assert [c.args["channel"] for c in posts if not c.args.get("thread_ts")] == [CHIEF, DEPUTY]
    in_thread = next(c for c in posts if c.args.get("thread_ts") == ts)
    shown = json.dumps(in_thread.args["blocks"], ensure_ascii=False)
    assert f"<@{CHIEF}> (and <@{DEPUTY}> as backup)" in shown


def test_backups_from_the_command_line_and_the_owners_file(
    database_url: str, tmp_path: Path
) -> None:
    assert planbot(database_url, "plan", "load", cwd=tmp_path).returncode == 0
    done = planbot(database_url, "owners", "set", "fire", CHIEF, "--backup", DEPUTY, cwd=tmp_path)
    assert done.returncode == 0 and f"backup owners: {DEPUTY}" in done.stderr
    listing = planbot(database_url, "owners", "list", cwd=tmp_path)
    fire_row = next(line for line in listing.stdout.splitlines() if "│ fire" in line)
    assert CHIEF in fire_row and DEPUTY in fire_row
    bad = planbot(database_url, "owners", "set", "fire", CHIEF, "--backup", "deputy", cwd=tmp_path)
    assert bad.returncode == 2 and "'deputy' is not a Slack user id" in bad.stderr
    cleared = planbot(database_url, "owners", "set", "fire", CHIEF, "--no-backups", cwd=tmp_path)
    assert cleared.returncode == 0 and "backup owners: none" in cleared.stderr

    sheet = tmp_path / "owners.csv"
    sheet.write_text(
        f"department,owners,backups\nfire,{CHIEF},{DEPUTY}; U0DEPUTY2\npolice,U0COP,\n"
    )
    loaded = planbot(database_url, "owners", "load", str(sheet), cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    listing = planbot(database_url, "owners", "list", cwd=tmp_path)
    fire_row = next(line for line in listing.stdout.splitlines() if "│ fire" in line)
    assert DEPUTY in fire_row and "U0DEPUTY2" in " ".join(listing.stdout.split())


def test_a_bad_backup_cell_is_named_with_its_column() -> None:
    found = parse_owners_csv("department,owners,backups\nfire,U0CHIEF,the deputy\n")
    assert found.problems == [
        (
            2,
            "row 2, column 'backups': 'the' is neither a Slack user ID (U0123ABCD) nor an "
            "e-mail address",
        ),
        (
            2,
            "row 2, column 'backups': 'deputy' is neither a Slack user ID (U0123ABCD) nor an "
            "e-mail address",
        ),
    ]
    empty = parse_owners_csv("department,owners,backups\nfire,U0CHIEF,\n")
    assert empty.problems == [] and empty.rows[0].backups == ()
    without = parse_owners_csv("department,owners\nfire,U0CHIEF\n")
    assert without.rows[0].backups is None  # no column: the department's backups are kept
