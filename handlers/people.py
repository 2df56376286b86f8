"""Names for user ids, so a message shared in a channel names people without pinging them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.messages.layout import People
from handlers.messages.text import escape

log = logging.getLogger(__name__)

NAME_TTL_SECONDS = 3600.0
# With this many names to look up, one users.list page (up to LIST_PAGE members) costs less
# than a users.info call each: the weekly digest of a large plan names ~200 people, and 200
# users.info calls in a row would take ~20 s against Slack and run into its rate limit.
LIST_FROM = 10
LIST_PAGE = 200
LIST_MOST_PAGES = 25  # 5,000 members; anyone not listed by then is looked up one by one
INFO_AT_ONCE = 4  # users.info calls in flight at a time


def mention(user_id: str) -> str:
    """For answers only the caller sees: Slack shows the name and notifies nobody."""
    return f"<@{user_id}>"


def _name(user: Mapping[str, Any]) -> str | None:
    profile = user.get("profile") or {}
    name = profile.get("display_name") or user.get("real_name") or user.get("name")
    return str(name) if name else None


class PeopleNames:
    """Display names, kept for an hour: users.info for a few, users.list (paged) for many;
    a lookup that fails falls back to the id."""

    def __init__(self) -> None:
        self._names: dict[str, tuple[float, str]] = {}

    async def names(self, client: AsyncWebClient, user_ids: Iterable[str]) -> People:
        now = time.monotonic()
        wanted = [u for u in dict.fromkeys(user_ids) if self._fresh(u, now) is None]
        if len(wanted) >= LIST_FROM:
            await self._list(client, now, set(wanted))
            wanted = [u for u in wanted if self._fresh(u, now) is None]
        if wanted:
            at_once = asyncio.Semaphore(INFO_AT_ONCE)

            async def one(user_id: str) -> None:
                async with at_once:
                    await self._info(client, now, user_id)

            await asyncio.gather(*(one(user_id) for user_id in wanted))

        def display(user_id: str) -> str:
            # A display name is user text too: escaped, so a name like <!here> cannot ping.
            return "@" + escape(self._names.get(user_id, (0.0, user_id))[1])

        return display

    async def plain_names(self, client: AsyncWebClient, user_ids: Iterable[str]) -> dict[str, str]:
        """Names as people wrote them (no "@", no escaping): for files, not for mrkdwn. A user
        Slack could not name is left out."""
        wanted = list(dict.fromkeys(user_ids))
        await self.names(client, wanted)
        return {u: self._names[u][1] for u in wanted if self._names.get(u, (0.0, u))[1] != u}

    def _fresh(self, user_id: str, now: float) -> str | None:
        cached = self._names.get(user_id)
        return cached[1] if cached is not None and now - cached[0] < NAME_TTL_SECONDS else None

    async def _info(self, client: AsyncWebClient, now: float, user_id: str) -> None:
        try:
            answer = await client.users_info(user=user_id)
            self._names[user_id] = (now, _name(answer.get("user") or {}) or user_id)
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            self._names[user_id] = (now, user_id)

    async def _list(self, client: AsyncWebClient, now: float, wanted: set[str]) -> None:
        """Every member's name, page by page, until all the wanted ones are found."""
        cursor: str | None = None
        for _ in range(LIST_MOST_PAGES):
            try:
                answer = await client.users_list(limit=LIST_PAGE, cursor=cursor)
            except SlackApiError as exc:
                log.warning("users.list failed: %s", exc.response.get("error"))
                return
            for member in answer.get("members") or []:
                user_id, name = member.get("id"), _name(member)
                if user_id and name:
                    self._names[str(user_id)] = (now, name)
                    wanted.discard(str(user_id))
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None or not wanted:
                return
