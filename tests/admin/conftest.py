"""What the console tests of check-in share: real photos, visits that carry them,
and visits in each state a check-in can be in (admitted, awaiting the ID check,
held by the block list)."""

import pytest

from gatekeeper import screening
from gatekeeper.models import Site, User, Visit
from tests.support import checkins


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    return checkins.face_jpeg()


@pytest.fixture(scope="session")
def licence_back() -> bytes:
    return checkins.licence_back()


@pytest.fixture
def admit(db_sessions, people):
    """Record a visit's ID as verified by the front desk, which admits it."""

    def admit(visit: Visit, id_type: str = "passport") -> Visit:
        return checkins.admit(db_sessions, visit, people["front_desk"].id, id_type)

    return admit


@pytest.fixture
def block(db_sessions, people):
    """Put a person, company or ID number on a site's block list."""

    def block(site: Site, value: str, *, kind: str = "person", aliases: str = ""):
        with db_sessions.begin() as session:
            manager = session.get(User, people["security_manager"].id)
            return screening.add_entry(
                session,
                session.get(Site, site.id),
                kind=kind,
                value=value,
                aliases=aliases,
                reason="test",
                actor=manager,
            )

    return block


@pytest.fixture
def visit_with_photos(db_sessions):
    """A check-in with kept photos, as the kiosk makes one (tests.support.checkins)."""

    def make(site: Site, name: str = "Jane Roe", **options) -> Visit:
        return checkins.check_in_with_photos(db_sessions, site, name, **options)

    return make


def set_mode(db_sessions, site: Site, mode: str) -> None:
    with db_sessions.begin() as session:
        session.get(Site, site.id).verification_mode = mode
