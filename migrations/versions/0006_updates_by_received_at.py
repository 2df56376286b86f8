"""updates are found by when they were received, for the digest's "what changed since"

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

The weekly digest reads the updates received since the previous digest: about a week's worth.
Without this index that is a scan of every update ever recorded.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_updates_received_at", "updates", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_updates_received_at", table_name="updates")
