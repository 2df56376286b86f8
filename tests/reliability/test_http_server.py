"""The HTTP server against clients that would take it down: bodies far over the limit, declared
or streamed, and a thousand connections that send half a header. A real `planbot serve` on
loopback each time, attacked with bounded loops of raw sockets."""

from __future__ import annotations

import asyncio
import contextlib
import resource
from pathlib import Path

import httpx

from bot import slack_requests
from tests.helpers import COO
from tests.serving import hartford_served

SECRET = "http-server-test-secret"
LIMIT = 2 * 1024 * 1024  # the default PLANBOT_MAX_BODY_BYTES, as docs/deployment.md states it
HALF_HEADER = b"POST /slack/events HTTP/1.1\r\nHost: planbot\r\nContent-Type: applica"


def peak_memory_mb(pid: int) -> int:
    """The process's resident memory at its highest so far (Linux's VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmHWM in /proc")


async def read_answer(reader: asyncio.StreamReader) -> bytes:
    """What the server sent before it stopped answering (bounded)."""
    with contextlib.suppress(ConnectionError, TimeoutError):
        return await asyncio.wait_for(reader.read(4096), 15)
    return b""


async def stream_chunked(port: int, megabytes: int) -> tuple[int, bytes]:
    """POST a chunked body of up to `megabytes`, stopping as soon as the server answers; the
    bytes sent and the start of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.ensure_future(read_answer(reader))
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: planbot\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    sent = 0
    with contextlib.suppress(ConnectionError):
        for _ in range(megabytes * 16):
            if answer.done():
                break
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            sent += len(chunk)
            # drain() does not yield while the server keeps up (it reads and drops the rest of
            # a refused body): let the reader see the answer that may have come.
            await asyncio.sleep(0)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    answered = await answer
    writer.close()
    return sent, answered


async def test_bodies_over_the_limit_are_refused_before_they_are_read(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with hartford_served(sqlite_url, tmp_path, SECRET) as served:
        peak_before = peak_memory_mb(served.process.pid)
        # A 200 MB body declared, not a byte of it sent: refused at once, from its header.
        reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
        writer.write(
            b"POST /slack/events HTTP/1.1\r\nHost: planbot\r\nContent-Type: application/json\r\n"
            b"Content-Length: 209715200\r\n\r\n"
        )
        declared = await read_answer(reader)
        writer.close()
        assert declared.startswith(b"HTTP/1.1 413 "), declared[:200]
        # Eight chunked bodies of 32 MB at once, no Content-Length: each refused as soon as it
        # passes the limit, long before it ends, and none is held in memory.
        streamed = await asyncio.gather(*(stream_chunked(served.port, 32) for _ in range(8)))
        for sent, answer in streamed:
            assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
            assert sent < 32 * 1024 * 1024
        assert peak_memory_mb(served.process.pid) - peak_before < 64
        async with httpx.AsyncClient(base_url=served.base, timeout=10) as client:
            # Signed makes no difference: the size is checked before the signature.
            big = slack_requests.slash_command(
                SECRET, "x" * LIMIT, user_id=COO, response_url=served.slack.response_url("big")
            )
            refused = await client.post("/slack/events", content=big.body, headers=big.headers)
            assert refused.status_code == 413
            # A large body within the limit is Slack's, and is answered.
            near = slack_requests.slash_command(
                SECRET,
                "safety" + " " * (LIMIT - 4096),
                user_id=COO,
                response_url=served.slack.response_url("near"),
            )
            assert len(near.body) < LIMIT
            answered = await client.post("/slack/events", content=near.body, headers=near.headers)
            assert answered.status_code == 200
            assert answered.json()["blocks"][0]["text"]["text"].startswith("Safety")
            assert (await client.get("/healthz")).status_code == 200
        stderr = served.stop()
    refusals = [line for line in stderr.splitlines() if "-> 413" in line]
    assert len(refusals) == 10, stderr[-3000:]  # one line each: 1 declared, 8 streamed, 1 signed
    assert "Traceback" not in stderr


ATTACKERS = 1100
SERVER_FILES = 1024  # a common `ulimit -n`; the attack needs more connections than that


def _open_enough_files() -> None:
    """The slow-client test opens 1,100 sockets of its own: raise this process's soft limit
    as far as needed (the hard limit, `ulimit -Hn`, must allow it; the server runs under
    1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = ATTACKERS + 200
    if soft < wanted and (hard == resource.RLIM_INFINITY or hard >= wanted):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= wanted, (
        f"this test needs `ulimit -n` of at least {wanted} (hard limit is {hard})"
    )


async def test_half_sent_headers_leave_health_and_plan_answering(
    sqlite_url: str, tmp_path: Path
) -> None:
    _open_enough_files()
    async with hartford_served(sqlite_url, tmp_path, SECRET, fd_limit=SERVER_FILES) as served:
        # A kept-alive connection that answered once, then starts a request it never finishes.
        kept_reader, kept = await asyncio.open_connection("127.0.0.1", served.port)
        kept.write(b"GET /healthz HTTP/1.1\r\nHost: planbot\r\n\r\n")
        assert (await kept_reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
        await kept_reader.readexactly(len(b'{"ok":true}'))
        kept.write(HALF_HEADER)
        attackers: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        try:
            for _ in range(ATTACKERS):
                reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
                writer.write(HALF_HEADER)
                attackers.append((reader, writer))
            await asyncio.gather(*(writer.drain() for _, writer in attackers))
            # More half-headers than the server may open files: health and /plan still answer.
            async with httpx.AsyncClient(base_url=served.base, timeout=10) as client:
                assert (await client.get("/healthz")).json() == {"ok": True}
                request = slack_requests.slash_command(
                    SECRET, "safety", user_id=COO, response_url=served.slack.response_url("s")
                )
                answer = await client.post(
                    "/slack/events", content=request.body, headers=request.headers
                )
                assert answer.status_code == 200
                assert answer.json()["blocks"][0]["text"]["text"].startswith("Safety")
            # And every half-header is let go: the server closes each one, answering nothing.
            readers = [reader for reader, _ in attackers] + [kept_reader]
            reads = [asyncio.ensure_future(reader.read(1)) for reader in readers]
            done, pending = await asyncio.wait(reads, timeout=60)
            for read in pending:
                read.cancel()
            assert not pending, f"{len(pending)} half-sent headers still held open"
            for read in done:
                assert read.exception() is not None or read.result() == b""
        finally:
            for _, writer in attackers:
                writer.close()
            kept.close()
        stderr = served.stop()
    assert "Too many open files" not in stderr
    assert "sent no complete request header" in stderr
