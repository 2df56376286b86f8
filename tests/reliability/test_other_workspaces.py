"""Only the workspace Plan Bot is installed in is served: a command, a click, a form or a thread
reply from another workspace (or by a person from another workspace) is refused before anything
is recorded — and the Enterprise Grid shapes of the installed workspace or organisation are not."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from bot import slack_requests
from bot.installation import Installation, RequestOrigin, stranger
from bot.slack_requests import TEAM_ID, Origin
from bot.workspace import Workspace
from handlers.ids import ActionId
from jobs.prompts import post_monthly_prompts
from models.db import session_scope
from models.plans import set_owners
from models.status import Status
from models.tables import Initiative, Update
from tests.helpers import ADMIN, CHIEF, PEOPLE, PERIOD, find_department

NOW = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)
UPDATES = "C0UPDATES"
EVIL = Origin(team_id="T0EVIL")
REFUSED = "Plan Bot serves only the Plan Bot Local workspace; nothing was done."


async def fire_workspace(
    database_url: str, enterprise_id: str | None = None, org_install: bool = False
) -> Workspace:
    ws = Workspace(
        database_url,
        admins=(ADMIN,),
        users=PEOPLE,
        now=lambda: NOW,
        updates_channel=UPDATES,
        process_before_response=True,  # a delivery is answered once its listener is done
    )
    ws.slack.enterprise_id, ws.slack.org_install = enterprise_id, org_install
    await ws.start()
    async with session_scope(ws.engine) as session:
        fire = await find_department(session, "fire")
        await set_owners(session, fire, [CHIEF])
        # Fire #1 was on track in September, so "No change" has a status to record again.
        first = (
            await session.exec(
                select(Initiative).where(
                    Initiative.department_id == fire.id, Initiative.number == 1
                )
            )
        ).one()
        session.add(
            Update(
                initiative_id=first.id,
                period="2026-09",
                status=Status.ON_TRACK,
                source="import",
                received_at=datetime(2026, 10, 2, tzinfo=UTC),
            )
        )
    run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
    assert run.posted == ["fire"]
    return ws


@pytest.fixture
async def ws(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    workspace = await fire_workspace(database_url)
    try:
        yield workspace
    finally:
        await workspace.stop()


def prompt_ts(ws: Workspace) -> str:
    return str(ws.slack.calls_to("chat.postMessage")[0].response["ts"])


async def updates(ws: Workspace) -> list[Update]:
    async with session_scope(ws.engine) as session:
        return list(
            (
                await session.exec(select(Update).where(Update.source.not_in(("import", "plan"))))
            ).all()
        )


def no_change(ws: Workspace, origin: Origin, name: str) -> slack_requests.SignedRequest:
    return slack_requests.block_action(
        ws.signing_secret,
        user_id=CHIEF,
        action_id=ActionId.NO_CHANGE,
        value=f"fire|{PERIOD}",
        response_url=ws.slack.response_url(name),
        channel_id=UPDATES,
        message_ts=prompt_ts(ws),
        origin=origin,
    )


def thread_reply(ws: Workspace, origin: Origin, event_id: str, **extra: Any) -> Any:
    event = {
        "type": "message",
        "channel": UPDATES,
        "user": CHIEF,
        "ts": "1800000000.000200",
        "thread_ts": prompt_ts(ws),
        "text": "1 on track - from elsewhere",
        **extra,
    }
    return slack_requests.event(ws.signing_secret, event, event_id=event_id, origin=origin)


def posts_since(ws: Workspace, count: int) -> list[str]:
    """Web API calls that post, react or upload, after the first `count` calls."""
    acting = ("chat.", "reactions.", "files.", "conversations.open", "views.")
    return [c.method for c in ws.slack.calls[count:] if c.method.startswith(acting)]


async def test_an_admins_export_from_another_workspace_is_refused(
    ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="planbot")
    before = len(ws.slack.calls)
    request = slack_requests.slash_command(
        ws.signing_secret,
        "export",
        user_id=ADMIN,
        response_url=ws.slack.response_url("export"),
        origin=EVIL,
    )
    response = await ws.send(request)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral" and REFUSED in json.dumps(answer)
    assert posts_since(ws, before) == [] and not ws.slack.responses
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "refused a command from T0EVIL: Plan Bot serves only the Plan Bot Local workspace"
    ]
    # The same admin, from the installed workspace, gets the export.
    ours = await ws.command("export", user=ADMIN)
    assert ours.status == 200 and REFUSED not in ours.text
    await ws.slack.wait_for("files.completeUploadExternal")


@pytest.mark.parametrize(
    "origin",
    [EVIL, Origin(team_id=TEAM_ID, user_team_id="T0EVIL")],
    ids=["another workspace", "a person from another workspace"],
)
async def test_no_change_from_another_workspace_records_nothing(
    ws: Workspace, origin: Origin
) -> None:
    before = len(ws.slack.calls)
    response = await ws.send(no_change(ws, origin, "evil-click"))
    assert response.status_code == 200
    (told,) = [c.args for c in ws.slack.responses if c.method == "response:evil-click"]
    assert REFUSED in json.dumps(told) and told["response_type"] == "ephemeral"
    assert told["replace_original"] is False  # the prompt itself stays as it was
    assert await updates(ws) == []
    assert posts_since(ws, before) == []
    # The owner's own click, from the installed workspace, records the month.
    assert (await ws.send(no_change(ws, slack_requests.HOME, "own-click"))).status_code == 200
    assert len(await updates(ws)) > 0


async def test_a_form_from_another_workspace_records_nothing(ws: Workspace) -> None:
    view = {
        "callback_id": "update_form",
        "type": "modal",
        "private_metadata": json.dumps({"d": "fire", "p": PERIOD, "pg": 1}),
    }
    values = {"status-1": {"status": {"selected_option": {"value": "off_track"}}}}
    request = slack_requests.view_submission(
        ws.signing_secret, user_id=CHIEF, view=view, values=values, origin=EVIL
    )
    response = await ws.send(request)
    assert response.status_code == 403
    assert await updates(ws) == []


@pytest.mark.parametrize(
    ("origin", "extra"),
    [
        (EVIL, {}),
        # A Slack Connect channel shared with another organisation: delivered for this
        # installation, sent by someone from the other side.
        (slack_requests.HOME, {"user_team": "T0EVIL", "team": "T0EVIL"}),
    ],
    ids=["another workspace's installation", "a person from another organisation"],
)
async def test_a_thread_reply_from_another_workspace_records_nothing(
    ws: Workspace, origin: Origin, extra: dict[str, str]
) -> None:
    before = len(ws.slack.calls)
    request = thread_reply(ws, origin, "Ev0EVIL1", **extra)
    if extra:
        envelope = json.loads(request.body)
        envelope["is_ext_shared_channel"] = True
        request = slack_requests.sign(
            ws.signing_secret, json.dumps(envelope).encode(), "application/json"
        )
    response = await ws.send(request)
    assert response.status_code == 200  # acknowledged, so that Slack does not send it again
    assert await updates(ws) == []
    assert posts_since(ws, before) == []  # no reaction, no summary, no private message


# --- Enterprise Grid ---------------------------------------------------------------------------

GRID = "E0CITY"


async def test_a_workspace_of_an_enterprise_grid_org_is_served(
    database_url: str, hartford: int
) -> None:
    """Installed on one workspace of an organisation: its requests carry the organisation's id
    (and `is_enterprise_install: false`), and are served; a sibling workspace's are not."""
    ws = await fire_workspace(database_url, enterprise_id=GRID)
    try:
        ours = Origin(team_id=TEAM_ID, enterprise_id=GRID)
        command = slack_requests.slash_command(
            ws.signing_secret,
            "fire",
            user_id=CHIEF,
            response_url=ws.slack.response_url("c"),
            origin=ours,
        )
        answer = (await ws.send(command)).json()
        assert answer["blocks"][0]["text"]["text"].startswith("Fire")
        assert (await ws.send(no_change(ws, ours, "grid-click"))).status_code == 200
        recorded = len(await updates(ws))
        assert recorded > 0
        await ws.send(thread_reply(ws, ours, "Ev0GRID1"))
        assert len(await updates(ws)) > recorded  # the reply was recorded too
        sibling = Origin(team_id="T0SIBLING", enterprise_id=GRID)
        refused = await ws.send(no_change(ws, sibling, "sibling-click"))
        assert refused.status_code == 200
        (told,) = [c.args for c in ws.slack.responses if c.method == "response:sibling-click"]
        assert REFUSED in json.dumps(told)
    finally:
        await ws.stop()


