"""The visitor badge end to end in Chromium (CTPAT 10.2): the kiosk prints it on the
label's page size, its QR code reads back as the visit, and a guard's phone says
whether it is still good."""

import io
import re

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from gatekeeper import badges
from gatekeeper.models import Site, Visit

pytestmark = pytest.mark.browser

MM_PER_POINT = 25.4 / 72
MEDIA_BOX = re.compile(
    rb"/MediaBox\s*\[\s*(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*\]"
)
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?!s)")
# window.print is replaced before any script of the page runs, so the test can
# count the calls and a headless browser prints nothing.
COUNT_PRINTS = "window.__prints = 0; window.print = () => { window.__prints += 1; };"


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


def _enrol(page, kiosk_server, code):
    page.goto(kiosk_server.url + "/enrol")
    page.get_by_label("Enrolment code").fill(code)
    page.get_by_role("button", name="Enrol").tap()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()


def _check_in(page, name):
    page.get_by_role("link", name="Check in").tap()
    page.get_by_label("Visitor", exact=True).check()
    page.get_by_label("Your full name").fill(name)
    page.get_by_label("Your company").fill("Acme Logística")
    page.get_by_label("Who are you here to see?").select_option(label="Ana López")
    page.get_by_label("Passport").check()
    page.get_by_role("button", name="Check in").tap()
    expect(page.get_by_role("heading", name="You are checked in")).to_be_visible()


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
    touch_page,
    browser,
    kiosk_server,
    console_server,
    enrolment_code,
    people,
    db_sessions,
    app_settings,
    tmp_path,
):
    page = touch_page
    page.add_init_script(COUNT_PRINTS)
    # The badge page leaves itself after printing; the test moves its clock.
    page.clock.install()
    _enrol(page, kiosk_server, enrolment_code)
    _check_in(page, "Zoë Ñúñez")
    page.get_by_role("link", name="Print badge").tap()

    badge = page.locator(".badge")
    expect(badge).to_contain_text("Zoë Ñúñez")
    page.wait_for_function("window.__prints > 0")
    assert page.evaluate("window.__prints") == 1

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


def test_a_site_on_four_by_three_inch_labels_prints_one_page_of_that_size(
    touch_page, kiosk_server, enrolment_code, db_sessions, site, tmp_path
):
    with db_sessions.begin() as session:
        session.get(Site, site.id).badge_size = "4x3in"

    page = touch_page
    page.add_init_script(COUNT_PRINTS)
    page.clock.install()
    _enrol(page, kiosk_server, enrolment_code)
    _check_in(page, "Jane Roe")
    page.get_by_role("link", name="Print badge").tap()
    expect(page.locator(".badge")).to_contain_text("Jane Roe")

    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    [(width, height)] = _page_sizes_mm(pdf)
    assert width == pytest.approx(4 * 25.4, abs=1)
    assert height == pytest.approx(3 * 25.4, abs=1)
    assert _read_qr(page.locator(".badge").screenshot(path=tmp_path / "4x3.png"))
