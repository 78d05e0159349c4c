"""trust: verification invites, privacy and encryption at rest

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 15:46:00

Adds the invites table, verification and deletion columns, and widens the columns that now hold
sealed (encrypted) text: a sealed value is longer than the plain one it replaces.
"""

from alembic import op
import sqlalchemy as sa
import bot.store.models


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("municipality", sa.String(length=120), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", bot.store.models.UTCDateTime(), nullable=False),
        sa.Column("redeemed_at", bot.store.models.UTCDateTime(), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", bot.store.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["reporter_id"], ["reporters.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invites_reporter_id"), ["reporter_id"], unique=False)

    with op.batch_alter_table("reporters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verified_at", bot.store.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("redeem_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("redeem_failed_at", bot.store.models.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", bot.store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("purged_at", bot.store.models.UTCDateTime(), nullable=True))
        batch_op.alter_column(
            "location", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=True
        )
        batch_op.alter_column(
            "phone", existing_type=sa.String(length=40), type_=sa.Text(), existing_nullable=True
        )

    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.alter_column(
            "filename", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=True
        )


def downgrade() -> None:
    # On PostgreSQL, narrowing fails while a sealed value is longer than the old limit.
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.alter_column(
            "filename", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=True
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column(
            "phone", existing_type=sa.Text(), type_=sa.String(length=40), existing_nullable=True
        )
        batch_op.alter_column(
            "location", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=True
        )
        batch_op.drop_column("purged_at")
        batch_op.drop_column("deleted_at")

    with op.batch_alter_table("reporters", schema=None) as batch_op:
        batch_op.drop_column("redeem_failed_at")
        batch_op.drop_column("redeem_failures")
        batch_op.drop_column("verified_at")

    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invites_reporter_id"))

    op.drop_table("invites")
