"""Malformed requests to /slack/events, signed or not, through the ASGI app: each gets a 4xx and
one log line — never a 500, never a traceback, never a write. Then a fuzz: well-formed Slack
requests with one or two fields replaced by any JSON, or removed, signed as Slack signs them."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot import slack_requests
from bot.slack_requests import TEAM_ID, sign
from bot.workspace import Workspace
from handlers.ids import ActionId, CallbackId
from jobs.prompts import post_monthly_prompts
from models.db import session_scope
from models.planfile import read_plan_file
from models.plans import load_plan, set_owners
from models.tables import Update
from tests.helpers import ADMIN, CHIEF, COO, PEOPLE, PERIOD, find_department

NOW = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"
UPDATES = "C0UPDATES"


async def hartford(url: str) -> Workspace:
    ws = await Workspace(
        url,
        admins=(ADMIN,),
        users=PEOPLE,
        now=lambda: NOW,
        updates_channel=UPDATES,
        process_before_response=True,
    ).start()
    async with session_scope(ws.engine) as session:
        await load_plan(session, read_plan_file(), period=PERIOD)
        fire = await find_department(session, "fire")
        await set_owners(session, fire, [CHIEF])
    return ws


@pytest.fixture
async def ws(sqlite_url: str) -> AsyncIterator[Workspace]:
    workspace = await hartford(sqlite_url)
    try:
        yield workspace
    finally:
        await workspace.stop()


async def updates(ws: Workspace) -> int:
    async with session_scope(ws.engine) as session:
        return len(
            (
                await session.exec(select(Update).where(Update.source.not_in(("import", "plan"))))
            ).all()
        )


def logged(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    """What the bot logged (httpx's own line about the test's request is the test's)."""
    return [r for r in records if not r.name.startswith(("httpx", "hypothesis"))]


def assert_no_traceback(records: list[logging.LogRecord]) -> None:
    for record in records:
        assert record.exc_info is None and record.levelno < logging.ERROR, (
            f"{record.name}: {record.getMessage()}"
        )
        assert "Traceback" not in record.getMessage()


# --- the findings, one by one -------------------------------------------------------------------


def _unsigned(body: bytes, **headers: str) -> slack_requests.SignedRequest:
    return slack_requests.SignedRequest(body, {"Content-Type": FORM, **headers})


def _form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def _payload(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


_USER = {"id": COO, "team_id": TEAM_ID}
_TEAM = {"id": TEAM_ID}
_COMMAND = {"command": "/plan", "text": "safety", "team_id": TEAM_ID, "user_id": COO}
_VIEW = {
    "id": "V1",
    "type": "modal",
    "callback_id": CallbackId.UPDATE_FORM,
    "private_metadata": "{}",
}

# (name, request maker taking the signing secret, expected status)
MALFORMED: list[tuple[str, Callable[[str], slack_requests.SignedRequest], int]] = [
    (
        "unsigned, timestamp abc",
        lambda _: _unsigned(
            _form(**_COMMAND), **{"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=1"}
        ),
        401,
    ),
    ("unsigned, no headers at all", lambda _: _unsigned(_form(**_COMMAND)), 401),
    (
        "unsigned, a signature that is not hex",
        lambda _: _unsigned(
            _form(**_COMMAND),
            **{"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=zz"},
        ),
        401,
    ),
    (
        "unsigned, not UTF-8",
        lambda _: _unsigned(b"\xff\xfe\x00payload", **{"X-Slack-Request-Timestamp": "1"}),
        401,
    ),
    (
        "signed ten minutes ago",
        lambda s: sign(s, _form(**_COMMAND), FORM, timestamp=int(time.time()) - 600),
        401,
    ),
    ("signed, not UTF-8 (form)", lambda s: sign(s, b"command=%2Fplan&text=\xff\xfe", FORM), 400),
    (
        "signed, not UTF-8 (JSON)",
        lambda s: sign(s, b'{"type": "\xc3\x28"}', "application/json"),
        400,
    ),
    ("signed JSON list", lambda s: sign(s, b"[1, 2]", "application/json"), 400),
    ("signed JSON string", lambda s: sign(s, b'"event_callback"', "application/json"), 400),
    ("signed JSON null", lambda s: sign(s, b"null", "application/json"), 400),
    ("signed JSON nested too deep", lambda s: sign(s, b"[" * 100_000, "application/json"), 400),
    ("signed JSON cut short", lambda s: sign(s, b'{"type": "event_call', "application/json"), 400),
    ("signed payload not JSON", lambda s: sign(s, b"payload=notjson", FORM), 400),
    ("signed payload a list", lambda s: sign(s, _form(payload="[1]"), FORM), 400),
    ("signed empty body", lambda s: sign(s, b"", FORM), 400),
    ("signed form without a command", lambda s: sign(s, _form(text="safety"), FORM), 400),
    (
        "signed command without a user",
        lambda s: sign(s, _form(command="/plan", text="safety", team_id=TEAM_ID), FORM),
        400,
    ),
    (
        "view submission, state null",
        lambda s: sign(
            s,
            _payload(
                {
                    "type": "view_submission",
                    "team": _TEAM,
                    "user": _USER,
                    "view": {**_VIEW, "state": None},
                }
            ),
            FORM,
        ),
        400,
    ),
    (
        "view submission without a view",
        lambda s: sign(
            s, _payload({"type": "view_submission", "team": _TEAM, "user": _USER}), FORM
        ),
        400,
    ),
    (
        "view submission, values a list",
        lambda s: sign(
            s,
            _payload(
                {
                    "type": "view_submission",
                    "team": _TEAM,
                    "user": _USER,
                    "view": {**_VIEW, "state": {"values": []}},
                }
            ),
            FORM,
        ),
        400,
    ),
    (
        "block actions without an action",
        lambda s: sign(
            s,
            _payload({"type": "block_actions", "team": _TEAM, "user": _USER, "actions": []}),
            FORM,
        ),
        400,
    ),
    (
        "block actions, user a string",
        lambda s: sign(
            s,
            _payload(
                {
                    "type": "block_actions",
                    "team": _TEAM,
                    "user": COO,
                    "actions": [{"action_id": ActionId.NO_CHANGE, "value": f"fire|{PERIOD}"}],
                }
            ),
            FORM,
        ),
        400,
    ),
    (
        "block actions, action a number",
        lambda s: sign(
            s,
            _payload({"type": "block_actions", "team": _TEAM, "user": _USER, "actions": [7]}),
            FORM,
        ),
        400,
    ),
    (
        "event that is a string",
        lambda s: sign(
            s,
            json.dumps({"type": "event_callback", "event_id": "Ev1", "event": "message"}).encode(),
            "application/json",
        ),
        400,
    ),
    (
        "event, authorizations a string",
        lambda s: sign(
            s,
            json.dumps(
                {
                    "type": "event_callback",
                    "event_id": "Ev1",
                    "team_id": TEAM_ID,
                    "authorizations": "T0PLAN",
                    "event": {"type": "app_home_opened", "user": COO},
                }
            ).encode(),
            "application/json",
        ),
        400,
    ),
    (
        "edited message whose message is a string",
        lambda s: sign(
            s,
            json.dumps(
                {
                    "type": "event_callback",
                    "event_id": "Ev2",
                    "team_id": TEAM_ID,
                    "event": {"type": "message", "subtype": "message_changed", "message": "1 done"},
                }
            ).encode(),
            "application/json",
        ),
        400,
    ),
]


@pytest.mark.parametrize(
    ("make", "status"),
    [(make, status) for _, make, status in MALFORMED],
    ids=[m[0] for m in MALFORMED],
)
async def test_a_malformed_request_gets_a_4xx_and_one_log_line(
    ws: Workspace,
    caplog: pytest.LogCaptureFixture,
    make: Callable[[str], slack_requests.SignedRequest],
    status: int,
) -> None:
    caplog.set_level(logging.DEBUG, logger="planbot")
    caplog.set_level(logging.INFO)
    response = await ws.send(make(ws.signing_secret))
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text and "Internal" not in response.text
    records = logged(caplog.records)
    assert_no_traceback(records)
    assert len(records) == 1, [r.getMessage() for r in records]
    (line,) = records
    assert line.name == "planbot.requests" and f"-> {status}" in line.getMessage()
    assert getattr(line, "reason", "")  # the line says why
    assert await updates(ws) == 0
    assert not [c for c in ws.slack.calls if c.method != "auth.test"] and not ws.slack.responses


# --- a little fuzzing -------------------------------------------------------------------------

_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from([TEAM_ID, "T0EVIL", COO, CHIEF, "", "fire|2026-10", CallbackId.UPDATE_FORM])
)
ANY_JSON = st.recursive(
    _LEAVES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


def paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document (a key of an object, an item of a list)."""
    found = [at] if at else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += paths(value, (*at, i))
    return found


def mutated(document: Any, where: tuple[Any, ...], value: Any, remove: bool) -> Any:
    document = json.loads(json.dumps(document))
    parent = document
    for step in where[:-1]:
        parent = parent[step]
    if remove and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    return document


def _templates(prompt_ts: str, response_url: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Requests as Slack sends them to Plan Bot: (how they are encoded, their content)."""
    interaction_origin = {
        "team": {"id": TEAM_ID, "domain": "planbot"},
        "user": {"id": CHIEF, "username": "chief", "team_id": TEAM_ID},
        "api_app_id": "A0PLANBOT",
        "trigger_id": "1.2.3",
    }
    return {
        "command": (
            "form",
            {**_COMMAND, "user_id": CHIEF, "response_url": response_url, "trigger_id": "1.2.3"},
        ),
        "no change": (
            "payload",
            {
                "type": "block_actions",
                **interaction_origin,
                "response_url": response_url,
                "container": {"type": "message", "message_ts": prompt_ts},
                "channel": {"id": UPDATES, "name": "updates"},
                "message": {"ts": prompt_ts, "type": "message"},
                "actions": [
                    {
                        "type": "button",
                        "action_id": ActionId.NO_CHANGE,
                        "block_id": "actions",
                        "value": f"fire|{PERIOD}",
                        "action_ts": "1800000000.1",
                    }
                ],
            },
        ),
        "form": (
            "payload",
            {
                "type": "view_submission",
                **interaction_origin,
                "view": {
                    **_VIEW,
                    "private_metadata": json.dumps({"d": "fire", "p": PERIOD, "pg": 1}),
                    "team_id": TEAM_ID,
                    "hash": "h",
                    "state": {
                        "values": {
                            "status-1": {
                                "status": {"selected_option": {"value": "on_track"}},
                            },
                            "note-1": {"note": {"type": "plain_text_input", "value": "ok"}},
                            "percent-1": {"percent": {"value": "40"}},
                        }
                    },
                },
            },
        ),
        "thread reply": (
            "json",
            {
                "type": "event_callback",
                "team_id": TEAM_ID,
                "api_app_id": "A0PLANBOT",
                "event_id": "Ev0FUZZ",
                "event_time": 1800000000,
                "authorizations": [{"team_id": TEAM_ID, "user_id": "UPLANBOT", "is_bot": True}],
                "event": {
                    "type": "message",
                    "channel": UPDATES,
                    "user": CHIEF,
                    "ts": "1800000000.000300",
                    "thread_ts": prompt_ts,
                    "text": "1 on track - fuzz",
                },
            },
        ),
        "home": (
            "json",
            {
                "type": "event_callback",
                "team_id": TEAM_ID,
                "event_id": "Ev0HOME",
                "authorizations": [{"team_id": TEAM_ID, "user_id": "UPLANBOT", "is_bot": True}],
                "event": {"type": "app_home_opened", "user": CHIEF, "tab": "home"},
            },
        ),
    }


def _signed(secret: str, encoding: str, content: dict[str, Any]) -> slack_requests.SignedRequest:
    if encoding == "json":
        return sign(secret, json.dumps(content).encode(), "application/json")
    if encoding == "payload":
        return sign(secret, _payload(content), FORM)
    form = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in content.items()
    }
    return sign(secret, urlencode(form).encode(), FORM)


def test_fuzzed_slack_requests_never_get_a_500_or_a_traceback(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """One workspace for the run, with Fire's prompt posted; each example is one request."""
    caplog.set_level(logging.INFO)
    with asyncio.Runner() as runner:
        ws = runner.run(hartford(sqlite_url))
        try:
            posted = runner.run(post_monthly_prompts(ws.ctx, ws.app.client, PERIOD))
            assert posted.posted == ["fire"]
            prompt_ts = ws.slack.calls_to("chat.postMessage")[0].response["ts"]
            templates = _templates(prompt_ts, ws.slack.response_url("fuzz"))
            statuses: list[int] = []

            @settings(
                max_examples=250,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                database=None,
            )
            @given(data=st.data())
            def requests(data: st.DataObject) -> None:
                name = data.draw(st.sampled_from(sorted(templates)), label="template")
                encoding, content = templates[name]
                for _ in range(data.draw(st.integers(1, 2), label="changes")):
                    where = data.draw(st.sampled_from(paths(content)), label="where")
                    value = data.draw(
                        ANY_JSON if encoding != "form" else st.text(max_size=20), label="value"
                    )
                    content = mutated(content, where, value, data.draw(st.booleans(), label="rm"))
                caplog.clear()
                response: httpx.Response = runner.run(
                    ws.send(_signed(ws.signing_secret, encoding, content))
                )
                assert response.status_code < 500, response.text
                records = logged(caplog.records)
                assert_no_traceback(records)
                if response.status_code in (400, 401):
                    assert len(records) == 1, [r.getMessage() for r in records]
                statuses.append(response.status_code)

            requests()
            assert 400 in statuses and 200 in statuses  # both kinds were tried
        finally:
            runner.run(ws.stop())


def test_fuzzed_unsigned_requests_are_refused_in_one_line(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone may send anything: any body, any content type, any signature headers."""
    caplog.set_level(logging.INFO)
    header_text = st.text(max_size=70) | st.sampled_from(["", "abc", "v0=", str(int(time.time()))])
    with asyncio.Runner() as runner:
        ws = runner.run(hartford(sqlite_url))
        try:

            @settings(
                max_examples=150,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                database=None,
            )
            @given(
                body=st.binary(max_size=300) | ANY_JSON.map(lambda v: json.dumps(v).encode()),
                content_type=st.sampled_from([FORM, "application/json", "text/plain", ""]),
                timestamp=header_text,
                signature=header_text,
            )
            def requests(body: bytes, content_type: str, timestamp: str, signature: str) -> None:
                headers = {"Content-Type": content_type}
                for name, value in (
                    ("X-Slack-Request-Timestamp", timestamp),
                    ("X-Slack-Signature", signature),
                ):
                    if value.isprintable() and value.isascii() and value == value.strip():
                        headers[name] = value
                caplog.clear()
                request = slack_requests.SignedRequest(body, headers)
                response: httpx.Response = runner.run(ws.send(request))
                assert response.status_code == 401, response.text
                records = logged(caplog.records)
                assert_no_traceback(records)
                assert len(records) == 1, [r.getMessage() for r in records]

            requests()
            assert runner.run(updates(ws)) == 0
        finally:
            runner.run(ws.stop())
