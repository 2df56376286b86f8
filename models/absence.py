"""Who is away (issue 16): `/plan away until DATE [@delegate]`, or a Slack status that says so.

While someone is away they are not reminded, their delegate may answer for the departments they
own, and an answer given for them records whom it was for. A `/plan away` is the person's own
word and stays until `/plan back` or its end; a Slack status is only a sign, re-read whenever the
bot is about to remind someone, and never replaces a `/plan away`. No Slack here: the jobs read
statuses and hand them in (`note_statuses`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Absence, AwaySource, DepartmentOwner

# Slack's own "Vacationing" status is :palm_tree:; "Out sick" is :face_with_thermometer:.
AWAY_EMOJI = frozenset({":palm_tree:", ":desert_island:", ":face_with_thermometer:"})
_AWAY_WORDS = re.compile(
    r"\b(?:ooo|out\s+of\s+(?:the\s+)?office|vacation\w*|on\s+leave|out\s+sick|pto)\b"
    r"|🌴|🏝",
    re.IGNORECASE,
)
# "Back from vacation", "back on Monday after PTO": said by someone who is here.
_BACK = re.compile(r"\bback\s+(?:from|in\s+the\s+office|at\s+work)\b", re.IGNORECASE)


@dataclass(frozen=True)
class SlackStatus:
    """What a Slack profile's status says: its text, emoji and expiry (Unix seconds, 0: none)."""

    text: str = ""
    emoji: str = ""
    expiration: int = 0

    def says_away(self, now: datetime) -> bool:
        """🌴 (or "OOO", "out of office", "vacation"…) in a status that has not expired."""
        if self.expiration and self.expiration <= now.timestamp():
            return False
        if self.emoji in AWAY_EMOJI:
            return True
        return bool(_AWAY_WORDS.search(self.text)) and not _BACK.search(self.text)

    def ends_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.expiration, UTC) if self.expiration > 0 else None


@dataclass(frozen=True)
class Away:
    user_id: str
    ends_at: datetime | None  # None: until the Slack status is cleared
    delegate_id: str | None
    source: AwaySource


def _active(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(col(Absence.ends_at).is_(None), col(Absence.ends_at) > now)


def _away(row: Absence) -> Away:
    return Away(row.user_id, row.ends_at, row.delegate_id, AwaySource(row.source))


async def away_now(
    session: AsyncSession, user_ids: Collection[str], now: datetime
) -> dict[str, Away]:
    """Those of `user_ids` who are away at `now`. One statement."""
    if not user_ids:
        return {}
    rows = await session.exec(
        select(Absence).where(col(Absence.user_id).in_(list(user_ids)), _active(now))
    )
    return {row.user_id: _away(row) for row in rows}


async def set_away(
    session: AsyncSession,
    user_id: str,
    ends_at: datetime,
    delegate_id: str | None,
    *,
    set_by: str,
    now: datetime,
) -> None:
    """`/plan away`: replaces whatever was known (an earlier `/plan away`, a Slack status)."""
    await session.exec(delete(Absence).where(col(Absence.user_id) == user_id))
    session.add(
        Absence(
            user_id=user_id,
            ends_at=ends_at,
            delegate_id=delegate_id,
            source=AwaySource.COMMAND,
            set_by=set_by,
            created_at=now,
        )
    )
    await session.flush()


async def clear_away(session: AsyncSession, user_id: str, now: datetime) -> Away | None:
    """`/plan back`: the absence that was in force, if any, is gone."""
    found = await away_now(session, [user_id], now)
    await session.exec(delete(Absence).where(col(Absence.user_id) == user_id))
    return found.get(user_id)


async def note_statuses(
    session: AsyncSession, statuses: Mapping[str, SlackStatus], now: datetime
) -> None:
    """Record what the people's Slack statuses say, as read just now: away for those whose
    status says so (unless they set `/plan away`, which stays theirs), no longer away for the
    others whose only sign was their status."""
    if not statuses:
        return
    away = {u: s for u, s in statuses.items() if s.says_away(now)}
    here = [u for u in statuses if u not in away]
    if here:
        await session.exec(
            delete(Absence).where(
                col(Absence.user_id).in_(here), col(Absence.source) == AwaySource.SLACK_STATUS
            )
        )
    from models.cycle import insert_ignoring_duplicates  # models.cycle reads absences too

    for user_id, status in away.items():
        fresh = await insert_ignoring_duplicates(
            session,
            Absence,
            user_id=user_id,
            ends_at=status.ends_at(),
            delegate_id=None,
            source=AwaySource.SLACK_STATUS,
            set_by="",
            created_at=now,
        )
        if not fresh:  # already known: a status keeps its latest expiry; a command row stays
            await session.exec(
                sa.update(Absence)
                .where(
                    col(Absence.user_id) == user_id,
                    col(Absence.source) == AwaySource.SLACK_STATUS,
                )
                .values(ends_at=status.ends_at())
            )


async def covered_by(session: AsyncSession, delegate_id: str, now: datetime) -> list[str]:
    """The people away now who named `delegate_id` to answer for them."""
    rows = await session.exec(
        select(col(Absence.user_id)).where(col(Absence.delegate_id) == delegate_id, _active(now))
    )
    return list(rows)


def delegates_owners(department_id: int, user_id: str, now: datetime) -> sa.Select[tuple[str]]:
    """The department's owners who are away now and named `user_id` their delegate: a select
    of user ids, for `answers_for`'s one statement."""
    return (
        sa.select(col(Absence.user_id))
        .join(DepartmentOwner, col(DepartmentOwner.user_id) == col(Absence.user_id))
        .where(
            col(DepartmentOwner.department_id) == department_id,
            col(Absence.delegate_id) == user_id,
            _active(now),
        )
    )


def answered_for(author: str, owners: Collection[str], away: Mapping[str, Away]) -> str | None:
    """Whom an answer by `author` was given for: None when they own the department or no owner
    is away; else the away owner who named them delegate, or the first away owner."""
    if author in owners:
        return None
    gone = [o for o in sorted(owners) if o in away]
    if not gone:
        return None
    return next((o for o in gone if away[o].delegate_id == author), gone[0])
