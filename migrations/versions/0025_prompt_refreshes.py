"""prompt refreshes: answers mark their month's prompt wanted; edits are paced and coalesced

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04

On the first business day a thousand leads may answer within the hour, and Slack allows about
50 `chat.update` a minute for the whole workspace. One row per prompt waiting to show its
answers: how many answers asked (`wanted`), how many the last refresh covered (`shown`), since
when it waits (`wanted_at`, so the oldest goes first), and who is refreshing it now (holder and
lease), so a prompt is edited once per turn however many answers it collected, by one replica.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prompt_refreshes",
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("prompts.id"), nullable=False),
        sa.Column("wanted", sa.Integer(), nullable=False),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("wanted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("prompt_id", name="pk_prompt_refreshes"),
    )
    op.create_index("ix_prompt_refreshes_wanted_at", "prompt_refreshes", ["wanted_at"])


def downgrade() -> None:
    op.drop_index("ix_prompt_refreshes_wanted_at", table_name="prompt_refreshes")
    op.drop_table("prompt_refreshes")
