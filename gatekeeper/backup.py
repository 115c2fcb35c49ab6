"""Backups of the database and their restore (CTPAT 4.12 backups, 4.2 recovery).

SQLite is copied with its online backup API, which reads one consistent snapshot
while the apps keep writing (the database runs in WAL mode, so readers do not block
writers). PostgreSQL is dumped with pg_dump's custom format and restored with
pg_restore in a single transaction, so a failed restore leaves the database as it was.

A backup holds the log, the audit trail and the accounts, but not the instance
folder: the photo key that decrypts stored ID images must be kept with it, apart.

A backup can also be encrypted with a passphrase (CTPAT 4.12: sensitive data stored
encrypted), for one that leaves the server, such as a download from the console.
The key is derived from the passphrase with scrypt and the file is sealed in chunks
with AES-GCM, so a file of any size is encrypted without being held in memory, and
a chunk altered, dropped, moved or cut off at the end fails to decrypt. Nothing
about the passphrase is stored; a lost passphrase means a lost backup.
"""

import logging
import os
import secrets
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import URL, make_url

from gatekeeper import models  # noqa: F401  (registers the tables in the metadata)
from gatekeeper.db import Base, make_engine

logger = logging.getLogger(__name__)

BACKUP_MODE = 0o600
# An encrypted backup starts with this, then the scrypt cost (log2 n, r, p), the
# salt and the nonce prefix; the whole header is authenticated with every chunk.
ENCRYPTED_MAGIC = b"GKBACKUP-AESGCM-1\n"
_COST = struct.Struct(">BBB")
SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P = 15, 8, 1
SALT_BYTES = 16
NONCE_PREFIX_BYTES = 7
CHUNK_BYTES = 1024 * 1024
TAG_BYTES = 16
# The least length of a passphrase, as for staff passwords.
PASSPHRASE_MIN_LENGTH = 12


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


def restore(
    url: str, source: Path, *, replace: bool = False, passphrase: str | None = None
) -> None:
    """Replace the database with a backup; refuses to replace data unless told to.

    An encrypted backup needs its passphrase; it is decrypted into a private
    temporary file, which is deleted once restored.
    """
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")

    if is_encrypted(source):
        if not passphrase:
            raise BackupError(
                f"{source} is encrypted: give the passphrase it was made with."
            )

        with _decrypted_copy(source, passphrase) as plain:
            _restore_plain(url, plain, replace=replace)

        logger.info("database restored from the encrypted backup %s", source)
        return

    _restore_plain(url, source, replace=replace)
    logger.info("database restored from %s", source)


def _restore_plain(url: str, source: Path, *, replace: bool) -> None:
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


# Encrypted backups


def check_passphrase(passphrase: str) -> str:
    """Refuse a passphrase too short to stand against guessing offline."""
    if len(passphrase or "") < PASSPHRASE_MIN_LENGTH:
        raise BackupError(
            f"The passphrase must be at least {PASSPHRASE_MIN_LENGTH} characters."
        )

    return passphrase


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(ENCRYPTED_MAGIC)) == ENCRYPTED_MAGIC


def _key(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p)
    return kdf.derive(passphrase.encode("utf-8"))


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    # The counter fixes each chunk's place and the flag marks the final chunk, so
    # chunks cannot be reordered, repeated or cut off without the tag failing.
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def encrypt_file(source: Path, destination: Path, passphrase: str) -> Path:
    """Write an encrypted copy of a backup file, readable by its owner only."""
    check_passphrase(passphrase)
    salt = secrets.token_bytes(SALT_BYTES)
    prefix = secrets.token_bytes(NONCE_PREFIX_BYTES)
    header = (
        ENCRYPTED_MAGIC + _COST.pack(SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P) + salt + prefix
    )
    cipher = AESGCM(_key(passphrase, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P))
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(source, "rb") as reader, os.fdopen(descriptor, "wb") as writer:
        os.chmod(destination, BACKUP_MODE)
        writer.write(header)
        for counter, (chunk, last) in enumerate(_chunks(reader, CHUNK_BYTES)):
            nonce = _nonce(prefix, counter, last)
            writer.write(cipher.encrypt(nonce, chunk, header))

    return destination


def decrypt_file(source: Path, destination: Path, passphrase: str) -> Path:
    """Write the plain backup an encrypted one holds; a wrong passphrase or a
    damaged file raises BackupError and leaves no partial file behind."""
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(source, "rb") as reader, os.fdopen(descriptor, "wb") as writer:
            header, cipher, prefix = _open_header(reader, passphrase)
            sealed_size = CHUNK_BYTES + TAG_BYTES
            for counter, (chunk, last) in enumerate(_chunks(reader, sealed_size)):
                nonce = _nonce(prefix, counter, last)
                writer.write(cipher.decrypt(nonce, chunk, header))
    except InvalidTag as error:
        Path(destination).unlink(missing_ok=True)
        raise BackupError(
            "The passphrase is wrong, or the encrypted backup is damaged."
        ) from error
    except BaseException:
        Path(destination).unlink(missing_ok=True)
        raise

    return destination


def _open_header(reader, passphrase: str) -> tuple[bytes, AESGCM, bytes]:
    size = len(ENCRYPTED_MAGIC) + _COST.size + SALT_BYTES + NONCE_PREFIX_BYTES
    header = reader.read(size)
    if len(header) != size or not header.startswith(ENCRYPTED_MAGIC):
        raise BackupError("This is not an encrypted Gatekeeper backup.")

    offset = len(ENCRYPTED_MAGIC)
    log2_n, r, p = _COST.unpack_from(header, offset)
    offset += _COST.size
    salt = header[offset : offset + SALT_BYTES]
    prefix = header[offset + SALT_BYTES :]
    # A header that asks for an absurd cost would make the derivation run for
    # hours or exhaust memory; these bounds are far above what this module writes.
    if not (10 <= log2_n <= 22 and 1 <= r <= 32 and 1 <= p <= 16):
        raise BackupError("The encrypted backup's header is damaged.")

    return header, AESGCM(_key(passphrase, salt, log2_n, r, p)), prefix


def _chunks(reader, size: int) -> Iterator[tuple[bytes, bool]]:
    """The file's chunks of `size` bytes, each with whether it is the last one.

    An empty file is one empty, final chunk, so even it carries a tag.
    """
    current = reader.read(size)
    while True:
        following = reader.read(size)
        if not following:
            yield current, True
            return

        yield current, False
        current = following


@contextmanager
def _decrypted_copy(source: Path, passphrase: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="gatekeeper-restore-") as folder:
        yield decrypt_file(source, Path(folder) / "backup", passphrase)
