"""updates' latest-first index carries the status, so "when did it last differ" reads the index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

The digest asks, for every initiative, the last period whose status differed from its latest
one (to tell how long an item has sat unchanged). With `status` in the index that is an
index-only scan; without it, a table lookup for every update of every initiative.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ["initiative_id", "period", "received_at", "id"]
AFTER = [*BEFORE, "status"]


def upgrade() -> None:
    op.drop_index("ix_updates_latest", table_name="updates")
    op.create_index("ix_updates_latest", "updates", AFTER)


def downgrade() -> None:
    op.drop_index("ix_updates_latest", table_name="updates")
    op.create_index("ix_updates_latest", "updates", BEFORE)
