"""measures: numbers with targets, their actuals, and API tokens that push them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

A measure is a number with a target, period by period, owned by a department and serving goals
and initiatives; its actuals are append-only like updates (the latest of a period wins), and a
sender's reference makes a pushed batch idempotent. API tokens are stored as SHA-256 hashes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "measures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("aggregation", sa.String(length=10), nullable=False),
        sa.Column("band", sa.Float(), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("departments.id"), nullable=True),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("baseline_period", sa.String(length=7), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("source_format", sa.String(length=10), nullable=True),
        sa.Column("source_value", sa.String(length=200), nullable=True),
        sa.Column("source_period", sa.String(length=200), nullable=True),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("plan_id", "key"),
    )
    op.create_index("ix_measures_plan_id", "measures", ["plan_id"])
    op.create_index("ix_measures_department_id", "measures", ["department_id"])
    op.create_table(
        "measure_targets",
        sa.Column("measure_id", sa.Integer(), sa.ForeignKey("measures.id"), primary_key=True),
        sa.Column("scope", sa.String(length=10), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
    )
    op.create_table(
        "measure_goals",
        sa.Column("measure_id", sa.Integer(), sa.ForeignKey("measures.id"), primary_key=True),
        sa.Column("goal_id", sa.Integer(), sa.ForeignKey("goals.id"), primary_key=True),
    )
    op.create_index("ix_measure_goals_goal_id", "measure_goals", ["goal_id"])
    op.create_table(
        "measure_initiatives",
        sa.Column("measure_id", sa.Integer(), sa.ForeignKey("measures.id"), primary_key=True),
        sa.Column("initiative_id", sa.Integer(), sa.ForeignKey("initiatives.id"), primary_key=True),
    )
    op.create_index(
        "ix_measure_initiatives_initiative_id", "measure_initiatives", ["initiative_id"]
    )
    op.create_table(
        "actuals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("measure_id", sa.Integer(), sa.ForeignKey("measures.id"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("measure_id", "period", "source_ref"),
    )
    op.create_index("ix_actuals_latest", "actuals", ["measure_id", "period", "received_at", "id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=60), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_index("ix_actuals_latest", table_name="actuals")
    op.drop_table("actuals")
    op.drop_index("ix_measure_initiatives_initiative_id", table_name="measure_initiatives")
    op.drop_table("measure_initiatives")
    op.drop_index("ix_measure_goals_goal_id", table_name="measure_goals")
    op.drop_table("measure_goals")
    op.drop_table("measure_targets")
    op.drop_index("ix_measures_department_id", table_name="measures")
    op.drop_index("ix_measures_plan_id", table_name="measures")
    op.drop_table("measures")
