"""What slow and idle connections may hold: uvicorn's HTTP/1.1 protocol with a header deadline
and a cap on open connections.

uvicorn (0.5x) reads a request's header for as long as the client takes, and keeps any number of
connections open: 1,100 clients that each sent half a header used up the process's file
descriptors, and /healthz and /plan stopped answering for as long as they stayed. Here:

- a connection must deliver a complete request header within HEADER_TIMEOUT of opening, or of
  sending the first byte of its next request on a kept-alive connection; otherwise it is closed;
- at most `max_connections` are open; when one more arrives, the connection that has waited
  longest without a request in progress (half a header, or idle between requests) is closed to
  make room. A request being handled is never cut short, and a client that sends its header at
  once — Slack, a load balancer, a health check — gets through however many are waiting;
- the cap stays below the file-descriptor limit, which is first raised to its hard maximum.

Idle kept-alive connections are closed by uvicorn after `timeout_keep_alive`."""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0  # seconds
DEFAULT_MAX_CONNECTIONS = 1000
BACKLOG = 128  # connections the kernel queues for accept(); asyncio accepts up to this many at once
RESERVED_FDS = 100  # for the database, Slack's API, logs and the accept burst's slack
REPORT_EVERY = 60.0  # seconds between log lines about connections closed for waiting

log = logging.getLogger("planbot")


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    header_timeout: float
    fd_limit: int


def connection_limits(wanted: int, header_timeout: float = HEADER_TIMEOUT) -> ConnectionLimits:
    """Raise the soft file-descriptor limit to the hard one, and keep the connection cap below
    it with room for everything else the process opens."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    room = soft - BACKLOG - RESERVED_FDS if soft != resource.RLIM_INFINITY else wanted
    return ConnectionLimits(max(1, min(wanted, room)), header_timeout, soft)


class ConnectionGuard:
    """The open connections of one server, and which of them are waiting (no request in
    progress), longest-waiting first."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.open: set[GuardedH11Protocol] = set()
        self.waiting: OrderedDict[GuardedH11Protocol, None] = OrderedDict()
        self.closed_for_waiting = 0
        self._reported = -REPORT_EVERY  # the first closing is reported at once

    def opened(self, conn: GuardedH11Protocol) -> None:
        self.open.add(conn)
        self.waiting[conn] = None
        while len(self.open) > self.limits.max_connections and self.waiting:
            oldest = next(iter(self.waiting))
            self.drop(oldest)

    def busy(self, conn: GuardedH11Protocol) -> None:
        self.waiting.pop(conn, None)

    def idle(self, conn: GuardedH11Protocol) -> None:
        if conn in self.open:
            self.waiting[conn] = None
            self.waiting.move_to_end(conn)

    def drop(self, conn: GuardedH11Protocol) -> None:
        """Close a waiting connection (over the cap, or past its header deadline)."""
        self.forget(conn)
        conn.transport.close()
        self.closed_for_waiting += 1
        now = time.monotonic()
        if now - self._reported >= REPORT_EVERY:
            log.warning(
                "closed %d connection(s) that sent no complete request header in time or "
                "waited longest while %d were open (at most %d)",
                self.closed_for_waiting,
                len(self.open) + 1,
                self.limits.max_connections,
            )
            self.closed_for_waiting = 0
            self._reported = now

    def forget(self, conn: GuardedH11Protocol) -> None:
        self.open.discard(conn)
        self.waiting.pop(conn, None)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol under a ConnectionGuard (make one class per server with
    `guarded_protocol`)."""

    guard: ConnectionGuard

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_header()
        self.guard.opened(self)

    def data_received(self, data: bytes) -> None:
        if self._header_deadline is None and not self._in_request():
            self._await_header()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self._in_request():
            self._cancel_deadline()
            self.guard.busy(self)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._in_request() and not self.transport.is_closing():
            self.guard.idle(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        self.guard.forget(self)
        super().connection_lost(exc)

    def _in_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _await_header(self) -> None:
        self._cancel_deadline()
        self._header_deadline = self.loop.call_later(
            self.guard.limits.header_timeout, self._header_late
        )

    def _cancel_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_late(self) -> None:
        self._header_deadline = None
        if not self._in_request() and not self.transport.is_closing():
            self.guard.drop(self)


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedH11Protocol]:
    """A protocol class for `uvicorn.Config(http=…)`, with its own guard."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": ConnectionGuard(limits)})
