"""A stand-in for Slack's Web API on loopback, for tests and the bot's local mode.

Slack cannot be reached from the machines this bot is developed and tested on, so
`SlackStandin` runs a real HTTP server (aiohttp.web) on ``127.0.0.1`` with a random free
port.  Point ``slack_sdk.web.async_client.AsyncWebClient(base_url=standin.base_url)`` (or
Bolt's ``AsyncApp(client=...)``) at it and the app talks to it exactly as it would to
``https://slack.com/api/``.

What it does:

* Answers ``/api/<method>`` (GET or POST; query string, form-encoded, multipart or JSON
  bodies).  slack_sdk sends blocks-bearing calls (``chat.postMessage``, ``chat.update``,
  ``views.*``) as JSON, several others (``conversations.open``,
  ``files.getUploadURLExternal``, ``files.completeUploadExternal``) as *query-string*
  parameters on a POST with an empty form body, and reads (``conversations.history``,
  ``users.info``) as GET.  All of these are merged into one ``args`` dict; JSON-encoded
  strings under ``blocks``/``attachments``/``metadata``/``view``/``files``/... are decoded.
* Records every call as a `Call` in ``calls`` (posts to response URLs go to ``responses``).
* Keeps just enough state to be coherent: posted messages per channel (history, replies,
  update, delete), views (``home_views`` per user), uploaded file bytes (``uploads``).
* Answers as Slack does about channels and people, when a test says how things stand
  (`add_channel`, `remove_channel`, `add_user`, `remove_user`): posting where the bot is not a
  member is ``not_in_channel`` (``channel_not_found`` in a private channel, which the bot cannot
  see), in an archived channel ``is_archived``; ``conversations.join`` joins public channels
  only (``method_not_supported_for_channel_type`` for private ones); ``users.info`` says
  ``user_not_found`` for someone outside the workspace and ``deleted`` for a deactivated
  account; ``users.lookupByEmail`` says ``users_not_found``.  A member's time zone
  (`set_time_zone`, ``America/New_York`` unless set) and status (`set_status`: text, emoji,
  expiry) are in ``users.info``, ``users.list`` and ``users.profile.get``.  Every answer carries the
  token's scopes in ``x-oauth-scopes`` (`scopes`, by default everything the app asks for).
  By default every channel exists, is public and has the bot as a member, and every user id
  is a member of the workspace.
* Lets a test queue faults per method (`Fault`): HTTP 429 with ``Retry-After``, 5xx, a
  dropped connection, or a Slack ``{"ok": false, "error": ...}``.
* Keeps canvases as Slack does: ``conversations.canvases.create`` makes a channel's one canvas
  (a second is ``channel_canvas_already_exists``), ``canvases.create`` a standalone one (shared
  in ``channel_id`` when given), ``canvases.edit`` applies ``changes`` (``replace``,
  ``insert_at_start``/``insert_at_end``; an unknown or deleted id is ``canvas_not_found``),
  ``canvases.delete`` deletes.  A token without ``canvases:write`` gets ``missing_scope``.
  `delete_canvas` deletes one as a person in Slack would; `canvas_markdown` reads what one shows.
* Optionally enforces ``chat.postMessage`` rate limits, and ``canvases.edit``'s Tier 3 (see
  `SlackStandin.enforce_rate_limits`).

Any method it does not know answers ``{"ok": true}`` so the app never crashes on a call we
forgot to model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo

from aiohttp import web

__all__ = ["DEFAULT_SCOPES", "Call", "Fault", "SlackChannel", "SlackStandin"]

BOT_ID = "BPLANBOT"
APP_ID = "APLANBOT"

# The bot token's scopes unless a test says otherwise: what manifest.yml asks for.
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "users:read.email",
    "files:write",
    "reactions:write",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
    "channels:join",
    "canvases:write",
)

# Argument names whose values slack_sdk (or an app) may send as JSON-encoded strings.
_JSON_KEYS = frozenset(
    {
        "attachments",
        "blocks",
        "changes",
        "document_content",
        "files",
        "metadata",
        "unfurls",
        "user_auth_blocks",
        "view",
    }
)

FaultKind = Literal["rate_limited", "server_error", "accepted_then_error", "drop", "error"]


@dataclass(frozen=True)
class Fault:
    """One injected failure, consumed by the next call of the method it was queued for."""

    kind: FaultKind
    status: int = 200
    retry_after: int = 1
    error_name: str = ""

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Self:
        """HTTP 429, ``Retry-After: <retry_after>``, ``{"ok": false, "error": "ratelimited"}``."""
        return cls(
            kind="rate_limited",
            status=429,
            retry_after=max(1, int(retry_after)),
            error_name="ratelimited",
        )

    @classmethod
    def server_error(cls, status: int = 500) -> Self:
        """HTTP ``status`` (5xx) with the plain-text body ``internal error``."""
        return cls(kind="server_error", status=status)

    @classmethod
    def accepted_then_error(cls, status: int = 500) -> Self:
        """The call is carried out (a post is in the channel), then answered with HTTP
        ``status`` (5xx): what a client sees when Slack's edge fails after the work is done."""
        return cls(kind="accepted_then_error", status=status)

    @classmethod
    def drop(cls) -> Self:
        """Close the connection without answering (the client sees ServerDisconnectedError)."""
        return cls(kind="drop", status=0)

    @classmethod
    def error(cls, name: str) -> Self:
        """HTTP 200 with ``{"ok": false, "error": name}``, e.g. ``channel_not_found``."""
        return cls(kind="error", status=200, error_name=name)


