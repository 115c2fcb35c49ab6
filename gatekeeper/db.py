"""Engines, sessions and column types shared by both apps and the CLI."""

import logging
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always read back as an aware UTC value."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None

        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC value")

        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None

        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current time, aware and in UTC, to the microsecond."""
    return datetime.now(UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, **options) -> Engine:
    """Create the engine for a database URL with this product's connection rules."""
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "postgresql" and sa_url.drivername == "postgresql":
        sa_url = sa_url.set(drivername="postgresql+psycopg")

    if sa_url.get_backend_name() != "sqlite":
        options.setdefault("pool_pre_ping", True)
        return create_engine(sa_url, **options)

    engine = create_engine(sa_url, connect_args={"timeout": 30}, **options)
    _configure_sqlite(engine)
    return engine


# The statements that write (SQLAlchemy writes no other kind on its own).
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class ReaderWriteError(RuntimeError):
    """A write attempted in a transaction begun as a reader's, on SQLite."""


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, FULL sync, and writes that take the lock when they begin.

    pysqlite opens transactions lazily, so two writers could both read the chain head
    and then collide; BEGIN IMMEDIATE takes the write lock up front, which keeps one
    unbroken chain per site when several gunicorn workers write to one file.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get("sqlite_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _no_write_in_a_reader(connection, _cursor, statement, *_args):
        # A reader's transaction would take the write lock at its first write, and
        # fail at once, not wait, if another writer committed since it began.
        if connection.get_execution_options().get(
            "sqlite_read_only"
        ) and statement.lstrip()[:7].upper().startswith(WRITES):
            raise ReaderWriteError(
                "a write in a reader's transaction: make it in web.transaction(), "
                "or end the reader first"
            )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def read_only(session: Session) -> Session:
    """Mark a session's next transaction as a reader, so SQLite takes no write lock."""
    session.connection(execution_options={"sqlite_read_only": True})
    return session
