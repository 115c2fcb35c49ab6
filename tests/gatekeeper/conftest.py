"""Domain objects the gatekeeper tests share: a site, its host, a guard and a
security manager.

Each fixture commits its own transaction, as the apps do, and returns the object
detached (sessions do not expire on commit), so a test reads its ids and names and
loads it again in its own session where it needs the live row.
"""

import pytest

from gatekeeper import accounts, sites, visits
from gatekeeper.models import Host, Site, User, Visit


@pytest.fixture
def site(sessions) -> Site:
    with sessions.begin() as s:
        return sites.create_site(
            s, code="dock-a", name="Dock A", timezone="America/Chicago"
        )


@pytest.fixture
def host(sessions, site) -> Host:
    with sessions.begin() as s:
        return sites.add_host(
            s, s.get(Site, site.id), name="Grace Hopper", email="grace@example.com"
        )


@pytest.fixture
def guard(sessions, site) -> User:
    with sessions.begin() as s:
        user, _ = accounts.create_user(
            s,
            username="gina.guard",
            display_name="Gina Guard",
            role="guard",
            sites=[s.get(Site, site.id)],
            actor="setup",
        )
        return user


@pytest.fixture
def manager(sessions, site) -> User:
    with sessions.begin() as s:
        user, _ = accounts.create_user(
            s,
            username="mia.manager",
            display_name="Mia Manager",
            role="security_manager",
            sites=[s.get(Site, site.id)],
            actor="setup",
        )
        return user


@pytest.fixture
def arrive(site, host):
    """Check a visitor in at the site's front desk, inside the caller's session."""

    def arrive(s, visitor_name: str = "Ada Lovelace", **overrides) -> Visit:
        fields = {
            "site": s.get(Site, site.id),
            "kiosk": None,
            "visitor_name": visitor_name,
            "company": "Analytical Engines",
            "host_id": host.id,
            "visitor_type": "visitor",
            "id_type": "passport",
        }
        fields.update(overrides)
        return visits.check_in(s, **fields)

    return arrive
