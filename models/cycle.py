"""The monthly update cycle's data: who is asked, prompts claimed and posted once, updates
recorded, reminders due. No Slack here: the jobs and listeners call these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.clean import clean_text
from models.plans import bump_revision
from models.queries import UpdateView, dialect_of, initiative_rows, update_view
from models.status import Status
from models.tables import (
    Department,
    DepartmentOwner,
    Initiative,
    Prompt,
    Reminder,
    SlackEvent,
    Update,
    utcnow,
)

# A claim older than this is taken to belong to a process that died mid-post.
STALE_CLAIM = timedelta(minutes=10)
MAX_NOTE = 2000


@dataclass(frozen=True)
class InitiativeState:
    id: int
    number: int
    text: str
    parent_number: int | None
    latest: UpdateView | None
    reported: bool  # has an update for the period

    @property
    def status(self) -> Status | None:
        return None if self.latest is None else self.latest.status


@dataclass(frozen=True)
class DepartmentState:
    """A department as its prompt and form show it, for one period."""

    id: int
    key: str
    name: str
    owners: tuple[str, ...]
    channel_id: str | None
    period: str
    initiatives: tuple[InitiativeState, ...]

    @property
    def reported(self) -> bool:
        return any(i.reported for i in self.initiatives)

    def initiative(self, number: int) -> InitiativeState | None:
        return next((i for i in self.initiatives if i.number == number), None)


@dataclass(frozen=True)
class UpdateEntry:
    number: int
    status: Status
    percent: int | None = None
    note: str = ""


@dataclass(frozen=True)
class PromptRef:
    id: int
    department_id: int
    period: str
    channel_id: str
    message_ts: str | None
    state: str
    attempts: int


async def department_states(
    session: AsyncSession, plan_id: int, period: str, department_ids: Sequence[int] | None = None
) -> list[DepartmentState]:
    """Departments with initiatives, each with its initiatives' latest updates and its owners.
    Three statements whatever the plan's size."""
    query = select(Department).where(Department.plan_id == plan_id)
    if department_ids is not None:
        query = query.where(Department.id.in_(department_ids))  # type: ignore[union-attr]
    departments = (await session.exec(query.order_by(Department.position))).all()
    ids = [d.id for d in departments]
    owners: dict[int, list[str]] = {}
    for department_id, user_id in await session.exec(
        select(DepartmentOwner.department_id, DepartmentOwner.user_id)
        .where(DepartmentOwner.department_id.in_(ids))  # type: ignore[attr-defined]
        .order_by(DepartmentOwner.user_id)
    ):
        owners.setdefault(department_id, []).append(user_id)
    rows = (
        await session.exec(
            initiative_rows(period, dialect_of(session))
            .where(Initiative.department_id.in_(ids))  # type: ignore[attr-defined]
            .order_by(Initiative.department_id, Initiative.number)
        )
    ).all()
    initiatives: dict[int, list[InitiativeState]] = {}
    for row in rows:
        latest = update_view(row)
        initiatives.setdefault(row.department_id, []).append(
            InitiativeState(
                id=row.id,
                number=row.number,
                text=row.text,
                parent_number=row.parent_number,
                latest=latest,
                reported=bool(row.reported),
            )
        )
    return [
        DepartmentState(
            id=d.id or 0,
            key=d.key,
            name=d.name,
            owners=tuple(owners.get(d.id or 0, ())),
            channel_id=d.channel_id,
            period=period,
            initiatives=tuple(initiatives.get(d.id or 0, ())),
        )
        for d in departments
        if d.id in initiatives
    ]


async def department_state(
    session: AsyncSession, plan_id: int, period: str, department_id: int
) -> DepartmentState | None:
    states = await department_states(session, plan_id, period, [department_id])
    return states[0] if states else None


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


