"""What a request to /slack/events must be before Bolt reads it: signed with the signing secret,
a UTF-8 body, and a JSON object shaped as Slack shapes its commands, interactions and events.

Bolt parses the body before it checks the signature, and indexes into it without looking: a
timestamp of `abc`, a body that is not UTF-8, JSON that is a list or a view whose `state` is
null each became a 500 and a traceback in the log, signed or not. Here each is a 4xx with a
reason for the one log line; what passes is safe for Bolt's extractors and matchers and for our
listeners, which read the fields listed in `_TYPES` below. A pure function of the request."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from bot.bolt_fixes import parse_body_to_reuse
from bot.slack_requests import signature

MAX_CLOCK_SKEW = 5 * 60  # seconds: Slack's own rule, and Bolt's
_TIMESTAMP = re.compile(r"\d{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_NONE = type(None)


@dataclass(frozen=True)
class Refusal:
    """The answer to a request that does not get through: its status and, for the log, why."""

    status: int
    reason: str


UNSIGNED = 401
MALFORMED = 400

# The JSON types each field may have where Slack sends it; a field may be absent unless its kind
# requires it (below). `[]` is every item of a list, `*` every value of an object. These are the
# fields Bolt's extractors and matchers and our listeners read; everything else passes as sent.
_TYPES: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "token": (str,),
    "team_id": (str, _NONE),
    "enterprise_id": (str, _NONE),
    "user_id": (str,),
    "channel_id": (str,),
    "api_app_id": (str,),
    "trigger_id": (str,),
    "response_url": (str,),
    "command": (str,),
    "text": (str,),
    "callback_id": (str,),
    "is_enterprise_install": (bool, str),
    "is_ext_shared_channel": (bool,),
    "team": (dict, str, _NONE),
    "team.id": (str,),
    "team.enterprise_id": (str, _NONE),
    "enterprise": (dict, str, _NONE),
    "enterprise.id": (str,),
    "user": (dict,),
    "user.id": (str,),
    "user.team_id": (str,),
    "channel": (dict,),
    "channel.id": (str,),
    "container": (dict,),
    "container.message_ts": (str,),
    "container.view_id": (str,),
    "message": (dict,),
    "message.ts": (str,),
    "message.thread_ts": (str,),
    "message.user": (str,),
    "previous_message": (dict,),
    "actions": (list,),
    "actions[]": (dict,),
    "actions[].action_id": (str,),
    "actions[].block_id": (str,),
    "actions[].value": (str,),
    "actions[].type": (str,),
    "actions[].action_ts": (str,),
    "view": (dict,),
    "view.id": (str,),
    "view.type": (str,),
    "view.callback_id": (str,),
    "view.private_metadata": (str,),
    "view.hash": (str,),
    "view.team_id": (str, _NONE),
    "view.app_installed_team_id": (str, _NONE),
    "view.state": (dict,),
    "view.state.values": (dict,),
    "view.state.values.*": (dict,),
    "view.state.values.*.*": (dict,),
    "response_urls": (list,),
    "response_urls[]": (dict,),
    "response_urls[].response_url": (str,),
    "authorizations": (list,),
    "authorizations[]": (dict,),
    "authorizations[].team_id": (str, _NONE),
    "authorizations[].enterprise_id": (str, _NONE),
    "authorizations[].user_id": (str,),
    "authorizations[].is_bot": (bool,),
    "authorizations[].is_enterprise_install": (bool,),
    "event_id": (str,),
    "event_time": (int,),
    "challenge": (str,),
    "event": (dict,),
    "event.type": (str,),
    "event.subtype": (str,),
    "event.user": (str, dict),
    "event.user.id": (str,),
    "event.user_team": (str,),
    "event.team": (str,),
    "event.channel": (str, dict),
    "event.channel.id": (str,),
    "event.channel_type": (str,),
    "event.tab": (str,),
    "event.text": (str,),
    "event.ts": (str,),
    "event.thread_ts": (str,),
    "event.event_ts": (str,),
    "event.bot_id": (str, _NONE),
    "event.item": (dict,),
    "event.message": (dict,),
    "event.previous_message": (dict,),
    **{
        f"event.{inner}.{field}": kinds
        for inner in ("message", "previous_message")
        for field, kinds in {
            "type": (str,),
            "subtype": (str,),
            "user": (str,),
            "text": (str,),
            "ts": (str,),
            "thread_ts": (str,),
            "bot_id": (str, _NONE),
        }.items()
    },
}

# _TYPES by the top-level field each path starts from: a request is checked only where it has
# fields (a command has a dozen, an interaction a few dozen).
_TYPES_BY_ROOT: dict[str, list[tuple[list[str], tuple[type, ...]]]] = {}
for _path, _kinds in _TYPES.items():
    _steps = _path.split(".")
    _TYPES_BY_ROOT.setdefault(_steps[0].removesuffix("[]"), []).append((_steps, _kinds))

# And the strings whose form matters: Bolt posts to a response URL as given, and matches a
# command's name.
_URL = re.compile(r"https?://[^\s/?#]+/\S*")
_FORMS: dict[str, re.Pattern[str]] = {
    "response_url": _URL,
    "response_urls[].response_url": _URL,
    "command": re.compile(r"/\S+"),
}

# What each kind of request must carry. A kind not named here (a shortcut, a block suggestion,
# an app_rate_limited notice…) passes to Bolt, which answers what it has no listener for.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "command": ("command", "team_id", "user_id"),
    "block_actions": ("user", "user.id", "actions"),
    "view_submission": (
        "user",
        "user.id",
        "view",
        "view.id",
        "view.type",
        "view.callback_id",
        "view.state",
        "view.state.values",
    ),
    "view_closed": ("user", "user.id", "view", "view.id", "view.type", "view.callback_id"),
    "event_callback": ("event", "event.type", "event_id"),
    "url_verification": ("challenge",),
}
# And what each event Plan Bot listens to must carry.
_REQUIRED_IN_EVENT: dict[str, dict[str, re.Pattern[str]]] = {
    "app_home_opened": {"event.user": re.compile(r"[UW][A-Z0-9]{2,}")},
    "message": {"event.channel": re.compile(r"[CGD][A-Z0-9]{2,}")},
}


def check_slack_request(
    secret: str, headers: Mapping[str, str], body: bytes, now: float
) -> Refusal | None:
    """None when the request may go on to Bolt; otherwise how to refuse it. `headers` is read
    case-insensitively if it is (Starlette's are), else by lower-case names."""
    unsigned = check_signature(secret, headers, body, now)
    if unsigned is not None:
        # Bolt answers Slack's certificate check before any signature check, and does nothing.
        return None if _is_ssl_check(body) else unsigned
    payload = read_payload(body, headers.get("content-type"))
    if isinstance(payload, Refusal):
        return payload
    problem = shape_problem(payload)
    return None if problem is None else Refusal(MALFORMED, problem)


def check_signature(
    secret: str, headers: Mapping[str, str], body: bytes, now: float
) -> Refusal | None:
    timestamp = headers.get("x-slack-request-timestamp") or ""
    given = headers.get("x-slack-signature") or ""
    if not _TIMESTAMP.fullmatch(timestamp):
        return Refusal(UNSIGNED, "no readable X-Slack-Request-Timestamp")
    if not _SIGNATURE.fullmatch(given):
        return Refusal(UNSIGNED, "no readable X-Slack-Signature")
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        return Refusal(UNSIGNED, "timestamp more than five minutes off")
    if not hmac.compare_digest(signature(secret, timestamp, body), given):
        return Refusal(UNSIGNED, "signature does not match")
    return None


def read_payload(body: bytes, content_type: str | None) -> dict[str, Any] | Refusal:
    """The body as Bolt will read it (its own parser, on the same content type), or why not.
    Bolt, reading the same body next in this task, takes this parse rather than parsing again."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(MALFORMED, "body is not UTF-8")
    media_type = (content_type or "").split(";")[0] or None
    try:
        payload = parse_body_to_reuse(text, media_type)
    except ValueError:  # json.JSONDecodeError included
        return Refusal(MALFORMED, "body or payload is not JSON")
    except RecursionError:
        return Refusal(MALFORMED, "body is nested too deeply")
    if not isinstance(payload, dict):
        return Refusal(MALFORMED, "body or payload is not a JSON object")
    return payload


def _is_ssl_check(body: bytes) -> bool:
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return False
    return form.get("ssl_check") == ["1"] and set(form) <= {"ssl_check", "token"}


def kind_of(payload: Mapping[str, Any]) -> str:
    if "command" in payload and "type" not in payload:
        return "command"
    kind = payload.get("type")
    return kind if isinstance(kind, str) else ""


def shape_problem(payload: Mapping[str, Any]) -> str | None:
    """What in `payload` is not as Slack sends it, in words for the log; None when all is."""
    for root in payload:
        for steps, kinds in _TYPES_BY_ROOT.get(root, ()):
            for found, value in _values(payload, steps):
                if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                    return f"{found} is {_json_type(value)}, not {_json_types(kinds)}"
    for path, form in _FORMS.items():
        for found, value in _values(payload, path.split(".")):
            if not form.fullmatch(value):
                return f"{found} is not as Slack writes it"
    kind = kind_of(payload)
    if not kind:
        return "neither a command nor a typed payload"
    for path in _REQUIRED.get(kind, ()):
        if not any(True for _ in _values(payload, path.split("."))):
            return f"{kind} without {path}"
    if kind == "event_callback":
        event_type = payload["event"]["type"]
        for path, form in _REQUIRED_IN_EVENT.get(event_type, {}).items():
            ids = [value for _, value in _values(payload, path.split("."))]
            if not ids or not isinstance(ids[0], str) or not form.fullmatch(ids[0]):
                return f"{event_type} event without a Slack id in {path}"
    if kind == "block_actions" and not payload["actions"]:
        return "block_actions without an action"
    if kind == "block_actions" and any("action_id" not in a for a in payload["actions"]):
        return "block_actions with an action without action_id"
    return None


def _values(node: Any, steps: list[str], at: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) that `steps` names in `node`; nothing where a step is absent or the
    node is not a container of the right kind (its own entry in `_TYPES` says so)."""
    if not steps:
        yield at, node
        return
    step, rest = steps[0], steps[1:]
    if step.endswith("[]"):
        key = step[:-2]
        items = node.get(key) if isinstance(node, dict) else None
        if isinstance(items, list):
            for i, item in enumerate(items):
                yield from _values(item, rest, f"{at}.{key}[{i}]" if at else f"{key}[{i}]")
        return
    if not isinstance(node, dict):
        return
    if step == "*":
        for key, value in node.items():
            yield from _values(value, rest, f"{at}.{key}" if at else str(key))
        return
    if step in node:
        yield from _values(node[step], rest, f"{at}.{step}" if at else step)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


_NAMES = {str: "a string", dict: "an object", list: "a list", bool: "a boolean", int: "a number"}


def _json_types(kinds: tuple[type, ...]) -> str:
    return " or ".join("null" if kind is _NONE else _NAMES[kind] for kind in kinds)
