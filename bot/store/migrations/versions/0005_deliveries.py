"""deliveries: platform messages already handled, so a redelivered one is handled once

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 18:00:00

Telegram delivers an update again when it saw no answer in time, possibly to another worker; the
key of every handled update is written in the same transaction as the turn it caused.
"""

from alembic import op
import sqlalchemy as sa
import bot.store.models


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("handled_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_handled_at"), ["handled_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_handled_at"))

    op.drop_table("deliveries")
