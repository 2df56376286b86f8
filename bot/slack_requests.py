"""Requests signed exactly as Slack signs them: slash commands, interactions and events.

Local mode, the tests and the benchmarks all drive the real app through these."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0PLAN"


@dataclass(frozen=True)
class Origin:
    """Where a request comes from: the workspace (`team_id`), its Enterprise Grid organisation
    if it has one, and whether the app is installed on the whole organisation (then Slack may
    send `team: null` in interactions and names the workspace in `user.team_id`)."""

    team_id: str = TEAM_ID
    enterprise_id: str | None = None
    org_install: bool = False
    user_team_id: str | None = None  # the person's own workspace, when not the request's


HOME = Origin()


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}`, over the body's raw bytes as
    Slack computes it (slack_sdk's verifier decodes the body first, so it cannot sign or check
    a body that is not UTF-8)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def sign(
    secret: str,
    body: bytes,
    content_type: str,
    timestamp: int | None = None,
    extra_headers: dict[str, str] | None = None,
) -> SignedRequest:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(secret, stamp, body),
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
    trigger_id: str | None = None,
    command: str = "/plan",
    timestamp: int | None = None,
    origin: Origin = HOME,
) -> SignedRequest:
    form = {
        "token": "legacy-unused",
        "team_id": origin.team_id,
        "team_domain": "planbot",
        "channel_id": channel_id,
        "channel_name": "local",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0PLANBOT",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }
    if origin.enterprise_id is not None:
        form["enterprise_id"] = origin.enterprise_id
        form["enterprise_name"] = "Plan Bot Grid"
        form["is_enterprise_install"] = "true" if origin.org_install else "false"
    return sign(secret, urlencode(form).encode(), "application/x-www-form-urlencoded", timestamp)


def _interaction_origin(origin: Origin, user_id: str) -> dict[str, Any]:
    """The fields that say where an interaction comes from, shaped as Slack shapes them."""
    fields: dict[str, Any] = {
        "team": None if origin.org_install else {"id": origin.team_id, "domain": "planbot"},
        "user": {
            "id": user_id,
            "username": user_id.lower(),
            "team_id": origin.user_team_id or origin.team_id,
        },
    }
    if origin.enterprise_id is not None:
        fields["enterprise"] = {"id": origin.enterprise_id, "name": "Plan Bot Grid"}
        fields["is_enterprise_install"] = origin.org_install
    return fields


def interaction(
    secret: str, payload: dict[str, Any], timestamp: int | None = None
) -> SignedRequest:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return sign(secret, body, "application/x-www-form-urlencoded", timestamp)


def new_trigger_id() -> str:
    """A trigger id shaped like Slack's ("1790000000.123456789.0a1b2c3d"): one per interaction."""
    return f"{int(time.time())}.{secrets.randbelow(10**9):09d}.{secrets.token_hex(4)}"


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
    trigger_id: str | None = None,
    message: dict[str, Any] | None = None,
    origin: Origin = HOME,
) -> SignedRequest:
    """A click on a button; `message` is the message it is in (Slack sends it whole, blocks
    included). Each click has its own trigger id and action time, as Slack gives them."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        **_interaction_origin(origin, user_id),
        "api_app_id": "A0PLANBOT",
        "trigger_id": trigger_id or new_trigger_id(),
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
    if message is not None:
        payload["message"] = {"type": "message", **message}
    elif message_ts is not None:
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
    origin: Origin = HOME,
) -> SignedRequest:
    envelope: dict[str, Any] = {
        "token": "legacy-unused",
        "team_id": origin.team_id,
        "api_app_id": "A0PLANBOT",
        "event": event_body,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": origin.enterprise_id,
                "team_id": origin.team_id,
                "user_id": "UPLANBOT",
                "is_bot": True,
                "is_enterprise_install": origin.org_install,
            }
        ],
        "is_ext_shared_channel": False,
    }
    if origin.enterprise_id is not None:
        envelope["enterprise_id"] = origin.enterprise_id
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
    origin: Origin = HOME,
) -> SignedRequest:
    """A modal submitted: `view` as it was opened (Slack sends back its id and hash: the same
    view submitted twice is one submission sent twice), `values` what the person entered."""
    payload = {
        "type": "view_submission",
        **_interaction_origin(origin, user_id),
        "api_app_id": "A0PLANBOT",
        "trigger_id": new_trigger_id(),
        "view": {
            **view,
            "id": view.get("id", "V0LOCAL"),
            "team_id": origin.team_id,
            "state": {"values": values},
            # Slack gives every version of a view a hash of its own; one built by the bot and
            # shown by Slack (a response_action update) has one the bot has not seen.
            "hash": view.get("hash") or f"{int(time.time())}.{secrets.token_hex(6)}",
        },
    }
    return interaction(secret, payload, timestamp)
