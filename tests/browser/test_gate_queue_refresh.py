"""The gate's lists refresh themselves in Chromium: a driver who arrives at the kiosk
appears on the guard's phone without a reload, and nothing moves while the guard
is using a control in the lists."""

import pytest
from playwright.sync_api import expect

from tests.support.pickups import arrive, sign_in_page

pytestmark = pytest.mark.browser

REFRESH_MS = 10_000


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    yield context.new_page()
    context.close()


def test_a_new_arrival_appears_on_the_gate_without_a_reload(
    phone, console_server, db_sessions, site, people
):
    phone.clock.install()
    sign_in_page(phone, console_server.url, people["guard"])
    phone.get_by_role("link", name="Gate", exact=True).tap()
    expect(phone.locator("#gate-live")).to_contain_text("Nobody is waiting.")

    arrive(db_sessions, site, driver_name="Rosa Díaz")
    phone.clock.run_for(REFRESH_MS)

    expect(
        phone.get_by_role("link", name="Check ID and register Rosa Díaz")
    ).to_be_visible()
    expect(phone.locator("#gate-live")).not_to_contain_text("Nobody is waiting.")


def test_the_lists_stay_still_while_the_guard_is_on_a_control(
    phone, console_server, db_sessions, site, people
):
    arrive(db_sessions, site, driver_name="Rosa Díaz")
    phone.clock.install()
    sign_in_page(phone, console_server.url, people["guard"])
    phone.get_by_role("link", name="Gate", exact=True).tap()
    phone.get_by_role("link", name="Check ID and register Rosa Díaz").focus()

    arrive(
        db_sessions,
        site,
        driver_name="Luis Peña",
        reference="BOL-1002",
        truck_number="TX-5522",
    )
    phone.clock.run_for(REFRESH_MS)
    phone.wait_for_timeout(500)
    expect(phone.locator("#gate-live")).not_to_contain_text("Luis Peña")

    phone.locator("h1").click()
    phone.clock.run_for(REFRESH_MS)
    expect(
        phone.get_by_role("link", name="Check ID and register Luis Peña")
    ).to_be_visible()