async def insert_ignoring_duplicates(session: AsyncSession, table: Any, **values: Any) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when this call inserted the row. (RETURNING, not
    rowcount: psycopg's async cursor reports -1 for these.)"""
    key = next(iter(table.__table__.primary_key.columns))
    result = await session.exec(  # type: ignore[call-overload]
        _insert(session, table).values(**values).on_conflict_do_nothing().returning(key)
    )
    return result.first() is not None


# --- prompts ---------------------------------------------------------------------------------


async def claim_for_posting(
    session: AsyncSession,
    table: Any,
    key: dict[str, Any],
    *,
    claimable: tuple[str, ...],
    now: datetime,
    stale_after: timedelta = STALE_CLAIM,
    **recorded: Any,
) -> Any | None:
    """Record the row `key` names, once (`recorded` fills the rest of a new one), and claim it
    for posting: its state becomes "posting" when it is in a `claimable` state, or when another
    process's claim is older than `stale_after` (that process died). The claimed row, or None.
    The caller commits at once, before posting, so that a crash or a second process cannot post
    it twice. Prompts and digests both go through here."""
    await insert_ignoring_duplicates(
        session, table, **key, **recorded, state="pending", attempts=0, created_at=now
    )
    is_claimable = sa.or_(
        table.state.in_(claimable),
        sa.and_(table.state == "posting", table.claimed_at < now - stale_after),
    )
    claimed = await session.exec(  # type: ignore[call-overload]
        sa.update(table)
        .where(*(getattr(table, name) == value for name, value in key.items()), is_claimable)
        .values(state="posting", claimed_at=now, attempts=table.attempts + 1)
        .returning(*table.__table__.columns)
    )
    return claimed.first()


async def claim_prompt(
    session: AsyncSession,
    department_id: int,
    period: str,
    channel_id: str,
    now: datetime | None = None,
) -> PromptRef | None:
    """Record the prompt (once per department and period) and claim it for posting. None when
    it is posted already or another process holds a fresh claim."""
    claimed = await claim_for_posting(
        session,
        Prompt,
        {"department_id": department_id, "period": period},
        claimable=("pending", "failed", "unowned"),
        now=now or utcnow(),
        channel_id=channel_id,
    )
    return None if claimed is None else _prompt_ref(claimed)


def _prompt_ref(prompt: Any) -> PromptRef:
    """From a Prompt or a row of its columns."""
    return PromptRef(
        id=prompt.id or 0,
        department_id=prompt.department_id,
        period=prompt.period,
        channel_id=prompt.channel_id,
        message_ts=prompt.message_ts,
        state=prompt.state,
        attempts=prompt.attempts,
    )


async def note_unowned(
    session: AsyncSession, department_id: int, period: str, channel_id: str
) -> bool:
    """Record that a department had nobody to ask for a period; True the first time, so admins
    are told once. Claimable later, once it has an owner."""
    return await insert_ignoring_duplicates(
        session,
        Prompt,
        department_id=department_id,
        period=period,
        channel_id=channel_id,
        state="unowned",
        attempts=0,
        created_at=utcnow(),
    )


async def complete_prompt(
    session: AsyncSession,
    prompt_id: int,
    channel_id: str,
    message_ts: str,
    now: datetime | None = None,
) -> None:
    await session.exec(  # type: ignore[call-overload]
        sa.update(Prompt)
        .where(Prompt.id == prompt_id)
        .values(
            state="posted",
            channel_id=channel_id,
            message_ts=message_ts,
            posted_at=now or utcnow(),
            last_error=None,
        )
    )


async def fail_prompt(session: AsyncSession, prompt_id: int, error: str) -> None:
    await session.exec(  # type: ignore[call-overload]
        sa.update(Prompt)
        .where(Prompt.id == prompt_id)
        .values(state="failed", last_error=error[:500])
    )


async def prompt_for_message(
    session: AsyncSession, channel_id: str, message_ts: str
) -> PromptRef | None:
    prompt = (
        await session.exec(
            select(Prompt).where(Prompt.channel_id == channel_id, Prompt.message_ts == message_ts)
        )
    ).first()
    return None if prompt is None else _prompt_ref(prompt)


async def prompt_for(session: AsyncSession, department_id: int, period: str) -> PromptRef | None:
    prompt = (
        await session.exec(
            select(Prompt).where(Prompt.department_id == department_id, Prompt.period == period)
        )
    ).first()
    return None if prompt is None else _prompt_ref(prompt)


async def failed_prompts(session: AsyncSession, plan_id: int, period: str) -> list[tuple[str, str]]:
    """Prompts of a period that Slack has not accepted yet: department name and last error."""
    rows = await session.exec(
        select(Department.name, Prompt.last_error)
        .join(Department, Department.id == Prompt.department_id)  # type: ignore[arg-type]
        .where(Department.plan_id == plan_id, Prompt.period == period, Prompt.state == "failed")
        .order_by(Department.position)
    )
    return [(name, error or "unknown error") for name, error in rows]


async def prompts_of(session: AsyncSession, period: str) -> list[PromptRef]:
    return [
        _prompt_ref(p)
        for p in (await session.exec(select(Prompt).where(Prompt.period == period))).all()
    ]


# --- who may report --------------------------------------------------------------------------


async def is_owner(session: AsyncSession, department_id: int, user_id: str) -> bool:
    found = await session.exec(
        select(DepartmentOwner.user_id).where(
            DepartmentOwner.department_id == department_id, DepartmentOwner.user_id == user_id
        )
    )
    return found.first() is not None


# --- updates ---------------------------------------------------------------------------------


class NotThisDepartment(ValueError):
    """An update names an initiative the department does not have."""


async def record_updates(
    session: AsyncSession,
    department: DepartmentState,
    entries: Sequence[UpdateEntry],
    *,
    author: str,
    source: str,
    late: bool,
    source_ref: str | None = None,
    now: datetime | None = None,
) -> list[UpdateEntry]:
    """Append one update per entry, for the department's period. Entries naming an initiative
    of another department are refused whole (nothing is written)."""
    by_number = {i.number: i for i in department.initiatives}
    unknown = [e.number for e in entries if e.number not in by_number]
    if unknown:
        raise NotThisDepartment(f"{department.name} has no initiative #{unknown[0]}")
    for entry in entries:
        if entry.percent is not None and not 0 <= entry.percent <= 100:
            raise ValueError(f"percent {entry.percent} is not between 0 and 100")
    received = now or utcnow()
    for entry in entries:
        session.add(
            Update(
                initiative_id=by_number[entry.number].id,
                period=department.period,
                status=entry.status,
                percent=entry.percent,
                note=clean_text(entry.note)[:MAX_NOTE],
                author=author,
                source=source,
                source_ref=source_ref,
                received_at=received,
                late=late,
            )
        )
    await session.flush()
    if entries:
        await bump_revision(session, department_id=department.id)
    return list(entries)


def no_change_entries(department: DepartmentState) -> tuple[list[UpdateEntry], list[int]]:
    """ "No change": every initiative's last status again, and the numbers that have none."""
    entries = [
        UpdateEntry(i.number, i.latest.status, i.latest.percent, "No change")
        for i in department.initiatives
        if i.latest is not None
    ]
    without = [i.number for i in department.initiatives if i.latest is None]
    return entries, without


# --- reminders -------------------------------------------------------------------------------


async def claim_reminder(session: AsyncSession, prompt_id: int, ordinal: int) -> bool:
    """Record reminder `ordinal` of a prompt; True only for the one call that recorded it."""
    return await insert_ignoring_duplicates(
        session, Reminder, prompt_id=prompt_id, ordinal=ordinal, created_at=utcnow()
    )


async def mark_reminder_sent(session: AsyncSession, prompt_id: int, ordinal: int) -> None:
    await session.exec(  # type: ignore[call-overload]
        sa.update(Reminder)
        .where(Reminder.prompt_id == prompt_id, Reminder.ordinal == ordinal)
        .values(sent_at=utcnow())
    )


# --- Slack event deliveries ------------------------------------------------------------------


async def first_delivery(session: AsyncSession, event_id: str) -> bool:
    """True the first time an event id is seen; a retried delivery gets False."""
    return await insert_ignoring_duplicates(
        session, SlackEvent, event_id=event_id[:100], received_at=utcnow()
    )
