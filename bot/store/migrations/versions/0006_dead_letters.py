"""dead_letters: updates whose turn failed for their own reason, kept (sealed) until a fix

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:00:00

An update that fails again while other turns succeed is set aside here instead of blocking its
chat or being dropped; an operator replays it with `python -m bot deadletters retry`.
"""

from alembic import op
import sqlalchemy as sa
import bot.store.models


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("update", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letters_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_status"))

    op.drop_table("dead_letters")
