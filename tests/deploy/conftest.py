"""A PostgreSQL installation made the way deploy/README.md makes one: the roles and
database from deploy/postgresql/roles.sql, the schema migrated by the owner role and
the app's privileges granted by deploy/bin/gatekeeper-migrate.

Each test gets roles and a database of its own, with names no other run uses, and
both are dropped afterwards. With CI=true a server that cannot be reached, or a
missing psql, fails the test instead of skipping it.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis

# The launch arguments for Debian's Chromium, shared with the browser tests.
from tests.browser.conftest import browser_type_launch_args  # noqa: F401
from tests.deploy.processes import (
    DEPLOY,
    ROOT,
    production_env,
    require_tool,
    run_script,
)
from tests.fixtures.database import PG_ADMIN_URL, _pg_reachable


@dataclass
class Installation:
    """The names and connection details of one test's PostgreSQL installation."""

    database: str
    owner: str
    app: str
    host: str
    port: int

    def url(self, role: str) -> str:
        return f"postgresql://{role}@{self.host}:{self.port}/{self.database}"

    @property
    def app_url(self) -> str:
        return self.url(self.app)

    def owner_env(self) -> dict[str, str]:
        """libpq's variables for the owner, as /etc/gatekeeper/owner.env sets them."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGDATABASE": self.database,
            "PGUSER": self.owner,
        }


def _admin_details() -> tuple[str, int, str]:
    info = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_URL)
    return info.get("host", "127.0.0.1"), int(info.get("port", 5432)), info["user"]


def apply_roles_sql(installation: Installation) -> None:
    """Run deploy/postgresql/roles.sql as the superuser, as the guide does."""
    host, port, superuser = _admin_details()
    run_script(
        [
            require_tool("psql"),
            "--no-psqlrc",
            "--quiet",
            f"--host={host}",
            f"--port={port}",
            f"--username={superuser}",
            "--dbname=postgres",
            f"--set=owner={installation.owner}",
            f"--set=app={installation.app}",
            f"--set=db={installation.database}",
            f"--file={DEPLOY / 'postgresql' / 'roles.sql'}",
        ],
        dict(os.environ),
    )


def migrate_env(installation: Installation, tmp_path) -> dict[str, str]:
    """What gatekeeper-migrate sees on a server: the apps' settings, the owner's PG*."""
    env = production_env(tmp_path / "instance", installation.app_url)
    env.update(installation.owner_env())
    env.update(
        {
            "GATEKEEPER_HOME": str(ROOT),
            "GATEKEEPER_CONFIG": str(tmp_path / "no-config-files"),
            "APP_ROLE": installation.app,
        }
    )
    return env


@contextmanager
def installed(workspace: Path) -> Iterator[Installation]:
    """A fresh database with its owner and app roles, migrated and granted."""
    if not _pg_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")

        pytest.skip("PostgreSQL is not reachable")

    host, port, _ = _admin_details()
    tag = uuid.uuid4().hex[:10]
    made = Installation(
        database=f"gk_deploy_{tag}",
        owner=f"gk_owner_{tag}",
        app=f"gk_app_{tag}",
        host=host,
        port=port,
    )
    try:
        apply_roles_sql(made)
        run_script(
            [str(DEPLOY / "bin" / "gatekeeper-migrate")], migrate_env(made, workspace)
        )
        yield made
    finally:
        _drop(made)


@pytest.fixture
def installation(tmp_path):
    """An installation of the test's own, for tests that change it."""
    with installed(tmp_path) as made:
        yield made


@pytest.fixture(scope="module")
def shared_installation(tmp_path_factory):
    """One installation for a module's tests that only read it or are refused."""
    with installed(tmp_path_factory.mktemp("installation")) as made:
        yield made


def _drop(installation: Installation) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{installation.database}" WITH (FORCE)')
        for role in (installation.app, installation.owner):
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture(scope="session")
def redis_url():
    """The Redis server the rate limits are counted in; with CI=true it must be up."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {url}")

        pytest.skip("Redis is not reachable")

    return url
