"""The monthly update cycle's data: who is asked, prompts claimed and posted once, updates
recorded, reminders due. No Slack here: the jobs and listeners call these."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.absence import answered_for, away_now, delegates_owners
from models.attention import NO_CHANGE_NOTE
from models.clean import clean_text
from models.measures import MeasureView, measure_views
from models.periods import recent_periods
from models.plans import bump_revision
from models.queries import UpdateView, dialect_of, initiative_rows, update_view
from models.status import Status
from models.tables import (
    ContactRole,
    Department,
    DepartmentContact,
    DepartmentOwner,
    Digest,
    Escalation,
    HelpRequest,
    Initiative,
    PostState,
    Prompt,
    Reminder,
    ReminderDM,
    SlackEvent,
    Update,
    utcnow,
)

# A claim from before leases (no lease_until) older than this belongs to a process that died.
STALE_CLAIM = timedelta(minutes=10)
MAX_NOTE = 2000
MEASURE_MONTHS = 12  # a measure's last value, even a quarterly or annual one, is within a year
PUSHED = ("file", "api", "fetch")  # actuals that arrive by themselves


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
    # The measures it owns (issue 15), read with the year before the period; judged with the
    # fiscal year starting in month `fiscal_start`.
    measures: tuple[MeasureView, ...] = ()
    fiscal_start: int = 7
    # Backup owners (issue 16): they may answer, and are reminded from the second reminder on.
    backups: tuple[str, ...] = ()

    @property
    def reported(self) -> bool:
        return any(i.reported for i in self.initiatives)

    @property
    def due_measures(self) -> list[MeasureView]:
        """The measures that take a value for this period (a quarterly one at quarter ends)."""
        return [m for m in self.measures if m.due(self.period, self.fiscal_start)]

    @property
    def measures_without_number(self) -> list[MeasureView]:
        """Due measures with no value for the period yet: what the lead still owes."""
        return [m for m in self.due_measures if self.period not in m.values]

    @property
    def measures_to_explain(self) -> list[MeasureView]:
        """Due measures whose value arrived by itself (a file, the API, a fetch), judged Near or
        Missed, with no explanation yet: the lead is asked only why."""
        found = []
        for m in self.due_measures:
            latest = m.latest.get(self.period)
            if latest is None or latest.note or latest.source not in PUSHED:
                continue
            if m.judged(self.period, self.fiscal_start).status.needs_attention:
                found.append(m)
        return found

    def measure(self, measure_id: int) -> MeasureView | None:
        return next((m for m in self.measures if m.id == measure_id), None)

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
    session: AsyncSession,
    plan_id: int,
    period: str,
    department_ids: Sequence[int] | None = None,
    *,
    start_month: int = 7,
) -> list[DepartmentState]:
    """Departments with initiatives, each with its initiatives' latest updates, its owners and
    its measures (their fiscal year starting in `start_month`). Four statements whatever the
    plan's size (seven when it has measures)."""
    query = select(Department).where(col(Department.plan_id) == plan_id)
    if department_ids is not None:
        query = query.where(col(Department.id).in_(department_ids))
    departments = (await session.exec(query.order_by(col(Department.position)))).all()
    ids = [d.id for d in departments]
    owners: dict[int, list[str]] = {}
    backups: dict[int, list[str]] = {}
    # Owners and backups in one statement: a backup is a row with the role.
    people = sa.union_all(
        select(
            col(DepartmentOwner.department_id),
            col(DepartmentOwner.user_id),
            sa.literal("owner").label("role"),
        ).where(col(DepartmentOwner.department_id).in_(ids)),
        select(
            col(DepartmentContact.department_id),
            col(DepartmentContact.user_id),
            col(DepartmentContact.role),
        ).where(
            col(DepartmentContact.department_id).in_(ids),
            col(DepartmentContact.role) == ContactRole.BACKUP,
        ),
    ).subquery("people")
    for department_id, user_id, role in await session.exec(
        sa.select(people.c.department_id, people.c.user_id, people.c.role).order_by(  # type: ignore[call-overload]  # sqlmodel types exec() for its own select
            people.c.user_id
        )
    ):
        (owners if role == "owner" else backups).setdefault(department_id, []).append(user_id)
    rows = (
        await session.exec(
            initiative_rows(period, dialect_of(session))
            .where(col(Initiative.department_id).in_(ids))
            .order_by(col(Initiative.department_id), col(Initiative.number))
        )
    ).all()
    measures: dict[str, list[MeasureView]] = {}
    for view in await measure_views(
        session,
        plan_id,
        recent_periods(period, MEASURE_MONTHS),
        department_ids=[i for i in ids if i is not None],
        start_month=start_month,
    ):
        measures.setdefault(view.department_key or "", []).append(view)
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
            measures=tuple(measures.get(d.key, ())),
            fiscal_start=start_month,
            backups=tuple(backups.get(d.id or 0, ())),
        )
        for d in departments
        if d.id in initiatives
    ]


