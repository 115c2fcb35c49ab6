"""Fixtures for the kiosk's screens: the main site's directory and a filled-in form."""

import pytest
from sqlalchemy import select

from gatekeeper.models import Host
from tests.functional import hidden_value


def _host_ids(db_sessions, site) -> list[int]:
    query = select(Host.id).where(Host.site_id == site.id).order_by(Host.id)
    with db_sessions() as session:
        return list(session.scalars(query))


@pytest.fixture
def host_ids(db_sessions, site):
    """The ids of the main site's hosts, Ana López first."""
    return _host_ids(db_sessions, site)


@pytest.fixture
def other_host_ids(db_sessions, other_site):
    """The ids of the other site's hosts, whom the main site's kiosk must not offer."""
    return _host_ids(db_sessions, other_site)


@pytest.fixture
def check_in_form(kiosk_client, host_ids):
    """The check-in form as the page renders it, filled in; changes override fields
    and a change to None leaves the field out."""

    def fill(**changes) -> dict[str, str]:
        page = kiosk_client.get("/check-in").data
        form = {
            "csrf_token": hidden_value(page, "csrf_token"),
            "submission_key": hidden_value(page, "submission_key"),
            "visitor_type": "visitor",
            "visitor_name": "Jane Roe",
            "company": "Acme Freight",
            "host_id": str(host_ids[0]),
            "id_type": "passport",
        }
        form.update(changes)
        return {name: value for name, value in form.items() if value is not None}

    return fill