@dataclass
class Call:
    """One request the stand-in received, and how it answered."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float
    status: int
    response: dict[str, Any] | None = None  # the JSON we answered, if the answer was JSON

    @property
    def ok(self) -> bool:
        """HTTP 200 and, for a JSON answer, ``"ok": true``."""
        if self.status != 200:
            return False
        return self.response is None or bool(self.response.get("ok", True))


@dataclass
class SlackChannel:
    """A channel as the stand-in knows it (see `SlackStandin.add_channel`)."""

    id: str
    name: str
    private: bool = False
    archived: bool = False
    member: bool = True

    def info(self) -> dict[str, Any]:
        """The conversation object Slack's conversations.* methods answer with."""
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.private,
            "is_archived": self.archived,
            "is_general": False,
            "is_member": self.member,
        }


@dataclass
class _Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    def to_response(self, request: web.Request) -> web.StreamResponse:
        if self.drop:
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=200)
        if self.body is not None:
            return web.json_response(self.body, status=self.status, headers=self.headers)
        return web.Response(status=self.status, text=self.text or "", headers=self.headers)


_CURSOR = "dXNlcjo"  # what Slack's user cursors start with; the offset follows


def _ok(**payload: Any) -> _Reply:
    return _Reply(body={"ok": True, **payload})


def _fail(error: str) -> _Reply:
    return _Reply(body={"ok": False, "error": error})


# Slack's published rate-limit tiers (calls a minute, per method, for the workspace) of every
# Web API method the bot calls; `chat.postMessage` has its own limit (about 1 a second per
# channel), enforced apart. Tier 1: 1+, Tier 2: 20+, Tier 3: 50+, Tier 4: 100+; "special"
# methods are given Tier 4's figure.
SLACK_TIERS: dict[str, float] = {
    "auth.test": 600,  # "hundreds of requests per minute"
    "chat.postEphemeral": 100,
    "chat.update": 50,
    "chat.delete": 50,
    "chat.getPermalink": 100,
    "conversations.history": 50,
    "conversations.replies": 50,
    "conversations.open": 50,
    "conversations.info": 50,
    "conversations.join": 50,
    "conversations.list": 20,
    "reactions.add": 50,
    "users.info": 100,
    "users.list": 20,
    "users.lookupByEmail": 50,
    "users.profile.get": 100,
    "views.open": 100,
    "views.push": 100,
    "views.update": 100,
    "views.publish": 100,
    "files.getUploadURLExternal": 100,
    "files.completeUploadExternal": 100,
    "conversations.canvases.create": 20,
    "canvases.create": 20,
    "canvases.edit": 50,
    "canvases.delete": 50,
}
# A tier's bucket holds this many seconds of its rate, and at least 3 calls: Slack allows
# short bursts.
TIER_BURST_SECONDS = 5.0


