"""What one HTTP request may make the server hold, checked before the app reads a byte of it.

A body larger than `max_body_bytes` is refused with 413: from its Content-Length before a byte
is read, or as soon as a chunked body streams past the limit. A body must arrive whole within
BODY_TIMEOUT (408 otherwise), and the bodies being read or handled at once stay within a memory
budget (503 past it, with Retry-After). The app behind gets the body already read, in one
message. Each refusal is one line in the request log and closes the connection."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
BODY_TIMEOUT = 10.0  # seconds for the whole body once the header is in: Slack sends at once
BUDGET_BODIES = 32  # the memory budget, in largest bodies: far more than Slack sends at once

log = logging.getLogger("planbot.requests")


class BodyLimits:
    """ASGI middleware bounding request bodies (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        body_timeout: float = BODY_TIMEOUT,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.budget = max_body_bytes * BUDGET_BODIES
        self.held = 0  # bytes of bodies read and not yet handled, across requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        length = headers.get(b"content-length")
        if length is not None and not length.isdigit():
            await _refuse(scope, send, 400, "unreadable Content-Length")
            return
        if length is not None and int(length) > self.max_body_bytes:
            await _refuse(
                scope,
                send,
                413,
                f"body of {int(length)} bytes declared, over the {self.max_body_bytes} limit",
            )
            return
        if length in (None, b"0") and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body (GET /healthz)
            return
        size = 0
        try:
            chunks: list[bytes] = []
            refusal: tuple[int, str] | None = None
            try:
                async with asyncio.timeout(self.body_timeout):
                    while refusal is None:
                        message = await receive()
                        if message["type"] == "http.disconnect":
                            return  # the client left: nobody to answer
                        chunk = bytes(message.get("body", b""))
                        size += len(chunk)
                        self.held += len(chunk)
                        if size > self.max_body_bytes:
                            refusal = (413, f"body over the {self.max_body_bytes} limit, streamed")
                        elif self.held > self.budget:
                            refusal = (503, "too many request bodies held at once")
                        chunks.append(chunk)
                        if not message.get("more_body", False):
                            break
            except TimeoutError:
                refusal = (408, f"body not received within {self.body_timeout:g} s")
            if refusal is not None:
                chunks.clear()
                await _refuse(scope, send, *refusal)
                return
            await self.app(scope, _replay(b"".join(chunks), receive), send)
        finally:
            self.held -= size


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body in one message, then whatever the server says next (a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(scope: Scope, send: Send, status: int, reason: str) -> None:
    log.info(
        "%s %s refused -> %d (%s)",
        scope.get("method", ""),
        scope.get("path", ""),
        status,
        reason,
        extra={"kind": "refused", "status": status, "reason": reason},
    )
    headers = [(b"content-type", b"application/json")]
    if status == 503:
        headers.append((b"retry-after", b"1"))
    if status in (400, 408):
        headers.append((b"connection", b"close"))
    # Otherwise the connection stays open while the client may still be sending: the rest of
    # its body is read and dropped (a client that is cut off mid-send sees a reset, not this
    # answer), for at most the header deadline of bot.connections.
    error = {400: "bad_request", 408: "timeout", 413: "body_too_large", 503: "busy"}[status]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send(
        {"type": "http.response.body", "body": json.dumps({"ok": False, "error": error}).encode()}
    )
