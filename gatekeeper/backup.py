"""Backups of the database and their restore (CTPAT 4.12 backups, 4.2 recovery).

SQLite is copied with its online backup API, which reads one consistent snapshot
while the apps keep writing (the database runs in WAL mode, so readers do not block
writers). PostgreSQL is dumped with pg_dump's custom format and restored with
pg_restore in a single transaction, so a failed restore leaves the database as it was.

A backup holds the log, the audit trail and the accounts, but not the instance
folder: the photo key that decrypts stored ID images must be kept with it, apart.
"""

import logging
import os
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import URL, make_url

from gatekeeper import models  # noqa: F401  (registers the tables in the metadata)
from gatekeeper.db import Base, make_engine

logger = logging.getLogger(__name__)

BACKUP_MODE = 0o600


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message is for the operator."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL, or None for any other database."""
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        return None

    if not sa_url.database or sa_url.database == ":memory:":
        raise BackupError("An in-memory SQLite database has no file to back up.")

    return Path(sa_url.database)


def backup(url: str, destination: Path) -> Path:
    """Write a consistent copy of the database to a file only its owner can read."""
    destination = Path(destination)
    if destination.is_dir():
        raise BackupError(f"{destination} is a folder; name the backup file.")

    if not destination.parent.is_dir():
        raise BackupError(f"The folder {destination.parent} does not exist.")

    source = sqlite_path(url)
    if source is not None and _same_file(source, destination):
        raise BackupError("The backup file cannot be the database itself.")

    # mkstemp creates the file with mode 0600, and os.replace makes the finished
    # backup appear whole or not at all.
    handle, temporary = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        if source is None:
            _pg_dump(url, Path(temporary))
        else:
            _sqlite_copy(_existing(source), Path(temporary))

        os.chmod(temporary, BACKUP_MODE)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

    logger.info("backup written to %s", destination)
    return destination


def stored_rows(url: str) -> dict[str, int]:
    """How many rows each of the product's tables holds, leaving out empty tables."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return {}

    engine = make_engine(url)
    try:
        return _count_rows(engine)
    finally:
        engine.dispose()


def restore(url: str, source: Path, *, replace: bool = False) -> None:
    """Replace the database with a backup; refuses to replace data unless told to."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")

    held = stored_rows(url)
    if held and not replace:
        summary = ", ".join(f"{count} {table}" for table, count in sorted(held.items()))
        raise BackupError(
            f"The database is not empty ({summary}). Restoring replaces all of it; "
            "run again with --yes to do so."
        )

    target = sqlite_path(url)
    if target is None:
        _pg_restore(url, source)
    else:
        _sqlite_restore(source, target)

    logger.info("database restored from %s", source)


def _count_rows(engine: Engine) -> dict[str, int]:
    present = set(inspect(engine).get_table_names())
    counts = {}
    with engine.connect() as connection:
        connection.execution_options(sqlite_read_only=True)
        for table in Base.metadata.sorted_tables:
            if table.name not in present:
                continue

            count = connection.scalar(select(func.count()).select_from(table))
            if count:
                counts[table.name] = count

    return counts


def _same_file(first: Path, second: Path) -> bool:
    return first.resolve() == second.resolve()


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise BackupError(f"No SQLite database at {path}.")

    return path


def _sqlite_copy(source: Path, destination: Path) -> None:
    """Copy a live SQLite database with the backup API, in one step.

    Copying every page in one step holds a single read transaction, so the copy is
    one snapshot; the copy is then switched out of WAL mode so it is one
    self-contained file.
    """
    reader = sqlite3.connect(source, timeout=30)
    writer = sqlite3.connect(destination)
    try:
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode=DELETE")
        writer.commit()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"Could not copy {source}: {error}") from error
    finally:
        writer.close()
        reader.close()


def _check_sqlite_backup(source: Path) -> None:
    """Refuse a file that is not a sound SQLite database of this product."""
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        verdict = reader.execute("PRAGMA quick_check").fetchone()[0]
        tables = {
            row[0]
            for row in reader.execute(
                "SELECT name FROM sqlite_master WHERE type='table'"
            )
        }
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} is not a SQLite backup: {error}") from error
    finally:
        reader.close()

    if verdict != "ok":
        raise BackupError(f"{source} is damaged: {verdict}")

    if "alembic_version" not in tables or "log_entries" not in tables:
        raise BackupError(f"{source} is not a backup of this product's database.")


def _sqlite_restore(source: Path, target: Path) -> None:
    """Build the restored database beside the target, then swap it in at once.

    The old file's write-ahead log is checkpointed and removed: a -wal file left
    beside the new database would be replayed into it and corrupt it.
    """
    _check_sqlite_backup(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".restore"
    )
    os.close(handle)
    try:
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o777)
            _checkpoint(target)

        _sqlite_copy(source, Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)


def _checkpoint(path: Path) -> None:
    connection = sqlite3.connect(path, timeout=30)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def libpq_connection(url: str) -> tuple[str, dict[str, str]]:
    """The libpq form of a SQLAlchemy URL, with the password moved to the environment.

    The password goes in PGPASSWORD rather than the command line, where any local
    user could read it in the process list.
    """
    sa_url = make_url(url)
    plain = URL.create(
        "postgresql",
        username=sa_url.username,
        host=sa_url.host,
        port=sa_url.port,
        database=sa_url.database,
        query=sa_url.query,
    )
    environment = dict(os.environ)
    if sa_url.password:
        environment["PGPASSWORD"] = str(sa_url.password)

    return plain.render_as_string(hide_password=False), environment


def _run(arguments: list[str], environment: dict[str, str]) -> None:
    try:
        result = subprocess.run(  # noqa: S603  (fixed programs, no shell)
            arguments, env=environment, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as error:
        raise BackupError(
            f"{arguments[0]} was not found; install the PostgreSQL client programs "
            "(the same major version as the server, or newer)."
        ) from error

    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupError(f"{arguments[0]} failed: {detail}")


def _pg_dump(url: str, destination: Path) -> None:
    dsn, environment = libpq_connection(url)
    _run(
        ["pg_dump", "--format=custom", f"--file={destination}", f"--dbname={dsn}"],
        environment,
    )


def _pg_restore(url: str, source: Path) -> None:
    dsn, environment = libpq_connection(url)
    _run(["pg_restore", "--list", str(source)], environment)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={dsn}",
            str(source),
        ],
        environment,
    )
