"""Posting exactly once, at Slack's pace.

- A post is claimed in the database before it is sent (models.cycle.claim_for_posting), by a
  named holder with a lease this process renews while it works (`keep_leases`): a process that
  dies leaves claims another takes over once the lease runs out, looking in the channel first.
- A post is never retried blind. Slack may have taken a post it answered with a 5xx, or whose
  connection dropped: the post is looked for by its message metadata before it is sent again
  (`deliver`). The client used for posting retries nothing by itself.
- A 429 slows every process that posts: the pace is shared through the database
  (`SharedPace`); the post waits out Retry-After and is sent again, never marked failed for
  rate limiting alone while the run lasts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import PlanContext
from handlers.messages.limits import POSTS_BURST_SECONDS
from jobs.pacing import Pacer
from models.cycle import HeldBy, Holder, end_lease, held_by, renew_leases
from models.db import session_scope
from models.pace import slow_down, take_slot

log = logging.getLogger(__name__)

C = TypeVar("C")

# This process, as a claim names it: the host, the process id, and a boot id (a pid is reused).
PROCESS = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"

RUN_DEADLINE_SECONDS = 15 * 60.0  # a fan-out keeps waiting out 429s this long at most
MOST_ATTEMPTS = 4  # sends of one post after 5xx or dropped connections, each looked for first
BACKOFF_SECONDS = 0.5
MOST_GAP = 30.0  # the pace never slows below one post per this many seconds


def holder(ctx: PlanContext) -> Holder:
    return Holder(PROCESS, ctx.claim_lease)


def holder_gone(name: str) -> bool:
    """Whether a claim's holder is known to be gone: a process of this host whose pid no longer
    runs. (Another host's process is only known gone when its lease runs out.)"""
    host, _, rest = name.partition(":")
    pid_text = rest.partition(":")[0]
    if host != PROCESS.partition(":")[0] or not pid_text.isdigit() or name == PROCESS:
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


async def claim_or_take_over(
    session: AsyncSession,
    claim: Callable[[], Awaitable[C | None]],
    table: Any,
    key: dict[str, Any],
    now: datetime,
) -> tuple[C | None, HeldBy | None]:
    """`claim()`'s claim; or, when another process holds the row, who and since when — unless
    that process is known to be gone (`holder_gone`), whose claim is then ended and taken."""
    claimed = await claim()
    if claimed is not None:
        return claimed, None
    held = await held_by(session, table, key)
    gone = held is not None and holder_gone(held.holder)
    if held is not None and gone and await end_lease(session, table, key, held.holder, now):
        log.info("took over a claim of %s: its process is gone", held.holder)
        claimed = await claim()
        if claimed is not None:
            return claimed, None
        held = await held_by(session, table, key)
    return None, held


@contextlib.asynccontextmanager
async def keep_leases(ctx: PlanContext, me: Holder) -> AsyncIterator[None]:
    """While the block runs, renew every claim `me` holds, three times a lease."""

    async def renew() -> None:
        every = max(me.lease.total_seconds() / 3, 0.1)
        while True:
            await asyncio.sleep(every)
            try:
                async with session_scope(ctx.engine) as session:
                    await renew_leases(session, me, ctx.now())
            except Exception as exc:  # the next renewal tries again; posting goes on
                log.warning("could not renew claims: %s", type(exc).__name__)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def careful_client(client: AsyncWebClient) -> AsyncWebClient:
    """`client` without retries of its own: for posts, a 429 is paced by the job and a 5xx or a
    dropped connection is looked for before anything is sent again."""
    careful = AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        headers=client.headers,
        logger=client.logger,
    )
    careful.retry_handlers = []
    return careful


class SharedPace:
    """Slots for posts: one channel at a time as Slack allows (in this process), and the
    workspace's pace shared with every other process through the database."""

    def __init__(self, engine: AsyncEngine, per_second: float) -> None:
        self.engine = engine
        self.start_gap = 1.0 / per_second
        self.burst = max(1, int(per_second * POSTS_BURST_SECONDS))
        self.channels = Pacer(per_second=1_000_000.0)  # per channel only: the workspace is shared
        self.deadline = time.monotonic() + RUN_DEADLINE_SECONDS
        self.waited = 0  # 429s waited out in this run
        # A 429 seen by this process: posts holding a slot taken before it take another.
        self.pauses = 0

    async def wait(self, channel: str) -> float:
        """Returns when this post may go out; the gap it was paced at."""
        channel_at = self.channels.reserve(channel)
        while True:
            pauses = self.pauses
            async with session_scope(self.engine) as session:
                slot, gap = await take_slot(session, time.time(), self.start_gap, burst=self.burst)
            delay = max(slot - time.time(), channel_at - time.monotonic())
            if delay > 0:
                await asyncio.sleep(delay)
            if self.pauses == pauses:
                return gap

    async def rate_limited(self, retry_after: float, seen_gap: float) -> None:
        self.waited += 1
        self.pauses += 1
        async with session_scope(self.engine) as session:
            await slow_down(session, time.time() + retry_after, seen_gap, MOST_GAP)

    def expired(self) -> bool:
        return time.monotonic() > self.deadline


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            text = value[0] if isinstance(value, list) else str(value)
            try:
                return max(0.0, float(text))
            except ValueError:
                return 1.0
    return 1.0


def _maybe_taken(exc: BaseException) -> bool:
    """Slack may have carried the post out: it answered 5xx, or the connection failed."""
    if isinstance(exc, SlackApiError):
        return int(exc.response.status_code) >= 500
    return isinstance(exc, ClientError | OSError | TimeoutError)


async def deliver(
    pace: SharedPace,
    channel: str,
    post: Callable[[], Awaitable[Any]],
    find: Callable[[], Awaitable[str | None]],
    *,
    look_first: bool = False,
) -> tuple[str, str]:
    """Send a post once: (its ts, its channel). With `look_first` (an earlier attempt may have
    reached Slack) it is looked for before the first send, and after any send Slack may have
    taken. Raises what Slack answered otherwise (channel errors, or still failing)."""
    if look_first and (ts := await find()) is not None:
        return ts, channel
    sends = 0
    while True:
        gap = await pace.wait(channel)
        try:
            answer = await post()
            return str(answer["ts"]), str(answer.get("channel") or channel)
        except SlackApiError as exc:
            if exc.response.status_code == 429 and not pace.expired():
                await pace.rate_limited(_retry_after(exc), gap)
                continue
            if not _maybe_taken(exc):
                raise
            error: BaseException = exc
        except (ClientError, OSError, TimeoutError) as exc:
            error = exc
        sends += 1
        if (ts := await find()) is not None:
            log.info("a post answered with %s was in the channel already", type(error).__name__)
            return ts, channel
        if sends >= MOST_ATTEMPTS:
            raise error
        await asyncio.sleep(BACKOFF_SECONDS * 2 ** (sends - 1))
