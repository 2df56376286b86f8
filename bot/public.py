"""The plan in public (issue 17): the site and the open data, served in HTTP mode when
`PLANBOT_PUBLIC` is on, under `/public/`.

Everything served comes from a published period's snapshot (models/publish.py) — nothing
unpublished, ever. A snapshot never changes, so each page or file is rendered once per process
and served from memory with its ETag (the snapshot's hash) and Last-Modified (when it was
published): a conditional GET is a 304, and a resident's browser or a portal's harvester
re-reads nothing that did not change. Open to every origin for GET (CORS), like open data.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from models.db import session_scope
from models.periods import PeriodError, parse_period
from models.plans import NoActivePlan, active_plan_id
from models.tables import Publication

log = logging.getLogger(__name__)

PREFIX = "/public"
_PERIOD_PATH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
MOST_RENDERED = 2048  # pages and files kept rendered in memory, the least recently used dropped
CACHE_CONTROL = "public, max-age=300"  # five minutes; a new period is a new URL anyway
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since",
    "Access-Control-Expose-Headers": "ETag, Last-Modified",
    "Access-Control-Max-Age": "86400",
}


@dataclass(frozen=True)
class Period:
    """A published period: its snapshot and how it is named to caches."""

    period: str
    etag: str
    published_at: datetime
    snapshot: dict[str, Any]
    periods: tuple[str, ...]  # every published period, newest first (for "earlier periods")


@dataclass(frozen=True)
class Rendered:
    body: bytes
    media_type: str
    etag: str
    last_modified: datetime


class NotPublished(Exception):
    """No such published period (or nothing published at all): a 404."""


class PublicStore:
    """Published periods, read once each (they never change), and what was rendered of them.
    The list of periods is read again at most every few seconds, so a period published by
    another replica appears there within that."""

    LIST_SECONDS = 5.0

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._periods: dict[str, Period] = {}
        self._listed: tuple[float, tuple[str, ...]] | None = None
        self._rendered: OrderedDict[tuple[str, str], Rendered] = OrderedDict()

    async def periods(self) -> tuple[str, ...]:
        import time

        now = time.monotonic()
        if self._listed is None or now - self._listed[0] > self.LIST_SECONDS:
            async with session_scope(self.engine) as session:
                try:
                    plan_id = await active_plan_id(session)
                except NoActivePlan:
                    return ()
                rows = await session.exec(
                    select(col(Publication.period))
                    .where(col(Publication.plan_id) == plan_id)
                    .order_by(col(Publication.period).desc())
                )
                self._listed = (now, tuple(rows))
        return self._listed[1]

    async def period(self, name: str) -> Period:
        """A published period by name ("2026-10"), or "latest"."""
        periods = await self.periods()
        if name == "latest":
            if not periods:
                raise NotPublished(name)
            name = periods[0]
        try:
            name = parse_period(name)
        except PeriodError:
            raise NotPublished(name) from None
        if name not in periods:
            raise NotPublished(name)
        found = self._periods.get(name)
        if found is None:
            async with session_scope(self.engine) as session:
                plan_id = await active_plan_id(session)
                row = (
                    await session.exec(
                        select(Publication).where(
                            col(Publication.plan_id) == plan_id, col(Publication.period) == name
                        )
                    )
                ).first()
            if row is None:
                raise NotPublished(name)
            found = Period(row.period, row.etag, row.published_at, json.loads(row.content), ())
            self._periods[name] = found
        # The list of periods moves when another is published: pages that link to earlier
        # periods are keyed by it too.
        return Period(found.period, found.etag, found.published_at, found.snapshot, periods)

    def has(self, key: tuple[str, str]) -> bool:
        """Whether that page or file is rendered already."""
        return key in self._rendered

    async def rendered(
        self, key: tuple[str, str], make: Callable[[], Awaitable[Rendered]]
    ) -> Rendered:
        hit = self._rendered.get(key)
        if hit is not None:
            self._rendered.move_to_end(key)
            return hit
        made = await make()
        self._rendered[key] = made
        while len(self._rendered) > MOST_RENDERED:
            self._rendered.popitem(last=False)
        return made


def _not_modified(request: Request, rendered: Rendered) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = [t.strip().removeprefix("W/") for t in match.split(",")]
        return "*" in tags or f'"{rendered.etag}"' in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return rendered.last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def respond(request: Request, rendered: Rendered, *, cors: bool = True) -> Response:
    """The rendered page or file, or a 304 when the client has it already; HEAD has no body."""
    headers = {
        "ETag": f'"{rendered.etag}"',
        "Last-Modified": format_datetime(
            rendered.last_modified.replace(microsecond=0), usegmt=True
        ),
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
        **(CORS if cors else {}),
    }
    if _not_modified(request, rendered):
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else rendered.body
    response = Response(body, media_type=rendered.media_type, headers=headers)
    if request.method == "HEAD":
        response.headers["content-length"] = str(len(rendered.body))
    return response


def not_found(message: str = "Not published.") -> Response:
    return Response(message + "\n", status_code=404, media_type="text/plain", headers=CORS)


async def preflight_or_not_found(request: Request) -> Response:
    """Anything under /public/ no route serves: a CORS preflight is answered, the rest is 404."""
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=CORS)
    path = request.path_params.get("path", "")
    if _PERIOD_PATH.fullmatch(path):  # `/public/2026-10` as typed: its page is `/public/2026-10/`
        return RedirectResponse(f"{PREFIX}/{path}/", status_code=308)
    return not_found("Not found.")


def public_routes(engine: AsyncEngine, base_url: str | None = None) -> list[BaseRoute]:
    """The site's pages and the open data, under /public/."""
    from bot.open_data import data_routes
    from bot.public_site import site_routes

    store = PublicStore(engine)
    return [
        *data_routes(store),
        *site_routes(store, base_url),
        Route(PREFIX + "/{path:path}", preflight_or_not_found, methods=["GET", "HEAD", "OPTIONS"]),
    ]
