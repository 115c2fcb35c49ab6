"""The first slice end to end in Chromium: a kiosk is enrolled, a visitor checks in
and signs out by touch, and the front desk sees the visit with its 10.2 fields and
verifies the ID, which lets the kiosk print the badge."""

import re

import pytest
from playwright.sync_api import expect

from gatekeeper import chain
from gatekeeper.models import Site, Visit
from tests.browser import check_in_steps
from tests.browser.check_in_steps import long_idle, new_screen, walk_to_review

pytestmark = pytest.mark.browser
portrait_camera = check_in_steps.portrait_camera


def _enrol(page, kiosk_server, code):
    page.goto(kiosk_server.url + "/")
    expect(page).to_have_url(re.compile(r"/enrol$"))
    page.get_by_label("Enrolment code").fill(code.lower().replace("-", ""))
    page.get_by_role("button", name="Enrol").tap()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()


def test_a_visitor_checks_in_and_out_by_touch_and_the_desk_sees_it(
    portrait_camera,
    desk_page,
    kiosk_server,
    console_server,
    enrolment_code,
    people,
    db_sessions,
    site,
    tmp_path,
):
    long_idle(db_sessions, site)
    kiosk, page = new_screen(portrait_camera)
    _enrol(page, kiosk_server, enrolment_code)
    walk_to_review(page, visitor_type="vendor")
    page.screenshot(path=tmp_path / "check-in.png", full_page=True)
    page.get_by_role("button", name="Check in").tap()
    expect(
        page.get_by_role("heading", name=re.compile("the front desk will check"))
    ).to_be_visible()

    desk = desk_page
    desk.goto(console_server.url + "/login")
    desk.get_by_label("Username").fill(people["front_desk"].username)
    desk.get_by_label("Password").fill(people["front_desk"].password)
    desk.get_by_role("button", name="Sign in").click()
    expect(
        desk.get_by_role("heading", name=re.compile("Today's visits"))
    ).to_be_visible()
    row = desk.get_by_role("row", name=re.compile("Zoë Ñúñez"))
    expect(row).to_contain_text("Ana López")
    expect(row).to_contain_text("Passport")
    expect(row).to_contain_text("not verified")
    row.get_by_role("button", name="Verified").click()
    expect(desk.get_by_role("row", name=re.compile("Zoë Ñúñez"))).to_contain_text(
        "verified by"
    )

    # Verified, the visit is admitted: the waiting kiosk moves on and prints.
    expect(page).to_have_url(re.compile(r"/check-in/badge$"), timeout=10_000)
    page.wait_for_function("() => window.__prints > 0")
    badge = page.locator(".badge-number strong").inner_text().strip()
    assert re.fullmatch(r"\d{6}", badge)
    page.get_by_role("link", name="Back").tap()
    page.get_by_role("button", name="Done").tap()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()

    page.get_by_role("link", name="Sign out").tap()
    page.get_by_label("Badge number").fill(badge)
    page.get_by_role("button", name="Sign out").tap()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    kiosk.close()

    with db_sessions() as session:
        visit = session.query(Visit).one()
        assert visit.visitor_name == "Zoë Ñúñez"
        assert visit.id_status == "verified"
        assert visit.departed_at is not None
        report = chain.verify_site(session, session.get(Site, site.id))
        assert report.ok and report.entries == 3


def test_a_wrong_enrolment_code_keeps_the_kiosk_on_the_enrolment_screen(
    touch_page, kiosk_server, enrolment_code
):
    page = touch_page
    page.goto(kiosk_server.url + "/enrol")
    page.get_by_label("Enrolment code").fill("AAAA-AAAA")
    page.get_by_role("button", name="Enrol").tap()
    expect(page.get_by_text("That code is not valid")).to_be_visible()
    page.goto(kiosk_server.url + "/check-in")
    expect(page).to_have_url(re.compile(r"/enrol$"))
