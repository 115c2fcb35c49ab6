"""Signing out by holding the badge's QR code to the kiosk's camera (CTPAT 10.2):
the page sends frames, the server reads the code, and the visit ends once."""

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect

from gatekeeper import badges
from gatekeeper.models import Visit
from tests.browser.check_in_steps import enrol, launch_with_camera, new_screen
from tests.functional import rows

pytestmark = pytest.mark.browser


def _badge_in_front_of_camera(token: str) -> np.ndarray:
    """A 1280 × 720 frame: the badge's QR code, enlarged, on a white card."""
    code = cv2.imdecode(np.frombuffer(badges.qr_png(token), np.uint8), cv2.IMREAD_COLOR)
    code = cv2.resize(code, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    frame = np.full((720, 1280, 3), 255, np.uint8)
    top, left = (720 - code.shape[0]) // 2, (1280 - code.shape[1]) // 2
    frame[top : top + code.shape[0], left : left + code.shape[1]] = code
    return frame


def test_a_visitor_signs_out_by_showing_the_badge_to_the_camera(
    playwright,
    browser_type_launch_args,
    kiosk_server,
    enrolment_code,
    make_visit,
    site,
    db_sessions,
    app_settings,
    tmp_path,
):
    visit = make_visit(site, "Zoë Ñúñez")
    with db_sessions() as session:
        row = session.get(Visit, visit.id)
        token = badges.token_for(app_settings["SECRET_KEY"], row)

    camera = launch_with_camera(
        playwright, browser_type_launch_args, _badge_in_front_of_camera(token), tmp_path
    )
    context, page = new_screen(camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        page.locator("a[href$='/sign-out']").tap()
        page.get_by_role("button", name="Scan with the camera").tap()
        expect(page.get_by_role("heading", name="You are signed out")).to_be_visible(
            timeout=10_000
        )
    finally:
        context.close()
        camera.close()

    [signed_out] = rows(db_sessions, Visit)
    assert signed_out.departed_at is not None
    assert signed_out.departed_by.startswith("kiosk:")
