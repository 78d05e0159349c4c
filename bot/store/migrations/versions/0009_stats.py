"""stats_tally: erased cases as numbers only, per month

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:00:00

Deleting or purging a case takes away what links it to a person (the reporter's role and
municipality, check-in answers). The figures go on counting it through this table, which holds
no free text, no reference and no date finer than a month. Cases erased before this migration
are counted here once, with role and province unknown.
"""

from collections import Counter
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DIMENSIONS = (
    "month",
    "kind",
    "incident_type",
    "role",
    "province",
    "platform",
    "aangifte",
    "wants_support",
)


def upgrade() -> None:
    tally = op.create_table(
        "stats_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("incident_type", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("province", sa.String(length=40), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("aangifte", sa.String(length=20), nullable=False),
        sa.Column("wants_support", sa.String(length=5), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("checkins_niet_goed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_stats_tally", "stats_tally", list(DIMENSIONS), unique=True)
    amsterdam = ZoneInfo("Europe/Amsterdam")
    erased = op.get_bind().execute(
        sa.text(
            "SELECT created_at, kind, incident_type, platform, aangifte, wants_support "
            "FROM cases WHERE purged_at IS NOT NULL"
        )
    )
    counts: Counter = Counter()
    for created_at, kind, incident_type, platform, aangifte, wants_support in erased:
        if isinstance(created_at, str):  # SQLite hands back text
            created_at = datetime.fromisoformat(created_at)
        month = created_at.replace(tzinfo=timezone.utc).astimezone(amsterdam).strftime("%Y-%m")
        support = "" if wants_support is None else ("ja" if wants_support else "nee")
        counts[
            (month, kind, incident_type or "", "", "", platform or "", aangifte or "", support)
        ] += 1
    if counts:
        op.bulk_insert(
            tally,
            [
                {**dict(zip(DIMENSIONS, key)), "cases": n, "checkins_niet_goed": 0}
                for key, n in counts.items()
            ],
        )


def downgrade() -> None:
    op.drop_index("uq_stats_tally", table_name="stats_tally")
    op.drop_table("stats_tally")
