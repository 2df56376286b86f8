"""`planbot jobs run`, run as an operator would run it, against a stand-in for Slack: the
scheduler's own code, on demand, posting each prompt and each reminder once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.standin import Call, SlackStandin
from models.db import create_engine, session_scope
from models.planfile import read_plan_file
from models.plans import load_plan, set_owners
from tests.helpers import PERIOD, find_department
from tests.serving import Result, clean_env, run_planbot

CHIEF, POLICE = "U0CHIEF", "U0POLICE"
FIRE_CHANNEL, UPDATES = "C0FIRE", "C0UPDATES"


async def planbot(
    database_url: str,
    *args: str,
    cwd: Path,
    slack: SlackStandin | None = None,
    token: bool = True,
) -> Result:
    """The command line in a child process, against the stand-in when `slack` is given."""
    env = clean_env(DATABASE_URL=database_url, PLANBOT_LOG_FORMAT="text", COLUMNS="400")
    if slack is not None:
        env.update(SLACK_API_URL=slack.base_url, PLANBOT_UPDATES_CHANNEL=UPDATES)
        if token:
            env["SLACK_BOT_TOKEN"] = "xoxb-planbot-test"
    return await run_planbot(*args, env=env, cwd=cwd)


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandin]:
    async with SlackStandin(users={CHIEF: "Fire Chief", POLICE: "Police Lead"}) as standin:
        yield standin


def posts(slack: SlackStandin) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.ok]


def prompts(slack: SlackStandin) -> dict[str, Call]:
    """Prompts posted, by department (from the message metadata)."""
    found: dict[str, Call] = {}
    for call in posts(slack):
        metadata = call.args.get("metadata") or {}
        if metadata.get("event_type") == "planbot_prompt":
            department = metadata["event_payload"]["department"]
            assert department not in found, f"a second prompt for {department}"
            assert metadata["event_payload"]["period"] == PERIOD
            found[department] = call
    return found


def unowned_names() -> list[str]:
    """Every department with initiatives except Fire and Police, as the plan file names them."""
    spec = read_plan_file()
    return [d.name for d in spec.departments if d.initiatives and d.key not in ("fire", "police")]


async def test_prompts_then_reminders_each_sent_once(
    database_url: str, tmp_path: Path, slack: SlackStandin
) -> None:
    loaded = await planbot(database_url, "plan", "load", "--period", PERIOD, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    for args in (("fire", CHIEF, "--channel", FIRE_CHANNEL), ("police", POLICE)):
        owners = await planbot(database_url, "owners", "set", *args, cwd=tmp_path)
        assert owners.returncode == 0, owners.stderr

    # The prompts: Fire in its own channel, Police in the updates channel, nobody else.
    first = await planbot(
        database_url, "jobs", "run", "prompts", "--period", PERIOD, cwd=tmp_path, slack=slack
    )
    assert first.returncode == 0, first.stderr
    asked = prompts(slack)
    assert {key: call.args["channel"] for key, call in asked.items()} == {
        "fire": FIRE_CHANNEL,
        "police": UPDATES,
    }
    assert len(posts(slack)) == 2
    assert f"<@{CHIEF}>" in str(asked["fire"].args["blocks"])
    assert f"<@{POLICE}>" in str(asked["police"].args["blocks"])
    table = first.table()
    assert table["posted"] == "fire, police"
    assert table["already posted"] == "—"
    assert table["no owner (skipped)"] == ", ".join(unowned_names())

    # Again: nothing new, both reported as already posted.
    again = await planbot(
        database_url, "jobs", "run", "prompts", "--period", PERIOD, cwd=tmp_path, slack=slack
    )
    assert again.returncode == 0, again.stderr
    assert len(posts(slack)) == 2
    assert again.table()["posted"] == "—"
    assert again.table()["already posted"] == "fire, police"

    # One department, by its alias: still nothing new.
    alias = await planbot(
        database_url,
        "jobs",
        "run",
        "prompts",
        "--period",
        PERIOD,
        "--department",
        "hfd",
        cwd=tmp_path,
        slack=slack,
    )
    assert alias.returncode == 0, alias.stderr
    assert alias.table()["already posted"] == "fire"
    assert alias.table()["posted"] == alias.table()["no owner (skipped)"] == "—"
    assert len(posts(slack)) == 2

    # The first reminder: nobody has answered, so both, in the prompt's thread and by DM —
    # the DMs at once when the real clock (a child process) is in the owners' working hours,
    # which they are given when some zone has them; else put off until their morning.
    at_work = working_zone(datetime.now(UTC))
    for user in (CHIEF, POLICE):
        slack.set_time_zone(user, at_work or "America/New_York")
    remind = ("jobs", "run", "reminders", "--period", PERIOD, "--reminder", "1")
    reminded = await planbot(database_url, *remind, cwd=tmp_path, slack=slack)
    assert reminded.returncode == 0, reminded.stderr
    assert reminded.table()["reminder 1 sent"] == "fire, police"
    sent = posts(slack)[2:]
    threads = {(c.args["channel"], c.args.get("thread_ts")) for c in sent if "thread_ts" in c.args}
    assert threads == {
        (FIRE_CHANNEL, asked["fire"].response["ts"]),  # type: ignore[index]
        (UPDATES, asked["police"].response["ts"]),  # type: ignore[index]
    }
    direct = {c.args["channel"]: c.args["text"] for c in sent if "thread_ts" not in c.args}
    if at_work is not None:
        assert sorted(direct) == [CHIEF, POLICE]
        assert direct[CHIEF].startswith("Fire:") and direct[POLICE].startswith("Police:")
        assert reminded.table()["direct messages sent"] == f"fire:{CHIEF}, police:{POLICE}"
    else:
        assert direct == {}
        later = reminded.table()["direct messages at their morning"]
        assert f"fire:{CHIEF} (" in later and f"police:{POLICE} (" in later
    assert len(sent) == 2 + len(direct)

    # Again: nobody is reminded twice.
    twice = await planbot(database_url, *remind, cwd=tmp_path, slack=slack)
    assert twice.returncode == 0, twice.stderr
    assert twice.table()["reminder 1 sent"] == "—"
    assert twice.table()["already reminded"] == "fire, police"
    assert len(posts(slack)) == 4 + len(direct)


# Zones around the world: on a weekday, one of them is at work whatever the hour.
ZONES = (
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "Europe/Moscow",
    "Asia/Bangkok",
    "Australia/Brisbane",
    "America/Sao_Paulo",
)


def working_zone(now: datetime) -> str | None:
    """A zone where `now` is well inside working hours (10:00–17:00 on a weekday), if any."""
    for zone in ZONES:
        local = now.astimezone(ZoneInfo(zone))
        if local.weekday() < 5 and 10 <= local.hour < 17:
            return zone
    return None


async def _own_fire(engine: AsyncEngine) -> None:
    async with session_scope(engine) as session:
        fire = await find_department(session, "fire")
        await set_owners(session, fire, [CHIEF], FIRE_CHANNEL)


async def test_an_unknown_department_or_a_missing_token_is_one_line_and_posts_nothing(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    await _own_fire(engine)
    nowhere = await planbot(
        database_url,
        "jobs",
        "run",
        "prompts",
        "--period",
        PERIOD,
        "--department",
        "nowhere",
        cwd=tmp_path,
        slack=slack,
    )
    assert nowhere.returncode == 2
    assert nowhere.errors() == ["planbot: no department 'nowhere'"]
    assert "Traceback" not in nowhere.stderr and nowhere.stdout == ""

    ancient = await planbot(
        database_url, "jobs", "run", "prompts", "--period", "1999-01", cwd=tmp_path, slack=slack
    )
    assert ancient.returncode == 2
    assert ancient.errors() == [
        "planbot: January 1999 is before this plan's first month (October 2026); "
        "no prompt is posted for it"
    ]

    for job in ("prompts", "reminders"):
        tokenless = await planbot(
            database_url,
            "jobs",
            "run",
            job,
            "--period",
            PERIOD,
            cwd=tmp_path,
            slack=slack,
            token=False,
        )
        assert tokenless.returncode == 2
        assert tokenless.stderr.strip().splitlines() == [
            "planbot: setting SLACK_BOT_TOKEN is missing: it is needed to post to Slack"
        ]
    assert slack.calls == []


@pytest.mark.parametrize("ordinal", ["0", "3"])
async def test_a_reminder_that_does_not_exist_is_refused(
    sqlite_url: str, tmp_path: Path, slack: SlackStandin, ordinal: str
) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with session_scope(engine) as session:
            await load_plan(session, read_plan_file(), period=PERIOD)
        await _own_fire(engine)
    finally:
        await engine.dispose()
    asked = await planbot(
        sqlite_url, "jobs", "run", "prompts", "--period", PERIOD, cwd=tmp_path, slack=slack
    )
    assert asked.returncode == 0, asked.stderr
    assert list(prompts(slack)) == ["fire"]

    result = await planbot(
        sqlite_url,
        "jobs",
        "run",
        "reminders",
        "--period",
        PERIOD,
        "--reminder",
        ordinal,
        cwd=tmp_path,
        slack=slack,
    )
    assert len(posts(slack)) == 1, [c.args.get("text") for c in posts(slack)[1:]]
    assert result.returncode == 2
    assert len(result.errors()) == 1 and "--reminder" in result.errors()[0]


async def test_a_prompt_blocked_by_its_channel_is_tried_again_when_an_operator_runs_the_job(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    await _own_fire(engine)
    slack.add_channel(FIRE_CHANNEL, "fire-leads", private=True, member=False)
    blocked = await planbot(
        database_url, "jobs", "run", "prompts", "--period", PERIOD, cwd=tmp_path, slack=slack
    )
    assert blocked.returncode == 1
    assert blocked.table()["channel needs a person"] == "fire (channel_not_found)"
    assert prompts(slack) == {}

    slack.add_channel(FIRE_CHANNEL, "fire-leads", private=True, member=True)  # invited
    again = await planbot(
        database_url, "jobs", "run", "prompts", "--period", PERIOD, cwd=tmp_path, slack=slack
    )
    assert again.returncode == 0, again.stderr
    assert again.table()["posted"] == "fire"
    assert list(prompts(slack)) == ["fire"]


async def test_canvases_are_shown_as_they_stand_from_the_command_line(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    await _own_fire(engine)
    fire = await planbot(
        database_url, "jobs", "run", "canvases", "--department", "hfd", cwd=tmp_path, slack=slack
    )
    assert fire.returncode == 0, fire.stdout + fire.stderr
    assert "created" in fire.stdout and "fire" in fire.stdout
    (made,) = slack.calls_to("conversations.canvases.create")
    assert made.args["channel_id"] == FIRE_CHANNEL
    shown = slack.canvas_markdown(made.response["canvas_id"])  # type: ignore[index]
    assert "## Initiatives" in shown and "**1.**" in shown

    again = await planbot(
        database_url, "jobs", "run", "canvases", "--department", "fire", cwd=tmp_path, slack=slack
    )
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert slack.calls_to("canvases.edit") == []

    nowhere = await planbot(
        database_url,
        "jobs",
        "run",
        "canvases",
        "--department",
        "nowhere",
        cwd=tmp_path,
        slack=slack,
    )
    assert nowhere.returncode == 2
    assert nowhere.errors() == ["planbot: no department called 'nowhere'"]
