"""The digest reads its two halves at once (handlers/digest_build.py at_once): a failure in one
is raised as itself — a database that is not answering must still read as one to the error
handler, which an ExceptionGroup would hide — and the other half is not left running."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from handlers.digest_build import at_once
from models.db import database_unavailable


async def test_both_results_in_order() -> None:
    async def late(value: str) -> str:
        await asyncio.sleep(0.01)
        return value

    assert await at_once(late("figures"), asyncio.sleep(0, "standing")) == (
        "figures",
        "standing",
    )


async def test_a_failure_is_raised_as_itself_and_the_other_half_is_cancelled() -> None:
    other_cancelled = asyncio.Event()

    async def waits() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            other_cancelled.set()
            raise

    async def no_connection() -> None:
        await asyncio.sleep(0)
        raise sa.exc.TimeoutError("no connection for 30 s")

    with pytest.raises(sa.exc.TimeoutError) as raised:
        await at_once(waits(), no_connection())
    assert database_unavailable(raised.value)
    assert other_cancelled.is_set()
