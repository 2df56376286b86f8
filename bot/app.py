"""build_app(): the Bolt app with its Web API client, database and listeners wired together."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import bolt_fixes
from bot.installation import OnlyInstalledWorkspace
from bot.settings import Settings
from bot.slack_client import build_web_client
from handlers import register_listeners
from handlers.context import Middleware, PlanContext
from jobs.canvases import CanvasRefresher
from jobs.pacing import Pacer
from jobs.prompt_refresh import PromptRefresher

log = logging.getLogger("planbot.requests")


def build_client(settings: Settings) -> AsyncWebClient:
    """The Web API client on SLACK_API_URL, retrying 429s (after Retry-After), 5xx and
    dropped connections a bounded number of times."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return build_web_client(token, settings.slack_api_url)


def plan_context(
    settings: Settings, engine: AsyncEngine, now: Callable[[], datetime] | None = None
) -> PlanContext:
    extra: dict[str, Any] = {} if now is None else {"now": now}
    return PlanContext(
        engine=engine,
        admins=frozenset(settings.admins),
        timezone=settings.timezone,
        updates_channel=settings.updates_channel,
        digest_channel=settings.digest_channel,
        calendar=settings.calendar(),
        claim_lease=timedelta(seconds=settings.claim_lease_seconds),
        posts_per_second=settings.posts_per_second,
        fiscal_year_start=settings.fiscal_year_start,
        reason_required=settings.reason_required,
        public_url=settings.public_url,
        escalation_channel=settings.escalation_channel,
        escalation_users=frozenset(settings.escalation_users),
        canvases=settings.canvases,
        canvas_wanted=CanvasRefresher().wanted if settings.canvases else None,
        prompt_wanted=PromptRefresher().wanted,
        wait_to_post=Pacer().wait,
        **extra,
    )


def build_app(
    settings: Settings,
    engine: AsyncEngine,
    *,
    now: Callable[[], datetime] | None = None,
    process_before_response: bool = False,
) -> AsyncApp:
    """The whole bot, for any way of running it (Socket Mode, HTTP, local, tests)."""
    bolt_fixes.apply()
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=build_client(settings),
        signing_secret=secret.get_secret_value() if secret else None,
        process_before_response=process_before_response,
        # Socket Mode requests are not signed; HTTP ones always are.
        request_verification_enabled=secret is not None,
        raise_error_for_unhandled_request=False,
    )
    if settings.slack_app_token is not None:  # Socket Mode has no HTTP layer to log requests
        app.use(Middleware(_log_request))
    app.use(Middleware(OnlyInstalledWorkspace()))
    register_listeners(app, plan_context(settings, engine, now))
    return app


async def _log_request(
    req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    """Socket Mode's request log. (Bolt runs the listener after its middleware returns, so no
    latency here; over HTTP the ASGI layer logs each request with its latency.)"""
    body = req.body or {}
    ctx = req.context
    log.info(
        "received %s",
        body.get("command") or body.get("type") or "request",
        extra={
            "team": ctx.team_id,
            "user": ctx.user_id,
            "command": body.get("command"),
            "event": (body.get("event") or {}).get("type"),
        },
    )
    return await next()
