"""Secrets never reach logs or error messages, and logs are structured: a real `planbot serve`,
the command line on a password-protected PostgreSQL URL, the redaction itself, and Web API
failures while a request is handled."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from bot import slack_requests
from bot.cli import main as cli_main
from bot.logs import JsonFormatter, redact_secrets
from bot.standin import Call, Fault, SlackStandin
from bot.workspace import Workspace
from handlers.ids import ActionId
from models.db import create_engine, session_scope
from models.planfile import read_plan_file
from models.plans import load_plan
from tests.helpers import ADMIN, COO, PEOPLE
from tests.serving import Result, clean_env, run_planbot, start_serve

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-1111-SECRETTOKEN"
SIGNING_SECRET = "sigsecret-XYZ"
SECRETS = (TOKEN, "SECRETTOKEN", "1111-SECRET", SIGNING_SECRET, "sigsecret")
PASSWORD = "hunter2-pw"
LOG_KEYS = {"time", "level", "logger", "message"}


# --- a real `planbot serve` ---------------------------------------------------------------------


@dataclass
class Served:
    base: str
    slack: SlackStandin
    process: subprocess.Popen[bytes]
    stdout: str = ""
    stderr: str = ""

    def stop(self) -> None:
        self.process.terminate()
        out, err = self.process.communicate(timeout=20)
        self.stdout, self.stderr = out.decode(), err.decode()


@pytest.fixture
async def served(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    engine = create_engine(sqlite_url)
    async with session_scope(engine) as session:
        await load_plan(session, read_plan_file(), period="2026-10")
    await engine.dispose()
    async with SlackStandin(users=PEOPLE) as slack:
        env = clean_env(
            DATABASE_URL=sqlite_url,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.base_url,
            PLANBOT_LOG_FORMAT="json",
            PLANBOT_ADMINS=ADMIN,
        )
        process, base = await start_serve(env, tmp_path)
        server = Served(base, slack, process)
        try:
            yield server
        finally:
            if process.poll() is None:
                server.stop()


def log_lines(stderr: str) -> list[dict]:
    """Every line on stderr, each of which must be one JSON log entry."""
    entries = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            pytest.fail(f"a stderr line is not JSON: {line[:300]!r}")
        assert isinstance(entry, dict) and set(entry) >= LOG_KEYS, line
        assert all(isinstance(entry[key], str) and entry[key] for key in LOG_KEYS), line
        entries.append(entry)
    return entries


async def test_served_bot_logs_json_without_secrets(served: Served) -> None:
    slack = served.slack
    async with httpx.AsyncClient(base_url=served.base, timeout=10) as client:

        async def post(request: slack_requests.SignedRequest) -> httpx.Response:
            return await client.post("/slack/events", content=request.body, headers=request.headers)

        safety = await post(
            slack_requests.slash_command(
                SIGNING_SECRET, "safety", user_id=COO, response_url=slack.response_url("safety")
            )
        )
        assert safety.status_code == 200 and safety.json()["response_type"] == "ephemeral"
        unknown = await post(
            slack_requests.slash_command(
                SIGNING_SECRET, "zzz", user_id=COO, response_url=slack.response_url("zzz")
            )
        )
        assert unknown.status_code == 200 and "zzz" in unknown.text
        forged = await post(
            slack_requests.slash_command(
                "not-the-secret", "safety", user_id=COO, response_url=slack.response_url("x")
            )
        )
        assert forged.status_code == 401
        assert not any(secret in forged.text for secret in SECRETS)
        # Home opened: the bot publishes a view with its token; the first attempt fails.
        slack.inject("views.publish", Fault.error("invalid_auth"))
        home = await post(
            slack_requests.event(
                SIGNING_SECRET, {"type": "app_home_opened", "user": ADMIN}, event_id="Ev0HOME1"
            )
        )
        assert home.status_code == 200
        again = await post(
            slack_requests.event(
                SIGNING_SECRET, {"type": "app_home_opened", "user": ADMIN}, event_id="Ev0HOME2"
            )
        )
        assert again.status_code == 200
        await slack.wait_for("views.publish")
        chatter = await post(
            slack_requests.event(
                SIGNING_SECRET,
                {"type": "message", "channel": "C0ANY", "user": COO, "ts": "1.2", "text": "hi"},
                event_id="Ev0MSG1",
            )
        )
        assert chatter.status_code == 200
    # The bot did hold the token: it authenticated with it against the stand-in.
    assert any(call.token == TOKEN for call in slack.calls)
    await asyncio.sleep(0.2)  # the failed publish is logged after the acknowledgement
    served.stop()

    for secret in SECRETS:
        assert secret not in served.stderr, secret
        assert secret not in served.stdout, secret
    # A refused request's body is never logged: its response_url would let anyone who reads
    # the logs post into the channel for half an hour (Bolt logs it at INFO; we keep Bolt at
    # WARNING).
    forged_url = slack.response_url("x")
    for shown in (forged_url, quote(forged_url, safe="")):
        assert shown not in served.stderr and shown not in served.stdout
    entries = log_lines(served.stderr)
    requests = [e for e in entries if e.get("command") == "/plan" and e.get("status") == 200]
    assert len(requests) == 2, entries
    refused = [e for e in entries if e.get("command") == "/plan" and e.get("status") == 401]
    assert len(refused) == 1, entries  # the forged request is logged, refused, nothing more
    for entry in requests:
        assert entry["logger"] == "planbot.requests"
        assert entry["team"] == slack_requests.TEAM_ID and entry["user"] == COO
        latency = entry["latency_ms"]
        assert isinstance(latency, int | float) and not isinstance(latency, bool)
        assert 0 <= latency < 10_000
    assert any(e.get("event") == "app_home_opened" for e in entries), entries
    failures = [e for e in entries if e["level"] == "error" and "invalid_auth" in e["message"]]
    assert failures, "the failed publish is logged, as JSON"


async def test_a_response_url_the_sdk_retries_is_not_logged(served: Served) -> None:
    """slack_sdk logs the whole URL when it retries a post to a response URL; the response URL
    is the stand-in's, on loopback, shaped as Slack's are."""
    slack = served.slack
    slack.inject("response", Fault.drop())  # the first post to a response URL is cut off
    url = slack.response_url("retried-SECRETPART")
    click = slack_requests.block_action(
        SIGNING_SECRET,
        user_id=COO,
        action_id=ActionId.NO_CHANGE,
        value="no longer a prompt",  # answered privately, through the response URL
        response_url=url,
    )
    async with httpx.AsyncClient(base_url=served.base, timeout=10) as client:
        answered = await client.post("/slack/events", content=click.body, headers=click.headers)
    assert answered.status_code == 200
    (told,) = await slack.wait_for("response:retried-SECRETPART")  # the retry got through
    assert told.args["response_type"] == "ephemeral"
    served.stop()
    entries = log_lines(served.stderr)
    retried = [e for e in entries if "retry handler" in e["message"]]
    assert retried, "the SDK logged its retry"
    assert all("[redacted]" in e["message"] for e in retried)
    for shown in (url, quote(url, safe=""), "SECRETPART"):
        assert shown not in served.stderr and shown not in served.stdout


# --- the command line with a password in DATABASE_URL ---------------------------------------------


@pytest.mark.postgres
async def test_cli_never_prints_the_database_password(
    postgres_database: str, tmp_path: Path
) -> None:
    url = make_url(postgres_database).set(password=PASSWORD).render_as_string(hide_password=False)
    assert PASSWORD in url  # trust authentication accepts it; the bot must still hide it
    engine = create_engine(url)
    async with session_scope(engine) as session:
        await load_plan(session, read_plan_file(), period="2026-10")
    await engine.dispose()
    upgraded = await run_planbot(
        "db", "upgrade", env=clean_env(DATABASE_URL=url, PLANBOT_LOG_FORMAT="json"), cwd=tmp_path
    )
    listed = await run_planbot(
        "owners", "list", env=clean_env(DATABASE_URL=url, PLANBOT_LOG_FORMAT="text"), cwd=tmp_path
    )
    for done in (upgraded, listed):
        assert done.returncode == 0, done.stderr
        assert PASSWORD not in done.stdout + done.stderr
    assert "up to date" in upgraded.stderr and str(make_url(url).host) in upgraded.stderr
    assert "fire" in listed.stdout.lower()


MALFORMED = [
    f"postgresql://postgres:{PASSWORD}@127.0.0.1:notaport/test",
    f"postgresql://postgres:{PASSWORD}@[::1/test",
    f"mysql://root:{PASSWORD}@127.0.0.1/test",
    f"oracle+cx_oracle://scott:{PASSWORD}@tiger/db",
    PASSWORD,
    f"://postgres:{PASSWORD}@127.0.0.1/test",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_database_url_is_one_line_naming_it(
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What `planbot` prints when DATABASE_URL cannot be read, before it starts anything."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PLANBOT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli_main(["db", "upgrade"]) == 2
    said = capsys.readouterr()
    lines = [line for line in (said.out + said.err).splitlines() if line.strip()]
    assert len(lines) == 1 and "DATABASE_URL" in lines[0], lines
    assert PASSWORD not in lines[0]


@pytest.fixture(scope="module")
def unreachable(tmp_path_factory: pytest.TempPathFactory) -> Result:
    """`planbot db upgrade` with a password in DATABASE_URL and no server behind it."""
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/test"
    env, cwd = clean_env(DATABASE_URL=url), tmp_path_factory.mktemp("down")
    return asyncio.run(run_planbot("db", "upgrade", env=env, cwd=cwd))


def test_an_unreachable_database_never_shows_the_password(
    unreachable: Result,
) -> None:
    assert unreachable.returncode != 0
    assert "127.0.0.1" in unreachable.stderr  # it does say where it could not connect
    assert PASSWORD not in unreachable.stdout + unreachable.stderr


def test_an_unreachable_database_is_one_clear_line(
    unreachable: Result,
) -> None:
    said = unreachable.stdout + unreachable.stderr
    assert "Traceback" not in said
    problems = [line for line in said.splitlines() if line.strip() and not line.startswith("{")]
    assert len(problems) == 1, problems


# --- redact_secrets and the formatter ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("token xoxb-1111-2222-SECRETTOKEN in a sentence", "xoxb-1111-2222-SECRETTOKEN"),
        ("Authorization: Bearer xoxb-1111-SECRETTOKEN.", "xoxb-1111-SECRETTOKEN"),
        ("user token xoxp-1-2-3-abcdef0123", "xoxp-1-2-3-abcdef0123"),
        ("app token xapp-1-A0123-456-deadbeef", "xapp-1-A0123-456-deadbeef"),
        ('{"token": "xoxa-2-abc", "ok": false}', "xoxa-2-abc"),
        ("legacy xoxs-1-abc, refresh xoxr-2-def", "xoxs-1-abc"),
        ("postgresql://postgres:hunter2-pw@127.0.0.1:5432/test", "hunter2-pw"),
        ("postgresql+psycopg://u:p%40ss@db.internal/plan", "p%40ss"),
        ("failed: https://bot:s3cr3t@proxy.example.com:8080/", "s3cr3t"),
        ("url=postgres://admin:pa:ss@host/db", "pa:ss"),
        # Response URLs post into a channel: as Bolt logs a refused command's body…
        (
            "body: command=%2Fplan&text=safety&response_url=https%3A%2F%2Fhooks.slack.com%2F"
            "commands%2FT0%2F1%2FSECRETPART&trigger_id=1.2",
            "SECRETPART",
        ),
        # …an interaction's (URL-encoded JSON), a JSON one, and one written out.
        (
            "payload=%7B%22response_url%22%3A%22https%3A%5C%2F%5C%2Fx%2FSECRETPART%22%7D",
            "SECRETPART",
        ),
        (
            '{"response_url": "https://hooks.slack.com/actions/T0/1/SECRETPART", "x": 1}',
            "SECRETPART",
        ),
        ("posting to https://hooks.slack.com/commands/T0/1/SECRETPART failed", "SECRETPART"),
        # Whatever the host: GovSlack's, a proxy's, and Slack's paths on any host — written
        # out, JSON-escaped and URL-encoded.
        ("POST https://hooks.slack-gov.com/commands/T0/1/SECRETPART - 500", "SECRETPART"),
        (
            '{"url": "https:\\/\\/hooks.slack-gov.com\\/actions\\/T0\\/1\\/SECRETPART"}',
            "SECRETPART",
        ),
        ("u=https%3A%2F%2Fhooks.slack-gov.com%2Factions%2FT0%2F1%2FSECRETPART&x=1", "SECRETPART"),
        ("via https://slack-egress.city.gov/commands/T0CITY/1234/SECRETPART now", "SECRETPART"),
        ("via http://127.0.0.1:8080/actions/E0GRID/99/SECRETPART", "SECRETPART"),
        ("hook https://hooks.dev.slack.com/services/T0/B0/SECRETPART", "SECRETPART"),
    ],
)
def test_redact_secrets_hides_tokens_and_url_passwords(text: str, secret: str) -> None:
    redacted = redact_secrets(text)
    assert secret not in redacted
    assert "[redacted]" in redacted
    assert redact_secrets(redacted) == redacted


def test_redact_secrets_keeps_what_is_around_a_secret() -> None:
    redacted = redact_secrets("db postgresql://postgres:hunter2-pw@127.0.0.1:5432/test is down")
    assert redacted == "db postgresql://[redacted]@127.0.0.1:5432/test is down"
    assert redact_secrets("posting with xoxb-1-2-abc now") == "posting with [redacted] now"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "handled /plan in 12.5 ms for U0COO in T0PLAN",
        "database sqlite:///var/lib/planbot/planbot.db: upgrading schema",
        "database postgresql://postgres@127.0.0.1:5432/test: upgrading schema",
        "see https://api.slack.com/methods/chat.postMessage#errors",
        "calling http://127.0.0.1:8080/api/chat.postMessage",
        "docs at https://docs.slack.dev/interactivity/handling-user-interaction",
        "mail budget@hartford.gov or ssh deploy@host:22",
        "the xoxb prefix marks a bot token; xox alone is nothing",
        "🔥 Fire: 3 at risk · مرحبا · <!channel> &lt;",
    ],
)
def test_redact_secrets_leaves_other_text_alone(text: str) -> None:
    assert redact_secrets(text) == text


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"]),
    body=st.text(alphabet="abcdefABCDEF0123456789-", min_size=1, max_size=40),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_redact_secrets_hides_any_token_anywhere(
    prefix: str, body: str, before: str, after: str
) -> None:
    token = prefix + body
    assert token not in redact_secrets(f"{before}{token}{after}")
    assert token not in redact_secrets(f"{before} {token} {after}")


def test_json_log_lines_redact_message_arguments_context_and_tracebacks() -> None:
    try:
        raise RuntimeError(f"the Web API refused {TOKEN}")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "planbot.requests",
        logging.ERROR,
        __file__,
        1,
        "calling with %s on %s",
        (TOKEN, f"postgresql://postgres:{PASSWORD}@db/plan"),
        exc_info,
    )
    record.user = TOKEN
    record.latency_ms = 1.5
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert set(entry) >= LOG_KEYS and entry["level"] == "error"
    assert entry["latency_ms"] == 1.5 and "RuntimeError" in entry["error"]
    assert TOKEN not in line and "SECRETTOKEN" not in line and PASSWORD not in line


# --- the Web API failing while a request is handled ----------------------------------------------

STAND_IN_TOKEN = "xoxb-local-stand-in"


@pytest.fixture
async def hartford_ws(sqlite_url: str) -> AsyncIterator[Workspace]:
    async with Workspace(
        sqlite_url, admins=(ADMIN,), users=PEOPLE, process_before_response=True
    ) as ws:
        async with session_scope(ws.engine) as session:
            await load_plan(session, read_plan_file(), period="2026-10")
        yield ws


def records_text(records: list[logging.LogRecord]) -> str:
    """Every record as a handler would write it, traceback included."""
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in records)


async def test_web_api_failures_never_log_the_bot_token(
    hartford_ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    ws = hartford_ws
    caplog.set_level(logging.WARNING)
    failed: list[Call] = []

    def settle() -> None:
        failed.extend(c for c in ws.slack.calls if not c.ok)
        ws.slack.reset()  # no fault left over for the next step

    # `/plan export`: the direct message cannot be opened (5xx every time).
    ws.slack.inject("conversations.open", *[Fault.server_error()] * 8)
    export = await ws.command("export", user=ADMIN)
    assert export.status == 200
    assert "went wrong" in export.text and "Traceback" not in export.text
    assert STAND_IN_TOKEN not in export.text
    settle()
    # App Home: publishing the view is refused with an auth error.
    ws.slack.inject("views.publish", Fault.error("invalid_auth"))
    await ws.event({"type": "app_home_opened", "user": ADMIN})
    settle()
    # App Home again: the connection drops every time.
    ws.slack.inject("views.publish", *[Fault.drop()] * 8)
    await ws.event({"type": "app_home_opened", "user": COO})
    settle()
    assert {c.method for c in failed} == {"conversations.open", "views.publish"}
    assert all(c.token == STAND_IN_TOKEN for c in failed if c.status)  # it was sent each time
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) >= 3, "each failure was logged"
    logged = records_text(warnings)
    assert STAND_IN_TOKEN not in logged and "local-stand-in" not in logged, logged


async def test_request_log_line_measures_latency(
    hartford_ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    """The `/plan safety` answer runs a dozen queries: its latency cannot round to 0.0 ms."""
    caplog.set_level(logging.INFO, logger="planbot.requests")
    started = time.perf_counter()
    reply = await hartford_ws.command("safety", user=COO)
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert reply.status == 200 and "Safety" in reply.text
    (record,) = [r for r in caplog.records if getattr(r, "command", None) == "/plan"]
    assert 0.1 <= record.latency_ms <= elapsed_ms + 1
