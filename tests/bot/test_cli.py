"""The `planbot` command line, run as an operator would run it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from models.db import session_scope
from models.status import Status
from models.tables import Initiative, Update
from tests.helpers import PERIOD, find_department


def planbot(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PLANBOT_"))}
    env.update(DATABASE_URL=database_url, PLANBOT_LOG_FORMAT="text", COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_load_owners_export(database_url: str, tmp_path: Path) -> None:
    first = planbot(database_url, "plan", "load", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "19 departments, 87 initiatives" in " ".join(first.stderr.split())
    again = planbot(database_url, "plan", "load", cwd=tmp_path)
    assert "nothing changed" in again.stderr

    assert (
        planbot(
            database_url, "owners", "set", "HFD", "U0CHIEF", "--channel", "C0FIRE", cwd=tmp_path
        ).returncode
        == 0
    )
    unknown = planbot(database_url, "owners", "set", "firre dept", "U0CHIEF", cwd=tmp_path)
    assert unknown.returncode == 2 and "no department 'firre dept'" in unknown.stderr
    listing = planbot(database_url, "owners", "list", cwd=tmp_path)
    assert listing.returncode == 0
    rows = [line for line in listing.stdout.splitlines() if "│" in line]
    assert len([r for r in rows if r.split("│")[1].strip()]) == 19
    assert any("fire" in r and "U0CHIEF" in r and "C0FIRE" in r for r in rows)

    out = tmp_path / "status.csv"
    export = planbot(
        database_url, "plan", "export", "--format", "csv", "--output", str(out), cwd=tmp_path
    )
    assert export.returncode == 0, export.stderr
    records = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(records) == 87
    completed = [r for r in records if r["status_key"] == "complete"]
    assert {(r["department_key"], r["number"]) for r in completed} == {("hhs", "8"), ("hhs", "9")}
    assert {r["status"] for r in completed} == {"Complete"}
    as_json = planbot(database_url, "plan", "export", "--format", "json", cwd=tmp_path)
    assert as_json.stdout.lstrip().startswith("[") and as_json.stdout.count('"number"') == 87


def test_bad_plan_file_is_refused_whole(sqlite_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "plan.csv"
    bad.write_text("department,number,text,goals\nParks,1,Trees,Safety\nParks,x,Mow,Safety\n")
    result = planbot(sqlite_url, "plan", "load", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "plan.csv row 3, column 'number'" in result.stderr
    assert "Traceback" not in result.stderr
    export = planbot(sqlite_url, "plan", "export", cwd=tmp_path)
    assert export.returncode == 2 and "no plan is loaded" in export.stderr


@pytest.mark.parametrize("value", ["Mars/Olympus"])
def test_bad_setting_stops_with_one_line(sqlite_url: str, tmp_path: Path, value: str) -> None:
    env = {**os.environ, "PLANBOT_TIMEZONE": value, "DATABASE_URL": sqlite_url}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "owners", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "planbot: setting PLANBOT_TIMEZONE is malformed: 'Mars/Olympus' is not a known time zone"
    ]


async def test_plan_export_names_people_through_slack_or_says_it_cannot(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path
) -> None:
    from bot.standin import SlackStandin
    from tests.serving import clean_env, run_planbot

    async with session_scope(engine) as session:
        police = await find_department(session, "police")
        first = (
            await session.exec(select(Initiative).where(Initiative.department_id == police.id))
        ).first()
        assert first is not None
        session.add(
            Update(
                initiative_id=first.id,
                period=PERIOD,
                status=Status.AT_RISK,
                author="U0POLICE",
                source="thread",
            )
        )
    env = clean_env(DATABASE_URL=database_url, PLANBOT_LOG_FORMAT="text")
    args = ("plan", "export", "--period", PERIOD, "--format", "json")
    async with SlackStandin(users={"U0POLICE": "Police Chief"}) as slack:
        named = await run_planbot(
            *args,
            env={**env, "SLACK_API_URL": slack.base_url, "SLACK_BOT_TOKEN": "xoxb-t"},
            cwd=tmp_path,
        )
    assert named.returncode == 0, named.stderr
    row = next(r for r in json.loads(named.stdout) if r["author"])
    assert (row["department_key"], row["status"], row["status_key"]) == (
        "police",
        "At risk",
        "at_risk",
    )
    assert row["author"] == "Police Chief"

    unnamed = await run_planbot(*args, env=env, cwd=tmp_path)
    assert unnamed.returncode == 0, unnamed.stderr
    assert next(r for r in json.loads(unnamed.stdout) if r["author"])["author"] == "U0POLICE"
    assert "set SLACK_BOT_TOKEN to show their names" in unnamed.stderr
