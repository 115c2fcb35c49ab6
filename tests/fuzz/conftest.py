"""A world to fuzz in: both apps on one database per module, one record of each
kind, a signed-in caller per route, and the checks every example ends with.

The world is built once per test module (and backend): a fresh one per example, or
even per route, would cost more than the examples themselves. Examples therefore
see what earlier ones left, which is the point of asserting on changes only.
"""

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from admin import access as console_access
from admin.app import create_app as create_console
from gatekeeper import appointments, chain, kiosks
from gatekeeper.config import PROJECT_ROOT
from gatekeeper.db import Base, make_engine, make_sessionmaker
from gatekeeper.models import Kiosk, Site
from kiosk import views as kiosk_views
from kiosk.app import create_app as create_kiosk
from tests.drills.rig import Figures
from tests.fixtures.apps import (
    PHOTO_KEY,
    Person,
    _make_site,
    close,
    create_person,
    csrf_token,
    sign_in,
)
from tests.fixtures.database import empty_pg_tables
from tests.fuzz.payloads import MARKER_BYTES
from tests.support import checkins
from tests.test_access import (
    _invitation_records,
    _manager_records,
    _pickup_records,
    _screening_records,
)

FIGURES = PROJECT_ROOT / "test-artifacts" / "fuzz-figures.json"
# Where a role's caller comes from when a route allows several: the strongest
# first, so the fuzzing reaches the code behind the guard.
ROLE_PREFERENCE = ("security_manager", "front_desk", "guard", "administrator")


@pytest.fixture(scope="session")
def fuzz_figures() -> Iterator[Figures]:
    """Examples run, by backend and kind, written for README.md's figures."""
    tally = Figures()
    yield tally
    if tally.counts:
        tally.write(FIGURES)


@dataclass
class World:
    """Both apps on one database, its main site, and one record of each kind."""

    backend: str
    sessions: sessionmaker
    console_app: object
    kiosk_app: object
    site_id: int
    ids: dict
    carrier_key: str
    names: Iterator[int] = field(default_factory=lambda: count(1))

    def person(self, role: str) -> Person:
        """A new account of a role at the main site, so no route's example (a
        sign-out, a password change) spoils another route's caller."""
        site = self._site()
        return create_person(self.sessions, role, site, f"fz{next(self.names)}")

    def console_client(self, role: str | None):
        """A console browser signed in as a new account of role (None: nobody)."""
        client = self.console_app.test_client()
        if role is not None:
            response = sign_in(client, self.person(role))
            assert response.status_code == 302, response.data

        return client

    def kiosk_client(self):
        """A browser enrolled as a new kiosk of the main site."""
        with self.sessions.begin() as session:
            _, code = kiosks.create_kiosk(
                session,
                session.get(Site, self.site_id),
                f"Fuzz {next(self.names)}",
                actor="test",
            )

        client = self.kiosk_app.test_client()
        token = csrf_token(client, "/enrol")
        response = client.post("/enrol", data={"code": code, "csrf_token": token})
        assert response.status_code == 302, response.data
        return client

    def _site(self) -> Site:
        with self.sessions() as session:
            return session.get(Site, self.site_id)

    def row_counts(self) -> dict[str, int]:
        """Rows in every table, read in one statement."""
        tables = Base.metadata.sorted_tables
        query = select(
            *(select(func.count()).select_from(t).scalar_subquery() for t in tables)
        )
        with self.sessions() as session:
            values = session.execute(query).one()

        return {table.name: value for table, value in zip(tables, values, strict=True)}

    def chain_reports(self) -> list:
        with self.sessions() as session:
            return chain.verify_all(session)


