"""Badge validity and revocation on visits, badge settings on sites, guard checks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import gatekeeper.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(
            sa.Column(
                "badge_valid_hours", sa.Integer(), nullable=False, server_default="12"
            )
        )
        batch.add_column(
            sa.Column(
                "badge_size",
                sa.String(length=16),
                nullable=False,
                server_default="62x100mm",
            )
        )

    with op.batch_alter_table("visits") as batch:
        batch.add_column(
            sa.Column("valid_until", gatekeeper.db.UTCDateTime(), nullable=True)
        )
        batch.add_column(
            sa.Column("badge_revoked_at", gatekeeper.db.UTCDateTime(), nullable=True)
        )

    op.create_table(
        "badge_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("checked_by", sa.String(length=120), nullable=False),
        sa.Column("checked_at", gatekeeper.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_badge_checks_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_badge_checks_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_checks")),
    )
    op.create_index(
        "ix_badge_checks_site_at", "badge_checks", ["site_id", "checked_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_badge_checks_site_at", table_name="badge_checks")
    op.drop_table("badge_checks")
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("badge_revoked_at")
        batch.drop_column("valid_until")

    with op.batch_alter_table("sites") as batch:
        batch.drop_column("badge_size")
        batch.drop_column("badge_valid_hours")
