"""The visitor badge end to end in Chromium (CTPAT 10.2): the kiosk prints it on the
label's page size with the visitor's face, its QR code reads back as the visit from
the printed PDF, and a guard's phone says whether it is still good."""

import io
import re
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from gatekeeper import badges
from gatekeeper.models import Site, Visit
from tests.browser import check_in_steps
from tests.browser.check_in_steps import (
    badge_photo_shown,
    enrol,
    long_idle,
    new_screen,
    walk_to_review,
)

pytestmark = pytest.mark.browser
portrait_camera = check_in_steps.portrait_camera
# Debian's poppler-utils (.ci/run installs it) renders the printed PDF to pixels.
PDFTOPPM = shutil.which("pdftoppm")

MM_PER_POINT = 25.4 / 72
MEDIA_BOX = re.compile(
    rb"/MediaBox\s*\[\s*(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*\]"
)
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?!s)")


def _page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    """The width and height of each page of a PDF, in millimetres, from its MediaBox.

    Chromium writes one MediaBox per page object and compresses neither the page
    dictionaries nor the object table, so a regular expression can read them.
    """
    boxes = MEDIA_BOX.findall(pdf)
    assert len(boxes) == len(PAGE_OBJECT.findall(pdf)), "a page without a MediaBox"
    sizes = []
    for box in boxes:
        x0, y0, x1, y1 = (float(value) for value in box)
        sizes.append(((x1 - x0) * MM_PER_POINT, (y1 - y0) * MM_PER_POINT))

    return sizes


def _check_in(page, name):
    walk_to_review(page, name=name)
    page.locator("#check-in").tap()
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()


def _qr_of_printed_pdf(pdf: bytes, folder) -> str:
    """The QR code read back from the PDF rendered at a label printer's 300 dpi."""
    if PDFTOPPM is None:
        pytest.fail("pdftoppm is missing: apt-get install poppler-utils")

    (folder / "printed.pdf").write_bytes(pdf)
    subprocess.run(
        [PDFTOPPM, "-r", "300", "-png", "-singlefile", "printed.pdf", "printed"],
        cwd=folder,
        check=True,
        timeout=30,
    )
    return _read_qr((folder / "printed.png").read_bytes())


def _read_qr(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [r.format for r in results] == [zxingcpp.BarcodeFormat.QRCode]
    return results[0].text


def _guard_checks(page, token: str, verdict: str):
    field = page.get_by_label("Badge code")
    expect(field).to_be_focused()
    # A USB scanner types the code as keystrokes and ends with Enter.
    field.press_sequentially(token)
    field.press("Enter")
    expect(page.locator(".verdict-headline")).to_have_text(verdict)


def test_a_printed_badge_is_label_sized_and_its_code_takes_the_guard_to_the_visit(
    portrait_camera,
    browser,
    kiosk_server,
    console_server,
    enrolment_code,
    people,
    db_sessions,
    site,
    app_settings,
    tmp_path,
):
    long_idle(db_sessions, site, mode="self_service")
    kiosk, page = new_screen(portrait_camera)
    # The badge page leaves itself after printing; the test moves its clock.
    page.clock.install()
    enrol(page, kiosk_server, enrolment_code)
    _check_in(page, "Zoë Ñúñez")
    page.get_by_role("link", name="Print badge").tap()

    badge = page.locator(".badge")
    expect(badge).to_contain_text("Zoë Ñúñez")
    page.wait_for_function("() => window.__prints > 0")
    assert page.evaluate("window.__prints") == 1
    assert badge_photo_shown(page)

    token = _read_qr(badge.screenshot(path=tmp_path / "badge.png"))
    claim = badges.read_token(app_settings["SECRET_KEY"], token)
    with db_sessions() as session:
        visit = session.query(Visit).one()
        assert (claim.visit_id, claim.badge_number) == (visit.id, visit.badge_number)

    # page.pdf prints as the kiosk's printer would, and so fires afterprint too.
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (tmp_path / "badge.pdf").write_bytes(pdf)
    [(width, height)] = _page_sizes_mm(pdf)
    assert width == pytest.approx(62, abs=1)
    assert height == pytest.approx(100, abs=1)
    assert _qr_of_printed_pdf(pdf, tmp_path) == token

    # Once printed, the kiosk goes back to the screen with its idle timer.
    page.clock.run_for(2500)
    expect(page).to_have_url(re.compile(r"/check-in/done$"))
    assert page.evaluate("window.__prints") == 0, "the done page printed again"

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    guard = phone.new_page()
    guard.goto(console_server.url + "/login")
    guard.get_by_label("Username").fill(people["guard"].username)
    guard.get_by_label("Password").fill(people["guard"].password)
    guard.get_by_role("button", name="Sign in").tap()
    guard.get_by_role("link", name="Check a badge").tap()
    _guard_checks(guard, token, "VALID")
    expect(guard.locator(".verdict")).to_contain_text("Zoë Ñúñez")
    guard.screenshot(path=tmp_path / "guard-valid.png")

    page.get_by_role("button", name="Done").tap()
    page.get_by_role("link", name="Sign out").tap()
    field = page.get_by_label("Badge number")
    expect(field).to_be_focused()
    field.press_sequentially(token)
    field.press("Enter")
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()

    _guard_checks(guard, token, "SIGNED OUT")
    guard.screenshot(path=tmp_path / "guard-signed-out.png")
    phone.close()
    kiosk.close()


def test_a_site_on_four_by_three_inch_labels_prints_one_page_of_that_size(
    portrait_camera,
    kiosk_server,
    enrolment_code,
    db_sessions,
    site,
    app_settings,
    tmp_path,
):
    long_idle(db_sessions, site, mode="self_service")
    with db_sessions.begin() as session:
        session.get(Site, site.id).badge_size = "4x3in"

    context, page = new_screen(portrait_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        _check_in(page, "Jane Roe")
        page.get_by_role("link", name="Print badge").tap()
        expect(page.locator(".badge")).to_contain_text("Jane Roe")
        page.wait_for_function("() => window.__prints > 0")
        assert badge_photo_shown(page)

        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        page.locator(".badge").screenshot(path=tmp_path / "4x3.png")
    finally:
        context.close()

    [(width, height)] = _page_sizes_mm(pdf)
    assert width == pytest.approx(4 * 25.4, abs=1)
    assert height == pytest.approx(3 * 25.4, abs=1)
    token = _qr_of_printed_pdf(pdf, tmp_path)
    assert badges.read_token(app_settings["SECRET_KEY"], token) is not None
