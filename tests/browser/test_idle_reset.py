"""A kiosk left alone goes back to its first screen by itself and forgets the last
person: what they typed, the pictures the camera took (on the server and the copy
kept in the browser), the badge number they were given and the language chosen."""

import re

import pytest
from playwright.sync_api import expect

from gatekeeper.models import Photo, Site, Visit
from tests.browser import check_in_steps
from tests.browser.check_in_steps import (
    FACE_KEY,
    enrol,
    long_idle,
    new_screen,
    take_photo,
    walk_to_review,
)
from tests.functional import rows

pytestmark = pytest.mark.browser
portrait_camera = check_in_steps.portrait_camera

NAME = "Zoë Idleton"
COMPANY = "Forgotten Freight"
IDLE_SECONDS = 2


def _idle_soon(db_sessions, site) -> None:
    """The short idle time applies from the next page the kiosk loads."""
    with db_sessions.begin() as session:
        session.get(Site, site.id).idle_seconds = IDLE_SECONDS


def _start_page(kiosk_server):
    return re.compile(re.escape(kiosk_server.url) + r"/$")


def _nothing_of_the_visitor(page) -> None:
    content = page.content()
    assert NAME not in content and COMPANY not in content
    assert page.evaluate("() => sessionStorage.length") == 0


def test_an_abandoned_check_in_goes_back_to_the_start_and_forgets_everything(
    portrait_camera, kiosk_server, enrolment_code, db_sessions, site
):
    long_idle(db_sessions, site)
    context, page = new_screen(portrait_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        page.locator("button[lang=es]").tap()
        expect(page.locator("html")).to_have_attribute("lang", "es")
        page.locator("a[href$='/check-in']").tap()
        page.locator("button[name=visitor_type][value=visitor]").tap()
        check_in_steps.fill_identity(page, NAME, COMPANY)
        page.locator("button[name=id_type][value=passport]").tap()
        take_photo(page, "/check-in/face")
        _idle_soon(db_sessions, site)
        take_photo(page, "/check-in/host")
        assert page.evaluate(f"() => sessionStorage.getItem('{FACE_KEY}')")
        page.locator("#host-search-input").fill("Ana")
        assert len(rows(db_sessions, Photo)) == 2

        # Nobody touches the screen now.
        page.wait_for_url(_start_page(kiosk_server), timeout=10_000)
        expect(page.locator("a[href$='/check-in']")).to_be_visible()
        _nothing_of_the_visitor(page)
        # The server session went with it: the start page is in the default
        # language, and the pictures taken are deleted.
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert rows(db_sessions, Photo) == []

        # Back shows the next person the first step or the start page, never the
        # last person's answers.
        for _ in range(3):
            page.go_back()
            page.wait_for_load_state("load")
            assert re.search(r"/(check-in)?$", page.url), page.url
            _nothing_of_the_visitor(page)
            expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        context.close()


def test_the_checked_in_screen_goes_back_to_the_start_and_forgets_the_badge(
    portrait_camera, kiosk_server, enrolment_code, db_sessions, site
):
    long_idle(db_sessions, site, mode="self_service")
    context, page = new_screen(portrait_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        walk_to_review(page, name=NAME, company=COMPANY)
        _idle_soon(db_sessions, site)
        page.locator("#check-in").tap()
        expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
        badge = page.locator(".badge-number").inner_text().strip()
        assert re.fullmatch(r"\d{6}", badge)

        page.wait_for_url(_start_page(kiosk_server), timeout=10_000)
        expect(page.locator("a[href$='/check-in']")).to_be_visible()
        assert badge not in page.content()
        _nothing_of_the_visitor(page)

        # The done page cannot be brought back: the session no longer holds it.
        page.go_back()
        page.wait_for_load_state("load")
        expect(page).to_have_url(_start_page(kiosk_server))
        assert badge not in page.content()
        _nothing_of_the_visitor(page)
    finally:
        context.close()

    [visit] = rows(db_sessions, Visit)
    assert visit.admission == "admitted"
