"""Bring a database to the newest schema; safe when several processes start at once."""

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from gatekeeper.config import PROJECT_ROOT

logger = logging.getLogger(__name__)

# Any constant shared by every process of the product will do as the lock's name.
ADVISORY_LOCK = 7210402


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config


def is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()

    return current == head


def upgrade(engine: Engine) -> None:
    """Upgrade to head, one process at a time."""
    if is_current(engine):
        return

    config = alembic_config()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK}
            )
            connection.commit()

        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK}
                )
                connection.commit()

    logger.info("database upgraded to the newest schema")