async def department_state(
    session: AsyncSession, plan_id: int, period: str, department_id: int, *, start_month: int = 7
) -> DepartmentState | None:
    states = await department_states(
        session, plan_id, period, [department_id], start_month=start_month
    )
    return states[0] if states else None


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


async def insert_ignoring_duplicates(session: AsyncSession, table: Any, **values: Any) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when this call inserted the row. (RETURNING, not
    rowcount: psycopg's async cursor reports -1 for these.)"""
    key = next(iter(table.__table__.primary_key.columns))
    result = await session.exec(
        _insert(session, table).values(**values).on_conflict_do_nothing().returning(key)
    )
    return result.first() is not None


# --- prompts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """Who holds a claim: a process, named so that an operator can find it."""

    name: str  # "host:pid:boot"
    lease: timedelta  # how long a claim lasts unless renewed


@dataclass(frozen=True)
class HeldBy:
    """A claim someone else holds: the report says who, and since when."""

    holder: str
    since: datetime | None


def claimable_by_state(table: Any, claimable: tuple[str, ...], now: datetime) -> Any:
    """In a claimable state, or claimed by a process whose lease ran out (a claim from before
    leases counts as abandoned after STALE_CLAIM)."""
    return sa.or_(
        table.state.in_(claimable),
        sa.and_(
            table.state == PostState.POSTING,
            sa.or_(
                table.lease_until < now,
                sa.and_(table.lease_until.is_(None), table.claimed_at < now - STALE_CLAIM),
            ),
        ),
    )


async def claim_for_posting(
    session: AsyncSession,
    table: Any,
    key: dict[str, Any],
    *,
    claimable: tuple[str, ...],
    now: datetime,
    holder: Holder,
    **recorded: Any,
) -> Any | None:
    """Record the row `key` names, once (`recorded` fills the rest of a new one), and claim it
    for posting: its state becomes "posting", held by `holder` until its lease runs out, when
    it is in a `claimable` state or another process's lease ran out (that process died). The
    claimed row, or None. The caller commits at once, before posting, so that a crash or a
    second process cannot post it twice; the holder renews its leases while it works
    (`renew_leases`). Prompts, reminders and digests all go through here."""
    await insert_ignoring_duplicates(
        session, table, **key, **recorded, state=PostState.PENDING, attempts=0, created_at=now
    )
    claimed = await session.exec(
        sa.update(table)
        .where(
            *(getattr(table, name) == value for name, value in key.items()),
            claimable_by_state(table, claimable, now),
        )
        .values(
            state=PostState.POSTING,
            claimed_at=now,
            holder=holder.name,
            lease_until=now + holder.lease,
            attempts=table.attempts + 1,
        )
        .returning(*table.__table__.columns)
    )
    return claimed.first()


async def held_by(session: AsyncSession, table: Any, key: dict[str, Any]) -> HeldBy | None:
    """Who holds the row's claim, when it is being posted by someone else right now."""
    row = (
        await session.exec(  # type: ignore[call-overload]
            sa.select(table.state, table.holder, table.claimed_at).where(
                *(getattr(table, name) == value for name, value in key.items())
            )
        )
    ).first()
    if row is None or row.state != PostState.POSTING:
        return None
    return HeldBy(row.holder or "a process from before claims were named", row.claimed_at)


async def end_lease(
    session: AsyncSession, table: Any, key: dict[str, Any], holder: str, now: datetime
) -> bool:
    """End the lease `holder` has on the row: it is known to be gone (its process is dead), so
    the claim is another's to take at once. True when there was such a lease."""
    ended = await session.exec(
        sa.update(table)
        .where(
            *(getattr(table, name) == value for name, value in key.items()),
            col(table.state) == PostState.POSTING,
            col(table.holder) == holder,
        )
        .values(lease_until=now - timedelta(seconds=1))
        .returning(col(table.id))
    )
    return bool(ended.all())


async def renew_leases(session: AsyncSession, holder: Holder, now: datetime) -> int:
    """Extend every claim `holder` holds: it is alive and still posting. How many."""
    renewed = 0
    tables: tuple[Any, ...] = (Prompt, Reminder, Digest, Escalation, ReminderDM, HelpRequest)
    for table in tables:
        result = await session.exec(
            sa.update(table)
            .where(col(table.holder) == holder.name, col(table.state) == PostState.POSTING)
            .values(lease_until=now + holder.lease)
            .returning(col(table.id))
        )
        renewed += len(result.all())
    return renewed


async def claim_prompt(
    session: AsyncSession,
    department_id: int,
    period: str,
    channel_id: str,
    now: datetime,
    holder: Holder,
) -> PromptRef | None:
    """Record the prompt (once per department and period) and claim it for posting. None when
    it is posted already or another process holds a live claim (`held_by` says which)."""
    claimed = await claim_for_posting(
        session,
        Prompt,
        {"department_id": department_id, "period": period},
        claimable=(PostState.PENDING, PostState.FAILED, PostState.UNOWNED),
        now=now,
        holder=holder,
        channel_id=channel_id,
    )
    return None if claimed is None else _prompt_ref(claimed)


async def settled_prompts(session: AsyncSession, period: str) -> set[int]:
    """The departments whose prompt for `period` is in Slack or cannot go (its channel needs a
    person): a run has nothing to post for them, so nothing to read about their people."""
    rows = await session.exec(
        select(Prompt.department_id).where(
            col(Prompt.period) == period,
            col(Prompt.state).in_((PostState.POSTED, PostState.BLOCKED)),
        )
    )
    return set(rows.all())


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
        state=PostState.UNOWNED,
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
    await session.exec(
        sa.update(Prompt)
        .where(col(Prompt.id) == prompt_id)
        .values(
            state=PostState.POSTED,
            channel_id=channel_id,
            message_ts=message_ts,
            posted_at=now or utcnow(),
            last_error=None,
        )
    )


async def fail_prompt(
    session: AsyncSession, prompt_id: int, error: str, *, blocked: bool = False
) -> None:
    """A failed prompt is tried again on the next run; a *blocked* one (its channel needs a
    person: an invitation, another channel) waits for `reopen_blocked_prompts`."""
    await session.exec(
        sa.update(Prompt)
        .where(col(Prompt.id) == prompt_id)
        .values(state=PostState.BLOCKED if blocked else PostState.FAILED, last_error=error[:500])
    )


async def reopen_blocked_prompts(
    session: AsyncSession,
    *,
    channel_id: str | None = None,
    department_ids: Sequence[int] | None = None,
    period: str | None = None,
) -> int:
    """Blocked prompts become ones to try again (of a channel, departments or period, or
    all): the bot was invited, a channel was changed, or an operator asked. How many."""
    where = [col(Prompt.state) == PostState.BLOCKED]
    if channel_id is not None:
        where.append(col(Prompt.channel_id) == channel_id)
    if department_ids is not None:
        where.append(col(Prompt.department_id).in_(department_ids))
    if period is not None:
        where.append(col(Prompt.period) == period)
    reopened = await session.exec(
        sa.update(Prompt).where(*where).values(state=PostState.FAILED).returning(col(Prompt.id))
    )
    return len(reopened.all())


async def prompt_for_message(
    session: AsyncSession, channel_id: str, message_ts: str
) -> PromptRef | None:
    prompt = (
        await session.exec(
            select(Prompt).where(
                col(Prompt.channel_id) == channel_id, col(Prompt.message_ts) == message_ts
            )
        )
    ).first()
    return None if prompt is None else _prompt_ref(prompt)


async def prompt_for(session: AsyncSession, department_id: int, period: str) -> PromptRef | None:
    prompt = (
        await session.exec(
            select(Prompt).where(
                col(Prompt.department_id) == department_id, col(Prompt.period) == period
            )
        )
    ).first()
    return None if prompt is None else _prompt_ref(prompt)


async def failed_prompts(
    session: AsyncSession, plan_id: int, period: str
) -> list[tuple[str, str, bool]]:
    """Prompts of a period that Slack has not accepted yet: department name, last error, and
    whether it is blocked (its channel needs a person) rather than retried."""
    rows = await session.exec(
        select(col(Department.name), col(Prompt.last_error), col(Prompt.state))
        .join(Department, col(Department.id) == col(Prompt.department_id))
        .where(
            col(Department.plan_id) == plan_id,
            col(Prompt.period) == period,
            col(Prompt.state).in_((PostState.FAILED, PostState.BLOCKED)),
        )
        .order_by(col(Department.position))
    )
    return [
        (name, error or "unknown error", state == PostState.BLOCKED) for name, error, state in rows
    ]


async def prompts_of(session: AsyncSession, period: str) -> list[PromptRef]:
    return [
        _prompt_ref(p)
        for p in (await session.exec(select(Prompt).where(col(Prompt.period) == period))).all()
    ]


# --- who may report --------------------------------------------------------------------------


async def answers_for(
    session: AsyncSession, department_id: int, user_id: str, now: datetime | None = None
) -> bool:
    """Whether the person is an owner or a backup owner of the department, or (given `now`)
    the delegate of one of its owners who is away. One statement."""
    owner = select(col(DepartmentOwner.user_id)).where(
        col(DepartmentOwner.department_id) == department_id,
        col(DepartmentOwner.user_id) == user_id,
    )
    backup = select(col(DepartmentContact.user_id)).where(
        col(DepartmentContact.department_id) == department_id,
        col(DepartmentContact.role) == ContactRole.BACKUP,
        col(DepartmentContact.user_id) == user_id,
    )
    ways: list[Any] = [owner, backup]
    if now is not None:
        ways.append(delegates_owners(department_id, user_id, now))
    found = await session.exec(sa.union_all(*ways).limit(1))  # type: ignore[call-overload]
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
    behalf = None
    if author and author not in department.owners and entries:
        away = await away_now(session, department.owners, received)
        behalf = answered_for(author, department.owners, away)
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
                on_behalf_of=behalf,
            )
        )
    await session.flush()
    if entries:
        await bump_revision(session, department_id=department.id)
    return list(entries)


