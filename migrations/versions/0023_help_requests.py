"""help_requests: a lead's "Ask for help" on an initiative, posted once and tracked

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04

Recorded before it is posted (a Slack outage loses nothing); its post to the escalation
channel is claimed like a reminder's; its status moves open → acknowledged → resolved by
conditional updates, each with who and when.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "help_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("initiative_id", sa.Integer(), sa.ForeignKey("initiatives.id"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("asked_by", sa.String(length=40), nullable=False),
        sa.Column("blocked", sa.Text(), nullable=False),
        sa.Column("unblock", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=True),
        sa.Column("message_ts", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=40), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=40), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_help_requests_department_id", "help_requests", ["department_id"])
    op.create_index("ix_help_requests_status", "help_requests", ["status"])


def downgrade() -> None:
    op.drop_index("ix_help_requests_status", table_name="help_requests")
    op.drop_index("ix_help_requests_department_id", table_name="help_requests")
    op.drop_table("help_requests")
