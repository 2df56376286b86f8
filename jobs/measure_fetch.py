"""Fetching the measures whose number already lives in a city system: each measure with a source
URL (a CSV or JSON open-data endpoint) is read, and its values stored as actuals from `fetch`.

A source that is down, slow, refuses, or returns something unreadable fails alone, in one line
saying why, and writes nothing for its measure; the next run tries it again. A value already
the period's latest is not stored again, so running twice stores nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx
from sqlmodel import col, select

from handlers.context import PlanContext
from models.db import session_scope
from models.measurefile import ActualRow, MeasureFileError, MeasureSource, source_values
from models.measures import record_actuals
from models.plans import active_plan_id, stored_id
from models.tables import ActualSource, Measure

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
MAX_BYTES = 5 * 1024 * 1024  # an open-data export of one measure is far smaller
FETCH_TIME = (6, 0)  # daily, in the plan's time zone: before anyone reads the numbers
USER_AGENT = "PlanBot/1 (measures fetch)"


@dataclass
class FetchRun:
    stored: dict[str, int] = field(default_factory=dict)  # measure key → values stored
    unchanged: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (measure key, why)

    @property
    def fetched(self) -> list[str]:
        return sorted(self.stored)


class SourceFailed(Exception):
    """A source that could not be read, in words."""


async def fetch_measures(ctx: PlanContext, *, timeout: float = TIMEOUT_SECONDS) -> FetchRun:
    """Fetch every measure of the active plan that has a source URL, each on its own; a source
    slower than `timeout` seconds fails."""
    async with session_scope(ctx.engine) as session:
        plan_id = await active_plan_id(session)
        measures = list(
            await session.exec(
                select(Measure)
                .where(col(Measure.plan_id) == plan_id, col(Measure.source_url).is_not(None))
                .order_by(col(Measure.position))
            )
        )
    run = FetchRun()
    if not measures:
        return run
    period = ctx.open_period()
    async with httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    ) as client:
        for measure in measures:
            source = MeasureSource(
                measure.source_url or "",
                measure.source_format or "csv",
                measure.source_value or "",
                measure.source_period,
            )
            try:
                body = await _get(client, source.url, timeout)
                values = source_values(body, source, period)
                async with session_scope(ctx.engine) as session:
                    result = await record_actuals(
                        session,
                        plan_id,
                        [ActualRow(measure.key, p, v, where=source.url) for p, v in values],
                        source=ActualSource.FETCH,
                        author="fetch",
                        allowed=[stored_id(measure.id)],
                    )
            except (SourceFailed, MeasureFileError) as exc:
                why = str(exc)
                run.failed.append((measure.key, why))
                log.warning("measure %s: fetch failed, nothing stored: %s", measure.key, why)
                continue
            run.stored[measure.key] = result.stored
            run.unchanged[measure.key] = result.unchanged
            log.info(
                "measure %s: fetched %d value(s), %d stored",
                measure.key,
                len(values),
                result.stored,
            )
    return run


async def _get(client: httpx.AsyncClient, url: str, timeout: float) -> bytes:
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise SourceFailed(f"{url} answered HTTP {response.status_code}")
            chunks = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise SourceFailed(f"{url} sent more than {MAX_BYTES // 1024 // 1024} MB")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise SourceFailed(f"{url} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise SourceFailed(f"{url} could not be reached ({type(exc).__name__})") from None
