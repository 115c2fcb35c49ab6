"""A security manager's log review in Chromium: search the visitor log, open a visit
with its photos, correct a field and see both values, export the search as CSV,
and find a pickup by its truck; axe-core finds no serious or critical violation
on any of these screens, their error states included."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import blocking_violations
from tests.support import checkins
from tests.support.pickups import add_appointment, on_site, sign_in_page

pytestmark = pytest.mark.browser


@pytest.fixture
def review_data(db_sessions, site, people, make_visit):
    """Two visits, one with its photos, and a driver on site."""
    make_visit(site, "John Doe", company="Doe & Sons")
    jane = checkins.check_in_with_photos(
        db_sessions, site, "Jane Roe", kinds=("face", "id"), company="Acme Freight"
    )
    add_appointment(db_sessions, site)
    pickup = on_site(db_sessions, site, people["guard"].id)
    return jane, pickup


def test_a_manager_searches_opens_and_corrects_a_visit(
    desk_page, console_server, people, review_data
):
    jane, pickup = review_data
    page, url, found = desk_page, console_server.url, {}
    sign_in_page(page, url, people["security_manager"])

    page.get_by_role("link", name="Log review").click()
    expect(page.get_by_role("heading", name="Log review")).to_be_visible()
    found["search"] = blocking_violations(page)
    page.get_by_label("Visitor's name starts with").fill("JAN")
    page.get_by_role("button", name="Search").click()
    results = page.locator("table.log-results")
    expect(results).to_contain_text("Jane Roe")
    expect(results).not_to_contain_text("John Doe")
    found["results"] = blocking_violations(page)

    page.get_by_label("Badge number").fill("12")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was searched")
    expect(page.locator("#badge-errors")).to_have_text("A badge is 6 digits.")
    found["search with an error"] = blocking_violations(page)
    page.get_by_label("Badge number").fill("")
    page.get_by_role("button", name="Search").click()

    with page.expect_download() as download:
        page.get_by_role("link", name="Export all matching rows as CSV").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"Jane Roe" in data
    assert b"John Doe" not in data

    page.get_by_role("link", name="Jane Roe").click()
    expect(page.get_by_role("heading", name="Jane Roe")).to_be_visible()
    face = page.get_by_alt_text("Face photo of Jane Roe")
    expect(face).to_be_visible()
    assert face.evaluate("image => image.naturalWidth") > 0
    found["visit page"] = blocking_violations(page)

    page.get_by_role("link", name="Correct this visit").click()
    found["correction"] = blocking_violations(page)
    page.get_by_label("Company").fill("=Acme()")
    page.get_by_role("button", name="Save corrections").click()
    expect(page.locator("#company-errors")).to_contain_text("not allowed")
    expect(page.locator("#reason-errors")).to_contain_text("is required")
    found["correction with errors"] = blocking_violations(page)

    page.get_by_label("Company").fill("Acme Freight Lines")
    page.get_by_label("Reason for the correction").fill("Company name on the ID")
    page.get_by_role("button", name="Save corrections").click()
    corrections = page.locator("table.corrections")
    expect(corrections.locator("del")).to_have_text("Acme Freight")
    expect(corrections.locator("ins")).to_have_text("Acme Freight Lines")
    expect(page.locator(".visit-page h1")).to_contain_text("Acme Freight Lines")
    found["visit page with a correction"] = blocking_violations(page)

    page.get_by_role("link", name="Log review").click()
    page.get_by_role("link", name="Pickup log (CTPAT 10.4)").click()
    page.get_by_label("Truck number starts with").fill("tx")
    page.get_by_role("button", name="Search").click()
    found["pickup results"] = blocking_violations(page)
    page.get_by_role("link", name="Rosa Díaz").click()
    expect(page.get_by_role("heading", name="Discrepancies")).to_be_visible()
    found["pickup page"] = blocking_violations(page)

    assert not any(found.values()), found
