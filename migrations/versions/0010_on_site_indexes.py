"""Indexes for who is on site now: open visits and pickups, by site.

The roster, the muster list, roll calls and the overdue flags read the visits not
yet signed out and the pickups at the gate or on site; without these they read
every visit and pickup the site ever had.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_visits_site_departed", "visits", ["site_id", "departed_at"])
    op.create_index("ix_pickups_site_status", "pickups", ["site_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_pickups_site_status", table_name="pickups")
    op.drop_index("ix_visits_site_departed", table_name="visits")
