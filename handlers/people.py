"""Names for user ids, so a message shared in a channel names people without pinging them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.messages.text import escape

log = logging.getLogger(__name__)

People = Callable[[str], str]
NAME_TTL_SECONDS = 3600.0


def mention(user_id: str) -> str:
    """For answers only the caller sees: Slack shows the name and notifies nobody."""
    return f"<@{user_id}>"


class PeopleNames:
    """users.info answers, kept for an hour; a lookup that fails falls back to the id."""

    def __init__(self) -> None:
        self._names: dict[str, tuple[float, str]] = {}

    async def names(self, client: AsyncWebClient, user_ids: Iterable[str]) -> People:
        now = time.monotonic()
        for user_id in dict.fromkeys(user_ids):
            cached = self._names.get(user_id)
            if cached is not None and now - cached[0] < NAME_TTL_SECONDS:
                continue
            try:
                answer = await client.users_info(user=user_id)
                user = answer.get("user") or {}
                profile = user.get("profile") or {}
                name = profile.get("display_name") or user.get("real_name") or user.get("name")
                self._names[user_id] = (now, str(name or user_id))
            except SlackApiError as exc:
                log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
                self._names[user_id] = (now, user_id)

        def display(user_id: str) -> str:
            # A display name is user text too: escaped, so a name like <!here> cannot ping.
            return "@" + escape(self._names.get(user_id, (0.0, user_id))[1])

        return display