def _build_world(backend: str, url: str, instance) -> World:
    settings = {
        "GATEKEEPER_ENV": "testing",
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "SECRET_KEY": "fuzz-secret-key-" + "x" * 32,
        "PHOTO_KEY": PHOTO_KEY,
        "COOKIE_SECURE": False,
        "LOG_LEVEL": "ERROR",
    }
    sessions = make_sessionmaker(make_engine(url))
    site = _make_site(sessions, "main", "Main Warehouse")
    _make_site(sessions, "north", "North Yard")
    visit = checkins.check_in_with_photos(sessions, site, "Fuzz Visitor", kiosk=True)
    with sessions.begin() as session:
        row = session.get(Site, site.id)
        spare = Kiosk(site_id=site.id, name="Spare")
        session.add(spare)
        session.flush()
        ids = {"visit_id": visit.id, "kiosk_id": spare.id, "site_id": site.id}
        ids["host_id"] = visit.host_id
        ids.update(_invitation_records(session, row, visit))
        ids.update(_screening_records(session, row, visit))
        ids.update(_pickup_records(session, row))
        ids.update(_manager_records(session, row, visit))
        carrier = appointments.add_carrier(session, row, "Fuzz Lines", actor="test")
        carrier_key = appointments.issue_key(session, carrier, actor="test")

    target = create_person(sessions, "front_desk", site, "fuzztarget")
    ids["user_id"] = target.id
    return World(
        backend=backend,
        sessions=sessions,
        console_app=create_console(settings),
        kiosk_app=create_kiosk(settings),
        site_id=site.id,
        ids=ids,
        carrier_key=carrier_key,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, sqlite_template, tmp_path_factory, monkeypatch_module):
    """The module's world, on SQLite and then on PostgreSQL."""
    folder = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'gatekeeper.sqlite3'}"
        shutil.copyfile(sqlite_template, folder / "gatekeeper.sqlite3")
    else:
        url = request.getfixturevalue("pg_database_url")
        empty_pg_tables(url)

    # The rate limits would soon answer every example with 429, hiding the routes.
    for limiter in (kiosk_views.limiter, console_access.limiter):
        monkeypatch_module.setattr(limiter, "enabled", False)

    built = _build_world(request.param, url, folder / "instance")
    yield built
    close(built.console_app)
    close(built.kiosk_app)
    built.sessions.kw["bind"].dispose()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def caller_role(policy) -> str | None:
    """The role a route's examples are sent as: None for a public route."""
    if isinstance(policy, str):
        return None if policy != "signed in" else "guard"

    return next(role for role in ROLE_PREFERENCE if role in policy)


class Watch:
    """What every example ends with: no 5xx, nothing unescaped, no partial rows,
    and a log that still verifies.

    On SQLite, PRAGMA data_version read on the watch's own connection changes
    whenever another connection commits, so an example that wrote nothing costs one
    pragma and the rows are counted again only after a commit. PostgreSQL has no
    such counter: its rows are counted after every example.
    """

    def __init__(self, world: World):
        self.world = world
        self.counts = self.previous = world.row_counts()
        self.connection = None
        if world.backend == "sqlite":
            path = world.sessions.kw["bind"].url.database
            self.connection = sqlite3.connect(path, isolation_level=None)
            self.version = self._version()

    def _version(self) -> int:
        return self.connection.execute("PRAGMA data_version").fetchone()[0]

    def wrote(self) -> bool:
        """Whether anything may have been committed since the last call (on
        PostgreSQL, always); the rows are counted again if so."""
        if self.connection is not None:
            version = self._version()
            if version == self.version:
                return False

            self.version = version

        self.previous, self.counts = self.counts, self.world.row_counts()
        return True

    def start(self) -> None:
        """Take in what happened before the example (a page read, a draft put back)."""
        self.wrote()

    def check(self, response, *, may_write=(), partial=()) -> bool:
        """Check an example's answer; True when it was accepted and may have written."""
        status = response.status_code
        assert status < 500, response.get_data()[:2000]
        check_markup(response)
        wrote = self.wrote()
        if 400 <= status < 500 and status not in partial:
            changed = {
                name: (self.previous[name], self.counts[name])
                for name in self.counts
                if wrote
                and self.previous[name] != self.counts[name]
                and name not in may_write
            }
            assert not changed, f"refused with {status} but rows changed: {changed}"
            return False

        if wrote:
            reports = self.world.chain_reports()
            assert all(report.ok for report in reports), reports

        return wrote

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def check_markup(response) -> None:
    """A fuzzed value never comes back raw in an HTML page."""
    assert response.status_code < 500, response.get_data()[:2000]
    if response.mimetype == "text/html":
        body = response.get_data()
        assert MARKER_BYTES not in body, "a fuzzed value was rendered unescaped"
