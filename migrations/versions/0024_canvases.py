"""canvases: each department's canvas in its channel and the plan's in the digest channel

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04

One row per canvas the bot keeps: where it is, what it last showed (a fingerprint), how many
answers asked for it (`wanted`) and how many the last edit covered (`shown`), and who is
editing it now (holder and lease), so a burst of answers is one edit, from one replica.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canvases",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=True),
        sa.Column("canvas_id", sa.String(length=40), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("wanted", sa.Integer(), nullable=False),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("wanted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_canvases"),
    )


def downgrade() -> None:
    op.drop_table("canvases")
