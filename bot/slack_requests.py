"""Requests signed exactly as Slack signs them: slash commands, interactions and events.

Local mode, the tests and the benchmarks all drive the real app through these."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T0PLAN"


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str]


def sign(
    secret: str,
    body: bytes,
    content_type: str,
    timestamp: int | None = None,
    extra_headers: dict[str, str] | None = None,
) -> SignedRequest:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        **(extra_headers or {}),
    }
    return SignedRequest(body, headers)


def slash_command(
    secret: str,
    text: str,
    *,
    user_id: str,
    channel_id: str = "C0LOCAL",
    response_url: str,
    trigger_id: str = "trigger.local",
    command: str = "/plan",
    timestamp: int | None = None,
) -> SignedRequest:
    form = {
        "token": "legacy-unused",
        "team_id": TEAM_ID,
        "team_domain": "planbot",
        "channel_id": channel_id,
        "channel_name": "local",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0PLANBOT",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return sign(secret, urlencode(form).encode(), "application/x-www-form-urlencoded", timestamp)


def interaction(
    secret: str, payload: dict[str, Any], timestamp: int | None = None
) -> SignedRequest:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return sign(secret, body, "application/x-www-form-urlencoded", timestamp)


def block_action(
    secret: str,
    *,
    user_id: str,
    action_id: str,
    value: str,
    response_url: str | None = None,
    channel_id: str | None = "C0LOCAL",
    message_ts: str | None = None,
    container: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    trigger_id: str = "trigger.local",
) -> SignedRequest:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "planbot"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0PLANBOT",
        "trigger_id": trigger_id,
        "container": container or {"type": "message", "message_ts": message_ts or "0"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "actions",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": "local"}
    if message_ts is not None:
        payload["message"] = {"ts": message_ts, "type": "message"}
    if view is not None:
        payload["view"] = view
    return interaction(secret, payload)


def event(
    secret: str,
    event_body: dict[str, Any],
    *,
    event_id: str,
    retry_num: int | None = None,
    timestamp: int | None = None,
) -> SignedRequest:
    envelope = {
        "token": "legacy-unused",
        "team_id": TEAM_ID,
        "api_app_id": "A0PLANBOT",
        "event": event_body,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": "UPLANBOT", "is_bot": True}],
    }
    extra = {}
    if retry_num is not None:
        extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
    return sign(secret, json.dumps(envelope).encode(), "application/json", timestamp, extra)


def view_submission(
    secret: str,
    *,
    user_id: str,
    view: dict[str, Any],
    values: dict[str, Any],
    timestamp: int | None = None,
) -> SignedRequest:
    """A modal submitted: `view` as it was opened, `values` what the person entered."""
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "planbot"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0PLANBOT",
        "trigger_id": "trigger.local",
        "view": {
            **view,
            "id": view.get("id", "V0LOCAL"),
            "team_id": TEAM_ID,
            "state": {"values": values},
            "hash": "local",
        },
    }
    return interaction(secret, payload, timestamp)
