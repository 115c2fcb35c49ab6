"""The migrations build exactly the schema the models declare, on both databases."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from gatekeeper import search
from gatekeeper.models import Base


def _search_indexes(dialect: str) -> set[str]:
    """The expression indexes the log search needs, which the models cannot declare
    the same way on both databases (PostgreSQL's use a collation) and so the
    migrations create by hand."""
    return {statement.split()[2] for statement in search.index_statements(dialect)}


# SQLite's reflection cannot read expression indexes and says so; they are checked
# by name below instead.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
def test_the_migrated_database_matches_the_models(engine):
    by_hand = _search_indexes(engine.dialect.name)

    def include(obj, name, type_, reflected, compare_to):
        return not (type_ == "index" and name in by_hand)

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include}
        )
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_the_migrations_create_every_index_the_search_needs(engine):
    listing = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index'",
        "postgresql": "SELECT indexname FROM pg_indexes",
    }[engine.dialect.name]
    with engine.connect() as connection:
        found = set(connection.execute(text(listing)).scalars())

    assert _search_indexes(engine.dialect.name) <= found
