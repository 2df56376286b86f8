"""`planbot owners load FILE.csv`: a city's owners in one go — departments by key, name or
alias, owners by Slack user ID or e-mail, channels by ID or #name — checked whole against the
plan and Slack (the stand-in) before anything is written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.standin import SlackStandin
from models.cycle import fail_prompt
from models.db import session_scope
from models.plans import list_owners, set_owners
from models.tables import Prompt
from tests.helpers import find_department
from tests.serving import Result, clean_env, run_planbot

CHIEF, DEPUTY, POLICE, HEALTH, GONE = "U0CHIEF", "U0DEPUTY", "U0POLICE", "U0HEALTH", "U0GONE"
FIRE_DEPT, POLICE_CHANNEL = "C0FIREDEPT", "C0POLICE"


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandin]:
    async with SlackStandin() as standin:
        standin.add_user(CHIEF, "Fire Chief", email="chief@hartford.gov")
        standin.add_user(HEALTH, "Health Director", email="health@hartford.gov")
        standin.add_user(GONE, "Retired Chief", email="retired@hartford.gov", deleted=True)
        standin.add_channel(FIRE_DEPT, "fire-dept")
        standin.add_channel(POLICE_CHANNEL, "police")
        standin.add_channel("C0SECRET", "secret-leads", private=True, member=False)
        standin.remove_channel("C0NOWHERE")
        yield standin


async def load(database_url: str, tmp_path: Path, text: str, slack: SlackStandin | None) -> Result:
    sheet = tmp_path / "owners.csv"
    sheet.write_text(text, encoding="utf-8")
    env = clean_env(DATABASE_URL=database_url, PLANBOT_LOG_FORMAT="text", COLUMNS="300")
    if slack is not None:
        env.update(SLACK_API_URL=slack.base_url, SLACK_BOT_TOKEN="xoxb-planbot-test")
    return await run_planbot("owners", "load", str(sheet), env=env, cwd=tmp_path)


async def owners(engine: AsyncEngine) -> dict[str, tuple[tuple[str, ...], str | None]]:
    async with session_scope(engine) as session:
        return {o.key: (o.owners, o.channel_id) for o in await list_owners(session)}


async def test_owners_by_id_or_email_and_channels_by_id_or_name(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    async with session_scope(engine) as session:  # HHS had its own channel: the file clears it
        hhs = await find_department(session, "hhs")
        await set_owners(session, hhs, ["U0OLD"], "C0OLDHHS")
        # …which had refused HHS's prompt: in its new channel it is tried again.
        session.add(Prompt(department_id=hhs.id, period="2026-10", channel_id="C0OLDHHS"))
        await session.flush()
        prompt = (await session.exec(select(Prompt))).one()
        await fail_prompt(session, prompt.id, "is_archived", blocked=True)
    result = await load(
        database_url,
        tmp_path,
        "Department,Owners,Channel\n"
        "fire,Chief@Hartford.gov; U0DEPUTY,#fire-dept\n"
        "Police,U0POLICE,C0POLICE\n"
        '"Health & Human Services","<@U0HEALTH|health>, health@hartford.gov",\n'
        ",,\n",
        slack,
    )
    assert result.returncode == 0, result.stderr
    assert "Loaded the owners of 3 departments from owners.csv." in result.stderr
    saved = await owners(engine)
    assert saved["fire"] == ((CHIEF, DEPUTY), FIRE_DEPT)
    assert saved["police"] == ((POLICE,), POLICE_CHANNEL)
    assert saved["hhs"] == ((HEALTH,), None)  # an empty channel cell: the updates channel
    assert saved["dpw"] == ((), None)  # departments not in the file are left alone
    async with session_scope(engine) as session:
        assert (await session.exec(select(Prompt.state))).one() == "failed"  # to be tried again
    assert [c.args["email"] for c in slack.calls_to("users.lookupByEmail")] == [
        "chief@hartford.gov",
        "health@hartford.gov",
    ]
    assert "U0CHIEF (chief@hartford.gov)" in result.stdout and "#fire-dept" in result.stdout


async def test_a_file_with_faults_is_refused_whole_naming_each_row(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path, slack: SlackStandin
) -> None:
    result = await load(
        database_url,
        tmp_path,
        "department,owners,channel\n"
        "fire,U0CHIEF,#fire-dept\n"  # fine, but not written: the file is refused whole
        "firre,U0CHIEF,\n"
        "HFD,U0DEPUTY,\n"
        "police,nobody@hartford.gov,\n"
        "dpw,retired@hartford.gov,\n"
        "hhs,@health,\n"
        "dds,U0DEV,#secret-leads\n"
        "finance,U0FIN,C0NOWHERE\n",
        slack,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    said = " ".join(result.stderr.split())
    assert "owners.csv has 7 problems; nothing was loaded" in said
    assert "row 3, column 'department': no department 'firre'; did you mean fire?" in said
    assert "row 4, column 'department': Fire is on row 2 already" in said
    assert (
        "row 5, column 'owners': no one in this Slack workspace has the e-mail "
        "nobody@hartford.gov" in said
    )
    assert "row 6, column 'owners': retired@hartford.gov belongs to a deactivated" in said
    assert "row 7, column 'owners': '@health' is neither a Slack user ID" in said
    assert "row 8, column 'channel': Plan Bot sees no channel #secret-leads" in said
    assert "`/invite @Plan Bot`" in said
    assert "row 9, column 'channel': Plan Bot cannot see channel C0NOWHERE" in said
    assert all(o == () for o, _ in (await owners(engine)).values())


async def test_without_a_token_ids_load_unchecked_and_emails_are_refused(
    database_url: str, engine: AsyncEngine, hartford: int, tmp_path: Path
) -> None:
    async with session_scope(engine) as session:
        fire = await find_department(session, "fire")
        await set_owners(session, fire, ["U0OLD"], FIRE_DEPT)
    ids = await load(database_url, tmp_path, "department,owners\nfire,U0CHIEF U0DEPUTY\n", None)
    assert ids.returncode == 0, ids.stderr
    assert "not checked in Slack: no SLACK_BOT_TOKEN" in ids.stderr
    # No channel column: the department keeps its channel.
    assert (await owners(engine))["fire"] == ((CHIEF, DEPUTY), FIRE_DEPT)

    emails = await load(database_url, tmp_path, "department,owners\npolice,a@b.gov\n", None)
    assert emails.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in emails.stderr
    assert (await owners(engine))["police"] == ((), None)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("dept,owners\nfire,U0CHIEF\n", "row 1: missing column(s): department"),
        ("department,owners,chanel\nfire,U0CHIEF,\n", "unknown column(s): chanel"),
        ("department,owners\nfire,\n", "row 2, column 'owners': is empty"),
        ("department,owners\n", "row 2: no departments in the file"),
    ],
)
async def test_a_malformed_sheet_is_refused_in_one_line(
    database_url: str, hartford: int, tmp_path: Path, text: str, said: str
) -> None:
    result = await load(database_url, tmp_path, text, None)
    assert result.returncode == 2
    assert said in result.stderr and "nothing was loaded" in result.stderr
    assert "Traceback" not in result.stderr
