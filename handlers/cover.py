"""Who is away right now (issue 16), for the jobs and listeners that address people: read from
`/plan away` and, where asked, from Slack statuses (🌴, "OOO"…) seen a moment ago."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.people import Profile
from models.absence import Away, away_now, note_statuses
from models.db import session_scope


@dataclass(frozen=True)
class Cover:
    """Who of a set of people is away, and (when Slack was asked) their profiles."""

    away: dict[str, Away] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)

    def joined(self, other: Cover) -> Cover:
        return Cover({**self.away, **other.away}, {**self.profiles, **other.profiles})


async def who_is_away(
    ctx: PlanContext,
    client: AsyncWebClient,
    user_ids: Collection[str],
    *,
    read_statuses: bool = True,
) -> Cover:
    """The people of `user_ids` who are away. With `read_statuses`, their Slack statuses are
    read first (users.list for many, users.info for a few; kept a few minutes) and recorded, so
    that every surface reading absences later agrees; without, only what is recorded."""
    ids = list(dict.fromkeys(u for u in user_ids if u))
    if not ids:
        return Cover()
    if not read_statuses:
        async with session_scope(ctx.engine) as session:
            return Cover(await away_now(session, ids, ctx.now()))
    cover = Cover()
    async for part in away_as_read(ctx, client, ids):
        cover = cover.joined(part)
    return cover


async def away_as_read(
    ctx: PlanContext, client: AsyncWebClient, user_ids: Collection[str]
) -> AsyncIterator[Cover]:
    """`who_is_away` in steps, as Slack's statuses are read (PeopleNames.profiles_as_read):
    each step covers people no step before did (their statuses recorded, who is away among
    them); together, everyone asked for."""
    ids = list(dict.fromkeys(u for u in user_ids if u))
    async for profiles in ctx.people.profiles_as_read(client, ids):
        async with session_scope(ctx.engine) as session:
            # A profile Slack could not give says nothing: what was known stays.
            seen = {u: p.status for u, p in profiles.items() if p.known}
            await note_statuses(session, seen, ctx.now())
            away = await away_now(session, list(profiles), ctx.now())
        yield Cover(away, profiles)
