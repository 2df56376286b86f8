"""each initiative's updates by when they were received, for a department's last answer

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05

`/plan owners` shows when each department last answered: the newest of its initiatives'
newest updates by when they were received. Without this index each initiative's updates are
all read to find it, or (PostgreSQL's choice) every update of the plan, newest first, for
every department: 2.7–3.6 s on a plan of 10,000 initiatives and 360,000 updates.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_updates_answered", "updates", ["initiative_id", "received_at", "id", "source"]
    )


def downgrade() -> None:
    op.drop_index("ix_updates_answered", table_name="updates")
