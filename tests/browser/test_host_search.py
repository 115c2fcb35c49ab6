"""The point of contact found by typing (CTPAT 10.2) in Chromium: a few letters of
the name, accents or not, and a tap on the match chooses the host the visit records."""

import re

import pytest
from playwright.sync_api import expect

from gatekeeper.models import Host, Visit
from tests.browser import check_in_steps
from tests.browser.check_in_steps import enrol, long_idle, new_screen, walk_to_host

pytestmark = pytest.mark.browser
portrait_camera = check_in_steps.portrait_camera


@pytest.fixture
def at_host_step(portrait_camera, kiosk_server, enrolment_code, db_sessions, site):
    """A kiosk showing the host step of a visitor who has answered all before it."""
    long_idle(db_sessions, site)
    context, page = new_screen(portrait_camera)
    enrol(page, kiosk_server, enrolment_code)
    walk_to_host(page)
    yield page
    context.close()


def test_a_visitor_finds_their_host_by_typing_and_tapping(at_host_step, db_sessions):
    page = at_host_step
    search = page.get_by_label("Type the name of the person you are visiting")
    search.fill("lóp")
    matches = page.locator("#host-search-results")
    expect(matches.get_by_role("button")).to_have_count(1)
    matches.get_by_role("button", name="Ana López").tap()
    expect(page.get_by_label("Who are you here to see?")).to_have_value(
        re.compile(r"^[1-9]\d*$")
    )
    expect(search).to_have_value("Ana López")
    page.get_by_role("button", name="Next").tap()
    page.get_by_role("button", name="Check in").tap()
    expect(page).to_have_url(re.compile(r"/check-in/(done|wait)$"))

    with db_sessions() as session:
        visit = session.query(Visit).one()
        host = session.get(Host, visit.host_id)
        assert (host.name, visit.host_name) == ("Ana López", "Ana López")


def test_a_name_nobody_has_says_so_and_leaves_the_list_to_choose_from(at_host_step):
    page = at_host_step
    page.get_by_label("Type the name of the person you are visiting").fill("zz")
    expect(page.get_by_text("No one by that name.")).to_be_visible()
    expect(page.get_by_label("Who are you here to see?")).to_be_visible()
