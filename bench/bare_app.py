"""The yardstick of bench/load.py: a bare Flask + SQLAlchemy app that inserts one row.

Serve it with the product's gunicorn settings:
    BARE_DATABASE_URL=sqlite:///… gunicorn -c deploy/gunicorn/gunicorn_common.py \
        -b 127.0.0.1:PORT 'bench.bare_app:from_environment()'

`POST /insert` writes one row in its own transaction; `GET /healthz` answers once
the worker is up. Nothing else runs on a request: no session, CSRF, rate limit or
template. On SQLite the connection keeps the product's durability (WAL, FULL sync,
the same busy timeout), so the comparison is of the work done, not of how safely
it is kept.
"""

import os
import secrets

from flask import Flask
from sqlalchemy import DateTime, Engine, String, create_engine, event, func
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "bench_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[object] = mapped_column(DateTime, server_default=func.now())
    body: Mapped[str] = mapped_column(String(64))


def make_engine(url: str) -> Engine:
    """An engine with SQLAlchemy's defaults, plus the product's SQLite pragmas."""
    sa_url = make_url(url)
    if sa_url.drivername == "postgresql":
        sa_url = sa_url.set(drivername="postgresql+psycopg")

    if sa_url.get_backend_name() != "sqlite":
        return create_engine(sa_url)

    engine = create_engine(sa_url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def create_table(url: str) -> None:
    """Create the one table the app writes to (bench/load.py calls it first)."""
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


def create_app(url: str) -> Flask:
    app = Flask(__name__)
    sessions = sessionmaker(make_engine(url))

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/insert")
    def insert():
        with sessions.begin() as session:
            row = Row(body=secrets.token_hex(8))
            session.add(row)
            session.flush()
            row_id = row.id

        return {"id": row_id}, 201

    return app


def from_environment() -> Flask:
    """gunicorn's entry point (`bench.bare_app:from_environment()`)."""
    return create_app(os.environ["BARE_DATABASE_URL"])
