"""The plan's tables: plans, goals, departments, owners, initiatives, updates, prompts, digests."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
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
    # The first period it is reported on (the one it was loaded for): nothing earlier is taken
    # from a form or button, however old a forged or stale one names. None: no floor known.
    first_period: str | None = Field(default=None, max_length=7)
    created_at: datetime = _when(default_factory=utcnow)


class Goal(SQLModel, table=True):
    __tablename__ = "goals"
    __table_args__ = (sa.UniqueConstraint("plan_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    key: str = Field(max_length=60)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=20)  # the key of its group in the plan file ("mayor")
    short: str = Field(default="", max_length=40)  # for charts; "" when the name is short
    position: int = 0
    # Its group as the plan file names it ("Mayor's goals", "Mayor's goal") and the group's place
    # in the plan's order: answers, charts and the digest group goals by these, never by `kind`.
    group_name: str = Field(default="Goals", max_length=100)
    group_one: str = Field(default="Goal", max_length=100)
    group_position: int = 0
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


class ContactRole(StrEnum):
    """Who else a department has besides its owners (issue 16)."""

    BACKUP = "backup"  # may answer for the department; reminded from the second reminder on
    ESCALATION = "escalation"  # told by direct message when a period closes without an answer


class DepartmentContact(SQLModel, table=True):
    """People a department has besides its owners, each in a role."""

    __tablename__ = "department_contacts"

    department_id: int = Field(foreign_key="departments.id", primary_key=True)
    role: str = Field(max_length=20, primary_key=True)  # a ContactRole
    user_id: str = Field(max_length=40, primary_key=True, index=True)


class Follower(SQLModel, table=True):
    """Someone who gets a goal's lines of the weekly digest by direct message (issue 16): a
    reader, never asked to report."""

    __tablename__ = "followers"

    user_id: str = Field(max_length=40, primary_key=True)
    goal_id: int = Field(foreign_key="goals.id", primary_key=True, index=True)
    created_at: datetime = _when(default_factory=utcnow)


class AwaySource(StrEnum):
    """How Plan Bot knows someone is away (issue 16)."""

    COMMAND = "command"  # `/plan away until DATE [@delegate]`: theirs until `/plan back`
    SLACK_STATUS = "slack_status"  # their Slack status says so (🌴, "OOO", "vacation"…)


class Absence(SQLModel, table=True):
    """Someone away: not reminded while it lasts, and their delegate may answer for the
    departments they own. One row per person; a Slack status never replaces `/plan away`."""

    __tablename__ = "absences"

    user_id: str = Field(max_length=40, primary_key=True)
    # Back at this moment (the day after `/plan away until`, at midnight in the plan's zone, or
    # the Slack status's expiry); None: until the Slack status is cleared.
    ends_at: datetime | None = _when(default=None, nullable=True)
    delegate_id: str | None = Field(default=None, max_length=40, index=True)
    source: str = Field(max_length=20)  # an AwaySource
    set_by: str = Field(default="", max_length=40)
    created_at: datetime = _when(default_factory=utcnow)


class Publication(SQLModel, table=True):
    """A period published to the public site and open data (issue 17): an immutable snapshot,
    decided by an admin who saw every note it would make public and could leave any out. Only
    what is here is ever served; a period is published once."""

    __tablename__ = "publications"
    __table_args__ = (sa.UniqueConstraint("plan_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    period: str = Field(max_length=7)
    published_by: str = Field(max_length=40)  # a Slack user id: kept, never served
    published_at: datetime = _when(default_factory=utcnow)
    left_out: list[str] = _json_list()  # initiatives ("fire-3") whose notes were kept private
    content: str = Field(sa_type=sa.Text)  # the snapshot, as JSON (models/publish.py)
    etag: str = Field(max_length=80)  # a hash of `content`: the pages' and files' ETag


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


class Source(StrEnum):
    """Where an update came from."""

    FORM = "form"
    THREAD = "thread"
    COMMAND = "command"
    IMPORT = "import"  # loaded in bulk (sample data)
    # A status written in the plan file ("(completed)"): the baseline before the first prompt,
    # dated the period before the one the plan was loaded in. Never a report.
    PLAN = "plan"
    # Undo of a thread reply: a copy of the update from before the reply (models/replies.py).
    UNDO = "undo"


class PostState(StrEnum):
    """Where a prompt, a reminder or a digest is on its way to Slack."""

    PENDING = "pending"  # recorded, not yet claimed
    POSTING = "posting"  # claimed by a holder, being posted
    POSTED = "posted"  # in Slack (prompts and digests)
    SENT = "sent"  # in Slack (reminders: the thread post and the direct messages)
    FAILED = "failed"  # Slack refused or was unreachable: tried again on the next run
    BLOCKED = "blocked"  # its channel needs a person (an invitation, another channel)
    UNOWNED = "unowned"  # nobody to ask (prompts)
    SKIPPED = "skipped"  # a later reminder was due first


class Update(SQLModel, table=True):
    """One report on one initiative for one period. Never changed: a correction is a new row."""

    __tablename__ = "updates"
    __table_args__ = (
        # Latest first, and with the status, so staleness is read from the index alone.
        sa.Index("ix_updates_latest", "initiative_id", "period", "received_at", "id", "status"),
        sa.Index("ix_updates_period", "period", "initiative_id"),
        sa.Index("ix_updates_received_at", "received_at"),  # what came in since the last digest
        # Each initiative's newest answer by when it came (a department's last answer).
        sa.Index("ix_updates_answered", "initiative_id", "received_at", "id", "source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = Field(foreign_key="initiatives.id")
    period: str = Field(max_length=7)  # YYYY-MM
    status: Status = Field(sa_type=sa.String(20))
    percent: int | None = None
    note: str = Field(default="", sa_type=sa.Text)
    author: str = Field(default="", max_length=40)
    source: str = Field(max_length=20)  # a Source
    source_ref: str | None = Field(default=None, max_length=200, index=True)
    received_at: datetime = _when(default_factory=utcnow)
    late: bool = False
    # Who the author answered for, when they were not an owner and an owner was away (issue 16):
    # "updated by @deputy for @chief".
    on_behalf_of: str | None = Field(default=None, max_length=40)


class Prompt(SQLModel, table=True):
    """The monthly prompt of one department for one period; the unique key forbids a second."""

    __tablename__ = "prompts"
    __table_args__ = (sa.UniqueConstraint("department_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="departments.id")
    period: str = Field(max_length=7)
    channel_id: str = Field(max_length=40)
    state: str = Field(default=PostState.PENDING, max_length=20)  # a PostState
    message_ts: str | None = Field(default=None, max_length=40, index=True)
    claimed_at: datetime | None = _when(default=None, nullable=True)
    # Who holds a "posting" claim, and until when: the holder renews the lease while it works,
    # and a claim whose lease ran out is another process's to take over.
    holder: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _when(default=None, nullable=True)
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
    state: str = Field(default=PostState.PENDING, max_length=20)  # a PostState
    claimed_at: datetime | None = _when(default=None, nullable=True)
    # Who holds a "posting" claim, and until when: the holder renews the lease while it works,
    # and a claim whose lease ran out is another process's to take over.
    holder: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _when(default=None, nullable=True)
    attempts: int = 0
    thread_ts: str | None = Field(default=None, max_length=40)  # its post in the prompt's thread
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _when(default_factory=utcnow)
    sent_at: datetime | None = _when(default=None, nullable=True)


class ReminderDM(SQLModel, table=True):
    """One direct-message reminder to one person, due at the prompt's hour in their own time
    zone on one of their working days (issue 16): claimed and sent once, like a reminder."""

    __tablename__ = "reminder_dms"
    __table_args__ = (
        sa.UniqueConstraint("prompt_id", "ordinal", "user_id"),
        sa.Index("ix_reminder_dms_due", "state", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompts.id")
    ordinal: int
    user_id: str = Field(max_length=40)
    due_at: datetime = _when()
    state: str = Field(default=PostState.PENDING, max_length=20)  # a PostState
    claimed_at: datetime | None = _when(default=None, nullable=True)
    holder: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _when(default=None, nullable=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _when(default_factory=utcnow)
    sent_at: datetime | None = _when(default=None, nullable=True)


class HelpStatus(StrEnum):
    """Where a request for help stands (issue 16)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class HelpRequest(SQLModel, table=True):
    """A lead's "Ask for help" on one initiative (issue 16): recorded first, then posted once
    (claimed like a reminder: `state` is its post's) as a thread in the escalation channel,
    and tracked there — open, acknowledged, resolved — each with who and when."""

    __tablename__ = "help_requests"

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="departments.id", index=True)
    initiative_id: int = Field(foreign_key="initiatives.id")
    period: str = Field(max_length=7)
    asked_by: str = Field(max_length=40)
    blocked: str = Field(sa_type=sa.Text)  # what is blocked
    unblock: str = Field(default="", sa_type=sa.Text)  # who could unblock it
    status: str = Field(default=HelpStatus.OPEN, max_length=20, index=True)  # a HelpStatus
    channel_id: str | None = Field(default=None, max_length=40)
    message_ts: str | None = Field(default=None, max_length=40)
    state: str = Field(default=PostState.PENDING, max_length=20)  # its post: a PostState
    claimed_at: datetime | None = _when(default=None, nullable=True)
    holder: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _when(default=None, nullable=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _when(default_factory=utcnow)
    acknowledged_by: str | None = Field(default=None, max_length=40)
    acknowledged_at: datetime | None = _when(default=None, nullable=True)
    resolved_by: str | None = Field(default=None, max_length=40)
    resolved_at: datetime | None = _when(default=None, nullable=True)


class Escalation(SQLModel, table=True):
    """The direct message to a department's escalation contacts when a period closed without
    its answer (issue 16): claimed like a reminder, sent once per department and period."""

    __tablename__ = "escalations"
    __table_args__ = (sa.UniqueConstraint("department_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="departments.id")
    period: str = Field(max_length=7)
    state: str = Field(default=PostState.PENDING, max_length=20)  # a PostState
    claimed_at: datetime | None = _when(default=None, nullable=True)
    holder: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _when(default=None, nullable=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _when(default_factory=utcnow)
    sent_at: datetime | None = _when(default=None, nullable=True)


class PostPace(SQLModel, table=True):
    """The workspace's posting pace, shared by every process that posts: the next free slot
    (seconds since the epoch) and the gap between posts, which a 429 widens."""

    __tablename__ = "post_pace"

    key: str = Field(primary_key=True, max_length=40)
    next_at: float
    gap: float


class Digest(SQLModel, table=True):
    """The weekly digest of one channel; the unique key forbids a second in the same week."""

    __tablename__ = "digests"
    __table_args__ = (sa.UniqueConstraint("channel_id", "week"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=40)
    week: str = Field(max_length=10)  # the Monday, YYYY-MM-DD
    state: str = Field(default=PostState.PENDING, max_length=20)  # a PostState
    message_ts: str | None = Field(default=None, max_length=40)
    claimed_at: datetime | None = _when(default=None, nullable=True)
    # Who holds a "posting" claim, and until when: the holder renews the lease while it works,
    # and a claim whose lease ran out is another process's to take over.
    holder: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _when(default=None, nullable=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _when(default_factory=utcnow)
    posted_at: datetime | None = _when(default=None, nullable=True)


class SlackEvent(SQLModel, table=True):
    """Event ids already handled, so a retried delivery is not recorded twice."""

    __tablename__ = "slack_events"

    event_id: str = Field(primary_key=True, max_length=100)
    received_at: datetime = _when(default_factory=utcnow)


class ReplyQuestion(SQLModel, table=True):
    """A part of a thread reply the bot was not sure of, asked back with one button per
    reading. Answered once: the first click records its reading; a later edit of the reply
    replaces the question (answer -1)."""

    __tablename__ = "reply_questions"

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="departments.id")
    period: str = Field(max_length=7)
    reply_ref: str = Field(max_length=200, index=True)  # "channel:ts" of the reply
    asked_of: str = Field(max_length=40)  # who wrote the reply
    choices: list[dict[str, Any]] = _json_list()  # [{number, status, percent, note}]
    asked_at: datetime = _when(default_factory=utcnow)
    answered_at: datetime | None = _when(default=None, nullable=True)
    answered_by: str | None = Field(default=None, max_length=40)
    answer: int | None = None  # the index of the chosen reading; -1 when an edit replaced it


class Measure(SQLModel, table=True):
    """A number with a target, period by period (issue 15). Its status is computed from its
    actuals and targets (models/measure_status.py), never typed."""

    __tablename__ = "measures"
    __table_args__ = (sa.UniqueConstraint("plan_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    key: str = Field(max_length=60)
    name: str = Field(max_length=300)
    description: str = Field(default="", sa_type=sa.Text)
    unit: str = Field(default="count", max_length=20)  # "%", "count", "days", "dollars", …
    direction: str = Field(default="higher", max_length=10)  # a Direction
    frequency: str = Field(default="monthly", max_length=10)  # a Frequency
    aggregation: str = Field(default="latest", max_length=10)  # an Aggregation: a year's figure
    band: float = 0.10  # "Near": within this share of the target, on the wrong side
    department_id: int | None = Field(default=None, foreign_key="departments.id", index=True)
    baseline: float | None = None
    baseline_period: str | None = Field(default=None, max_length=7)
    position: int = 0
    aliases: list[str] = _json_list()
    # Where its number already lives (a city open-data endpoint): fetched on a schedule.
    source_url: str | None = Field(default=None, sa_type=sa.Text)
    source_format: str | None = Field(default=None, max_length=10)  # "csv" or "json"
    source_value: str | None = Field(default=None, max_length=200)  # column, or dotted path
    source_period: str | None = Field(default=None, max_length=200)  # column/path of the period
    sample: bool = False  # illustrative, not the city's figures (local mode's sample file)


class MeasureTarget(SQLModel, table=True):
    """A measure's target for a fiscal year ("FY2016") or for one period ("2026-10"): a
    period's own target wins over its year's."""

    __tablename__ = "measure_targets"

    measure_id: int = Field(foreign_key="measures.id", primary_key=True)
    scope: str = Field(max_length=10, primary_key=True)
    value: float


class MeasureGoal(SQLModel, table=True):
    __tablename__ = "measure_goals"

    measure_id: int = Field(foreign_key="measures.id", primary_key=True)
    goal_id: int = Field(foreign_key="goals.id", primary_key=True, index=True)


class MeasureInitiative(SQLModel, table=True):
    __tablename__ = "measure_initiatives"

    measure_id: int = Field(foreign_key="measures.id", primary_key=True)
    initiative_id: int = Field(foreign_key="initiatives.id", primary_key=True, index=True)


class ActualSource(StrEnum):
    """Where an actual came from."""

    FORM = "form"
    THREAD = "thread"
    FILE = "file"  # planbot measures load
    API = "api"  # POST /api/measures
    FETCH = "fetch"  # the measure's own source URL, on a schedule
    IMPORT = "import"  # sample data


class Actual(SQLModel, table=True):
    """One value of a measure for one period. Never changed: a correction is a new row, and the
    latest received of a period is the period's value. A sender's reference makes a batch
    idempotent: the same measure, period and reference is stored once."""

    __tablename__ = "actuals"
    __table_args__ = (
        sa.Index("ix_actuals_latest", "measure_id", "period", "received_at", "id"),
        sa.UniqueConstraint("measure_id", "period", "source_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="measures.id")
    period: str = Field(max_length=7)
    value: float
    note: str = Field(default="", sa_type=sa.Text)
    author: str = Field(default="", max_length=60)  # a Slack user id, a token's name, "file"
    source: str = Field(max_length=20)  # an ActualSource
    source_ref: str | None = Field(default=None, max_length=200)
    received_at: datetime = _when(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token for POST /api/measures: only its SHA-256 is stored; shown once."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _when(default_factory=utcnow)
    revoked_at: datetime | None = _when(default=None, nullable=True)
    last_used_at: datetime | None = _when(default=None, nullable=True)


class Canvas(SQLModel, table=True):
    """A canvas the bot keeps in Slack (issue 17): a department's in its channel
    (`department:<id>`), the plan's in the digest channel (`plan`). Each answer bumps `wanted`;
    an edit shows the state as it stands and records the `wanted` it covered in `shown`, so a
    burst of answers is one edit and a canvas is dirty while `wanted > shown`. One process
    edits at a time: it holds the row (`holder`) until its lease runs out."""

    __tablename__ = "canvases"

    key: str = Field(primary_key=True, max_length=60)
    channel_id: str | None = Field(default=None, max_length=40)
    canvas_id: str | None = Field(default=None, max_length=40)  # None until created
    fingerprint: str | None = Field(default=None, max_length=64)  # SHA-256 of what it shows
    wanted: int = 0
    shown: int = 0
    wanted_at: datetime | None = _when(default=None, nullable=True)
    edited_at: datetime | None = _when(default=None, nullable=True)
    holder: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _when(default=None, nullable=True)
    last_error: str | None = Field(default=None, max_length=200)


class PromptRefresh(SQLModel, table=True):
    """A month's prompt waiting to show its answers (issue 18). Each answer bumps `wanted`; a
    refresh (`chat.update`, paced under Slack's Tier 3 for the whole workspace) shows the
    department as it then stands and records the `wanted` it covered in `shown`, so however
    many answers arrive while a prompt waits for its turn, it is edited once. One process
    refreshes a prompt at a time: it holds the row (`holder`) until its lease runs out."""

    __tablename__ = "prompt_refreshes"

    prompt_id: int = Field(primary_key=True, foreign_key="prompts.id")
    wanted: int = 0
    shown: int = 0
    wanted_at: datetime | None = _when(default=None, nullable=True, index=True)
    refreshed_at: datetime | None = _when(default=None, nullable=True)
    holder: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _when(default=None, nullable=True)
    last_error: str | None = Field(default=None, max_length=200)
