"""What counts as Slack failing a job's post, and how the failure is named in logs and rows."""

from __future__ import annotations

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError

from handlers.channels import slack_error

# Slack answered with an error, or could not be reached after the client's own retries
# (slack_sdk's async client raises aiohttp's errors, e.g. ServerDisconnectedError, as they are).
POST_FAILURES: tuple[type[Exception], ...] = (SlackApiError, ClientError, OSError, TimeoutError)


def describe(exc: Exception) -> str:
    """`channel_not_found`, `http 503`, `ServerDisconnectedError`…: short, and never a secret."""
    if isinstance(exc, SlackApiError):
        return slack_error(exc) or f"http {exc.response.status_code}"
    return type(exc).__name__
