"""One fix to Bolt's request parsing, applied where the app is built (bot/app.py), and one
saving: a body the ASGI layer has parsed already (bot/request_checks.py) is not parsed again.

slack_bolt (1.30.0, the latest) reads any form body that merely *contains* the word "payload"
as an interactivity payload: a slash command typed as `/plan payload`, or sent from a channel
named `#payload-team`, has no `payload` parameter, so Bolt parses it as `{}` and the command is
refused as malformed. Here such a body is read as the form it is; everything else is Bolt's own
parsing, unchanged."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.request import async_request, internals, request

_bolt_parse_body = internals.parse_body

# The body this request's task has parsed already, and what it parsed to: taken (once) by
# the next parse of the same text with the same content type, Bolt's own in the same request.
_parsed: ContextVar[tuple[str, str | None, dict[str, Any]] | None] = ContextVar(
    "planbot_parsed_body", default=None
)


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    given = _parsed.get()
    if given is not None:
        _parsed.set(None)
        if given[0] == body and given[1] == content_type:
            return given[2]
    return _parse_body(body, content_type)


def parse_body_to_reuse(body: str, content_type: str | None) -> dict[str, Any]:
    """`parse_body`, whose result the next parse of the same body in this task (Bolt's) takes
    instead of parsing again. The caller must not change what it returns."""
    parsed = _parse_body(body, content_type)
    _parsed.set((body, content_type, parsed))
    return parsed


def _parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    parsed = _bolt_parse_body(body, content_type)
    if parsed or not body or body.startswith("{") or content_type == "application/json":
        return parsed
    form = dict(parse_qsl(body, keep_blank_values=True))
    return {} if "payload" in form else form


def apply() -> None:
    """Bolt's request classes use the fixed parser (idempotent)."""
    async_request.parse_body = parse_body  # type: ignore[attr-defined]
    request.parse_body = parse_body  # type: ignore[attr-defined]
