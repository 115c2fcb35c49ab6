"""The guard scans the seal with the phone's camera (CTPAT 7.30): Chromium's fake
camera plays a picture of a bolt seal's Code 128, the departure page posts frames,
the console reads the number, and both seal fields are filled for the guard to
compare with the seal; the guard still submits."""

import numpy as np
import pytest
import zxingcpp
from playwright.sync_api import expect

from gatekeeper.models import Pickup
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.support import pictures
from tests.support.pickups import (
    ASSIGNED_SEAL,
    add_appointment,
    on_site,
    sign_in_page,
)

pytestmark = pytest.mark.browser


def _seal_on_camera(path):
    """A y4m still of the seal's barcode, printed as "UL-1234567", on a 640 × 480
    camera."""
    code = zxingcpp.create_barcode("UL-1234567", zxingcpp.BarcodeFormat.Code128)
    symbol = np.array(code.to_image(scale=2, add_quiet_zones=True))
    frame = np.full((480, 640), 255, dtype=np.uint8)
    top, left = (480 - symbol.shape[0]) // 2, (640 - symbol.shape[1]) // 2
    frame[top : top + symbol.shape[0], left : left + symbol.shape[1]] = symbol
    return pictures.write_y4m(path, np.dstack([frame] * 3))


def test_a_seal_held_to_the_phones_camera_fills_both_seal_fields(
    playwright, console_server, db_sessions, site, people, tmp_path
):
    add_appointment(db_sessions, site)
    pickup = on_site(db_sessions, site, people["guard"].id)
    video = _seal_on_camera(tmp_path / "seal.y4m")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_FLAGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
        )
        page = context.new_page()
        sign_in_page(page, console_server.url, people["guard"])
        page.goto(f"{console_server.url}/gate/{pickup.id}/depart")

        page.get_by_role("button", name="Scan the seal with the camera").tap()

        first = page.get_by_label("Seal number on the trailer", exact=True)
        expect(first).to_have_value(ASSIGNED_SEAL, timeout=10_000)
        expect(page.get_by_label("Seal number again", exact=True)).to_have_value(
            ASSIGNED_SEAL
        )
        expect(page.locator("#seal-scan-status")).to_contain_text("Check it")
        with db_sessions() as session:
            # Reading the seal records nothing: the guard still logs the driver out.
            assert session.get(Pickup, pickup.id).status == "registered"
    finally:
        browser.close()
