"""`planbot serve` in HTTP mode, as a real process on loopback: health, signed commands, 401s."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot import slack_requests
from bot.standin import SlackStandin
from tests.serving import clean_env, start_serve

SECRET = "serve-test-signing-secret"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, SlackStandin]]:
    async with SlackStandin() as slack:
        env = clean_env(
            DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
            SLACK_BOT_TOKEN="xoxb-serve-test-token",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.base_url,
            PLANBOT_LOG_FORMAT="json",
        )
        load = subprocess.run(
            [sys.executable, "-m", "bot.cli", "plan", "load"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert load.returncode == 0, load.stderr
        process, base = await start_serve(env, tmp_path)
        try:
            yield base, slack
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=20)
            assert b"xoxb-serve-test-token" not in stderr
            assert SECRET.encode() not in stderr


async def test_served_app_answers_signed_commands_only(served: tuple[str, SlackStandin]) -> None:
    base, slack = served
    async with httpx.AsyncClient(base_url=base) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json() == {"ok": True}
        request = slack_requests.slash_command(
            SECRET, "safety", user_id="U0COO", response_url=slack.response_url("cmd")
        )
        answer = await client.post("/slack/events", content=request.body, headers=request.headers)
        assert answer.status_code == 200
        body = answer.json()
        assert body["response_type"] == "ephemeral"
        assert body["blocks"][0]["text"]["text"].startswith("Safety")
        assert slack.calls_to("auth.test")  # the bot checked its token against SLACK_API_URL
        forged = slack_requests.slash_command(
            "wrong", "safety", user_id="U0COO", response_url=slack.response_url("x")
        )
        refused = await client.post("/slack/events", content=forged.body, headers=forged.headers)
        assert refused.status_code == 401