def _words(initiatives: Sequence[tuple[int, UpdateView | None]]) -> str:
    """Each initiative's latest word, as one string: what a "No change" repeats."""
    return "|".join(
        f"{number}:{latest.author}:{latest.status}:{latest.received_at.isoformat()}"
        if latest is not None
        else f"{number}:-"
        for number, latest in initiatives
    )


def _words_seen(department: DepartmentState) -> str:
    return _words([(i.number, i.latest) for i in department.initiatives])


def no_change_key(department: DepartmentState, author: str) -> str:
    """A "No change" as what it says: this person, about the department as they saw it (each
    initiative's latest word). Two clicks on the same state — a double click whose requests
    run at once, on two replicas — are one answer; after any other answer it is a new one."""
    seen = _words_seen(department)
    digest = hashlib.sha256(f"{department.id}|{department.period}|{author}|{seen}".encode())
    return f"nochange:{digest.hexdigest()[:48]}"


async def hold_department(session: AsyncSession, department_id: int) -> None:
    """Answers to one department are recorded one at a time, each seeing those before it: on
    PostgreSQL its row is locked until the transaction ends. SQLite needs nothing: one writer
    at a time holds the database, and in a process writers take turns (`db.write_scope`)."""
    if dialect_of(session) == "postgresql":
        await session.exec(
            select(col(Department.id)).where(col(Department.id) == department_id).with_for_update()
        )


