"""A walk-up visitor checks in at the kiosk in Chromium, photographed by a fake
camera showing a real face, and the badge prints with that face (CTPAT 10.2)."""

import pytest
from playwright.sync_api import expect

from gatekeeper.models import Photo, Visit
from tests.browser import check_in_steps
from tests.browser.check_in_steps import (
    badge_photo_shown,
    enrol,
    long_idle,
    new_screen,
    walk_to_review,
)
from tests.functional import rows

pytestmark = pytest.mark.browser
portrait_camera = check_in_steps.portrait_camera


def test_a_visitor_checks_in_in_english_at_a_portrait_kiosk_and_the_badge_has_the_face(
    portrait_camera, kiosk_server, enrolment_code, db_sessions, site, tmp_path
):
    long_idle(db_sessions, site, mode="self_service")
    context, page = new_screen(portrait_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        walk_to_review(page)
        expect(page.locator(".review")).to_contain_text("Zoë Ñúñez")
        expect(page.locator(".review")).to_contain_text("Passport")
        page.screenshot(path=tmp_path / "review.png", full_page=True)
        page.locator("#check-in").tap()
        expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()

        page.get_by_role("link", name="Print badge").tap()
        expect(page.locator(".badge")).to_contain_text("Zoë Ñúñez")
        page.wait_for_function("() => window.__prints > 0")
        assert badge_photo_shown(page)
        page.locator(".badge").screenshot(path=tmp_path / "badge.png")
    finally:
        context.close()

    [visit] = rows(db_sessions, Visit)
    assert (visit.admission, visit.id_status) == ("admitted", "captured")
    kinds = sorted(photo.kind for photo in rows(db_sessions, Photo))
    assert kinds == ["face", "id"]
    assert all(p.visit_id == visit.id for p in rows(db_sessions, Photo))


@pytest.mark.usefixtures("spanish_mo")
def test_a_visitor_checks_in_in_spanish_at_a_landscape_kiosk(
    portrait_camera, kiosk_server, enrolment_code, db_sessions, site, tmp_path
):
    long_idle(db_sessions, site, mode="self_service")
    context, page = new_screen(portrait_camera, width=1920, height=1080)
    try:
        enrol(page, kiosk_server, enrolment_code)
        page.locator("button[lang=es]").tap()
        expect(page.locator("html")).to_have_attribute("lang", "es")
        walk_to_review(page, visitor_type="service_provider", id_type="national_id")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        page.screenshot(path=tmp_path / "revision.png")
        page.locator("#check-in").tap()
        expect(
            page.get_by_role("heading", name="Su entrada quedó registrada")
        ).to_be_visible()

        page.get_by_role("link", name="Imprimir gafete").tap()
        expect(page.locator(".badge")).to_contain_text("Zoë Ñúñez")
        page.wait_for_function("() => window.__prints > 0")
        assert badge_photo_shown(page)
        expect(page.locator(".badge-escort")).to_have_count(0)
        page.locator(".badge").screenshot(path=tmp_path / "gafete.png")
    finally:
        context.close()

    [visit] = rows(db_sessions, Visit)
    assert (visit.visitor_type, visit.id_type) == ("service_provider", "national_id")
    assert visit.admission == "admitted"
