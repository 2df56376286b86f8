"""A whole workspace on one machine: the real app behind its ASGI front door, a stand-in for
Slack's Web API on loopback, and signed requests as Slack sends them. Local mode, the tests and
the benchmarks use it to talk to the bot as Slack would."""

from __future__ import annotations

import contextlib
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import slack_requests
from bot.app import build_app, plan_context
from bot.server import build_asgi
from bot.settings import Settings, load_settings
from bot.standin import SlackStandin
from models.db import create_engine


@dataclass
class Reply:
    """What the person who typed or clicked sees: the acknowledgement, then what followed."""

    status: int
    ack: dict[str, Any] = field(default_factory=dict)
    followups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def message(self) -> dict[str, Any]:
        """The answer: the last message that has blocks (a follow-up, or the ack itself)."""
        candidates: list[dict[str, Any]] = [*reversed(self.followups), self.ack]
        for candidate in candidates:
            if candidate.get("blocks"):
                return candidate
        return candidates[0]

    @property
    def text(self) -> str:
        """Every text of the answer, joined: what a test searches."""
        return json.dumps(self.message, ensure_ascii=False)


class Workspace:
    def __init__(
        self,
        database_url: str,
        *,
        admins: tuple[str, ...] = (),
        users: dict[str, str] | None = None,
        now: Callable[[], datetime] | None = None,
        process_before_response: bool = False,
        engine_options: dict[str, Any] | None = None,
        **settings: Any,
    ) -> None:
        self.signing_secret = secrets.token_hex(16)
        self.slack = SlackStandin(users=users)
        self.database_url = database_url
        self.admins = admins
        self.now = now
        self.process_before_response = process_before_response
        self.extra_settings = settings
        self.engine_options = engine_options or {}  # create_engine's: a shorter pool wait, say
        self._names = itertools.count(1)
        self.settings: Settings
        self.engine: AsyncEngine
        self.app: AsyncApp
        self.http: httpx.AsyncClient

    async def start(self) -> Workspace:
        await self.slack.start()
        self.settings = load_settings(
            slack_bot_token="xoxb-local-stand-in",
            slack_signing_secret=self.signing_secret,
            slack_app_token=None,
            slack_api_url=self.slack.base_url,
            database_url=self.database_url,
            admins=self.admins,
            **self.extra_settings,
        )
        self.engine = create_engine(self.database_url, **self.engine_options)
        self.app = build_app(
            self.settings,
            self.engine,
            now=self.now,
            process_before_response=self.process_before_response,
        )
        self.ctx = plan_context(self.settings, self.engine, self.now)
        self.asgi = build_asgi(self.app, self.engine, self.settings)
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.asgi), base_url="http://planbot.local"
        )
        return self

    async def stop(self) -> None:
        await self.http.aclose()
        await self.engine.dispose()
        await self.slack.stop()

    async def __aenter__(self) -> Workspace:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def send(self, request: slack_requests.SignedRequest) -> httpx.Response:
        return await self.http.post("/slack/events", content=request.body, headers=request.headers)

    async def command(
        self, text: str, *, user: str, channel: str = "C0LOCAL", wait: float = 5.0
    ) -> Reply:
        """`user` types `/plan {text}` in `channel`."""
        name = f"command-{next(self._names)}"
        request = slack_requests.slash_command(
            self.signing_secret,
            text,
            user_id=user,
            channel_id=channel,
            response_url=self.slack.response_url(name),
        )
        return await self._reply(await self.send(request), name, wait)

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str | None = "C0LOCAL",
        message_ts: str | None = None,
        view: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        wait: float = 5.0,
        expect_followup: bool = True,
    ) -> Reply:
        """`user` clicks a button (in `message`, when the listener reads it)."""
        name = f"action-{next(self._names)}"
        request = slack_requests.block_action(
            self.signing_secret,
            user_id=user,
            action_id=action_id,
            value=value,
            response_url=self.slack.response_url(name),
            channel_id=channel,
            message_ts=message_ts,
            view=view,
            message=message,
        )
        return await self._reply(await self.send(request), name, wait if expect_followup else 0)

    async def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str
    ) -> dict[str, Any]:
        """`user` presses the modal's submit button; returns Slack's view of our answer
        ({} when the modal just closes, or its response_action)."""
        request = slack_requests.view_submission(
            self.signing_secret, user_id=user, view=view, values=values
        )
        response = await self.send(request)
        assert response.status_code == 200, response.text
        return response.json() if response.content else {}

    async def event(
        self, body: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> httpx.Response:
        request = slack_requests.event(
            self.signing_secret,
            body,
            # Unique across processes: local mode keeps its database from one run to the next,
            # and an id seen before is taken for Slack retrying it (and not recorded again).
            event_id=event_id or f"Ev{secrets.token_hex(6).upper()}",
            retry_num=retry_num,
        )
        return await self.send(request)

    async def _reply(self, response: httpx.Response, name: str, wait: float) -> Reply:
        reply = Reply(status=response.status_code)
        if response.content:
            try:
                reply.ack = response.json()
            except ValueError:
                reply.ack = {"text": response.text}
        if response.status_code == 200 and not reply.ack.get("blocks") and wait > 0:
            with contextlib.suppress(AssertionError):
                await self.slack.wait_for(f"response:{name}", timeout=wait)
        reply.followups = [c.args for c in self.slack.responses if c.method == f"response:{name}"]
        return reply
