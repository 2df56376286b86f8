"""The Web API client honours Retry-After whole, and retries 5xx and dropped connections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack_client import RetryAfterHandler, build_web_client, retry_after_seconds
from bot.standin import Fault, SlackStandin


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandin]:
    async with SlackStandin() as standin:
        yield standin


def test_retry_after_is_read_whole() -> None:
    assert retry_after_seconds("30") == 30
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(None) == 1 and retry_after_seconds("soon") == 1
    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Thu, 26 Nov 2026 12:00:45 GMT", now) == 45


async def test_a_429_is_waited_out_for_the_whole_retry_after(slack: SlackStandin) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    client = build_web_client("xoxb-test", slack.base_url)
    client.retry_handlers = [RetryAfterHandler(max_retry_count=3, sleep=record)]
    slack.inject("chat.postMessage", Fault.rate_limited(retry_after=30))
    answer = await client.chat_postMessage(channel="C0PLAN", text="hello")
    assert answer["ok"] is True
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    assert len(waits) == 1 and 30 <= waits[0] < 30.5  # slack_sdk's own handler would wait 3


async def test_a_very_long_retry_after_is_left_to_the_next_tick(slack: SlackStandin) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    client = build_web_client("xoxb-test", slack.base_url)
    client.retry_handlers = [RetryAfterHandler(sleep=record)]
    slack.inject("chat.postMessage", Fault.rate_limited(retry_after=600))
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C0PLAN", text="hello")
    assert caught.value.response.status_code == 429 and waits == []


async def test_server_errors_and_dropped_connections_are_retried(slack: SlackStandin) -> None:
    client = build_web_client("xoxb-test", slack.base_url)
    slack.inject("chat.postMessage", Fault.server_error(500), Fault.drop())
    answer = await client.chat_postMessage(channel="C0PLAN", text="hello")
    assert answer["ok"] is True
    assert len(slack.calls_to("chat.postMessage")) == 3


async def test_retries_are_bounded(slack: SlackStandin) -> None:
    client = build_web_client("xoxb-test", slack.base_url)
    slack.inject("chat.postMessage", *[Fault.server_error(503)] * 5)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0PLAN", text="hello")
    assert len(slack.calls_to("chat.postMessage")) == 3  # the first try and two retries
