"""Serving the bot: HTTP (an ASGI app under uvicorn) or Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from urllib.parse import parse_qs

import sqlalchemy as sa
import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.app import build_app, plan_context
from bot.connections import BACKLOG, connection_limits, guarded_protocol
from bot.doctor import check_deployment, log_checkup
from bot.http_limits import BodyLimits
from bot.malloc import limit_malloc_arenas
from bot.measures_api import post_measures
from bot.public import public_routes
from bot.request_checks import check_slack_request
from bot.settings import Settings
from handlers.chart_process import CHART_PROCESS
from jobs.scheduler import Cycle, build_scheduler
from models.db import create_engine

log = logging.getLogger("planbot")
requests_log = logging.getLogger("planbot.requests")


def request_fields(body: bytes, content_type: str) -> dict[str, str]:
    """Who asked what, for the request log: team, user, command or event. Never raises."""
    try:
        if content_type.startswith("application/json"):
            data = json.loads(body)
            event = data.get("event") or {}
            return _present(
                kind=str(data.get("type", "")),
                team=data.get("team_id"),
                user=event.get("user"),
                event=event.get("type"),
            )
        form = parse_qs(body.decode("utf-8", "replace"))
        if "payload" in form:
            payload = json.loads(form["payload"][0])
            return _present(
                kind=str(payload.get("type", "")),
                team=(payload.get("team") or {}).get("id"),
                user=(payload.get("user") or {}).get("id"),
            )
        return _present(
            kind="command",
            team=form.get("team_id", [""])[0],
            user=form.get("user_id", [""])[0],
            command=form.get("command", [""])[0],
        )
    except (ValueError, AttributeError, TypeError, IndexError, RecursionError):
        return {"kind": "unreadable"}


def _present(**fields: object) -> dict[str, str]:
    return {k: str(v)[:100] for k, v in fields.items() if isinstance(v, str) and v}


def build_asgi(
    app: AsyncApp | None,
    engine: AsyncEngine,
    settings: Settings,
    scheduler: AsyncIOScheduler | None = None,
    startup: Callable[[], Awaitable[None]] | None = None,
) -> BodyLimits:
    """`POST /slack/events` for commands, interactivity and events; `GET /healthz`;
    `POST /api/measures` for the city's systems (bot.measures_api); the public site and open
    data under /public/ when `PLANBOT_PUBLIC` is on (bot.public). Without an app (Socket
    Mode, where requests are not signed) `/slack/events` is not served. Bodies are
    bounded before anything reads them (bot.http_limits); a request to /slack/events must be
    signed and shaped as Slack shapes it (bot.request_checks) before Bolt reads it."""

    async def healthz(_request: Request) -> Response:
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            log.warning("health check: database unavailable: %s", type(exc).__name__)
            return JSONResponse({"ok": False, "database": "unavailable"}, status_code=503)
        return JSONResponse({"ok": True})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        catching_up: asyncio.Task[None] | None = None
        if scheduler is not None:
            scheduler.start()  # needs the running loop: here, not at import
            if settings.digest_channel:
                CHART_PROCESS.start(keep=True)  # ready long before the Monday digest
        if startup is not None:
            catching_up = asyncio.ensure_future(startup())
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            if catching_up is not None:
                catching_up.cancel()
            await asyncio.to_thread(CHART_PROCESS.close)
            await engine.dispose()

    async def measures(request: Request) -> Response:
        return await post_measures(request, engine)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/api/measures", measures, methods=["POST"]),
    ]
    secret = settings.slack_signing_secret
    if app is not None and secret is not None:
        handler = AsyncSlackRequestHandler(app)
        signing_secret = secret.get_secret_value()

        async def events(request: Request) -> Response:
            started = time.perf_counter()
            body = await request.body()
            refusal = check_slack_request(signing_secret, request.headers, body, time.time())
            if refusal is None:
                response = await handler.handle(request)
            else:
                error = "invalid_request" if refusal.status == 401 else "malformed_request"
                response = JSONResponse({"ok": False, "error": error}, refusal.status)
            fields = request_fields(body, request.headers.get("content-type", ""))
            requests_log.info(
                "%s %s -> %d%s",
                fields.get("kind", "request"),
                fields.get("command") or fields.get("event") or "",
                response.status_code,
                f" ({refusal.reason})" if refusal else "",
                extra={
                    **fields,
                    "status": response.status_code,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                    **({"reason": refusal.reason} if refusal else {}),
                },
            )
            return response

        routes.append(Route("/slack/events", events, methods=["POST"]))
    if settings.public:
        routes += public_routes(engine, settings.public_url)
    return BodyLimits(Starlette(routes=routes, lifespan=lifespan), settings.max_body_bytes)


def serve(settings: Settings, *, host: str, port: int) -> None:
    # Before any database thread starts: their memory in two arenas, not one each (bot/malloc.py).
    limit_malloc_arenas()
    engine = create_engine(settings.database)
    app = build_app(settings, engine)
    # Everything built so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise pause answers for ~100 ms now and then (bench/).
    gc.collect()
    gc.freeze()
    socket_mode = settings.slack_app_token is not None
    scheduler = cycle = None
    if settings.scheduler:
        cycle = Cycle(
            plan_context(settings, engine),
            app.client,
            timedelta(hours=settings.catch_up_hours),
            settings.digest_cron,
        )
        scheduler = build_scheduler(cycle)

    async def startup() -> None:
        """The doctor's checks (joining public channels first), then what is due."""
        try:
            log_checkup(await check_deployment(settings))
        except Exception:
            log.exception("doctor: the start-up checks failed")
        if cycle is not None:
            await cycle.tick()

    limits = connection_limits(settings.max_connections)
    config = uvicorn.Config(
        build_asgi(None if socket_mode else app, engine, settings, scheduler, startup),
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        access_log=False,
        http=guarded_protocol(limits),
        ws="none",  # no WebSocket routes: an upgrade request is an ordinary one
        backlog=BACKLOG,
        timeout_keep_alive=settings.keep_alive_seconds,
    )
    bounds = (
        f"at most {limits.max_connections} connections (file descriptors: {limits.fd_limit}), "
        f"request headers within {limits.header_timeout:g} s, bodies up to "
        f"{settings.max_body_bytes} bytes, idle connections kept {settings.keep_alive_seconds} s"
    )
    if settings.slack_app_token is not None:
        log.info("starting in Socket Mode; /healthz on %s:%d; %s", host, port, bounds)
        asyncio.run(_socket_mode(app, settings.slack_app_token.get_secret_value(), config))
        return
    log.info("starting HTTP on %s:%d; %s", host, port, bounds)
    uvicorn.Server(config).run()


async def _socket_mode(app: AsyncApp, app_token: str, config: uvicorn.Config) -> None:
    """Slack's socket for events, and an HTTP server for /healthz only."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    health = asyncio.create_task(uvicorn.Server(config).serve())
    try:
        await AsyncSocketModeHandler(app, app_token).start_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves it untyped
    finally:
        health.cancel()
