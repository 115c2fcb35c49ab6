"""Fixtures of the reliability drills: the figures they report, and a PostgreSQL
server of their own with a fresh migrated database per drill.

The PostgreSQL drills use that throwaway cluster, never the shared server at
127.0.0.1:5432: they open dozens of connections at once, and the outage drill stops
its server.
"""

from collections.abc import Iterator

import pytest

from gatekeeper import migrate
from gatekeeper.db import make_engine
from tests.drills.rig import BACKENDS, FIGURES, Cluster, Figures, cluster


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    """The run's tally, written to test-artifacts/ when the run ends."""
    tally = Figures()
    yield tally
    if tally.counts:
        tally.write(FIGURES)


@pytest.fixture(scope="session")
def drill_postgres() -> Iterator[tuple[Cluster, str]]:
    """The drills' own PostgreSQL server, with a migrated database to copy."""
    with cluster() as server:
        url = server.create_database()
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield server, url.rsplit("/", 1)[1]


@pytest.fixture(params=BACKENDS)
def drill_database_url(request) -> str:
    """A fresh migrated database: a SQLite file, or one on the drills' server."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")

    server, template = request.getfixturevalue("drill_postgres")
    return server.create_database(template)
