"""A security manager corrects a pickup in Chromium: opens it from the pickup log,
is told why a bad value is refused, corrects the driver's name and the seal
number, and sees the value before and after on the pickup's page; axe-core finds
no serious or critical violation on these screens, their error states included."""

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import blocking_violations
from tests.support.pickups import OTHER_SEAL, depart, on_site, sign_in_page

pytestmark = pytest.mark.browser


@pytest.fixture
def departed(db_sessions, site, people):
    """A walk-in driver logged out with a seal; no seal was assigned to the load."""
    pickup = on_site(db_sessions, site, people["guard"].id, driver_name="Rosa Diaz")
    assert depart(db_sessions, pickup.id, people["guard"].id).departed
    return pickup


def test_a_manager_corrects_a_pickup_and_sees_both_values(
    desk_page, console_server, people, departed
):
    page, url, found = desk_page, console_server.url, {}
    sign_in_page(page, url, people["security_manager"])

    page.goto(f"{url}/pickups/")
    page.get_by_role("link", name="Rosa Diaz").click()
    page.get_by_role("link", name="Correct this pickup").click()
    expect(page.get_by_role("heading", name="Correct a pickup")).to_be_visible()
    expect(page.get_by_label("Seal number", exact=True)).to_have_value("UL1234567")
    found["correction"] = blocking_violations(page)

    page.get_by_label("Driver's name").fill("Rosa @ Díaz")
    page.get_by_role("button", name="Save corrections").click()
    expect(page.locator("#driver_name-errors")).to_contain_text("not allowed")
    expect(page.locator("#reason-errors")).to_contain_text("is required")
    found["correction with errors"] = blocking_violations(page)

    page.get_by_label("Driver's name").fill("Rosa Díaz")
    page.get_by_label("Seal number", exact=True).fill(OTHER_SEAL)
    page.get_by_label("Seal number again").fill("UL0000000")
    page.get_by_label("Reason for the correction").fill("Name and seal on the BOL")
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was corrected.")
    expect(page.get_by_role("alert")).to_contain_text("The two seal numbers differ.")
    found["correction refused by a rule"] = blocking_violations(page)

    page.get_by_label("Seal number again").fill(OTHER_SEAL)
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_text("Corrected: Driver's name, Seal number.")).to_be_visible()
    corrections = page.locator("table.corrections")
    expect(corrections.locator("del")).to_have_text(["Rosa Diaz", "UL1234567"])
    expect(corrections.locator("ins")).to_have_text(["Rosa Díaz", OTHER_SEAL])
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rosa Díaz")
    found["pickup page with corrections"] = blocking_violations(page)

    assert not any(found.values()), found
