"""followers: people who get a goal's lines of the weekly digest by direct message

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04

Their weekly message is claimed in the digests table like a channel's digest (the "channel" is
the follower and goal), so it is sent once a week however often the scheduler runs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followers",
        sa.Column("user_id", sa.String(length=40), primary_key=True),
        sa.Column("goal_id", sa.Integer(), sa.ForeignKey("goals.id"), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_followers_goal_id", "followers", ["goal_id"])


def downgrade() -> None:
    op.drop_index("ix_followers_goal_id", table_name="followers")
    op.drop_table("followers")
