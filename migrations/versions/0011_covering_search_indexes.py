"""PostgreSQL's prefix search indexes carry each row's value, arrival time and id.

A search by the start of a name, a carrier or a truck number matches rows spread
over years of the table; with arrival time and id in the index, the page's keys
come from the index alone and only the page's own rows are read from the table
(an index-only scan). SQLite's indexes already hold the row id, and its searches
need nothing more.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The columns of 0009's indexes, written out again: a migration keeps what it did
# when it was written, whatever later changes elsewhere.
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


def _rebuild(covering: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return

    for table, columns in COLUMNS.items():
        for column in columns:
            name = f"ix_{table}_site_{column}_key"
            op.execute(f"DROP INDEX {name}")
            # The column itself too: the planner reads an index alone only when it
            # holds every column the query names, lower(column)'s own included.
            include = f" INCLUDE ({column}, arrived_at, id)" if covering else ""
            op.execute(
                f"CREATE INDEX {name} ON {table} "
                f'(site_id, lower({column}) COLLATE "C"){include}'
            )


def upgrade() -> None:
    _rebuild(covering=True)


def downgrade() -> None:
    _rebuild(covering=False)
