"""`planbot doctor`, run as a city's IT admin would run it against a workspace (the stand-in):
each problem found with its fix and a failing exit status; `planbot serve` logs the same
problems at start-up, one line each."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

import migrations
from bot.doctor import OPTIONAL_SCOPES, REQUIRED_SCOPES
from bot.standin import DEFAULT_SCOPES, Fault, SlackStandin
from models.db import session_scope, upgrade
from models.plans import set_owners
from models.tables import Canvas, Department
from tests.serving import Result, clean_env, run_planbot, start_serve

ADMIN, CHIEF, POLICE, PARKS = "U0ADMIN", "U0CHIEF", "U0POLICE", "U0PARKS"
UPDATES, LEADERS, FIRE, POLICE_CHANNEL = "C0UPDATES", "C0LEADERS", "C0FIRE", "C0POLICE"


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandin]:
    async with SlackStandin(users={ADMIN: "Budget Office", CHIEF: "Fire Chief"}) as standin:
        standin.add_channel(UPDATES, "plan-updates")
        standin.add_channel(LEADERS, "leadership")
        yield standin


async def own(engine: AsyncEngine, **owners: tuple[str, str | None]) -> None:
    async with session_scope(engine) as session:
        departments = {d.key: d for d in (await session.exec(select(Department))).all()}
        for key, (user, channel) in owners.items():
            await set_owners(session, departments[key], [user], channel)


def env_for(database_url: str, slack: SlackStandin, **extra: str) -> dict[str, str]:
    env = clean_env(
        DATABASE_URL=database_url,
        SLACK_API_URL=slack.base_url,
        SLACK_BOT_TOKEN="xoxb-planbot-test",
        PLANBOT_UPDATES_CHANNEL=UPDATES,
        PLANBOT_DIGEST_CHANNEL=LEADERS,
        PLANBOT_ADMINS=ADMIN,
        PLANBOT_LOG_FORMAT="text",
        COLUMNS="400",
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v}


async def doctor(env: dict[str, str], cwd: Path) -> Result:
    return await run_planbot("doctor", env=env, cwd=cwd)


def line(result: Result, start: str) -> str:
    """The one output line starting with `start`, and its fix line joined on."""
    lines = result.stdout.splitlines()
    found = [i for i, text in enumerate(lines) if text.startswith(start)]
    assert len(found) == 1, f"{start!r} in:\n{result.stdout}"
    i = found[0]
    fix = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("    fix:") else ""
    return lines[i] + "\n" + fix


def test_the_scopes_it_checks_are_the_ones_the_manifest_asks_for() -> None:
    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())
    asked = manifest["oauth_config"]["scopes"]["bot"]
    expected = sorted([*REQUIRED_SCOPES, *OPTIONAL_SCOPES])
    assert sorted(asked) == expected == sorted(DEFAULT_SCOPES)


async def test_a_sound_install_passes_and_public_channels_are_joined(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    await own(engine, fire=(CHIEF, FIRE), police=(POLICE, None))
    slack.add_channel(FIRE, "fire-dept", member=False)
    result = await doctor(env_for(database_url, slack), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "Plan Bot doctor: every check passed."
    assert "✔ token: planbot (UPLANBOT) in Plan Bot Local (T0PLAN)" in result.stdout
    assert "✔ scopes: all 12 the bot uses, and canvases:write for canvases" in result.stdout
    assert f"revision {migrations.HEAD}; plan: City of Hartford" in line(result, "✔ database:")
    assert "Plan Bot was not a member and joined it" in line(
        result, f"✔ channel #fire-dept ({FIRE})"
    )
    assert [c.args["channel"] for c in slack.calls_to("conversations.join")] == [FIRE]
    assert slack.channels[FIRE].member
    assert "✔ people: 2 owners and 1 admin, all active members" in result.stdout
    assert "✘" not in result.stdout and "Traceback" not in result.stderr


async def test_each_problem_is_found_with_its_fix(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    await own(
        engine,
        fire=(CHIEF, FIRE),
        police=(POLICE, POLICE_CHANNEL),
        fcyr=(PARKS, "C0OLDPARKS"),
    )
    slack.scopes = tuple(
        s for s in DEFAULT_SCOPES if s not in ("channels:join", "users:read.email")
    )
    slack.add_channel(FIRE, "fire-leads", private=True, member=False)
    slack.add_channel(POLICE_CHANNEL, "police", archived=True)
    slack.remove_channel("C0OLDPARKS")
    slack.add_user(POLICE, "Former Chief", deleted=True)
    slack.remove_user(PARKS)
    slack.remove_user(ADMIN)
    result = await doctor(env_for(database_url, slack, PLANBOT_DIGEST_CHANNEL=""), tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "Plan Bot doctor: 6 problems and 2 warnings."
    scopes = line(result, "✘ scopes:")
    assert "missing users:read.email (owners given by e-mail" in scopes
    assert "channels:join (joining a department's public channel)" in scopes
    assert "fix: add them under OAuth & Permissions" in scopes and "Reinstall" in scopes

    fire = line(result, f"✘ channel {FIRE}:")
    assert "used by Fire: Slack says channel_not_found" in fire
    assert "if it is a private channel, type `/invite @Plan Bot` in it" in fire
    police = line(result, f"✘ channel #police ({POLICE_CHANNEL}):")
    assert "it is archived" in police and "unarchive it" in police
    parks = line(result, "✘ channel C0OLDPARKS:")
    assert "give the department another channel" in parks

    deactivated = line(result, f"✘ owner {POLICE}:")
    assert "owner of Police, deactivated" in deactivated
    assert "`/plan owner police @someone`" in deactivated
    stranger = line(result, f"✘ owner {PARKS}:")
    assert "not a member of this workspace" in stranger

    digest = line(result, "! digest channel:")
    assert "PLANBOT_DIGEST_CHANNEL is not set: no weekly digest is posted" in digest
    assert "fix: set PLANBOT_DIGEST_CHANNEL" in digest
    assert "in PLANBOT_ADMINS but not a member" in line(result, f"! admin {ADMIN}:")
    assert "Traceback" not in result.stderr and "xoxb-planbot-test" not in result.stdout


async def test_a_refused_or_missing_token_is_a_problem(
    database_url: str, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    slack.inject("auth.test", Fault.error("invalid_auth"))
    refused = await doctor(env_for(database_url, slack), tmp_path)
    assert refused.returncode == 1
    token = line(refused, "✘ token:")
    assert "Slack refused the token: invalid_auth" in token
    assert "fix: copy the Bot User OAuth Token (xoxb-…) again" in token
    assert slack.calls_to("conversations.info") == []  # nothing else is asked with it

    missing = await doctor(env_for(database_url, slack, SLACK_BOT_TOKEN=""), tmp_path)
    assert missing.returncode == 1
    assert "SLACK_BOT_TOKEN is not set" in line(missing, "✘ token:")


async def test_an_old_database_or_no_plan_is_reported_and_left_as_it_is(
    tmp_path: Path, slack: SlackStandin
) -> None:
    old = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(old, "0005")
    result = await doctor(env_for(old, slack), tmp_path)
    assert result.returncode == 1
    database = line(result, "✘ database:")
    assert f"is at revision 0005; this version needs {migrations.HEAD}" in database
    assert "fix: run `planbot db upgrade`" in database
    again = await doctor(env_for(old, slack), tmp_path)
    assert "is at revision 0005" in again.stdout  # the doctor did not upgrade it

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(empty)
    unloaded = await doctor(env_for(empty, slack), tmp_path)
    assert unloaded.returncode == 0
    assert "no plan is loaded" in line(unloaded, "! plan:")


async def test_serve_logs_each_problem_at_start_up_as_one_line(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    await own(engine, fire=(CHIEF, None))
    slack.scopes = tuple(s for s in DEFAULT_SCOPES if s != "channels:join")
    env = env_for(
        database_url,
        slack,
        PLANBOT_UPDATES_CHANNEL="",
        PLANBOT_DIGEST_CHANNEL="",
        SLACK_SIGNING_SECRET="s3cret",
        PLANBOT_SCHEDULER="false",
    )
    process, _base = await start_serve(env, tmp_path)
    try:
        lines = await read_until(process, "doctor: 2 problems and 1 warning")
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 10)
    doctor_lines = [text for text in lines if "doctor:" in text]
    assert any(
        "ERROR" in text and "doctor: scopes: missing channels:join" in text and "fix:" in text
        for text in doctor_lines
    ), doctor_lines
    assert any(
        "doctor: updates channel: PLANBOT_UPDATES_CHANNEL is not set, and Fire have owners" in text
        for text in doctor_lines
    ), doctor_lines
    assert any(
        "WARNING" in text and "doctor: digest channel: PLANBOT_DIGEST_CHANNEL is not set" in text
        for text in doctor_lines
    ), doctor_lines


async def read_until(process: subprocess.Popen[bytes], wanted: str) -> list[str]:
    """Lines of the process's standard error, up to the one containing `wanted` (bounded)."""
    assert process.stderr is not None
    seen: list[str] = []

    async def read() -> None:
        while True:
            raw = await asyncio.to_thread(process.stderr.readline)  # type: ignore[union-attr]
            if not raw:
                raise AssertionError(f"serve ended before {wanted!r}: {seen}")
            seen.append(raw.decode("utf-8", "replace").rstrip())
            if wanted in seen[-1]:
                return

    try:
        await asyncio.wait_for(read(), timeout=60)
    except TimeoutError:
        raise AssertionError(f"no {wanted!r} within 60 s: {seen}") from None
    return seen


