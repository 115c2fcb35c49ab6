"""Each site's last full log verification and any open integrity incident.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import gatekeeper.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integrity_checks",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", gatekeeper.db.UTCDateTime(), nullable=False),
        sa.Column("verified_seq", sa.Integer(), nullable=False),
        sa.Column("verified_hash", sa.String(length=64), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("problem_found_at", gatekeeper.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_integrity_checks_site_id_sites"),
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_integrity_checks")),
    )


def downgrade() -> None:
    op.drop_table("integrity_checks")
