"""Fixtures for the console's pages: visits to look at, made through the services."""

import pytest

from gatekeeper import sites, visits
from gatekeeper.models import Site


@pytest.fixture
def make_visit(db_sessions):
    """Record an arrival at a site, as a kiosk there would; returns the visit."""

    def make(site: Site, name: str = "Jane Roe", id_type: str = "passport"):
        with db_sessions.begin() as session:
            row = session.get(Site, site.id)
            return visits.check_in(
                session,
                site=row,
                kiosk=None,
                visitor_name=name,
                company="Acme Freight",
                host_id=sites.active_hosts(session, row.id)[0].id,
                visitor_type="visitor",
                id_type=id_type,
            )

    return make