async def still_as_seen(session: AsyncSession, department: DepartmentState) -> bool:
    """Whether each initiative's latest word is still the one `department` was read with,
    the department held (`hold_department`) so that no answer lands before this transaction
    ends. A "No change" read before another answer was stored would repeat what that answer
    replaced."""
    await hold_department(session, department.id)
    rows = (
        await session.exec(
            initiative_rows(department.period, dialect_of(session))
            .where(col(Initiative.department_id) == department.id)
            .order_by(col(Initiative.number))
        )
    ).all()
    return _words([(row.number, update_view(row)) for row in rows]) == _words_seen(department)


def said_no_change(department: DepartmentState, number: int, author: str) -> bool:
    """Whether the initiative's latest update is already this person's "No change" for the
    department's period: a second one would say nothing new."""
    initiative = department.initiative(number)
    latest = initiative.latest if initiative is not None else None
    return (
        latest is not None
        and latest.period == department.period
        and latest.author == author
        and latest.note == NO_CHANGE_NOTE
    )


def no_change_entries(department: DepartmentState) -> tuple[list[UpdateEntry], list[int]]:
    """ "No change": every initiative's last status again, and the numbers that have none."""
    entries = [
        UpdateEntry(i.number, i.latest.status, i.latest.percent, NO_CHANGE_NOTE)
        for i in department.initiatives
        if i.latest is not None
    ]
    without = [i.number for i in department.initiatives if i.latest is None]
    return entries, without


