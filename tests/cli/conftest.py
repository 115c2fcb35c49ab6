"""Fixtures for the `kiosk` command: its environment, a runner, and seeded data."""

import logging
import traceback

import pytest
from click.testing import CliRunner

from gatekeeper import sites, visits
from gatekeeper.cli import main


@pytest.fixture(autouse=True)
def _restore_logging():
    """The command configures the root logger; put it back after each test."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture
def cli_env(monkeypatch, tmp_path, database_url):
    """The environment the command reads its settings from; returns the database URL."""
    for name in ("SECRET_KEY", "PHOTO_KEY"):
        monkeypatch.delenv(name, raising=False)

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("GATEKEEPER_ENV", "testing")
    return database_url


@pytest.fixture
def invoke(cli_env):
    """Run `kiosk ARGS...`; fails on an unexpected exit status or any traceback."""
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(main, list(args))
        if result.exception and not isinstance(result.exception, SystemExit):
            trace = "".join(traceback.format_exception(*result.exc_info))
            pytest.fail(f"kiosk {' '.join(args)} raised:\n{trace}")

        assert "Traceback" not in result.output
        assert result.exit_code == code, result.output
        return result

    return run


@pytest.fixture
def site(sessions):
    """A site with one host, made through the services rather than the command."""
    with sessions.begin() as session:
        made = sites.create_site(
            session, code="dallas", name="Dallas DC", timezone="America/Chicago"
        )
        sites.add_host(session, made, name="Ana Núñez", email="ana@example.com")

    return made


@pytest.fixture
def check_in():
    """Check visitors in: check_in(sessions, site_code, names), one transaction each."""
    return _check_in_visitors


def _check_in_visitors(sessions, site_code: str, names: list[str]) -> None:
    for name in names:
        with sessions.begin() as session:
            where = sites.site_by_code(session, site_code)
            host = sites.active_hosts(session, where.id)[0]
            visits.check_in(
                session,
                site=where,
                kiosk=None,
                visitor_name=name,
                company="Acme Freight",
                host_id=host.id,
                visitor_type="visitor",
                id_type="passport",
            )
