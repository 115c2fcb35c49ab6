"""`kiosk backup` and `kiosk restore` on both databases (CTPAT 4.12, 4.2)."""

import stat
import threading

import pytest
from sqlalchemy import func, select

from gatekeeper import backup, chain
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import ChainHead, LogEntry, Visit


def _state(engine) -> dict:
    """What a restore must bring back: counts, the chain head, and the verdict.

    Pooled connections are dropped on both sides: after a SQLite restore they would
    still read the replaced file, and a PostgreSQL restore drops and recreates the
    tables, which no pooled connection may be holding.
    """
    engine.dispose()
    with make_sessionmaker(engine)() as session:
        head = session.scalar(select(ChainHead))
        state = {
            "visits": session.scalar(select(func.count()).select_from(Visit)),
            "entries": session.scalar(select(func.count()).select_from(LogEntry)),
            "head": (head.seq, head.hash),
            "verified": all(report.ok for report in chain.verify_all(session)),
        }

    engine.dispose()
    return state


def test_restore_brings_back_the_backed_up_state(
    invoke, site, sessions, engine, tmp_path, check_in
):
    check_in(sessions, "dallas", ["Ada Lovelace", "Grace Hopper", "Zoë"])
    saved = _state(engine)
    path = tmp_path / "gatekeeper.backup"

    invoke("backup", str(path))
    check_in(sessions, "dallas", ["Katherine Johnson", "Dorothy Vaughan"])
    assert _state(engine) != saved
    result = invoke("restore", str(path), "--yes")

    assert _state(engine) == saved
    assert saved["verified"] and saved["entries"] == 3
    assert "Site dallas: OK" in result.output
    assert f"head hash: {saved['head'][1]}" in result.output


def test_a_backup_is_readable_by_its_owner_only(invoke, site, tmp_path):
    path = tmp_path / "gatekeeper.backup"

    invoke("backup", str(path))
    invoke("backup", str(path))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_restore_over_data_needs_yes(
    invoke, site, sessions, engine, tmp_path, check_in
):
    path = tmp_path / "gatekeeper.backup"
    invoke("backup", str(path))
    check_in(sessions, "dallas", ["Ada Lovelace"])
    before = _state(engine)

    result = invoke("restore", str(path), code=1)

    assert "The database is not empty" in result.output
    assert "--yes" in result.output
    assert _state(engine) == before


def test_restore_refuses_a_file_that_is_not_a_backup(invoke, site, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n")

    result = invoke("restore", str(path), "--yes", code=1)

    assert "is not a SQLite backup" in result.output or (
        "pg_restore failed" in result.output
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_restore_into_a_new_installation_needs_no_yes(
    invoke, site, sessions, monkeypatch, tmp_path, check_in
):
    check_in(sessions, "dallas", ["Ada Lovelace"])
    path = tmp_path / "gatekeeper.backup"
    invoke("backup", str(path))
    fresh = tmp_path / "new-host" / "gatekeeper.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fresh}")

    result = invoke("restore", str(path))

    assert "Site dallas: OK" in result.output
    assert "entries:   1" in result.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_restore_replaces_the_sqlite_file_and_its_stale_wal(
    invoke, site, sessions, engine, cli_env, tmp_path, check_in
):
    path = tmp_path / "gatekeeper.backup"
    invoke("backup", str(path))
    check_in(sessions, "dallas", ["Ada Lovelace"])
    wal = tmp_path / "gatekeeper.sqlite3-wal"
    assert wal.exists()

    invoke("restore", str(path), "--yes")

    assert not wal.exists()
    assert _state(engine)["entries"] == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backup_taken_during_check_ins_restores_to_a_verifying_chain(
    invoke, site, sessions, engine, cli_env, tmp_path, check_in
):
    written, failures = [], []
    stop = threading.Event()

    def keep_checking_in():
        writer = make_engine(cli_env)
        try:
            writer_sessions = make_sessionmaker(writer)
            while not stop.is_set() and len(written) < 400:
                check_in(writer_sessions, "dallas", ["Ada Lovelace"])
                written.append(1)
        except Exception as error:  # reported by the test, not lost in the thread
            failures.append(error)
        finally:
            writer.dispose()

    thread = threading.Thread(target=keep_checking_in)
    thread.start()
    try:
        _wait_for(lambda: len(written) >= 5 or not thread.is_alive())
        at_backup = len(written)
        invoke("backup", str(tmp_path / "live.backup"))
        _wait_for(lambda: len(written) >= at_backup + 5 or not thread.is_alive())
    finally:
        stop.set()
        thread.join(timeout=60)

    assert not failures
    result = invoke("restore", str(tmp_path / "live.backup"), "--yes")
    restored = _state(engine)

    assert "Site dallas: OK" in result.output
    assert restored["verified"]
    assert restored["visits"] == restored["entries"] == restored["head"][0]
    assert at_backup <= restored["visits"] < len(written)


def _wait_for(condition, seconds: float = 60) -> None:
    done = threading.Event()
    for _ in range(int(seconds * 20)):
        if condition():
            return

        done.wait(0.05)

    pytest.fail("timed out waiting for the writer")


def test_the_postgresql_tools_get_a_libpq_url_and_the_password_apart():
    dsn, environment = backup.libpq_connection(
        "postgresql+psycopg://gate:s3cret@db.internal:5433/gatekeeper?sslmode=require"
    )

    assert dsn == "postgresql://gate@db.internal:5433/gatekeeper?sslmode=require"
    assert environment["PGPASSWORD"] == "s3cret"
