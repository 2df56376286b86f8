"""What a thread reply leaves behind besides its updates: the questions asked back about its
unclear parts (each answered once), and Undo, which restores what the reply changed.

History stays append-only: an answer is a new update, and so is an undo — a copy of each
initiative's update from before the reply, with source "undo"."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.clean import clean_text
from models.cycle import MAX_NOTE, DepartmentState, UpdateEntry, hold_department
from models.plans import bump_revision
from models.status import Status
from models.tables import Initiative, ReplyQuestion, Source, Update, utcnow

REPLACED = -1  # the answer of a question that an edit of its reply replaced
UNDO_SOURCE = Source.UNDO


def reply_ref(channel: str, ts: str) -> str:
    """How updates and questions name the reply they came from."""
    return f"{channel}:{ts}"[:200]


# --- questions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AskedQuestion:
    id: int
    department_id: int
    period: str
    reply_ref: str
    asked_of: str
    choices: tuple[UpdateEntry, ...]
    answered_by: str | None
    answer: int | None


def _entry(data: Any) -> UpdateEntry | None:
    try:
        percent = data.get("percent")
        return UpdateEntry(
            int(data["number"]),
            Status(data["status"]),
            None if percent is None else int(percent),
            str(data.get("note") or ""),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _asked(row: Any) -> AskedQuestion:
    choices = tuple(e for e in (_entry(c) for c in row.choices or []) if e is not None)
    return AskedQuestion(
        id=row.id,
        department_id=row.department_id,
        period=row.period,
        reply_ref=row.reply_ref,
        asked_of=row.asked_of,
        choices=choices,
        answered_by=row.answered_by,
        answer=row.answer,
    )


async def ask_questions(
    session: AsyncSession,
    *,
    department_id: int,
    period: str,
    reply: str,
    asked_of: str,
    questions: Sequence[Sequence[UpdateEntry]],
    now: datetime | None = None,
) -> list[int]:
    """Record the questions about one reply, each a list of readings to choose from; their ids
    in the same order."""
    rows = [
        ReplyQuestion(
            department_id=department_id,
            period=period,
            reply_ref=reply,
            asked_of=asked_of,
            choices=[
                {
                    "number": c.number,
                    "status": c.status.value,
                    "percent": c.percent,
                    "note": clean_text(c.note)[:MAX_NOTE],
                }
                for c in choices
            ],
            asked_at=now or utcnow(),
        )
        for choices in questions
    ]
    session.add_all(rows)
    await session.flush()
    return [row.id or 0 for row in rows]


async def question(session: AsyncSession, question_id: int) -> AskedQuestion | None:
    row = await session.get(ReplyQuestion, question_id)
    return None if row is None else _asked(row)


async def claim_answer(
    session: AsyncSession, question_id: int, choice: int, user: str, now: datetime | None = None
) -> AskedQuestion | None:
    """Mark the question answered with `choice`, once: None when it was answered already (or
    replaced by an edit). The caller records the reading in the same transaction."""
    claimed = await session.exec(
        sa.update(ReplyQuestion)
        .where(col(ReplyQuestion.id) == question_id, col(ReplyQuestion.answered_at).is_(None))
        .values(answered_at=now or utcnow(), answered_by=user, answer=choice)
        .returning(*ReplyQuestion.__table__.columns)  # type: ignore[attr-defined]
    )
    row = claimed.first()
    return None if row is None else _asked(row)


async def replace_questions(session: AsyncSession, reply: str, now: datetime | None = None) -> int:
    """Close the open questions of a reply that was edited: the edit is read again whole."""
    result = await session.exec(
        sa.update(ReplyQuestion)
        .where(col(ReplyQuestion.reply_ref) == reply, col(ReplyQuestion.answered_at).is_(None))
        .values(answered_at=now or utcnow(), answer=REPLACED)
        .returning(col(ReplyQuestion.id))
    )
    return len(result.all())


# --- what a reply recorded, and undo ----------------------------------------------------------


async def _histories(
    session: AsyncSession, department: DepartmentState, reply: str
) -> dict[int, list[Update]]:
    """Every update of the initiatives this reply touched, newest first, by number."""
    ids = {i.id: i.number for i in department.initiatives}
    touched = (
        await session.exec(
            select(col(Update.initiative_id)).where(
                col(Update.source_ref) == reply,
                col(Update.period) == department.period,
                col(Update.initiative_id).in_(ids),
            )
        )
    ).all()
    if not touched:
        return {}
    rows = (
        await session.exec(
            select(Update)
            .where(col(Update.initiative_id).in_(set(touched)))
            .order_by(
                col(Update.initiative_id),
                col(Update.period).desc(),
                col(Update.received_at).desc(),
                col(Update.id).desc(),
            )
        )
    ).all()
    histories: dict[int, list[Update]] = {}
    for row in rows:
        histories.setdefault(ids[row.initiative_id], []).append(row)
    return histories


async def recorded_by_reply(
    session: AsyncSession, department: DepartmentState, reply: str
) -> dict[int, UpdateEntry]:
    """What the reply (with its answered questions) still stands for: the initiatives whose
    latest update came from it, and that update."""
    return {
        number: UpdateEntry(number, rows[0].status, rows[0].percent, rows[0].note)
        for number, rows in (await _histories(session, department, reply)).items()
        if rows and rows[0].source_ref == reply
    }


@dataclass(frozen=True)
class Undone:
    restored: list[UpdateEntry]  # each initiative as it was before the reply
    changed_since: list[int]  # updated again after the reply, or undone already: left as is
    nothing_before: list[int]  # no update before the reply to go back to: left as is


async def undo_reply(
    session: AsyncSession,
    department: DepartmentState,
    reply: str,
    *,
    author: str,
    late: bool,
    now: datetime | None = None,
    numbers: Collection[int] | None = None,
) -> Undone:
    """Restore, with a new update each, the initiatives whose latest update came from this
    reply (or only `numbers` of them) to the update they had before it."""
    # Read with the department held, like every answer (`hold_department`): an answer stored
    # meanwhile is seen, and what it replaced is not put back.
    await hold_department(session, department.id)
    restored: list[UpdateEntry] = []
    changed: list[int] = []
    nothing: list[int] = []
    by_number = {i.number: i for i in department.initiatives}
    received = now or utcnow()
    for number, rows in sorted((await _histories(session, department, reply)).items()):
        if numbers is not None and number not in numbers:
            continue
        if not rows or rows[0].source_ref != reply:
            changed.append(number)
            continue
        before = next((row for row in rows if row.source_ref != reply), None)
        if before is None:
            nothing.append(number)
            continue
        entry = UpdateEntry(number, Status(before.status), before.percent, before.note)
        session.add(
            Update(
                initiative_id=by_number[number].id,
                period=department.period,
                status=entry.status,
                percent=entry.percent,
                note=entry.note,
                author=author,
                source=UNDO_SOURCE,
                source_ref=f"{UNDO_SOURCE}:{reply}"[:200],
                received_at=received,
                late=late,
            )
        )
        restored.append(entry)
    if restored:
        await session.flush()
        await bump_revision(session, department_id=department.id)
    return Undone(restored, changed, nothing)


async def department_of_reply(session: AsyncSession, reply: str) -> tuple[int, str] | None:
    """The department and period a reply's updates were recorded for."""
    row = (
        await session.exec(
            select(col(Initiative.department_id), col(Update.period))
            .join(Initiative, col(Initiative.id) == col(Update.initiative_id))
            .where(col(Update.source_ref) == reply)
            .limit(1)
        )
    ).first()
    return None if row is None else (row[0], row[1])
