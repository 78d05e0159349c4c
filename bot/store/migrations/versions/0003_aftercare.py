"""aftercare: follow-up check-ins and support-team reminders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 15:45:00

Adds whether the reporter wants check-ins, and the planned check-ins with their answers.
Reminders and the digest live only as scheduled jobs.
"""

from alembic import op
import sqlalchemy as sa
import bot.store.models


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wants_checkins", sa.Boolean(), nullable=True))

    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("sent_at", bot.store.models.UTCDateTime(), nullable=True),
        sa.Column("answered_at", bot.store.models.UTCDateTime(), nullable=True),
        sa.Column("answer", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index("uq_checkins_case_number", ["case_id", "number"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("uq_checkins_case_number")

    op.drop_table("checkins")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("wants_checkins")