@dataclass
class _Bucket:
    """Token bucket: holds at most ``capacity`` tokens, refilled at ``rate`` per second."""

    rate: float
    capacity: float
    tokens: float
    stamp: float

    def wait(self, now: float) -> float:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.stamp = max(self.stamp, now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


def _decode_json_values(args: dict[str, Any]) -> dict[str, Any]:
    for key in _JSON_KEYS & args.keys():
        value = args[key]
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Merge query-string parameters and the body (JSON, form or multipart) into one dict."""
    args: dict[str, Any] = dict(request.query.items())
    if request.method != "GET" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            raw = await request.read()
            if raw.strip():
                body = json.loads(raw)
                if isinstance(body, dict):
                    args.update(body)
                else:
                    args["_body"] = body
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    args[key] = value.file.read()
                else:
                    args[key] = value
        else:
            raw = await request.read()
            if raw:
                args["_body"] = raw
    return _decode_json_values(args)


def _bearer(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _ts_key(ts: Any) -> Decimal:
    try:
        return Decimal(str(ts))
    except InvalidOperation:
        return Decimal(0)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class SlackStandin:
    """A loopback HTTP server answering Slack Web API calls (see the module docstring).

    Use as ``async with SlackStandin() as slack: client = AsyncWebClient(token=...,
    base_url=slack.base_url)``.  Everything runs on the caller's event loop.
    """

    def __init__(
        self,
        *,
        bot_user_id: str = "UPLANBOT",
        team_id: str = "T0PLAN",
        users: dict[str, str] | None = None,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        enterprise_id: str | None = None,
        org_install: bool = False,
    ) -> None:
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.enterprise_id = enterprise_id  # an Enterprise Grid organisation's id, or None
        self.org_install = org_install  # installed on the whole organisation
        self.team_domain = "planbot-local"
        self.users: dict[str, str] = dict(users or {})
        self.scopes: tuple[str, ...] = tuple(scopes)
        self.channels: dict[str, SlackChannel] = {}
        self.emails: dict[str, str] = {}  # e-mail (lower case) → user id
        self.deactivated: set[str] = set()
        # Each member's time zone (IANA; `default_tz` for anyone not set) and Slack status.
        self.default_tz = "America/New_York"
        self.zones: dict[str, str] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.strangers: set[str] = set()  # user ids that are not members of the workspace
        self._removed_channels: set[str] = set()
        self.calls: list[Call] = []
        self.responses: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._last_ts_us = 0
        self._seq = 0
        self._channel_rate: float | None = None
        self._workspace_rate: float | None = None
        self._channel_buckets: dict[str, _Bucket] = {}
        self._workspace_bucket: _Bucket | None = None
        self._canvas_edit_bucket: _Bucket | None = None
        self._method_buckets: dict[str, _Bucket] = {}
        # Canvases by id: title, markdown, the channel it is in, whether it is the channel's own.
        self.canvases: dict[str, dict[str, Any]] = {}
        self.channel_canvases: dict[str, str] = {}  # channel id → its channel canvas's id

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and start serving."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/commands/{team}/{hook}/{name}", self._handle_response)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving and release the port (state stays readable)."""
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (only while started)."""
        if self._port is None:
            raise RuntimeError("SlackStandin is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """The Web API base URL to hand to AsyncWebClient: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.origin}/api/"

    def response_url(self, name: str = "r") -> str:
        """A URL that records what is POSTed to it (Bolt's ``respond()``) in ``responses``,
        shaped as Slack's are (``…/commands/TEAM/ID/TOKEN``, here the token is ``name``)."""
        return f"{self.origin}/commands/{self.team_id}/1/{name}"

    # ----------------------------------------------------------------- test helpers

    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call of ``method`` (successful or not), in order."""
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least ``count`` successful calls of ``method`` were answered.

        ``method="response"`` waits on ``responses`` (posts to any response URL) instead, and
        ``"response:<name>"`` on the posts to one response URL.
        Returns the successful calls; raises AssertionError on timeout.
        """
        deadline = time.monotonic() + timeout
        while True:
            if method == "response":
                done = [c for c in self.responses if c.ok]
            elif method.startswith("response:"):
                done = [c for c in self.responses if c.method == method and c.ok]
            else:
                done = [c for c in self.calls if c.method == method and c.ok]
            if len(done) >= count:
                return done
            if time.monotonic() >= deadline:
                seen = [f"{c.method}:{c.status}" for c in [*self.calls, *self.responses]]
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} successful {method!r} "
                    f"call(s), got {len(done)}; seen: {seen}"
                )
            await asyncio.sleep(0.01)

    def inject(self, method: str, *faults: Fault) -> None:
        """Queue faults for the next calls of ``method``, consumed one per call in order.

        ``method`` is a Web API method name, ``"upload"`` for posts to upload URLs, or
        ``"response"`` for posts to response URLs.
        """
        self._faults.setdefault(method, deque()).extend(faults)

    def reset(self) -> None:
        """Forget recorded calls, responses and pending faults (keeps messages, views, files)."""
        self.calls.clear()
        self.responses.clear()
        self._faults.clear()

    def enforce_rate_limits(
        self,
        per_channel_per_second: float | None,
        per_workspace_per_second: float | None,
        canvas_edits_per_minute: float | None = None,
    ) -> None:
        """Rate-limit ``chat.postMessage`` (``None`` disables a limit), and ``canvases.edit``
        when ``canvas_edits_per_minute`` is given (Slack's Tier 3 is 50+ a minute for the
        workspace), with a bucket of the same kind.

        Token buckets: one per channel and one for the workspace, each holding at most
        ``max(1, rate)`` tokens (so a burst of ``rate`` posts is allowed) and refilled
        continuously at ``rate`` per second.  A post needs a token from both buckets; if
        either is empty it is answered HTTP 429, ``Retry-After: ceil(wait)`` (at least 1) and
        ``{"ok": false, "error": "ratelimited"}``, and consumes nothing.  Calling this again
        starts with full buckets.
        """
        self._channel_rate = per_channel_per_second
        self._workspace_rate = per_workspace_per_second
        self._channel_buckets = {}
        self._workspace_bucket = (
            self._new_bucket(per_workspace_per_second) if per_workspace_per_second else None
        )
        self._canvas_edit_bucket = (
            self._new_bucket(canvas_edits_per_minute / 60.0) if canvas_edits_per_minute else None
        )

    def enforce_slack_limits(
        self,
        *,
        posts_per_channel_per_second: float | None = 1.0,
        posts_per_second: float | None = None,
    ) -> None:
        """Every method the bot calls limited as Slack documents it (`SLACK_TIERS`, a minute's
        rate for the workspace, bursts of TIER_BURST_SECONDS' worth), and `chat.postMessage`
        at `posts_per_channel_per_second` per channel (and `posts_per_second` for the
        workspace when given). Over a limit: HTTP 429 with ``Retry-After``, nothing done.
        Calling this again starts with full buckets."""
        self.enforce_rate_limits(posts_per_channel_per_second, posts_per_second)
        self._method_buckets = {
            method: _Bucket(
                rate=per_minute / 60.0,
                capacity=max(3.0, per_minute / 60.0 * TIER_BURST_SECONDS),
                tokens=max(3.0, per_minute / 60.0 * TIER_BURST_SECONDS),
                stamp=time.monotonic(),
            )
            for method, per_minute in SLACK_TIERS.items()
        }

    def count_rate_limited(self, method: str | None = None) -> int:
        """How many calls (of `method`, or of any) were answered 429."""
        return sum(1 for c in self.calls if c.status == 429 and method in (None, c.method))

    def seed_message(
        self,
        channel: str,
        text: str,
        *,
        user: str,
        thread_ts: str | None = None,
        ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Store a message as if ``user`` had posted it (for history/replies), at ``ts`` if
        given (a message posted before this stand-in started); returns it."""
        message: dict[str, Any] = {
            "type": "message",
            "ts": ts or self._next_ts(),
            "user": user,
            "text": text,
            "team": self.team_id,
            **extra,
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
        self._store(self._resolve_channel(channel), message)
        return message

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        private: bool = False,
        archived: bool = False,
        member: bool = True,
    ) -> SlackChannel:
        """Say how a channel stands: its name, private or public, archived, and whether the
        bot is a member. (A channel never mentioned exists, is public and has the bot.)"""
        channel = SlackChannel(channel_id, name or channel_id.lower(), private, archived, member)
        self.channels[channel_id] = channel
        self._removed_channels.discard(channel_id)
        return channel

    def remove_channel(self, channel_id: str) -> None:
        """The channel no longer exists (or never did): ``channel_not_found`` from now on."""
        self.channels.pop(channel_id, None)
        self._removed_channels.add(channel_id)

    def add_user(
        self, user_id: str, name: str, *, email: str | None = None, deleted: bool = False
    ) -> None:
        """A member of the workspace, found by ``users.lookupByEmail`` when `email` is given;
        ``deleted`` is a deactivated account."""
        self.users[user_id] = name
        self.strangers.discard(user_id)
        if email:
            self.emails[email.lower()] = user_id
        if deleted:
            self.deactivated.add(user_id)
        else:
            self.deactivated.discard(user_id)

    def set_time_zone(self, user_id: str, tz: str) -> None:
        """The member's time zone, as their profile gives it (``users.info``'s ``tz``)."""
        ZoneInfo(tz)  # a zone Slack would give: an IANA name
        self.zones[user_id] = tz

    def set_status(
        self, user_id: str, text: str = "", emoji: str = "", expiration: int = 0
    ) -> None:
        """The member's Slack status (``status_text``, ``status_emoji``, and when it clears,
        in Unix seconds; 0: never), as ``users.info`` and ``users.profile.get`` show it."""
        self.statuses[user_id] = {
            "status_text": text,
            "status_emoji": emoji,
            "status_expiration": expiration,
        }

    def delete_canvas(self, canvas_id: str) -> None:
        """Someone deletes the canvas in Slack: ``canvas_not_found`` from now on, and its
        channel has no channel canvas any more."""
        canvas = self.canvases.pop(canvas_id)
        if self.channel_canvases.get(canvas.get("channel_id") or "") == canvas_id:
            del self.channel_canvases[canvas["channel_id"]]

    def canvas_markdown(self, canvas_id: str) -> str:
        """What the canvas shows now, as markdown (KeyError when there is no such canvas)."""
        return str(self.canvases[canvas_id]["markdown"])

    def remove_user(self, user_id: str) -> None:
        """Not a member of this workspace: ``users.info`` answers ``user_not_found``."""
        self.users.pop(user_id, None)
        self.strangers.add(user_id)
        self.emails = {e: u for e, u in self.emails.items() if u != user_id}

    # ----------------------------------------------------------------- HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await _read_args(request)
        token = _bearer(request) or (
            args.get("token") if isinstance(args.get("token"), str) else None
        )
        accepted_then = self._accepted_then_error(method)
        reply = None if accepted_then is not None else self._fault_reply(method)
        if reply is None and method == "chat.postMessage":
            reply = self._rate_limit_reply(args)
        if reply is None and method == "canvases.edit" and self._canvas_edit_bucket is not None:
            reply = self._bucket_reply([self._canvas_edit_bucket])
        if reply is None and method in self._method_buckets:
            reply = self._bucket_reply([self._method_buckets[method]])
        if reply is None:
            reply = self._answer(method, args)
            if accepted_then is not None:
                reply = _Reply(status=accepted_then.status, text="internal error")
        # Slack names the token's scopes on every answer, failed or not.
        reply.headers.setdefault("x-oauth-scopes", ",".join(self.scopes))
        self.calls.append(
            Call(
                method=method,
                args=args,
                token=token,
                at=time.monotonic(),
                status=0 if reply.drop else reply.status,
                response=reply.body,
            )
        )
        return reply.to_response(request)

    async def _handle_response(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        args = await _read_args(request)
        reply = self._fault_reply("response") or _Reply(text="ok")
        self.responses.append(
            Call(
                method=f"response:{name}",
                args=args,
                token=_bearer(request),
                at=time.monotonic(),
                status=0 if reply.drop else reply.status,
                response=reply.body,
            )
        )
        return reply.to_response(request)

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        content = b""
        if request.content_type == "multipart/form-data":
            form = await request.post()
            for value in form.values():
                if isinstance(value, web.FileField):
                    content = value.file.read()
                    break
                content = str(value).encode()
        else:
            content = await request.read()
        reply = self._fault_reply("upload")
        if reply is None:
            self.uploads[file_id] = content
            reply = _Reply(text=f"OK - {len(content)}")
        self.calls.append(
            Call(
                method="upload",
                args={"file_id": file_id, "length": len(content)},
                token=_bearer(request),
                at=time.monotonic(),
                status=0 if reply.drop else reply.status,
            )
        )
        return reply.to_response(request)

    def _accepted_then_error(self, method: str) -> Fault | None:
        """The next fault of `method` when it is an accepted-then-error one (consumed)."""
        queue = self._faults.get(method)
        if queue and queue[0].kind == "accepted_then_error":
            return queue.popleft()
        return None

    def _fault_reply(self, method: str) -> _Reply | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue.popleft()
        if fault.kind == "rate_limited":
            return _Reply(
                status=429,
                body={"ok": False, "error": "ratelimited"},
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "server_error":
            return _Reply(status=fault.status, text="internal error")
        if fault.kind == "drop":
            return _Reply(status=0, drop=True)
        return _fail(fault.error_name)

    def _new_bucket(self, rate: float) -> _Bucket:
        capacity = max(1.0, rate)
        return _Bucket(rate=rate, capacity=capacity, tokens=capacity, stamp=time.monotonic())

    def _rate_limit_reply(self, args: dict[str, Any]) -> _Reply | None:
        buckets: list[_Bucket] = []
        if self._channel_rate:
            channel = self._resolve_channel(str(args.get("channel", "")))
            bucket = self._channel_buckets.get(channel)
            if bucket is None:
                bucket = self._channel_buckets[channel] = self._new_bucket(self._channel_rate)
            buckets.append(bucket)
        if self._workspace_bucket is not None:
            buckets.append(self._workspace_bucket)
        return self._bucket_reply(buckets)

    def _bucket_reply(self, buckets: list[_Bucket]) -> _Reply | None:
        now = time.monotonic()
        wait = max((b.wait(now) for b in buckets), default=0.0)
        if wait > 0:
            return _Reply(
                status=429,
                body={"ok": False, "error": "ratelimited"},
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        for bucket in buckets:
            bucket.take()
        return None

    # ----------------------------------------------------------------- Slack methods

    def _answer(self, method: str, args: dict[str, Any]) -> _Reply:
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.list": self._conversations_list,
            "reactions.add": self._reactions_add,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.profile.get": self._users_profile_get,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "conversations.canvases.create": self._conversations_canvases_create,
            "canvases.create": self._canvases_create,
            "canvases.edit": self._canvases_edit,
            "canvases.delete": self._canvases_delete,
        }.get(method)
        if method.startswith(("canvases.", "conversations.canvases.")):
            refused = self._needs_scope("canvases:write")
            if refused is not None:
                return refused
        if handler is None:
            return _ok()
        return handler(args)

    def _auth_test(self, args: dict[str, Any]) -> _Reply:
        grid = {} if self.enterprise_id is None else {"enterprise_id": self.enterprise_id}
        return _ok(
            url=f"https://{self.team_domain}.slack.com/",
            team="Plan Bot Local",
            user="planbot",
            team_id=self.team_id,
            user_id=self.bot_user_id,
            bot_id=BOT_ID,
            is_enterprise_install=self.org_install,
            **grid,
        )

    def _chat_post_message(self, args: dict[str, Any]) -> _Reply:
        channel = self._resolve_channel(str(args.get("channel", "")))
        if not channel:
            return _fail("channel_not_found")
        refused = self._refuse(channel, write=True)
        if refused is not None:
            return refused
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            return _fail("no_text")
        message: dict[str, Any] = {
            "type": "message",
            "ts": self._next_ts(),
            "user": self.bot_user_id,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": self.team_id,
            "text": args.get("text") or args.get("markdown_text") or "",
            "blocks": args.get("blocks") or [],
        }
        for key in ("attachments", "metadata"):
            if args.get(key):
                message[key] = args[key]
        thread_ts = args.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
        self._store(channel, message)
        return _ok(channel=channel, ts=message["ts"], message=dict(message))

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> _Reply:
        channel = self._resolve_channel(str(args.get("channel", "")))
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel,
                "user": args.get("user"),
                "ts": ts,
                "text": args.get("text", ""),
                "blocks": args.get("blocks") or [],
                "thread_ts": args.get("thread_ts"),
            }
        )
        return _ok(message_ts=ts)

    def _chat_update(self, args: dict[str, Any]) -> _Reply:
        channel = self._resolve_channel(str(args.get("channel", "")))
        refused = self._refuse(channel, write=True)
        if refused is not None:
            return refused
        message = self._find(channel, str(args.get("ts", "")))
        if message is None:
            return _fail("message_not_found")
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return _ok(
            channel=channel, ts=message["ts"], text=message.get("text", ""), message=dict(message)
        )

    def _chat_delete(self, args: dict[str, Any]) -> _Reply:
        channel = self._resolve_channel(str(args.get("channel", "")))
        message = self._find(channel, str(args.get("ts", "")))
        if message is None:
            return _fail("message_not_found")
        self.messages[channel].remove(message)
        return _ok(channel=channel, ts=message["ts"])

    def _chat_get_permalink(self, args: dict[str, Any]) -> _Reply:
        channel = self._resolve_channel(str(args.get("channel", "")))
        ts = str(args.get("message_ts", ""))
        return _ok(channel=channel, permalink=self.permalink(channel, ts))

    def permalink(self, channel: str, ts: str) -> str:
        """The permalink chat.getPermalink answers for a message."""
        return f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    def _present(self, message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
        shown = dict(message)
        if not with_metadata:
            shown.pop("metadata", None)
        return shown

    def _page(
        self, items: list[dict[str, Any]], args: dict[str, Any], with_metadata: bool
    ) -> _Reply:
        oldest = args.get("oldest")
        latest = args.get("latest")
        inclusive = _truthy(args.get("inclusive", False))
        if oldest not in (None, ""):
            low = _ts_key(oldest)
            items = [
                m
                for m in items
                if _ts_key(m["ts"]) > low or (inclusive and _ts_key(m["ts"]) == low)
            ]
        if latest not in (None, ""):
            high = _ts_key(latest)
            items = [
                m
                for m in items
                if _ts_key(m["ts"]) < high or (inclusive and _ts_key(m["ts"]) == high)
            ]
        limit = max(1, _int(args.get("limit"), 100))
        start = max(0, _int(args.get("cursor"), 0))
        page = items[start : start + limit]
        more = start + limit < len(items)
        return _ok(
            messages=[self._present(m, with_metadata) for m in page],
            has_more=more,
            response_metadata={"next_cursor": str(start + limit) if more else ""},
        )

    def _conversations_history(self, args: dict[str, Any]) -> _Reply:
        channel = self._resolve_channel(str(args.get("channel", "")))
        refused = self._refuse(channel, write=False)
        if refused is not None:
            return refused
        top = [
            m
            for m in self.messages.get(channel, [])
            if m.get("thread_ts") in (None, m["ts"]) or m.get("reply_broadcast")
        ]
        newest_first = sorted(top, key=lambda m: _ts_key(m["ts"]), reverse=True)
        return self._page(newest_first, args, _truthy(args.get("include_all_metadata", False)))

    def _conversations_replies(self, args: dict[str, Any]) -> _Reply:
        channel = self._resolve_channel(str(args.get("channel", "")))
        refused = self._refuse(channel, write=False)
        if refused is not None:
            return refused
        ts = str(args.get("ts", ""))
        parent = self._find(channel, ts)
        if parent is None:
            return _fail("thread_not_found")
        replies = [
            m for m in self.messages.get(channel, []) if m.get("thread_ts") == ts and m["ts"] != ts
        ]
        thread = [parent, *sorted(replies, key=lambda m: _ts_key(m["ts"]))]
        return self._page(thread, args, _truthy(args.get("include_all_metadata", False)))

    def _conversations_open(self, args: dict[str, Any]) -> _Reply:
        if args.get("channel"):
            return _ok(channel={"id": str(args["channel"])})
        users = [u.strip() for u in str(args.get("users", "")).split(",") if u.strip()]
        if not users:
            return _fail("users_list_not_supplied")
        if len(users) == 1:
            return _ok(channel={"id": "D" + users[0], "is_im": True, "user": users[0]})
        return _ok(channel={"id": "G" + "".join(sorted(users)), "is_mpim": True})

    def _conversations_info(self, args: dict[str, Any]) -> _Reply:
        channel = self._resolve_channel(str(args.get("channel", "")))
        if channel.startswith("D"):
            return _ok(channel={"id": channel, "is_im": True, "user": channel[1:]})
        known = self._visible_channel(channel)
        if known is None:
            return _fail("channel_not_found")
        return _ok(channel=known.info())

    def _conversations_join(self, args: dict[str, Any]) -> _Reply:
        """Public channels only; a private one needs an invitation from one of its members."""
        channel_id = str(args.get("channel", ""))
        if channel_id in self._removed_channels or not channel_id:
            return _fail("channel_not_found")
        channel = self._channel(channel_id)
        if channel.private or channel_id.startswith(("D", "G")):
            return _fail("method_not_supported_for_channel_type")
        if channel.archived:
            return _fail("is_archived")
        if channel.member:
            return _ok(
                channel=channel.info(),
                warning="already_in_channel",
                response_metadata={"warnings": ["already_in_channel"]},
            )
        channel.member = True
        return _ok(channel=channel.info())

    def _conversations_list(self, args: dict[str, Any]) -> _Reply:
        """The channels a test declared that the bot can see: every public one, and the
        private ones it is a member of; paged with `limit` and an opaque `cursor`."""
        types = {t.strip() for t in str(args.get("types") or "public_channel").split(",")}
        wanted = [
            c
            for c in self.channels.values()
            if ("private_channel" if c.private else "public_channel") in types
            and (c.member or not c.private)
            and not (c.archived and _truthy(args.get("exclude_archived", False)))
        ]
        cursor = str(args.get("cursor") or f"{_CURSOR}0")
        if not cursor.startswith(_CURSOR) or not cursor[len(_CURSOR) :].isdigit():
            return _fail("invalid_cursor")
        start = int(cursor[len(_CURSOR) :])
        end = start + max(min(_int(args.get("limit"), 100), 1000), 1)
        next_cursor = f"{_CURSOR}{end}" if end < len(wanted) else ""
        return _ok(
            channels=[c.info() for c in wanted[start:end]],
            response_metadata={"next_cursor": next_cursor},
        )

    def _reactions_add(self, args: dict[str, Any]) -> _Reply:
        channel = self._resolve_channel(str(args.get("channel", "")))
        refused = self._refuse(channel, write=True)
        if refused is not None:
            return refused
        name = str(args.get("name", ""))
        message = self._find(channel, str(args.get("timestamp", "")))
        if message is not None:
            reactions: list[dict[str, Any]] = message.setdefault("reactions", [])
            for reaction in reactions:
                if reaction["name"] == name:
                    if self.bot_user_id in reaction["users"]:
                        return _fail("already_reacted")
                    reaction["users"].append(self.bot_user_id)
                    reaction["count"] += 1
                    break
            else:
                reactions.append({"name": name, "users": [self.bot_user_id], "count": 1})
        return _ok()

    def _user(self, user_id: str) -> dict[str, Any]:
        is_bot = user_id == self.bot_user_id
        name = "planbot" if is_bot else self.users.get(user_id, user_id.lower())
        profile: dict[str, Any] = {"display_name": name, "real_name": name}
        email = next((e for e, u in self.emails.items() if u == user_id), None)
        if email is not None:
            profile["email"] = email
        profile.update(
            self.statuses.get(
                user_id, {"status_text": "", "status_emoji": "", "status_expiration": 0}
            )
        )
        tz = self.zones.get(user_id, self.default_tz)
        local = datetime.now(ZoneInfo(tz))
        offset = local.utcoffset()
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name,
            "deleted": user_id in self.deactivated,
            "is_bot": is_bot,
            "tz": tz,
            "tz_label": local.tzname() or tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "profile": profile,
        }

    def _users_info(self, args: dict[str, Any]) -> _Reply:
        user_id = str(args.get("user", ""))
        if not user_id or user_id in self.strangers:
            return _fail("user_not_found")
        return _ok(user=self._user(user_id))

    def _users_profile_get(self, args: dict[str, Any]) -> _Reply:
        user_id = str(args.get("user") or "")
        if not user_id or user_id in self.strangers:
            return _fail("user_not_found")
        return _ok(profile=self._user(user_id)["profile"])

    def _users_lookup_by_email(self, args: dict[str, Any]) -> _Reply:
        user_id = self.emails.get(str(args.get("email", "")).strip().lower())
        if user_id is None:
            return _fail("users_not_found")
        return _ok(user=self._user(user_id))

    def _users_list(self, args: dict[str, Any]) -> _Reply:
        """Paged as Slack pages it: `limit` (at most 1,000) and an opaque `cursor`."""
        everyone = [*self.users, self.bot_user_id]
        cursor = str(args.get("cursor") or f"{_CURSOR}0")
        if not cursor.startswith(_CURSOR) or not cursor[len(_CURSOR) :].isdigit():
            return _fail("invalid_cursor")
        start = int(cursor[len(_CURSOR) :])
        end = start + max(min(int(args.get("limit") or 1000), 1000), 1)
        members = [self._user(uid) for uid in everyone[start:end]]
        next_cursor = f"{_CURSOR}{end}" if end < len(everyone) else ""
        return _ok(members=members, response_metadata={"next_cursor": next_cursor})

    def _make_view(self, view: Any, view_id: str | None = None) -> dict[str, Any]:
        sent = dict(view) if isinstance(view, dict) else {}
        vid = view_id or self._new_id("V")
        stored = {
            "type": "modal",
            **sent,
            "id": vid,
            "team_id": self.team_id,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "hash": f"{int(time.time())}.{self._new_id('h')}",
            "state": {"values": {}},
        }
        self.views[vid] = stored
        return stored

    def _views_open(self, args: dict[str, Any]) -> _Reply:
        if not isinstance(args.get("view"), dict):
            return _fail("invalid_arguments")
        return _ok(view=self._make_view(args["view"]))

    def _views_update(self, args: dict[str, Any]) -> _Reply:
        if not isinstance(args.get("view"), dict):
            return _fail("invalid_arguments")
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        if not view_id and external_id:
            view_id = next(
                (v["id"] for v in self.views.values() if v.get("external_id") == external_id), None
            )
            if view_id is None:
                return _fail("not_found")
        return _ok(view=self._make_view(args["view"], str(view_id) if view_id else None))

    def _views_publish(self, args: dict[str, Any]) -> _Reply:
        user_id = str(args.get("user_id", ""))
        if not user_id or not isinstance(args.get("view"), dict):
            return _fail("invalid_arguments")
        previous = self.home_views.get(user_id)
        view = self._make_view(args["view"], previous["id"] if previous else None)
        self.home_views[user_id] = view
        return _ok(view=view)

    def _files_get_upload_url(self, args: dict[str, Any]) -> _Reply:
        if not args.get("filename") or args.get("length") in (None, ""):
            return _fail("invalid_arguments")
        file_id = self._new_id("F")
        self.files[file_id] = {
            "id": file_id,
            "name": str(args["filename"]),
            "title": str(args["filename"]),
            "size": _int(args["length"], 0),
            "alt_txt": str(args.get("alt_txt") or ""),
        }
        return _ok(upload_url=f"{self.origin}/upload/{file_id}", file_id=file_id)

    def _files_complete_upload(self, args: dict[str, Any]) -> _Reply:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            return _fail("invalid_arguments")
        channels = [c for c in str(args.get("channels", "")).split(",") if c]
        if args.get("channel_id"):
            channels.insert(0, str(args["channel_id"]))
        channels = [self._resolve_channel(c) for c in channels]
        for channel in channels:
            refused = self._refuse(channel, write=True)
            if refused is not None:
                return refused
        done: list[dict[str, Any]] = []
        for entry in entries:
            file_id = str(entry.get("id", "")) if isinstance(entry, dict) else ""
            if file_id not in self.files:
                return _fail("file_not_found")
            info = self.files[file_id]
            info["title"] = entry.get("title") or info["name"]
            info["size"] = len(self.uploads.get(file_id, b""))
            info["user"] = self.bot_user_id
            info["channels"] = channels
            info["permalink"] = f"https://{self.team_domain}.slack.com/files/{file_id}"
            done.append(dict(info))
        for channel in channels:
            message: dict[str, Any] = {
                "type": "message",
                "ts": self._next_ts(),
                "user": self.bot_user_id,
                "bot_id": BOT_ID,
                "team": self.team_id,
                "text": str(args.get("initial_comment") or ""),
                "files": done,
                "upload": True,
            }
            if args.get("thread_ts"):
                message["thread_ts"] = str(args["thread_ts"])
            self._store(channel, message)
        return _ok(files=done)

    def _needs_scope(self, scope: str) -> _Reply | None:
        if scope in self.scopes:
            return None
        return _Reply(
            body={
                "ok": False,
                "error": "missing_scope",
                "needed": scope,
                "provided": ",".join(self.scopes),
            }
        )

    def _new_canvas(self, args: dict[str, Any], channel_id: str | None, own: bool) -> str:
        content = args.get("document_content")
        markdown = ""
        if isinstance(content, dict) and content.get("type") == "markdown":
            markdown = str(content.get("markdown") or "")
        canvas_id = self._new_id("F")
        self.canvases[canvas_id] = {
            "id": canvas_id,
            "title": str(args.get("title") or ""),
            "markdown": markdown,
            "channel_id": channel_id,
            "channel_canvas": own,
        }
        if own and channel_id:
            self.channel_canvases[channel_id] = canvas_id
        return canvas_id

    def _bad_content(self, content: Any) -> bool:
        """Only markdown is a document's type; 1 MiB of it at most."""
        if content is None:
            return False
        if not isinstance(content, dict) or content.get("type") != "markdown":
            return True
        return len(str(content.get("markdown") or "")) > 1_048_576

    def _conversations_canvases_create(self, args: dict[str, Any]) -> _Reply:
        """A channel's own canvas, one per channel."""
        channel = str(args.get("channel_id") or "")
        if not channel or self._visible_channel(channel) is None:
            return _fail("channel_not_found")
        if self._bad_content(args.get("document_content")):
            return _fail("invalid_arguments")
        if channel in self.channel_canvases:
            return _fail("channel_canvas_already_exists")
        return _ok(canvas_id=self._new_canvas(args, channel, own=True))

    def _canvases_create(self, args: dict[str, Any]) -> _Reply:
        """A standalone canvas, added as a tab of ``channel_id`` when given."""
        channel = str(args.get("channel_id") or "") or None
        if channel is not None and self._visible_channel(channel) is None:
            return _fail("channel_not_found")
        if self._bad_content(args.get("document_content")):
            return _fail("invalid_arguments")
        return _ok(canvas_id=self._new_canvas(args, channel, own=False))

    def _canvases_edit(self, args: dict[str, Any]) -> _Reply:
        canvas = self.canvases.get(str(args.get("canvas_id") or ""))
        if canvas is None:
            return _fail("canvas_not_found")
        changes = args.get("changes")
        # Slack applies one operation per call.
        if not isinstance(changes, list) or len(changes) != 1 or not isinstance(changes[0], dict):
            return _fail("invalid_arguments")
        change = changes[0]
        operation = change.get("operation")
        content = change.get("document_content")
        if operation == "rename":
            title = change.get("title_content")
            if not isinstance(title, dict):
                return _fail("invalid_arguments")
            canvas["title"] = str(title.get("markdown") or "")
            return _ok()
        if content is None or self._bad_content(content):
            return _fail("invalid_arguments")
        markdown = str(content.get("markdown") or "")
        if operation == "replace" and not change.get("section_id"):
            canvas["markdown"] = markdown
        elif operation == "insert_at_start":
            canvas["markdown"] = markdown + "\n" + canvas["markdown"]
        elif operation == "insert_at_end":
            canvas["markdown"] = canvas["markdown"] + "\n" + markdown
        else:  # sections are not modelled
            return _fail("invalid_arguments")
        return _ok()

    def _canvases_delete(self, args: dict[str, Any]) -> _Reply:
        canvas_id = str(args.get("canvas_id") or "")
        if canvas_id not in self.canvases:
            return _fail("canvas_not_found")
        self.delete_canvas(canvas_id)
        return _ok()

    # ----------------------------------------------------------------- state helpers

    def _channel(self, channel_id: str) -> SlackChannel:
        """The channel as declared, or the default: public, with the bot as a member."""
        known = self.channels.get(channel_id)
        return known if known is not None else SlackChannel(channel_id, channel_id.lower())

    def _visible_channel(self, channel_id: str) -> SlackChannel | None:
        """None where Slack says channel_not_found: no such channel, or a private one the bot
        is not in (it cannot see those)."""
        if not channel_id or channel_id in self._removed_channels:
            return None
        channel = self._channel(channel_id)
        return None if channel.private and not channel.member else channel

    def _refuse(self, channel_id: str, *, write: bool) -> _Reply | None:
        """Slack's answer when the bot may not read (or post in) a channel; None when it may."""
        if channel_id.startswith("D"):
            return None
        channel = self._visible_channel(channel_id)
        if channel is None:
            return _fail("channel_not_found")
        if write and channel.archived:
            return _fail("is_archived")
        if not channel.member:
            return _fail("not_in_channel")
        return None

    def _resolve_channel(self, channel: str) -> str:
        """A user id as channel (chat.postMessage to a user) means their DM, ``D<user>``."""
        if channel[:1] in ("U", "W") and len(channel) > 1:
            return "D" + channel
        return channel

    def _next_ts(self) -> str:
        """Wall-clock-based, strictly increasing, unique Slack timestamp."""
        us = max(time.time_ns() // 1000, self._last_ts_us + 1)
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq:08d}"

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def _store(self, channel: str, message: dict[str, Any]) -> None:
        self.messages.setdefault(channel, []).append(message)
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            parent = self._find(channel, str(thread_ts))
            if parent is not None:
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
                parent["latest_reply"] = message["ts"]
                users = parent.setdefault("reply_users", [])
                if message.get("user") and message["user"] not in users:
                    users.append(message["user"])
