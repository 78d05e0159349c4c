"""telegram_inbox: Telegram updates taken in, kept (sealed) until their turn is stored

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:00:00

Polling confirms a batch of updates to Telegram as soon as it is written here, in one INSERT,
so no update is fetched twice; a worker that dies before a turn is stored finds the update here
after its restart.
"""

from alembic import op
import sqlalchemy as sa
import bot.store.models


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update", sa.JSON(), nullable=False),
        sa.Column("received_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )


def downgrade() -> None:
    op.drop_table("telegram_inbox")
