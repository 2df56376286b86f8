"""Only the workspace Plan Bot is installed in is served.

The installation is what `auth.test` says of the bot token: its workspace, its Enterprise Grid
organisation if any, and whether the app is installed on the whole organisation. A request is
served when it comes from that installation — the workspace a command was typed in, an
interaction's `team.id`, an event's `authorizations` (Bolt reads them so; for an organisation-wide
install, its enterprise id) — and the person acting belongs to it too (an interaction's
`user.team_id`; for events in a Slack Connect channel, the sender's team). Anything else is
refused before a listener runs, so nothing is recorded: a command or a click gets a private
"Plan Bot serves only …", an event is acknowledged and dropped (Slack would retry a refusal),
and each is one warning in the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from handlers.messages.answers import render_error

log = logging.getLogger("planbot.requests")


@dataclass(frozen=True)
class Installation:
    team_id: str | None
    enterprise_id: str | None
    org_install: bool
    name: str

    @property
    def described(self) -> str:
        place = "organisation" if self.org_install else "workspace"
        return f"the {self.name} {place}"


@dataclass(frozen=True)
class RequestOrigin:
    """Where a request says it comes from (Bolt's context, and an interaction's user)."""

    team_id: str | None
    enterprise_id: str | None
    actor_team_id: str | None = None
    actor_enterprise_id: str | None = None
    user_team_id: str | None = None


def stranger(installed: Installation, origin: RequestOrigin) -> str | None:
    """The workspace or organisation a request names that is not the installation's; None
    when the request is the installation's own."""
    if installed.org_install:
        for enterprise in (origin.enterprise_id, origin.actor_enterprise_id):
            if enterprise is not None and enterprise != installed.enterprise_id:
                return enterprise
        return None if origin.enterprise_id is not None else (origin.team_id or "none named")
    if origin.team_id != installed.team_id:
        return origin.team_id or "none named"
    for team in (origin.actor_team_id, origin.user_team_id):
        if team is not None and team != installed.team_id:
            return team
    return None


def request_origin(req: AsyncBoltRequest) -> RequestOrigin:
    ctx = req.context
    user = req.body.get("user") if isinstance(req.body, dict) else None
    user_team = user.get("team_id") if isinstance(user, dict) else None
    return RequestOrigin(
        team_id=ctx.team_id,
        enterprise_id=ctx.enterprise_id,
        actor_team_id=ctx.actor_team_id,
        actor_enterprise_id=ctx.actor_enterprise_id,
        user_team_id=user_team if isinstance(user_team, str) else None,
    )


class OnlyInstalledWorkspace:
    """Bolt middleware: refuses what `stranger` finds (see the module docstring)."""

    def __init__(self) -> None:
        self._installed: Installation | None = None
        self._asking = asyncio.Lock()

    async def installation(self, client: AsyncWebClient) -> Installation:
        """What auth.test says, asked once (Bolt asked it too, just before, and keeps only the
        ids); requests that arrive while it is being asked wait for that answer rather than
        each asking again."""
        if self._installed is not None:
            return self._installed
        async with self._asking:
            if self._installed is not None:
                return self._installed
            answer = await client.auth_test()
            self._installed = Installation(
                team_id=answer.get("team_id"),
                enterprise_id=answer.get("enterprise_id") or None,
                org_install=bool(answer.get("is_enterprise_install")),
                name=str(answer.get("team") or answer.get("team_id") or "installed"),
            )
        return self._installed

    async def __call__(
        self,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        installed = await self.installation(req.context.client)
        origin = request_origin(req)
        foreign = stranger(installed, origin)
        if foreign is None:
            return await next()
        body: dict[str, Any] = req.body if isinstance(req.body, dict) else {}
        kind = "command" if "command" in body else str(body.get("type") or "request")
        log.warning(
            "refused a %s from %s: Plan Bot serves only %s",
            kind,
            foreign,
            installed.described,
            extra={"kind": kind, "team": foreign, "user": req.context.user_id, "status": 403},
        )
        refusal = render_error(f"Plan Bot serves only {installed.described}; nothing was done.")
        if kind == "command":
            answer = {"response_type": "ephemeral", **refusal.as_reply()}
            return BoltResponse(status=200, body=answer)
        if kind == "event_callback":
            return BoltResponse(status=200, body="")  # acknowledged, so Slack does not retry it
        respond = req.context.respond
        if kind == "block_actions" and respond is not None:
            await respond(response_type="ephemeral", replace_original=False, **refusal.as_reply())
            return BoltResponse(status=200, body="")
        return BoltResponse(status=403, body={"ok": False, "error": "other_workspace"})
