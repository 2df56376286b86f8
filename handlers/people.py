"""Names for user ids, so a message shared in a channel names people without pinging them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.messages.layout import People
from handlers.messages.limits import tier_2_turn
from handlers.messages.text import escape
from models.absence import SlackStatus

log = logging.getLogger(__name__)

NAME_TTL_SECONDS = 3600.0
STATUS_TTL_SECONDS = 300.0  # a status read this recently is still what the person says
# With this many names to look up, one users.list page (up to LIST_PAGE members) costs less
# than a users.info call each: the weekly digest of a large plan names ~200 people, and 200
# users.info calls in a row would take ~20 s against Slack and run into its rate limit.
LIST_FROM = 10
LIST_PAGE = 200
LIST_MOST_PAGES = 25  # 5,000 members; anyone not listed by then is looked up one by one
INFO_AT_ONCE = 4  # users.info calls in flight at a time
# People kept at most: more than one users.list run can bring (LIST_MOST_PAGES × LIST_PAGE), so
# a lookup never drops what it has just read; the least recently used go first, and those
# first in line are dropped once read NAME_TTL_SECONDS ago (they would be asked again anyway).
MOST_PEOPLE = 20_000


def mention(user_id: str) -> str:
    """For answers only the caller sees: Slack shows the name and notifies nobody."""
    return f"<@{user_id}>"


def _name(user: Mapping[str, Any]) -> str | None:
    profile = user.get("profile") or {}
    name = profile.get("display_name") or user.get("real_name") or user.get("name")
    return str(name) if name else None


@dataclass(frozen=True)
class Profile:
    """What Plan Bot reads of a Slack user: their name, time zone and status."""

    name: str
    tz: str | None = None  # an IANA zone ("Pacific/Honolulu"); None: Slack did not say
    status: SlackStatus = field(default_factory=SlackStatus)
    known: bool = False  # False: Slack could not be asked, so the status says nothing

    def zone(self, default: str) -> ZoneInfo:
        try:
            return ZoneInfo(self.tz or default)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(default)


def _profile(user_id: str, user: Mapping[str, Any]) -> Profile:
    profile = user.get("profile") or {}
    try:
        expiration = int(profile.get("status_expiration") or 0)
    except (TypeError, ValueError):
        expiration = 0
    tz = user.get("tz")
    return Profile(
        name=_name(user) or user_id,
        tz=str(tz) if isinstance(tz, str) and tz else None,
        status=SlackStatus(
            str(profile.get("status_text") or ""),
            str(profile.get("status_emoji") or ""),
            expiration,
        ),
        known=True,
    )


class PeopleNames:
    """Display names, time zones and statuses, kept for a while: users.info for a few,
    users.list (paged) for many; a lookup that fails falls back to the id (and the plan's
    zone, and no status). Names are kept an hour; statuses, which change, a few minutes."""

    def __init__(self, most: int = MOST_PEOPLE) -> None:
        self.most = most
        # Least recently used first: a person asked for again moves to the end.
        self._seen: OrderedDict[str, tuple[float, Profile]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def _keep(self, user_id: str, now: float, profile: Profile) -> None:
        """Keep what Slack said of `user_id` at `now`: at most `most` people, none older than
        NAME_TTL_SECONDS once someone new comes (a person dropped is only asked again)."""
        self._seen[user_id] = (now, profile)
        self._seen.move_to_end(user_id)
        while self._seen:
            oldest, (at, _) = next(iter(self._seen.items()))
            if len(self._seen) <= self.most and now - at < NAME_TTL_SECONDS:
                break
            del self._seen[oldest]

    async def names(self, client: AsyncWebClient, user_ids: Iterable[str]) -> People:
        await self._look_up(client, user_ids, NAME_TTL_SECONDS)

        def display(user_id: str) -> str:
            # A display name is user text too: escaped, so a name like <!here> cannot ping.
            return "@" + escape(self._name_of(user_id))

        return display

    async def profiles(self, client: AsyncWebClient, user_ids: Iterable[str]) -> dict[str, Profile]:
        """Each person's profile as Slack says it now (statuses read at most a few minutes ago);
        someone Slack could not describe gets a bare profile (their id, no zone, no status)."""
        wanted = list(dict.fromkeys(user_ids))
        await self._look_up(client, wanted, STATUS_TTL_SECONDS)
        return {u: self._seen.get(u, (0.0, Profile(u)))[1] for u in wanted}

    async def plain_names(self, client: AsyncWebClient, user_ids: Iterable[str]) -> dict[str, str]:
        """Names as people wrote them (no "@", no escaping): for files, not for mrkdwn. A user
        Slack could not name is left out."""
        wanted = list(dict.fromkeys(user_ids))
        await self.names(client, wanted)
        return {u: self._name_of(u) for u in wanted if self._name_of(u) != u}

    def _name_of(self, user_id: str) -> str:
        found = self._seen.get(user_id)
        return found[1].name if found is not None else user_id

    async def profiles_as_read(
        self, client: AsyncWebClient, user_ids: Iterable[str]
    ) -> AsyncIterator[dict[str, Profile]]:
        """`profiles`, in steps: first those read a moment ago, then the people found on each
        users.list page as it comes, and last everyone else (users.info, or a bare profile).
        Each person comes once; together, everyone asked for. A fan-out addresses the first
        departments while a workspace of thousands is still being read (Tier 2 pages)."""
        wanted = list(dict.fromkeys(user_ids))
        now = time.monotonic()
        given: set[str] = set()

        def read() -> dict[str, Profile]:
            found = {
                u: self._seen[u][1]
                for u in wanted
                if u not in given and self._fresh(u, now, STATUS_TTL_SECONDS)
            }
            given.update(found)
            return found

        if found := read():
            yield found
        if len(wanted) - len(given) >= LIST_FROM:
            async for _ in self._pages(client, now, set(wanted) - given):
                if found := read():
                    yield found
        await self._one_by_one(client, now, [u for u in wanted if u not in given])
        if rest := {u: self._seen.get(u, (0.0, Profile(u)))[1] for u in wanted if u not in given}:
            yield rest

    async def _look_up(self, client: AsyncWebClient, user_ids: Iterable[str], ttl: float) -> None:
        now = time.monotonic()
        wanted = [u for u in dict.fromkeys(user_ids) if not self._fresh(u, now, ttl)]
        if len(wanted) >= LIST_FROM:
            async for _ in self._pages(client, now, set(wanted)):
                pass
            wanted = [u for u in wanted if not self._fresh(u, now, ttl)]
        await self._one_by_one(client, now, wanted)

    async def _one_by_one(self, client: AsyncWebClient, now: float, user_ids: list[str]) -> None:
        """users.info for each of `user_ids`, a few at a time."""
        if not user_ids:
            return
        at_once = asyncio.Semaphore(INFO_AT_ONCE)

        async def one(user_id: str) -> None:
            async with at_once:
                await self._info(client, now, user_id)

        await asyncio.gather(*(one(user_id) for user_id in user_ids))

    def _fresh(self, user_id: str, now: float, ttl: float) -> bool:
        cached = self._seen.get(user_id)
        if cached is None:
            return False
        self._seen.move_to_end(user_id)
        return now - cached[0] < ttl

    async def _info(self, client: AsyncWebClient, now: float, user_id: str) -> None:
        try:
            answer = await client.users_info(user=user_id)
            self._keep(user_id, now, _profile(user_id, answer.get("user") or {}))
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            self._keep(user_id, now, Profile(user_id))
        except (ClientError, TimeoutError) as exc:  # Slack unreachable: the id, for now
            log.warning("users.info failed for %s: %s", user_id, type(exc).__name__)
            self._keep(user_id, now, Profile(user_id))

    async def _pages(
        self, client: AsyncWebClient, now: float, wanted: set[str]
    ) -> AsyncIterator[None]:
        """Every member's profile, page by page (a step after each), until all the wanted
        ones are found."""
        cursor: str | None = None
        for page in range(LIST_MOST_PAGES):
            await tier_2_turn(page)
            try:
                answer = await client.users_list(limit=LIST_PAGE, cursor=cursor)
            except SlackApiError as exc:
                log.warning("users.list failed: %s", exc.response.get("error"))
                return
            except (ClientError, TimeoutError) as exc:
                log.warning("users.list failed: %s", type(exc).__name__)
                return
            for member in answer.get("members") or []:
                user_id = member.get("id")
                if user_id and _name(member):
                    self._keep(str(user_id), now, _profile(str(user_id), member))
                    wanted.discard(str(user_id))
            yield
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None or not wanted:
                return
