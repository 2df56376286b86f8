"""posting claims say who holds them until when; reminders are claimed like prompts; one pace

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

A claim on a prompt, a digest or (now) a reminder names its holder (host, process, boot) and a
lease the posting process renews while it works: a claim whose lease ran out is taken over at
once, instead of after ten minutes, and a report can say "in progress by … since …" rather than
"already posted". Reminders gain the states prompts have, so a crash after the claim no longer
loses one. `post_pace` holds the workspace's posting pace, shared by every process that posts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("prompts", "digests"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("holder", sa.String(length=120), nullable=True))
            batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="sent")
        )
        batch_op.add_column(sa.Column("holder", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("thread_ts", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    # A reminder recorded but never marked sent was lost by a crash: tried again (looked for in
    # its thread first).
    op.execute("UPDATE reminders SET state = 'failed' WHERE sent_at IS NULL")
    op.create_table(
        "post_pace",
        sa.Column("key", sa.String(length=40), primary_key=True),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("gap", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("post_pace")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        for column in ("last_error", "thread_ts", "attempts", "lease_until", "claimed_at"):
            batch_op.drop_column(column)
        batch_op.drop_column("holder")
        batch_op.drop_column("state")
    for table in ("prompts", "digests"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("lease_until")
            batch_op.drop_column("holder")
