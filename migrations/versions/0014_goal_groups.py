"""goals carry their group as the plan file names it

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-03

A goal's group ("Mayor's goals", "One City, One Plan goals") and the group's order came from
code written for one city; they now come from the plan file's `goal_groups`. Existing goals get
the names the code used to give their kind, until the plan is loaded again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the code said of the two kinds the bundled plan used, before plan files named groups.
_EARLIER = {
    "mayor": ("Mayor's goals", "Mayor's goal", 0),
    "city-plan": ("One City, One Plan goals", "One City, One Plan goal", 1),
}


def upgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("group_name", sa.String(length=100), nullable=False, server_default="Goals")
        )
        batch_op.add_column(
            sa.Column("group_one", sa.String(length=100), nullable=False, server_default="Goal")
        )
        batch_op.add_column(
            sa.Column("group_position", sa.Integer(), nullable=False, server_default="0")
        )
    goals = sa.table(
        "goals",
        sa.column("kind", sa.String),
        sa.column("group_name", sa.String),
        sa.column("group_one", sa.String),
        sa.column("group_position", sa.Integer),
    )
    for kind, (name, one, position) in _EARLIER.items():
        op.execute(
            goals.update()
            .where(goals.c.kind == kind)
            .values(group_name=name, group_one=one, group_position=position)
        )


def downgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_column("group_position")
        batch_op.drop_column("group_one")
        batch_op.drop_column("group_name")
