"""Indexes for the log review's prefix searches, by site and lower-cased value.

A search for names, companies, hosts, carriers, trucks, trailers or seals starting
with what was typed reads these instead of every row of the site. PostgreSQL
compares in the "C" collation so that LIKE 'abc%' can use the index; SQLite's
LIKE is case-insensitive for ASCII and uses an index on lower(column).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = {
    "visits": ("visitor_name", "company", "host_name"),
    "pickups": (
        "driver_name",
        "carrier",
        "truck_number",
        "trailer_number",
        "seal_number",
    ),
}


def _indexes():
    for table, columns in COLUMNS.items():
        for column in columns:
            yield table, column, f"ix_{table}_site_{column}_key"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    collate = ' COLLATE "C"' if postgres else ""
    for table, column, name in _indexes():
        op.execute(
            f"CREATE INDEX {name} ON {table} (site_id, lower({column}){collate})"
        )


def downgrade() -> None:
    for _table, _column, name in _indexes():
        op.execute(f"DROP INDEX {name}")