# --- reminders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderClaim:
    id: int
    attempts: int
    thread_ts: str | None  # its thread post, when an earlier attempt recorded one


async def claim_reminder(
    session: AsyncSession, prompt_id: int, ordinal: int, now: datetime, holder: Holder
) -> ReminderClaim | None:
    """Record reminder `ordinal` of a prompt and claim it for posting, as prompts are; None
    when it is sent, skipped, or being sent by another process."""
    claimed = await claim_for_posting(
        session,
        Reminder,
        {"prompt_id": prompt_id, "ordinal": ordinal},
        claimable=(PostState.PENDING, PostState.FAILED),
        now=now,
        holder=holder,
    )
    return (
        None if claimed is None else ReminderClaim(claimed.id, claimed.attempts, claimed.thread_ts)
    )


async def skip_reminder(session: AsyncSession, prompt_id: int, ordinal: int, now: datetime) -> None:
    """An earlier reminder never sent when a later one is due: recorded as skipped, so that
    nobody gets two at once after downtime."""
    await insert_ignoring_duplicates(
        session,
        Reminder,
        prompt_id=prompt_id,
        ordinal=ordinal,
        state=PostState.SKIPPED,
        attempts=0,
        created_at=now,
    )
    await session.exec(
        sa.update(Reminder)
        .where(
            col(Reminder.prompt_id) == prompt_id,
            col(Reminder.ordinal) == ordinal,
            col(Reminder.state).in_((PostState.PENDING, PostState.FAILED)),
        )
        .values(state=PostState.SKIPPED)
    )


async def reminder_posted_in_thread(session: AsyncSession, reminder_id: int, ts: str) -> None:
    """Its thread post is in: a retry after this sends only what is left (the DMs)."""
    await session.exec(
        sa.update(Reminder).where(col(Reminder.id) == reminder_id).values(thread_ts=ts)
    )


def sent_or_failed(now: datetime, error: str | None) -> dict[str, object]:
    """A claimed message's row once it is sent (or failed, with why: tried again later)."""
    if error is None:
        return {"state": PostState.SENT, "sent_at": now, "last_error": None}
    return {"state": PostState.FAILED, "last_error": error[:500]}


async def finish_reminder(
    session: AsyncSession, reminder_id: int, now: datetime, error: str | None = None
) -> None:
    await session.exec(
        sa.update(Reminder)
        .where(col(Reminder.id) == reminder_id)
        .values(**sent_or_failed(now, error))
    )


# --- direct-message reminders, each in its recipient's own hours --------------------------------

MOST_DM_ATTEMPTS = 5  # a direct message Slack refused this often is left alone


@dataclass(frozen=True)
class DueDM:
    """A direct-message reminder whose time has come, with its prompt."""

    id: int
    prompt_id: int
    ordinal: int
    user_id: str
    due_at: datetime
    department_id: int
    period: str
    channel_id: str
    message_ts: str | None
    created_at: datetime  # when the reminder scheduled it


async def schedule_reminder_dms(
    session: AsyncSession,
    prompt_id: int,
    ordinal: int,
    due: dict[str, datetime],
    now: datetime,
) -> int:
    """Record reminder `ordinal`'s direct message to each person, due when `due` says (once:
    a person already scheduled keeps their time). How many are new."""
    new = 0
    for user_id, at in due.items():
        new += await insert_ignoring_duplicates(
            session,
            ReminderDM,
            prompt_id=prompt_id,
            ordinal=ordinal,
            user_id=user_id,
            due_at=at,
            state=PostState.PENDING,
            attempts=0,
            created_at=now,
        )
    return new


