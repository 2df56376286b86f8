"""the plan file's own statuses are a baseline, not a report; goals have a short name

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Goals get a `short` name from the plan file ("Jobs & Economy"), for chart labels; "" until the
plan is loaded again.

A status written in the plan file ("(completed)") used to be stored as an `import` update in
the period the plan was loaded in, so a department nobody had answered for counted as reported
for that period. Those rows — the ones the plan loader wrote: source `import`, no author, its
fixed note — become source `plan`, dated the period before (the baseline before the first
prompt) and counted from that period's start, so that any report for it is newer. Sample data
(source `import`, author USAMPLE) and everything else is left alone. Downgrading moves them back
but keeps their new time.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAN_NOTE = "Marked completed in the plan document"

updates = sa.table(
    "updates",
    sa.column("source", sa.String),
    sa.column("author", sa.String),
    sa.column("note", sa.Text),
    sa.column("period", sa.String),
    sa.column("received_at", sa.DateTime(timezone=True)),
)


def _shift(period: str, months: int) -> str:
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _start(period: str, naive: bool) -> datetime:
    year, month = (int(part) for part in period.split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    return start.replace(tzinfo=None) if naive else start  # SQLite stores UTC without a zone


def _move(source: str, to_source: str, months: int) -> None:
    conn = op.get_bind()
    naive = conn.dialect.name == "sqlite"
    written_by_loader = sa.and_(
        updates.c.source == source, updates.c.author == "", updates.c.note == PLAN_NOTE
    )
    periods = conn.execute(sa.select(updates.c.period).where(written_by_loader).distinct())
    for (period,) in periods.all():
        shifted = _shift(period, months)
        moved: dict[str, object] = {"source": to_source, "period": shifted}
        if to_source == "plan":
            moved["received_at"] = _start(shifted, naive)
        conn.execute(
            sa.update(updates).where(written_by_loader, updates.c.period == period).values(**moved)
        )


def upgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("short", sa.String(length=40), nullable=False, server_default="")
        )
    _move("import", "plan", -1)


def downgrade() -> None:
    _move("plan", "import", +1)
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_column("short")