async def test_a_token_without_canvases_is_a_warning_with_how_to_enable_them(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    await own(engine, fire=(CHIEF, FIRE))
    slack.scopes = tuple(s for s in DEFAULT_SCOPES if s != "canvases:write")
    result = await doctor(env_for(database_url, slack), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✔ scopes: all 12 the bot uses" in result.stdout
    missing = line(result, "! scopes:")
    assert "missing canvases:write" in missing and "canvases are skipped" in missing
    assert "add canvases:write under OAuth & Permissions" in missing
    assert "PLANBOT_CANVASES=false" in missing
    turned_off = await doctor(env_for(database_url, slack, PLANBOT_CANVASES="false"), tmp_path)
    assert "canvases:write" not in turned_off.stdout


async def test_canvases_a_free_plan_refused_are_a_warning_with_what_to_do(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    await own(engine, fire=(CHIEF, FIRE))
    async with session_scope(engine) as session:
        for n, error in enumerate(["team_tier_cannot_create_channel_canvases"] * 2):
            session.add(Canvas(key=f"department:{n}", wanted=1, shown=1, last_error=error))
    result = await doctor(env_for(database_url, slack), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    refused = line(result, "! canvases:")
    assert "Slack refused 2 canvases: team_tier_cannot_create_channel_canvases" in refused
    assert "answers are recorded without them" in refused
    assert "one canvas per channel" in refused and "PLANBOT_CANVASES=false" in refused
