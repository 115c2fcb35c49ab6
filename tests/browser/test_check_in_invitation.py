"""A pre-registered visitor at the kiosk in Chromium: the invitation's code, typed
by a USB scanner into the invitation field, fills in who they are and whom they
visit; the photo ID and the face photo are still taken (CTPAT 10.2)."""

import re

import pytest
from playwright.sync_api import expect

from gatekeeper import invitations, sites
from gatekeeper.models import Invitation, Site, Visit
from tests.browser import check_in_steps
from tests.browser.check_in_steps import enrol, long_idle, new_screen, take_photo
from tests.functional import rows

pytestmark = pytest.mark.browser
portrait_camera = check_in_steps.portrait_camera


def _invite(db_sessions, site) -> str:
    with db_sessions.begin() as session:
        row = session.get(Site, site.id)
        bob = [h for h in sites.active_hosts(session, row.id) if h.name == "Bob Stone"]
        _, code = invitations.create(
            session,
            row,
            visitor_name="Carla Díaz",
            company="Norte Logística",
            email="carla@example.com",
            expected_on=invitations.site_today(row),
            host_id=bob[0].id,
            actor="test",
        )
        return code


def test_an_invited_visitor_scans_the_code_and_only_shows_id_and_face(
    portrait_camera, kiosk_server, enrolment_code, db_sessions, site
):
    long_idle(db_sessions, site, mode="self_service")
    code = _invite(db_sessions, site)
    context, page = new_screen(portrait_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        page.locator("a[href$='/check-in']").tap()
        page.locator("button[name=visitor_type][value=visitor]").tap()

        # A keyboard-wedge scanner types the code's characters, then Enter.
        field = page.get_by_label("Invitation code")
        field.focus()
        field.press_sequentially(code, delay=5)
        field.press("Enter")

        expect(page).to_have_url(re.compile(r"/check-in/id-type$"))
        page.locator("button[name=id_type][value=passport]").tap()
        take_photo(page, "/check-in/face")
        # The host came with the invitation: the review comes next.
        take_photo(page, "/check-in/review")
        review = page.locator(".review")
        for shown in ("Carla Díaz", "Norte Logística", "Bob Stone", "Passport"):
            expect(review).to_contain_text(shown)

        page.locator("#check-in").tap()
        expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()
    finally:
        context.close()

    [visit] = rows(db_sessions, Visit)
    [invitation] = rows(db_sessions, Invitation)
    assert visit.invitation_id == invitation.id
    assert invitation.used_at is not None
    assert visit.id_status == "captured"


def test_a_kiosk_without_a_camera_sends_the_visitor_to_the_front_desk(
    touch_page, kiosk_server, enrolment_code, db_sessions, site
):
    """Chromium without a fake camera has none: getUserMedia fails at once."""
    long_idle(db_sessions, site)
    page = touch_page
    enrol(page, kiosk_server, enrolment_code)
    page.locator("a[href$='/check-in']").tap()
    page.locator("button[name=visitor_type][value=visitor]").tap()
    check_in_steps.fill_identity(page, "Jane Roe", "Acme")
    page.locator("button[name=id_type][value=passport]").tap()

    expect(page).to_have_url(re.compile(r"/check-in/see-desk\?why=camera$"))
    expect(
        page.get_by_role("heading", name="Please see the front desk")
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text("The camera is not available")
