"""waiting: a case escalated to the team waits for it; a report made meanwhile is linked to it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00

From the escalation until the team closes the case (or the reporter ends the contact) everything
the reporter sends goes to the case's thread; `waiting_since` marks that time and survives a
restart. A report finished while a case waits points at that case.
"""

from alembic import op
import sqlalchemy as sa
import bot.store.models


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("waiting_since", bot.store.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("linked_case_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_cases_linked_case_id", "cases", ["linked_case_id"], ["id"]
        )
        batch_op.create_index(
            batch_op.f("ix_cases_waiting_since"), ["waiting_since"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_waiting_since"))
        batch_op.drop_constraint("fk_cases_linked_case_id", type_="foreignkey")
        batch_op.drop_column("linked_case_id")
        batch_op.drop_column("waiting_since")
