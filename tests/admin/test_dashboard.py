"""The security manager's dashboard: charts and figures of the chosen period."""

import re

import pytest
from sqlalchemy import select

from gatekeeper import cases
from gatekeeper.models import AuditEvent
from tests.support.pickups import depart, on_site


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def activity(db_sessions, site, people, make_visit, admit):
    """Two visits today (one ID verified), a driver come and gone, an open case."""
    admit(make_visit(site, "Ada Lovelace"))
    make_visit(site, "Blaise Pascal")
    pickup = on_site(db_sessions, site, people["guard"].id)
    depart(db_sessions, pickup.id, people["guard"].id)
    with db_sessions.begin() as session:
        cases.open_case(
            session, site_id=site.id, kind="other", summary="Fence cut", actor="test"
        )


def test_the_dashboard_draws_four_charts_with_their_numbers(signed_in, activity):
    page = _text(signed_in("security_manager").get("/dashboard/"))

    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 4
    for chart in ("chart-per-day", "chart-dwell", "chart-hours", "chart-id-rate"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in page

    assert "2 check-ins and 1 driver arrivals" in page
    assert re.search(r'id="tile-cases">\s*<span class="tile-number">1</span>', page)
    assert re.search(r'id="tile-id-rate">\s*<span class="tile-number">50%</span>', page)
    assert "1 of 2 visits verified, exempt or not required" in page
    assert re.search(r'id="tile-totals">\s*<span class="tile-number">2</span>', page)
    assert '<tfoot><tr><th scope="row">Total</th><td>2</td><td>1</td>' in page
    assert "console/dashboard.css" in page and "style=" not in page


def test_the_dashboard_offers_thirty_and_ninety_days(signed_in, activity):
    client = signed_in("security_manager")

    ninety = _text(client.get("/dashboard/?days=90"))

    assert 'aria-current="page">Last 90 days' in ninety
    assert ninety.count('<tr><th scope="row">20') == 90
    assert "last 90 days" in ninety


@pytest.mark.parametrize("days", ["7", "abc", "-30", "3000"])
def test_a_period_not_offered_shows_thirty_days_with_a_message(
    signed_in, activity, days
):
    response = signed_in("security_manager").get(f"/dashboard/?days={days}")

    assert response.status_code == 400
    page = _text(response)
    assert "Choose 30 or 90 days; showing 30." in page
    assert 'aria-current="page">Last 30 days' in page


def test_each_reading_of_the_dashboard_is_audited(signed_in, db_sessions, site):
    signed_in("security_manager").get("/dashboard/?days=90")

    with db_sessions() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "dashboard.viewed")
        )

    assert (event.actor, event.site_id) == ("securitymanagermain", site.id)
    assert '"days": 90' in event.detail


def test_an_empty_site_has_a_dashboard_too(signed_in):
    page = _text(signed_in("security_manager").get("/dashboard/"))

    assert "No one arrived in the period." in page
    assert "No visits in the period." in page
    assert "none recorded yet" in page


@pytest.mark.parametrize("role", ["front_desk", "guard", "administrator"])
def test_the_dashboard_is_for_security_managers(signed_in, role):
    assert signed_in(role).get("/dashboard/").status_code == 403
