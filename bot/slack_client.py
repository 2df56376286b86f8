"""The Web API client: SLACK_API_URL, and retries that honour Slack's limits.

slack_sdk's own rate-limit handler reads only the first character of `Retry-After` on the async
path (a 30-second wait becomes 3), so a fan-out would hammer a limited channel; this one reads
the whole header."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

MAX_RETRY_AFTER = 120.0  # seconds: longer than this, give up and let the next tick try
Sleep = Callable[[float], Awaitable[None]]


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float:
    """`Retry-After` as seconds: an integer, or an HTTP date; 1 when missing or unreadable."""
    if not value:
        return 1.0
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterHandler(AsyncRetryHandler):
    """Retries HTTP 429 after the whole `Retry-After` (plus a little jitter), a bounded number
    of times; a wait longer than MAX_RETRY_AFTER is not waited out here."""

    def __init__(self, max_retry_count: int = 3, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after_seconds(_header(response, "retry-after")) <= MAX_RETRY_AFTER

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        wait = retry_after_seconds(_header(response, "retry-after"))
        await self.sleep(wait + random.uniform(0, 0.25))
        state.increment_current_attempt()


def _header(response: HttpResponse, name: str) -> str | None:
    for key, value in (response.headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else str(value)
    return None


def build_web_client(token: str | None, base_url: str) -> AsyncWebClient:
    """A client on `base_url` that waits out 429s and retries 5xx and dropped connections with
    backoff, a bounded number of times each."""
    client = AsyncWebClient(token=token, base_url=base_url)
    backoff = BackoffRetryIntervalCalculator(backoff_factor=0.5)
    client.retry_handlers = [
        AsyncConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=backoff),
        RetryAfterHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2, interval_calculator=backoff),
    ]
    return client
