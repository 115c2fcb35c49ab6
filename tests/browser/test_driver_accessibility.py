"""axe-core on every screen of a driver's arrival, in English on a portrait kiosk and
in Spanish on a landscape one, with the errors a driver can meet on the way: no
serious or critical violation."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import driver_steps
from tests.browser.accessibility import Audit
from tests.browser.check_in_steps import long_idle, take_photo
from tests.support.pickups import arrive

pytestmark = pytest.mark.browser
papers_camera = driver_steps.papers_camera

# A driver already at the gate with this truck: the review refuses a second one.
TAKEN_TRUCK = "TAKEN-1"


def _driver_screens(page, url: str, audit: Audit, where: str, truck: str) -> None:
    page.goto(url + "/")
    audit(page, f"{where} start")
    driver_steps.open_pickup(page)
    audit(page, f"{where} reference")
    page.locator("#reference").fill("<no>")
    page.locator("#next").click()
    expect(page.locator("#reference-errors")).to_be_visible()
    audit(page, f"{where} reference with an error")
    driver_steps.scan_reference(page)
    audit(page, f"{where} name")
    page.locator("#next").click()
    expect(page.locator("#driver_name-errors")).to_be_visible()
    audit(page, f"{where} name with an error")
    driver_steps.fill_and_next(page, {"driver_name": "Rosa Díaz"}, "/pickup/carrier")
    audit(page, f"{where} carrier")
    driver_steps.fill_and_next(page, {"carrier": "Swift Lines"}, "/pickup/vehicle")
    audit(page, f"{where} truck and trailer")
    page.locator("#truck_number").fill("TX#1")
    page.locator("#next").click()
    expect(page.locator("#truck_number-errors")).to_be_visible()
    expect(page.locator("#trailer_number-errors")).to_be_visible()
    audit(page, f"{where} truck and trailer with errors")
    driver_steps.fill_and_next(
        page,
        {"truck_number": TAKEN_TRUCK, "trailer_number": "53889"},
        "/pickup/id-type",
    )
    audit(page, f"{where} ID type")
    page.locator("button[name=id_type][value=drivers_licence]").click()
    expect(page.locator("#take-photo")).to_be_enabled(timeout=10_000)
    audit(page, f"{where} ID photo")
    take_photo(page, "/pickup/id-back")
    # The camera shows a bill of lading's barcode, not a licence's: a retake is asked.
    expect(page.locator("#take-photo")).to_be_enabled(timeout=10_000)
    page.locator("#take-photo").click()
    expect(page.locator("#camera-advice")).to_be_visible()
    audit(page, f"{where} back of the ID with advice")
    page.locator("form[action$='/pickup/id-back/none'] button").click()
    expect(page).to_have_url(re.compile(r"/pickup/review$"))
    audit(page, f"{where} review")

    page.locator("#send").click()
    expect(page.locator(".alert-error")).to_be_visible()
    audit(page, f"{where} review of a truck already at the gate")
    page.goto(url + "/pickup/vehicle")
    driver_steps.fill_and_next(page, {"truck_number": truck}, "/pickup/review")
    page.locator("#send").click()
    expect(page).to_have_url(re.compile(r"/pickup/done$"))
    audit(page, f"{where} done")

    page.goto(url + "/pickup/see-gate")
    audit(page, f"{where} see the gate staff")


@pytest.mark.usefixtures("spanish_mo")
@pytest.mark.parametrize(
    ("lang", "width", "height"),
    [("en", 1080, 1920), ("es", 1920, 1080)],
    ids=["english-portrait", "spanish-landscape"],
)
def test_every_driver_screen_passes_axe(
    papers_camera, kiosk_server, enrolment_code, db_sessions, site, lang, width, height
):
    long_idle(db_sessions, site)
    arrive(db_sessions, site, truck_number=TAKEN_TRUCK, reference="OTHER-1")
    audit = Audit()
    context = papers_camera.new_context(
        viewport={"width": width, "height": height}, has_touch=True, locale="en-US"
    )
    try:
        page = context.new_page()
        page.goto(kiosk_server.url + "/enrol")
        page.locator("#code").fill(enrolment_code)
        page.locator("#code").press("Enter")
        expect(page.locator("a[href$='/pickup']")).to_be_visible()
        page.locator(f"button[lang={lang}]").click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        where = f"{width}x{height} {lang}"
        _driver_screens(page, kiosk_server.url, audit, where, truck="OWN-1")
    finally:
        context.close()

    audit.assert_clean()
