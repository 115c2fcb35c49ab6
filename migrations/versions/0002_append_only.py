"""Make the log and the audit trail append-only inside the database itself.

The application never updates or deletes these rows; the triggers make sure that no
other client of the database can either, short of an administrator who drops them,
and the chain's hashes catch that case (CTPAT 4.5, 7.6).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("log_entries", "audit_events", "chain_heads")
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION refuse_log_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES[:2]:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_log_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change()"
            )

        op.execute(
            "CREATE TRIGGER chain_heads_keep BEFORE DELETE ON chain_heads "
            "FOR EACH ROW EXECUTE FUNCTION refuse_log_change()"
        )
        return

    for table in TABLES[:2]:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} "
                f"ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )

    op.execute(
        "CREATE TRIGGER chain_heads_no_delete BEFORE DELETE ON chain_heads "
        "BEGIN SELECT RAISE(ABORT, 'chain_heads rows are kept'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES[:2]:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")

        op.execute("DROP TRIGGER chain_heads_keep ON chain_heads")
        op.execute("DROP FUNCTION refuse_log_change()")
        return

    for table in TABLES[:2]:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{action}")

    op.execute("DROP TRIGGER chain_heads_no_delete")