async def due_reminder_dms(session: AsyncSession, now: datetime, most: int = 500) -> list[DueDM]:
    """Direct messages due by `now` and not sent (nor being sent by a live process)."""
    rows = await session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() to 4 columns
            col(ReminderDM.id),
            col(ReminderDM.prompt_id),
            col(ReminderDM.ordinal),
            col(ReminderDM.user_id),
            col(ReminderDM.due_at),
            col(Prompt.department_id),
            col(Prompt.period),
            col(Prompt.channel_id),
            col(Prompt.message_ts),
            col(ReminderDM.created_at),
        )
        .join(Prompt, col(Prompt.id) == col(ReminderDM.prompt_id))
        .where(
            col(ReminderDM.due_at) <= now,
            col(ReminderDM.attempts) < MOST_DM_ATTEMPTS,
            claimable_by_state(ReminderDM, (PostState.PENDING, PostState.FAILED), now),
        )
        .order_by(col(ReminderDM.due_at), col(ReminderDM.id))
        .limit(most)
    )
    return [DueDM(*row) for row in rows]


async def claim_reminder_dm(
    session: AsyncSession, dm: DueDM, now: datetime, holder: Holder
) -> int | None:
    """Claim one due direct message for sending; None when another process has it."""
    claimed = await claim_for_posting(
        session,
        ReminderDM,
        {"prompt_id": dm.prompt_id, "ordinal": dm.ordinal, "user_id": dm.user_id},
        claimable=(PostState.PENDING, PostState.FAILED),
        now=now,
        holder=holder,
        due_at=dm.due_at,
    )
    return None if claimed is None else int(claimed.id)


async def finish_reminder_dm(
    session: AsyncSession, dm_id: int, now: datetime, error: str | None = None
) -> None:
    await session.exec(
        sa.update(ReminderDM)
        .where(col(ReminderDM.id) == dm_id)
        .values(**sent_or_failed(now, error))
    )


async def postpone_reminder_dm(session: AsyncSession, dm_id: int, due_at: datetime) -> None:
    """Not now (night or a day off where they are): due again at `due_at`, unclaimed."""
    await session.exec(
        sa.update(ReminderDM)
        .where(col(ReminderDM.id) == dm_id)
        # Its claim was not a try: the attempt it counted is given back.
        .values(
            state=PostState.PENDING,
            due_at=due_at,
            holder=None,
            lease_until=None,
            attempts=col(ReminderDM.attempts) - 1,
        )
    )


async def drop_reminder_dm(session: AsyncSession, dm_id: int, why: str) -> None:
    """Not sent, and never will be: the department answered, the person is away, the month
    closed."""
    await session.exec(
        sa.update(ReminderDM)
        .where(col(ReminderDM.id) == dm_id)
        .values(state=PostState.SKIPPED, last_error=why, holder=None, lease_until=None)
    )


# --- escalations at a period's close -----------------------------------------------------------


async def claim_escalation(
    session: AsyncSession, department_id: int, period: str, now: datetime, holder: Holder
) -> int | None:
    """Record the escalation of a department's silence for `period` and claim it for sending,
    as reminders are; its id, or None when it is sent or being sent by another process."""
    claimed = await claim_for_posting(
        session,
        Escalation,
        {"department_id": department_id, "period": period},
        claimable=(PostState.PENDING, PostState.FAILED),
        now=now,
        holder=holder,
    )
    return None if claimed is None else int(claimed.id)


async def finish_escalation(
    session: AsyncSession, escalation_id: int, now: datetime, error: str | None = None
) -> None:
    await session.exec(
        sa.update(Escalation)
        .where(col(Escalation.id) == escalation_id)
        .values(**sent_or_failed(now, error))
    )


# --- Slack event deliveries ------------------------------------------------------------------


async def first_delivery(session: AsyncSession, event_id: str) -> bool:
    """True the first time an event id is seen; a retried delivery gets False."""
    return await insert_ignoring_duplicates(
        session, SlackEvent, event_id=event_id[:100], received_at=utcnow()
    )


async def delivered_before(session: AsyncSession, event_id: str) -> bool:
    """Whether an event id was seen already (`first_delivery`), without recording it."""
    found = await session.exec(
        select(col(SlackEvent.event_id)).where(col(SlackEvent.event_id) == event_id[:100])
    )
    return found.first() is not None
