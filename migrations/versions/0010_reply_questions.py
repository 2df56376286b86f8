"""questions asked back about unclear thread replies, answered once

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03

A thread reply the bot is not sure of ("5 isn't on track", a name that fits two initiatives)
records nothing for those initiatives and asks, with one button per reading. The question is
kept so that its answer is recorded exactly once, whoever clicks first and however often.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("reply_ref", sa.String(length=200), nullable=False),
        sa.Column("asked_of", sa.String(length=40), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=40), nullable=True),
        sa.Column("answer", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_reply_questions_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_questions")),
    )
    op.create_index(
        op.f("ix_reply_questions_reply_ref"), "reply_questions", ["reply_ref"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reply_questions_reply_ref"), table_name="reply_questions")
    op.drop_table("reply_questions")
