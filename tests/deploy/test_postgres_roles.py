"""The PostgreSQL roles of deploy/postgresql: the app's role runs the product but
cannot remove, rewrite or unlock the history (CTPAT 4.5, 7.6), and the recovery
path of deploy/README.md brings a lost database back whole (CTPAT 4.2)."""

import os
import re
import stat
import time

import psycopg
import pytest
from psycopg import errors

from gatekeeper import chain, sites, visits
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import Site
from tests.deploy.conftest import apply_roles_sql, migrate_env
from tests.deploy.processes import DEPLOY, production_env, run_script
from tests.fixtures.database import PG_ADMIN_URL

pytestmark = pytest.mark.postgres

FORBIDDEN = {
    "drop the log": "DROP TABLE log_entries",
    "drop a current-state table": "DROP TABLE visits CASCADE",
    "truncate the log": "TRUNCATE log_entries",
    "truncate a current-state table": "TRUNCATE visits CASCADE",
    "rewrite a log entry": "UPDATE log_entries SET actor = 'someone else'",
    "delete a log entry": "DELETE FROM log_entries",
    "rewrite the audit trail": "UPDATE audit_events SET actor = 'someone else'",
    "delete from the audit trail": "DELETE FROM audit_events",
    "delete a chain head": "DELETE FROM chain_heads",
    "switch off the log's triggers": "ALTER TABLE log_entries DISABLE TRIGGER ALL",
    "drop the log's trigger": "DROP TRIGGER log_entries_append_only ON log_entries",
    "create a table": "CREATE TABLE shadow_log (id integer)",
    "change the schema version": "UPDATE alembic_version SET version_num = 'x'",
}


def _record_a_visit(url: str, *, code: str = "main") -> int:
    """Create a site (when new), check a visitor in and out through the services."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            site = sites.site_by_code(session, code)
            if site is None:
                site = sites.create_site(
                    session, code=code, name="Main Warehouse", timezone="UTC"
                )
                sites.add_host(session, site, name="Ana López", email="ana@x.example")

            visit = visits.check_in(
                session,
                site=site,
                kiosk=None,
                visitor_name="Jane Roe",
                company="Acme Freight",
                host_id=sites.active_hosts(session, site.id)[0].id,
                visitor_type="visitor",
                id_type="passport",
            )
            visits.sign_out(
                session,
                site_id=site.id,
                badge_number=visit.badge_number,
                actor="test",
            )
            return site.id
    finally:
        engine.dispose()


def _verify(url: str, site_id: int) -> chain.Report:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return chain.verify_site(session, session.get(Site, site_id))
    finally:
        engine.dispose()


def test_the_app_role_checks_visitors_in_and_out(installation):
    site_id = _record_a_visit(installation.app_url)

    report = _verify(installation.app_url, site_id)
    assert report.ok, report
    assert report.entries == 2


@pytest.fixture(scope="module")
def installation_with_a_visit(shared_installation):
    """Rows in every table a statement below touches, so a refusal is not vacuous."""
    _record_a_visit(shared_installation.app_url)
    return shared_installation


@pytest.mark.parametrize("statement", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_the_app_role_cannot(installation_with_a_visit, statement):
    installation = installation_with_a_visit
    # 42501 is a refused privilege: the statement never reached a trigger, so this
    # lock holds even for a table whose trigger someone has dropped.
    with (
        psycopg.connect(installation.app_url) as connection,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        connection.execute(statement)


def test_the_app_role_owns_nothing_and_has_no_server_powers(shared_installation):
    with psycopg.connect(shared_installation.app_url) as connection:
        owned = connection.execute(
            "SELECT relname FROM pg_class WHERE relowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchall()
        powers = connection.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()

    assert owned == []
    assert powers == (False, False, False, False)


def test_every_append_only_trigger_is_backed_by_a_missing_privilege(
    shared_installation,
):
    with psycopg.connect(shared_installation.app_url) as connection:
        guarded = connection.execute(
            """
            SELECT tables.relname, guarded.privilege,
                   has_table_privilege(current_user, tables.oid, guarded.privilege)
            FROM pg_trigger AS triggers
            JOIN pg_proc AS functions ON functions.oid = triggers.tgfoid
            JOIN pg_class AS tables ON tables.oid = triggers.tgrelid
            CROSS JOIN (VALUES (8, 'DELETE'), (16, 'UPDATE'))
                AS guarded (bit, privilege)
            WHERE functions.proname = 'refuse_log_change'
              AND triggers.tgtype & guarded.bit <> 0
            """
        ).fetchall()

    tables = {table for table, _, _ in guarded}
    assert {"log_entries", "audit_events", "chain_heads"} <= tables
    assert [row for row in guarded if row[2]] == []


def test_the_role_scripts_can_run_again(installation, tmp_path):
    apply_roles_sql(installation)
    run_script(
        [str(DEPLOY / "bin" / "gatekeeper-migrate")],
        migrate_env(installation, tmp_path),
    )

    site_id = _record_a_visit(installation.app_url)
    assert _verify(installation.app_url, site_id).ok


def test_a_nightly_backup_restores_as_the_owner_and_verifies(installation, tmp_path):
    site_id = _record_a_visit(installation.app_url)
    backups = tmp_path / "backups"
    backups.mkdir()
    stale = backups / "gatekeeper-20000101T000000Z.backup"
    stale.write_bytes(b"old")
    old = time.time() - 40 * 24 * 3600
    os.utime(stale, (old, old))

    # The backup job runs as the app's role, as the timer's service does.
    app_env = production_env(
        tmp_path / "instance",
        installation.app_url,
        GATEKEEPER_HOME=str(DEPLOY.parent),
        BACKUP_DIR=str(backups),
        BACKUP_KEEP_DAYS="35",
    )
    run_script([str(DEPLOY / "bin" / "gatekeeper-backup")], app_env)

    [backup] = backups.glob("gatekeeper-*.backup")
    report = backups / f"{backup.name}.verify.txt"
    assert not stale.exists()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    recorded_head = _head_hash(report.read_text())

    # A later visit, then the loss: the visits table is gone.
    _record_a_visit(installation.app_url)
    _superuser_drops_the_visits_table(installation.database)

    owner_env = migrate_env(installation, tmp_path)
    kiosk = str(DEPLOY.parent / ".venv" / "bin" / "kiosk")
    run_script(
        [kiosk, "restore", "--yes", str(backup)],
        {**owner_env, "DATABASE_URL": "postgresql://"},
    )
    run_script([str(DEPLOY / "bin" / "gatekeeper-migrate")], owner_env)

    verified = run_script([kiosk, "verify-log"], app_env).stdout
    assert _head_hash(verified) == recorded_head
    assert _verify(installation.app_url, site_id).entries == 2
    _record_a_visit(installation.app_url)
    with (
        psycopg.connect(installation.app_url) as connection,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        connection.execute("DELETE FROM log_entries")


def _head_hash(report: str) -> str:
    assert "OK" in report, report
    return re.search(r"head hash: ([0-9a-f]{64})", report).group(1)


def _superuser_drops_the_visits_table(database: str) -> None:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP TABLE visits CASCADE")
