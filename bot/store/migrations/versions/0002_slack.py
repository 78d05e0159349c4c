"""slack card location on cases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 15:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slack_channel', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('slack_ts', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_slack_ts'), ['slack_ts'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_slack_ts'))
        batch_op.drop_column('slack_ts')
        batch_op.drop_column('slack_channel')
