"""plans know the first period they are reported on

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

A form or button names its period, and one for a period long before the plan existed (1999-01)
was stored as a late report. Plans now keep the first period they are reported on: the period
they were loaded for. An existing plan gets the earliest period anyone was prompted for, or
else the one after its plan-file baseline; a plan with neither has no floor until it is loaded
again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _next(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_period", sa.String(length=7), nullable=True))
    conn = op.get_bind()
    plans = conn.execute(sa.text("SELECT id FROM plans")).scalars().all()
    for plan_id in plans:
        prompted = conn.execute(
            sa.text(
                "SELECT MIN(p.period) FROM prompts p JOIN departments d "
                "ON d.id = p.department_id WHERE d.plan_id = :plan"
            ),
            {"plan": plan_id},
        ).scalar()
        baseline = conn.execute(
            sa.text(
                "SELECT MIN(u.period) FROM updates u JOIN initiatives i ON i.id = u.initiative_id "
                "JOIN departments d ON d.id = i.department_id "
                "WHERE d.plan_id = :plan AND u.source = 'plan'"
            ),
            {"plan": plan_id},
        ).scalar()
        first = prompted or (_next(baseline) if baseline else None)
        if first is not None:
            conn.execute(
                sa.text("UPDATE plans SET first_period = :first WHERE id = :plan"),
                {"first": first, "plan": plan_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("first_period")
