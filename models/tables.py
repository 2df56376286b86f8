"""The plan's tables: plans, goals, departments, owners, initiatives, updates, prompts, digests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from models.status import Status

# Stable constraint names, so migrations read the same on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _when(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _json_list() -> Any:
    return Field(default_factory=list, sa_type=sa.JSON, nullable=False)


class Plan(SQLModel, table=True):
    __tablename__ = "plans"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=300)
    fiscal_year: str = Field(default="", max_length=40)
    active: bool = Field(default=False)
    # Bumped by every write that changes an answer (updates, owners, the plan itself), so
    # answers can be cached until it moves.
    revision: int = 0
    created_at: datetime = _when(default_factory=utcnow)


class Goal(SQLModel, table=True):
    __tablename__ = "goals"
    __table_args__ = (sa.UniqueConstraint("plan_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    key: str = Field(max_length=60)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=20)  # "mayor" or "city-plan"
    position: int = 0
    objectives: list[str] = _json_list()
    aliases: list[str] = _json_list()


class Department(SQLModel, table=True):
    __tablename__ = "departments"
    __table_args__ = (sa.UniqueConstraint("plan_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    key: str = Field(max_length=60)
    name: str = Field(max_length=300)
    position: int = 0
    aliases: list[str] = _json_list()
    channel_id: str | None = Field(default=None, max_length=40)  # None: the updates channel


class DepartmentOwner(SQLModel, table=True):
    __tablename__ = "department_owners"

    department_id: int = Field(foreign_key="departments.id", primary_key=True)
    user_id: str = Field(max_length=40, primary_key=True, index=True)


class Initiative(SQLModel, table=True):
    __tablename__ = "initiatives"
    __table_args__ = (sa.UniqueConstraint("department_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="departments.id", index=True)
    number: int
    text: str = Field(sa_type=sa.Text)
    parent_id: int | None = Field(default=None, foreign_key="initiatives.id")


class InitiativeGoal(SQLModel, table=True):
    __tablename__ = "initiative_goals"

    initiative_id: int = Field(foreign_key="initiatives.id", primary_key=True)
    goal_id: int = Field(foreign_key="goals.id", primary_key=True, index=True)


class Update(SQLModel, table=True):
    """One report on one initiative for one period. Never changed: a correction is a new row."""

    __tablename__ = "updates"
    __table_args__ = (
        # Latest first, and with the status, so staleness is read from the index alone.
        sa.Index("ix_updates_latest", "initiative_id", "period", "received_at", "id", "status"),
        sa.Index("ix_updates_period", "period", "initiative_id"),
        sa.Index("ix_updates_received_at", "received_at"),  # what came in since the last digest
    )

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = Field(foreign_key="initiatives.id")
    period: str = Field(max_length=7)  # YYYY-MM
    status: Status = Field(sa_type=sa.String(20))
    percent: int | None = None
    note: str = Field(default="", sa_type=sa.Text)
    author: str = Field(default="", max_length=40)
    source: str = Field(max_length=20)  # form, thread, command, import
    source_ref: str | None = Field(default=None, max_length=200, index=True)
    received_at: datetime = _when(default_factory=utcnow)
    late: bool = False


class Prompt(SQLModel, table=True):
    """The monthly prompt of one department for one period; the unique key forbids a second."""

    __tablename__ = "prompts"
    __table_args__ = (sa.UniqueConstraint("department_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="departments.id")
    period: str = Field(max_length=7)
    channel_id: str = Field(max_length=40)
    state: str = Field(default="pending", max_length=20)  # pending, posting, posted, failed
    message_ts: str | None = Field(default=None, max_length=40, index=True)
    claimed_at: datetime | None = _when(default=None, nullable=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _when(default_factory=utcnow)
    posted_at: datetime | None = _when(default=None, nullable=True)


class Reminder(SQLModel, table=True):
    __tablename__ = "reminders"
    __table_args__ = (sa.UniqueConstraint("prompt_id", "ordinal"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompts.id")
    ordinal: int  # 1 for the first reminder, 2 for the second…
    created_at: datetime = _when(default_factory=utcnow)
    sent_at: datetime | None = _when(default=None, nullable=True)


class Digest(SQLModel, table=True):
    """The weekly digest of one channel; the unique key forbids a second in the same week."""

    __tablename__ = "digests"
    __table_args__ = (sa.UniqueConstraint("channel_id", "week"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=40)
    week: str = Field(max_length=10)  # the Monday, YYYY-MM-DD
    state: str = Field(default="pending", max_length=20)  # pending, posting, posted, failed
    message_ts: str | None = Field(default=None, max_length=40)
    claimed_at: datetime | None = _when(default=None, nullable=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _when(default_factory=utcnow)
    posted_at: datetime | None = _when(default=None, nullable=True)


class SlackEvent(SQLModel, table=True):
    """Event ids already handled, so a retried delivery is not recorded twice."""

    __tablename__ = "slack_events"

    event_id: str = Field(primary_key=True, max_length=100)
    received_at: datetime = _when(default_factory=utcnow)