async def test_an_org_wide_install_serves_every_workspace_of_the_org_only(
    database_url: str, hartford: int
) -> None:
    """Installed on the whole organisation: interactions may come with `team: null` and the
    workspace in `user.team_id`; any workspace of the organisation is served, another
    organisation is not."""
    ws = await fire_workspace(database_url, enterprise_id=GRID, org_install=True)
    try:
        sibling = Origin(team_id="T0SIBLING", enterprise_id=GRID, org_install=True)
        assert (await ws.send(no_change(ws, sibling, "org-click"))).status_code == 200
        assert len(await updates(ws)) > 0
        (told,) = [c.args for c in ws.slack.responses if c.method == "response:org-click"]
        assert "serves only" not in json.dumps(told)
        elsewhere = Origin(team_id="T0EVIL", enterprise_id="E0EVIL", org_install=True)
        command = slack_requests.slash_command(
            ws.signing_secret,
            "export",
            user_id=ADMIN,
            response_url=ws.slack.response_url("e"),
            origin=elsewhere,
        )
        answer = (await ws.send(command)).json()
        assert "Plan Bot serves only the Plan Bot Local organisation" in json.dumps(answer)
    finally:
        await ws.stop()


# --- the rule itself ---------------------------------------------------------------------------

WORKSPACE = Installation(team_id="T1", enterprise_id=None, org_install=False, name="City")
IN_GRID = Installation(team_id="T1", enterprise_id="E1", org_install=False, name="City")
ORG_WIDE = Installation(team_id="T1", enterprise_id="E1", org_install=True, name="City")


@pytest.mark.parametrize(
    ("installed", "origin", "refused"),
    [
        (WORKSPACE, RequestOrigin("T1", None), None),
        (WORKSPACE, RequestOrigin("T2", None), "T2"),
        (WORKSPACE, RequestOrigin(None, None), "none named"),
        (WORKSPACE, RequestOrigin("T1", None, user_team_id="T2"), "T2"),
        (WORKSPACE, RequestOrigin("T1", None, actor_team_id="T3"), "T3"),
        (IN_GRID, RequestOrigin("T1", "E1", user_team_id="T1"), None),
        (IN_GRID, RequestOrigin("T2", "E1"), "T2"),
        (ORG_WIDE, RequestOrigin("T2", "E1", user_team_id="T2"), None),
        (ORG_WIDE, RequestOrigin(None, "E1", user_team_id="T9"), None),
        (ORG_WIDE, RequestOrigin("T2", "E2"), "E2"),
        (ORG_WIDE, RequestOrigin("T1", None), "T1"),
        (ORG_WIDE, RequestOrigin("T2", "E1", actor_enterprise_id="E2"), "E2"),
    ],
)
def test_which_requests_are_the_installations_own(
    installed: Installation, origin: RequestOrigin, refused: str | None
) -> None:
    assert stranger(installed, origin) == refused
