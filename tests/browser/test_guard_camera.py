"""The guard scans a badge with the phone's camera (CTPAT 10.2): Chromium's fake
camera plays a picture of the badge's QR code, the page posts frames to the console,
which reads the code, and the check gives its verdict as a USB scan would."""

import io

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from gatekeeper import badges
from gatekeeper.models import BadgeCheck, Visit
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.browser.test_guard_verdicts import PHONE, sign_in
from tests.functional import rows
from tests.support import checkins, pictures

pytestmark = pytest.mark.browser


def _camera_file(path, token: str):
    """A y4m still of the badge's code held up to a 640 × 480 camera."""
    code = Image.open(io.BytesIO(badges.qr_png(token, box_size=7))).convert("RGB")
    bgr = np.ascontiguousarray(np.asarray(code)[:, :, ::-1])
    return pictures.write_y4m(path, pictures.framed(bgr, 640, 480))


def _chromium_with_camera(playwright, video):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_FLAGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )


def test_a_badge_held_to_the_phones_camera_is_checked(
    playwright, console_server, console_app, people, db_sessions, site, tmp_path
):
    visit = checkins.check_in_with_photos(db_sessions, site, "Camille Camera")
    checkins.admit(db_sessions, visit, people["front_desk"].id)
    with db_sessions() as session:
        row = session.get(Visit, visit.id)
        row.site  # noqa: B018 - loaded while the session is open
        token = badges.token_for(console_app.config["SECRET_KEY"], row)

    browser = _chromium_with_camera(
        playwright, _camera_file(tmp_path / "badge.y4m", token)
    )
    try:
        context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
        context.grant_permissions(["camera"], origin=console_server.url)
        page = context.new_page()
        sign_in(page, console_server.url, people["guard"])
        page.goto(console_server.url + "/badges/check")

        page.get_by_role("button", name="Scan with the camera").tap()

        expect(page.locator(".verdict-headline")).to_have_text("VALID", timeout=10_000)
        expect(page.locator(".verdict")).to_contain_text("Camille Camera")
        page.screenshot(path=tmp_path / "camera-valid.png")
        # The page stopped the camera and left the scanner's field ready.
        expect(page.get_by_role("button", name="Scan with the camera")).to_be_visible()
        expect(page.get_by_label("Badge code")).to_be_focused()
    finally:
        browser.close()

    [check] = rows(db_sessions, BadgeCheck)
    assert (check.visit_id, check.verdict, check.checked_by) == (
        visit.id,
        "valid",
        people["guard"].username,
    )


def test_without_a_camera_the_guard_is_told_to_use_the_scanner(
    browser, console_server, people, site
):
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        # No fake device: getUserMedia finds no camera, or is refused.
        page.add_init_script(
            "navigator.mediaDevices.getUserMedia = () =>"
            " Promise.reject(new DOMException('denied', 'NotAllowedError'));"
        )
        sign_in(page, console_server.url, people["guard"])
        page.goto(console_server.url + "/badges/check")

        page.get_by_role("button", name="Scan with the camera").tap()

        expect(page.locator("#badge-scan-status")).to_have_text(
            "The camera is not available. Use the USB scanner or type the code."
        )
        expect(page.get_by_label("Badge code")).to_be_focused()
        expect(page.locator("#badge-scan-video")).to_be_hidden()
    finally:
        context.close()
