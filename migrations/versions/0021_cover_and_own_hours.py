"""absences, answers for an absent owner, and direct-message reminders in the recipient's hours

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04

`absences`: who is away (`/plan away`, or a Slack status that says so) and their delegate.
`updates.on_behalf_of`: the owner someone answered for. `reminder_dms`: each reminder's
direct message to each person, due at the prompt's hour in their own time zone, claimed and
sent once like a reminder.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "absences",
        sa.Column("user_id", sa.String(length=40), primary_key=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delegate_id", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("set_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_absences_delegate_id", "absences", ["delegate_id"])
    with op.batch_alter_table("updates") as batch:
        batch.add_column(sa.Column("on_behalf_of", sa.String(length=40), nullable=True))
    op.create_table(
        "reminder_dms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("prompts.id"), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint(
            "prompt_id", "ordinal", "user_id", name="uq_reminder_dms_prompt_id_ordinal_user_id"
        ),
    )
    op.create_index("ix_reminder_dms_due", "reminder_dms", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_reminder_dms_due", table_name="reminder_dms")
    op.drop_table("reminder_dms")
    with op.batch_alter_table("updates") as batch:
        batch.drop_column("on_behalf_of")
    op.drop_index("ix_absences_delegate_id", table_name="absences")
    op.drop_table("absences")
