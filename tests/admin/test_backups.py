"""Backups from the console (CTPAT 4.12), restored with `kiosk restore` (4.2).

Each test runs on SQLite and on PostgreSQL: the console is served on the test's
database, and a backup downloaded from it is restored into a database made fresh
for the purpose, where the log verifies and every table holds what it held.
"""

import hashlib
import json
import logging
import shutil
import uuid

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gatekeeper import backup, chain
from gatekeeper.cli import main
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import AuditEvent, ChainHead, Site
from tests.fixtures.database import PG_ADMIN_URL
from tests.functional import rows, submit

PASSPHRASE = "the gate is shut at nine"


@pytest.fixture
def app_settings(app_settings, database_url):
    """The console on the test's database: SQLite, then PostgreSQL."""
    return {**app_settings, "DATABASE_URL": database_url}


@pytest.fixture(autouse=True)
def _restore_logging():
    """The command configures the root logger; put it back after each test."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture
def fresh_url(database_url, tmp_path):
    """An empty database of the same kind, as on a new server."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'new-server' / 'gatekeeper.sqlite3'}"
        return

    assert shutil.which("pg_dump") and shutil.which("pg_restore")
    name = f"gk_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _download(client, **fields):
    """Post the backup form; the response is read whole and its file closed."""
    data = {"encrypt": "y", "passphrase": PASSPHRASE, "repeat": PASSPHRASE, **fields}
    response = submit(client, "/admin/backups/", data, token_page="/admin/backups/")
    response.get_data()
    response.close()
    return response


def _restore(monkeypatch, tmp_path, url, path, passphrase, code=0):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("GATEKEEPER_ENV", "testing")
    secret = tmp_path / "passphrase.txt"
    secret.write_text(passphrase + "\n")
    result = CliRunner().invoke(
        main, ["restore", str(path), "--passphrase-file", str(secret)]
    )
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


def _head(url) -> tuple[int, str, bool]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            head = session.scalar(select(ChainHead))
            site = session.scalar(select(Site))
            return head.seq, head.hash, chain.verify_site(session, site).ok
    finally:
        engine.dispose()


def test_an_encrypted_backup_from_the_console_restores_on_a_new_server(
    signed_in,
    site,
    make_visit,
    database_url,
    fresh_url,
    tmp_path,
    monkeypatch,
    db_sessions,
):
    client = signed_in("administrator")
    for name in ("Ada Lovelace", "Grace Hopper", "Zoë Núñez"):
        make_visit(site, name)

    held = backup.stored_rows(database_url)
    head = _head(database_url)

    response = _download(client)

    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".backup.enc" in response.headers["Content-Disposition"]
    path = tmp_path / "download.backup.enc"
    path.write_bytes(response.data)
    assert backup.is_encrypted(path)
    assert b"Ada Lovelace" not in response.data

    result = _restore(monkeypatch, tmp_path, fresh_url, path, PASSPHRASE)

    assert "Site main: OK" in result.output
    assert f"head hash: {head[1]}" in result.output
    # The restore's own verification is kept for the console's banner.
    restored = backup.stored_rows(fresh_url)
    assert restored.pop("integrity_checks") == 1
    assert restored == held
    assert _head(fresh_url) == head
    [event] = rows(db_sessions, AuditEvent, action="backup.downloaded")
    detail = json.loads(event.detail)
    assert detail["encrypted"] is True
    assert detail["sha256"] == hashlib.sha256(response.data).hexdigest()
    assert event.actor == "administratormain"


def test_a_wrong_passphrase_restores_nothing(
    signed_in, site, make_visit, fresh_url, tmp_path, monkeypatch
):
    make_visit(site)
    path = tmp_path / "download.backup.enc"
    path.write_bytes(_download(signed_in("administrator")).data)

    result = _restore(monkeypatch, tmp_path, fresh_url, path, "a guess at it", code=1)

    assert "passphrase is wrong" in result.output
    assert backup.stored_rows(fresh_url) == {}


def test_a_plain_backup_is_the_database_as_it_was(
    signed_in, site, make_visit, database_url, tmp_path, db_sessions
):
    make_visit(site, "Ada Lovelace")

    response = _download(signed_in("administrator"), encrypt="")

    assert response.status_code == 200
    path = tmp_path / "download.backup"
    path.write_bytes(response.data)
    assert not backup.is_encrypted(path)
    if database_url.startswith("sqlite"):
        assert response.data.startswith(b"SQLite format 3\x00")
    else:
        assert response.data.startswith(b"PGDMP")

    [event] = rows(db_sessions, AuditEvent, action="backup.downloaded")
    assert json.loads(event.detail)["encrypted"] is False


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"passphrase": "short", "repeat": "short"}, "at least 12 characters"),
        ({"repeat": PASSPHRASE + "!"}, "The two passphrases differ."),
    ],
)
def test_a_poor_passphrase_makes_no_backup(
    signed_in, site, db_sessions, fields, message
):
    response = _download(signed_in("administrator"), **fields)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert rows(db_sessions, AuditEvent, action="backup.downloaded") == []


def test_an_administrator_of_some_sites_only_cannot_take_every_sites_data(
    signed_in, site, other_site, db_sessions
):
    client = signed_in("administrator")

    page = client.get("/admin/backups/").get_data(as_text=True)
    response = _download(client)

    assert "does not reach every site" in page
    assert "Make and download a backup" not in page
    assert response.status_code == 400
    assert "does not reach every site" in response.get_data(as_text=True)
    assert rows(db_sessions, AuditEvent, action="backup.downloaded") == []
