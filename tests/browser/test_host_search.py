"""The point of contact found by typing (CTPAT 10.2) in Chromium: a few letters of
the name, accents or not, and a tap on the match chooses the host the visit records."""

import re

import pytest
from playwright.sync_api import expect

from gatekeeper.models import Host, Visit
from tests.browser.test_first_visit import _enrol

pytestmark = pytest.mark.browser


def test_a_visitor_finds_their_host_by_typing_and_tapping(
    touch_page, kiosk_server, enrolment_code, db_sessions
):
    page = touch_page
    _enrol(page, kiosk_server, enrolment_code)
    page.get_by_role("link", name="Check in").tap()
    page.get_by_label("Visitor", exact=True).check()
    page.get_by_label("Your full name").fill("Zoë Ñúñez")
    page.get_by_label("Your company").fill("Acme Logística")
    search = page.get_by_label("Type the name of the person you are visiting")
    search.fill("lóp")
    matches = page.locator("#host-search-results")
    expect(matches.get_by_role("button")).to_have_count(1)
    matches.get_by_role("button", name="Ana López").tap()
    expect(page.get_by_label("Who are you here to see?")).to_have_value(
        re.compile(r"^[1-9]\d*$")
    )
    expect(search).to_have_value("Ana López")
    page.get_by_label("Passport").check()
    page.get_by_role("button", name="Check in").tap()
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()

    with db_sessions() as session:
        visit = session.query(Visit).one()
        host = session.get(Host, visit.host_id)
        assert (host.name, visit.host_name) == ("Ana López", "Ana López")


def test_a_name_nobody_has_says_so_and_leaves_the_list_to_choose_from(
    touch_page, kiosk_server, enrolment_code
):
    page = touch_page
    _enrol(page, kiosk_server, enrolment_code)
    page.get_by_role("link", name="Check in").tap()
    page.get_by_label("Type the name of the person you are visiting").fill("zz")
    expect(page.get_by_text("No one by that name.")).to_be_visible()
    expect(page.get_by_label("Who are you here to see?")).to_be_visible()
