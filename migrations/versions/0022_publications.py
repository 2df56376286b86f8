"""publications: periods published to the public site and open data, as immutable snapshots

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04

One row per plan and period (published once), holding the snapshot as JSON and its hash (the
ETag every page and file of that period is served with).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("published_by", sa.String(length=40), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_out", sa.JSON(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=80), nullable=False),
        sa.UniqueConstraint("plan_id", "period", name="uq_publications_plan_id_period"),
    )
    op.create_index("ix_publications_plan_id", "publications", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_publications_plan_id", table_name="publications")
    op.drop_table("publications")
