"""The security manager's dashboard and periodic reviews in Debian's Chromium: the
charts drawn with the database's numbers, and axe-core on every screen."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from gatekeeper import cases, dashboard
from gatekeeper.db import utcnow
from gatekeeper.models import Case, Pickup, Visit
from tests.browser.accessibility import blocking_violations
from tests.support import checkins
from tests.support.pickups import depart, on_site, sign_in_page

pytestmark = pytest.mark.browser


@pytest.fixture
def activity(db_sessions, site, people, make_visit):
    """Three visits (two IDs verified, one not), two drivers (one gone), an open
    case and a closed one."""
    for name in ("Ada Lovelace", "Blaise Pascal"):
        checkins.admit(db_sessions, make_visit(site, name), people["front_desk"].id)

    make_visit(site, "Carl Gauss")
    gone = on_site(db_sessions, site, people["guard"].id)
    depart(db_sessions, gone.id, people["guard"].id)
    on_site(
        db_sessions,
        site,
        people["guard"].id,
        reference="BOL-2",
        truck_number="TX-2",
        driver_name="Eve Driver",
    )
    with db_sessions.begin() as session:
        for summary in ("Fence cut", "Gate left open"):
            cases.open_case(
                session, site_id=site.id, kind="other", summary=summary, actor="test"
            )

        closing = session.scalar(select(Case).where(Case.summary == "Gate left open"))
        closing.status = "closed"


def _counts(db_sessions, site) -> dict:
    """What the dashboard should say, counted straight from the tables."""
    since = utcnow() - timedelta(days=29)
    with db_sessions() as session:

        def count(query) -> int:
            return session.scalar(query)

        return {
            "visits": count(
                select(func.count(Visit.id)).where(
                    Visit.site_id == site.id, Visit.arrived_at >= since
                )
            ),
            "pickups": count(
                select(func.count(Pickup.id)).where(
                    Pickup.site_id == site.id, Pickup.arrived_at >= since
                )
            ),
            "verified": count(
                select(func.count(Visit.id)).where(
                    Visit.site_id == site.id, Visit.id_status.in_(dashboard.CHECKED)
                )
            ),
            "open_cases": count(
                select(func.count(Case.id)).where(
                    Case.site_id == site.id, Case.status == "open"
                )
            ),
        }


def test_the_dashboard_draws_its_charts_with_the_databases_numbers(
    desk_page, console_server, people, activity, db_sessions, site
):
    expected = _counts(db_sessions, site)
    assert expected == {"visits": 3, "pickups": 2, "verified": 2, "open_cases": 1}
    page = desk_page
    sign_in_page(page, console_server.url, people["security_manager"])

    page.goto(console_server.url + "/dashboard/")

    charts = page.locator("svg.chart")
    expect(charts).to_have_count(4)
    for chart in charts.all():
        box = chart.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 30
        assert chart.get_attribute("role") == "img"

    expect(page.get_by_role("img", name="Time on site")).to_be_visible()
    today = dashboard.day_label(utcnow().date())
    bars = page.locator("#chart-per-day rect.bar title")
    titles = bars.all_text_contents()
    assert len(titles) == 2 * 30
    assert f"{today}: {expected['visits']} check-ins" in titles
    assert f"{today}: {expected['pickups']} drivers" in titles
    tops = page.locator("#chart-per-day rect.series-visits").evaluate_all(
        "bars => bars.map(bar => bar.getBBox().height)"
    )
    assert sum(1 for height in tops if height > 0) == 1

    expect(page.locator("#tile-totals .tile-number")).to_have_text(
        str(expected["visits"])
    )
    expect(page.locator("#tile-cases .tile-number")).to_have_text(
        str(expected["open_cases"])
    )
    rate = round(100 * expected["verified"] / expected["visits"])
    expect(page.locator("#tile-id-rate .tile-number")).to_have_text(f"{rate}%")
    expect(page.locator("#chart-id-rate desc")).to_contain_text(
        f"{expected['verified']} of {expected['visits']} visits ({rate}%)"
    )
    hours = page.locator("#chart-hours rect.heat")
    expect(hours).to_have_count(7 * 24)
    assert page.locator("#chart-hours rect.heat:not(.heat-0)").count() >= 1

    page.get_by_text("Show per day as a table").click()
    totals = page.locator("#table-per-day tfoot td").all_inner_texts()
    assert totals == [str(expected["visits"]), str(expected["pickups"])]
    found = blocking_violations(page, "dashboard")

    page.get_by_role("link", name="Last 90 days").click()
    expect(page.locator("#chart-per-day rect.bar")).to_have_count(2 * 90)
    page.goto(console_server.url + "/dashboard/?days=12")
    expect(page.get_by_role("alert")).to_contain_text("Choose 30 or 90 days")
    found += blocking_violations(page, "dashboard with a bad period")
    assert not found, "axe violations:\n" + "\n".join(found)


def test_the_review_screens_pass_axe_and_show_their_errors(
    desk_page, console_server, people
):
    page = desk_page
    url = console_server.url
    sign_in_page(page, url, people["security_manager"])
    page.goto(url + "/reviews/")
    found = blocking_violations(page, "reviews")

    today = utcnow().date()
    page.get_by_label("Kind of review").select_option("camera_footage")
    page.get_by_label("First day of the period reviewed").fill(
        (today - timedelta(days=30)).isoformat()
    )
    page.get_by_label("Last day of the period reviewed").fill(today.isoformat())
    page.get_by_label("What was sampled").fill("Cameras 1 to 4, random hours")
    page.get_by_role("button", name="Record review").click()
    expect(page.locator("#findings-errors")).to_have_text("Findings is required.")
    expect(page.get_by_label("What was sampled")).to_have_value(
        "Cameras 1 to 4, random hours"
    )
    found += blocking_violations(page, "review with errors")

    page.get_by_label("Findings").fill("Nothing out of order.")
    page.get_by_role("button", name="Record review").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Camera footage review"
    )
    found += blocking_violations(page, "review record")

    page.goto(url + "/reviews/")
    expect(page.locator("#review-standings")).to_contain_text("up to date")
    assert not found, "axe violations:\n" + "\n".join(found)
