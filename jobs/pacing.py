"""Pacing a fan-out below Slack's posting limits: a rate for the workspace, one per channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from handlers.messages.limits import POSTS_PER_CHANNEL_PER_SECOND, POSTS_PER_SECOND


class Pacer:
    """`await pacer.wait(channel)` before each post: returns when posting keeps within
    `per_second` overall and `per_channel` in that channel. Slots are handed out in call order,
    so concurrent posters share the rate fairly; a 429 that still happens is waited out by the
    client's Retry-After handler."""

    def __init__(
        self,
        per_second: float = POSTS_PER_SECOND,
        # A tenth under Slack's figure: posts paced at exactly one a second reach Slack a few
        # milliseconds apart from how they were paced, and one in two met the limit's edge.
        per_channel: float = POSTS_PER_CHANNEL_PER_SECOND / 1.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gap = 1.0 / per_second
        self.channel_gap = 1.0 / per_channel
        self.clock = clock
        self._next = 0.0
        self._next_in: dict[str, float] = {}

    def reserve(self, channel: str) -> float:
        """The moment (on `clock`) at which the next post to `channel` may go out."""
        at = max(self.clock(), self._next, self._next_in.get(channel, 0.0))
        self._next = at + self.gap
        self._next_in[channel] = at + self.channel_gap
        return at

    async def wait(self, channel: str) -> None:
        delay = self.reserve(channel) - self.clock()
        if delay > 0:
            await asyncio.sleep(delay)
