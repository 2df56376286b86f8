"""department contacts: backup owners, who may answer for a department and are reminded second

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

A department's owners stay in department_owners; the other people it has, each in a role
(a backup owner now), are rows here, so that nothing that counts or mentions owners changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "department_contacts",
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("departments.id"), primary_key=True),
        sa.Column("role", sa.String(length=20), primary_key=True),
        sa.Column("user_id", sa.String(length=40), primary_key=True),
    )
    op.create_index("ix_department_contacts_user_id", "department_contacts", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_department_contacts_user_id", table_name="department_contacts")
    op.drop_table("department_contacts")
