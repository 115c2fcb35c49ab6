"""On SQLite the kiosk reads without the write lock and takes it for its writes only:
a lobby's check-ins then wait for each other's writes, not for each other's pages."""

import sqlite3

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from gatekeeper import web
from gatekeeper.db import ReaderWriteError, make_engine, make_sessionmaker, read_only
from gatekeeper.models import Host


def _other_writer(sqlite_url: str) -> sqlite3.Connection:
    """A second program's connection, which gives up at once if the lock is taken."""
    path = make_url(sqlite_url).database
    return sqlite3.connect(path, timeout=0, isolation_level=None)


def test_a_kiosk_post_reads_without_taking_the_write_lock(
    kiosk_app, site, app_settings
):
    with kiosk_app.test_request_context("/check-in/review", method="POST"):
        host = web.db().scalar(select(Host).where(Host.site_id == site.id))
        other = _other_writer(app_settings["DATABASE_URL"])
        # Meanwhile another kiosk writes; it would fail at once ("database is
        # locked") if this request held the lock from its first read.
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE hosts SET name = 'Ana Renamed' WHERE id = ?", (host.id,))
        other.execute("COMMIT")
        other.close()

        with web.transaction():
            # What the reader loaded is read again under the lock: the writes
            # decide on the current state.
            assert host.name == "Ana Renamed"
            host.department = "Dock"

        other = _other_writer(app_settings["DATABASE_URL"])
        stored = other.execute(
            "SELECT name, department FROM hosts WHERE id = ?", (host.id,)
        ).fetchone()
        other.close()
        assert stored == ("Ana Renamed", "Dock")


def test_a_console_post_still_holds_the_lock_from_its_first_read(
    console_app, site, app_settings
):
    with console_app.test_request_context("/sites", method="POST"):
        web.db().scalar(select(Host).where(Host.site_id == site.id))
        other = _other_writer(app_settings["DATABASE_URL"])
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")

        other.close()


def test_a_write_in_a_readers_transaction_is_refused_before_it_is_made(sqlite_url):
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as session:
            read_only(session)
            with pytest.raises(ReaderWriteError):
                session.execute(
                    insert(Host).values(site_id=1, name="X", email="x@example.com")
                )

        with sessions() as session:
            count = session.scalar(text("SELECT count(*) FROM hosts WHERE name = 'X'"))
            assert count == 0
    finally:
        engine.dispose()
