"""A kiosk left alone goes back to its first screen by itself and forgets the last
person: what they typed, the badge number they were given and the language chosen."""

import re

import pytest
from playwright.sync_api import expect

from gatekeeper.models import Site

pytestmark = pytest.mark.browser

NAME = "Zoë Idleton"
COMPANY = "Forgotten Freight"


def _enrol_with_idle_seconds(page, kiosk_server, code, db_sessions, site, seconds):
    page.goto(kiosk_server.url + "/enrol")
    page.get_by_label("Enrolment code").fill(code)
    page.get_by_role("button", name="Enrol").tap()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    # The short idle time applies from the next page the kiosk loads.
    with db_sessions.begin() as session:
        session.get(Site, site.id).idle_seconds = seconds


def _start_page(kiosk_server):
    return re.compile(re.escape(kiosk_server.url) + r"/$")


def test_an_abandoned_check_in_goes_back_to_the_start_and_forgets_everything(
    touch_page, kiosk_server, enrolment_code, db_sessions, site
):
    page = touch_page
    _enrol_with_idle_seconds(page, kiosk_server, enrolment_code, db_sessions, site, 2)
    page.locator("button[lang=es]").tap()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.locator("a[href$='/check-in']").tap()
    expect(page).to_have_url(re.compile(r"/check-in$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.locator("#visitor_name").fill(NAME)
    page.locator("#company").fill(COMPANY)

    # Nobody touches the screen now.
    page.wait_for_url(_start_page(kiosk_server), timeout=10_000)
    expect(page.locator("a[href$='/check-in']")).to_be_visible()
    content = page.content()
    assert NAME not in content and COMPANY not in content
    # The server session went with it: the start page is in the default language.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()

    # Back shows the next person an empty form or the start page, never the input.
    page.go_back()
    page.wait_for_load_state("load")
    if page.url.endswith("/check-in"):
        expect(page.locator("#visitor_name")).to_have_value("")
        expect(page.locator("#company")).to_have_value("")
    else:
        expect(page).to_have_url(_start_page(kiosk_server))

    content = page.content()
    assert NAME not in content and COMPANY not in content
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_the_checked_in_screen_goes_back_to_the_start_and_forgets_the_badge(
    touch_page, kiosk_server, enrolment_code, db_sessions, site
):
    page = touch_page
    _enrol_with_idle_seconds(page, kiosk_server, enrolment_code, db_sessions, site, 2)
    page.goto(kiosk_server.url + "/check-in")
    page.get_by_label("Visitor", exact=True).check()
    page.get_by_label("Your full name").fill(NAME)
    page.get_by_label("Your company").fill(COMPANY)
    page.get_by_label("Who are you here to see?").select_option(label="Ana López")
    page.get_by_label("Passport").check()
    page.get_by_role("button", name="Check in").tap()
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
    badge = page.locator(".badge-number").inner_text().strip()
    assert re.fullmatch(r"\d{6}", badge)

    page.wait_for_url(_start_page(kiosk_server), timeout=10_000)
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    content = page.content()
    assert badge not in content and NAME not in content

    # The done page cannot be brought back: the session no longer holds the badge.
    page.go_back()
    page.wait_for_load_state("load")
    expect(page).to_have_url(_start_page(kiosk_server))
    assert badge not in page.content()
