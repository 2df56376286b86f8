"""What every listener needs from the running bot, handed down as one value (not imported)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.messages.limits import POSTS_PER_SECOND
from handlers.people import PeopleNames
from models.calendar import Calendar
from models.periods import open_period


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PlanContext:
    engine: AsyncEngine
    admins: frozenset[str] = frozenset()
    timezone: str = "America/New_York"
    updates_channel: str | None = None
    digest_channel: str | None = None
    calendar: Calendar = field(default_factory=Calendar)
    now: Callable[[], datetime] = field(default=_utcnow)
    claim_lease: timedelta = timedelta(seconds=60)  # see Settings.claim_lease_seconds
    posts_per_second: float = POSTS_PER_SECOND  # the fan-outs' starting pace for the workspace
    fiscal_year_start: int = 7  # the month a fiscal year starts (measures' yearly targets)
    reason_required: bool = True  # At risk and Off track need a note (issue 16)
    public_url: str | None = None  # where residents read the published plan (issue 17)
    escalation_channel: str | None = None  # "Ask for help" threads (None: the digest channel)
    escalation_users: frozenset[str] = frozenset()  # mentioned on every request for help
    canvases: bool = True  # departments' and the plan's canvases in Slack (issue 17)
    # Called after an answer is recorded, with the department's id: starts the debounced edit
    # of its canvas (jobs/canvases.py, wired by bot/app.py; handlers do not import jobs).
    canvas_wanted: Callable[[PlanContext, AsyncWebClient, int], None] | None = field(
        default=None, compare=False
    )
    # Called after an answer marked its month's prompt wanted: wakes the refresher that edits
    # prompts at Slack's pace (jobs/prompt_refresh.py, wired by bot/app.py). None: the
    # scheduler's tick refreshes them.
    prompt_wanted: Callable[[PlanContext, AsyncWebClient], Awaitable[None]] | None = field(
        default=None, compare=False
    )
    # Awaited before a post in a thread (the answer to a thread reply): returns when posting
    # keeps within Slack's one message a second per channel, so that a burst of replies in a
    # channel every department shares is answered in turn rather than in a storm of 429s
    # (jobs/pacing.py `Pacer.wait`, one per running bot; None: no waiting).
    wait_to_post: Callable[[str], Awaitable[None]] | None = field(default=None, compare=False)
    # Names, time zones and statuses of Slack users, kept for a while (one per running bot).
    people: PeopleNames = field(default_factory=PeopleNames, compare=False)

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins

    def open_period(self) -> str:
        return open_period(self.timezone, self.now())

    def is_late(self, period: str) -> bool:
        return self.calendar.is_late(period, self.now())


Next = Callable[[], Awaitable[BoltResponse]]


class Middleware(AsyncMiddleware):
    """`app.use(Middleware(f))`: Bolt calls `f(req, resp, next)` as it is. (A function given
    to `app.use` or `@app.middleware` has its arguments matched by name on every request, by
    slack_bolt's `build_async_required_kwargs`: ≈ 3 % of a cached `/plan` answer each.)"""

    def __init__(
        self, func: Callable[[AsyncBoltRequest, BoltResponse, Next], Awaitable[BoltResponse]]
    ) -> None:
        self.func = func

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Next
    ) -> BoltResponse:
        return await self.func(req, resp, next)

    @property
    def name(self) -> str:
        return f"Middleware({getattr(self.func, '__qualname__', type(self.func).__name__)})"
