"""story: the reporter's role on a case, as they told it or as verified

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:00:00

A story often says who the reporter is ("ik ben wethouder"); the case keeps that role, so the
support team and the figures see it even without a verified invite.
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("role")
