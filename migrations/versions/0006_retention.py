"""Retention settings per site: days ID images and face photos are kept, log years.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(
            sa.Column(
                "photo_retention_days",
                sa.Integer(),
                nullable=False,
                server_default="30",
            )
        )
        batch.add_column(
            sa.Column(
                "log_retention_years", sa.Integer(), nullable=False, server_default="3"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("log_retention_years")
        batch.drop_column("photo_retention_days")
