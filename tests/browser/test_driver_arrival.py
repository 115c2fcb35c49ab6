"""A truck driver arrives at the kiosk in Chromium (CTPAT 10.3, 10.4): the reference
scanned from the papers by the fake camera, the ID photographed, and the arrival
waiting in the console's gate queue until a guard registers the driver there."""

import re
from functools import cache

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from gatekeeper.models import Photo, Pickup, Site
from tests.browser import driver_steps
from tests.browser.check_in_steps import enrol, long_idle, new_screen
from tests.fixtures.translations import SPANISH
from tests.functional import rows
from tests.support.pickups import ASSIGNED_SEAL, add_appointment, sign_in_page

pytestmark = pytest.mark.browser
papers_camera = driver_steps.papers_camera
IDLE_SECONDS = 2


@cache
def _catalogue():
    with SPANISH.open("rb") as file:
        return read_po(file)


def spanish(english: str) -> str:
    """What the Spanish kiosk shows for an English text: its translation, or the
    English while the catalogue has none yet."""
    message = _catalogue().get(english)
    return message.string if message is not None and message.string else english


def test_a_driver_arrives_and_a_guard_registers_them_at_the_gate(
    papers_camera,
    desk_page,
    kiosk_server,
    console_server,
    enrolment_code,
    db_sessions,
    site,
    people,
    tmp_path,
):
    long_idle(db_sessions, site)
    add_appointment(db_sessions, site, reference=driver_steps.REFERENCE)
    context, page = new_screen(papers_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        driver_steps.open_pickup(page)
        driver_steps.scan_reference(page)
        driver_steps.walk_to_review(page)
        review = page.locator(".review")
        for typed in (driver_steps.REFERENCE, "Rosa Díaz", "TX-4411", "53889"):
            expect(review).to_contain_text(typed)

        expect(review).to_contain_text("Passport")
        page.locator("#send").tap()
        expect(
            page.get_by_role("heading", name="A staff member will register you")
        ).to_be_visible()
        expect(page.locator("main")).to_contain_text("Please wait at the gate window.")
        # Nothing of the appointment is shown: not its seal, not its consignee.
        content = page.content()
        assert ASSIGNED_SEAL not in content and "consignee" not in content
        page.screenshot(path=tmp_path / "done.png")
    finally:
        context.close()

    [pickup] = rows(db_sessions, Pickup)
    assert (pickup.status, pickup.reference) == ("arrived", driver_steps.REFERENCE)
    assert pickup.appointment_id is not None

    sign_in_page(desk_page, console_server.url, people["guard"])
    desk_page.get_by_role("link", name="Gate", exact=True).click()
    desk_page.get_by_role("link", name="Check ID and register Rosa Díaz").click()
    photo = desk_page.get_by_role("img", name="Photo ID, front shown by Rosa Díaz")
    expect(photo).to_be_visible()
    assert photo.evaluate("image => image.naturalWidth") > 0
    desk_page.get_by_label("Passport").check()
    desk_page.get_by_role("button", name="Register driver").click()
    expect(desk_page.locator(".alert-ok")).to_have_text(
        "Rosa Díaz is registered and on site."
    )

    [pickup] = rows(db_sessions, Pickup)
    assert (pickup.status, pickup.registered_by) == ("registered", "Test Guard")
    [id_photo] = rows(db_sessions, Photo)
    assert (id_photo.kind, id_photo.pickup_id) == ("id", pickup.id)


def test_a_driver_arrives_in_spanish_at_a_landscape_kiosk(
    papers_camera, kiosk_server, enrolment_code, db_sessions, site, spanish_mo
):
    long_idle(db_sessions, site)
    context, page = new_screen(papers_camera, width=1920, height=1080)
    try:
        enrol(page, kiosk_server, enrolment_code)
        page.locator("button[lang=es]").tap()
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.locator("a[href$='/pickup']")).to_have_text(
            spanish("Driver — cargo pickup")
        )
        driver_steps.open_pickup(page)
        expect(page.locator(".step-count")).to_have_text("Paso 1 de 7")
        expect(page.locator(".step-nav a")).to_have_text("Volver")
        expect(page.locator(".scanner-start")).to_have_text("Escanear con la cámara")

        # A reference typed wrong is refused in Spanish, then typed right.
        page.locator("#reference").fill("BOL 7781 <>")
        page.locator("#next").tap()
        expect(page.locator(".alert-error")).to_have_text(
            "Por favor, corrija los campos marcados abajo."
        )
        page.locator("#reference").fill(driver_steps.REFERENCE)
        page.locator("#next").tap()
        expect(page).to_have_url(re.compile(r"/pickup/name$"))
        expect(page.locator("label[for=driver_name]")).to_have_text(
            "Su nombre completo"
        )

        driver_steps.walk_to_review(
            page, name="José Núñez", truck="NL-2020", id_type="national_id"
        )
        expect(page.locator("h1")).to_have_text("¿Es correcto?")
        expect(page.locator(".review")).to_contain_text("José Núñez")
        page.locator("#send").tap()
        expect(page.locator("h1")).to_have_text(
            spanish("A staff member will register you")
        )
        expect(page.locator("main")).to_contain_text(
            spanish("Please wait at the gate window.")
        )
        expect(page.locator("html")).to_have_attribute("lang", "es")
    finally:
        context.close()

    [pickup] = rows(db_sessions, Pickup)
    assert (pickup.driver_name, pickup.truck_number) == ("José Núñez", "NL-2020")
    assert (pickup.id_type, pickup.appointment_id) == ("national_id", None)


def test_a_driver_who_walks_away_is_forgotten_with_the_pictures(
    papers_camera, kiosk_server, enrolment_code, db_sessions, site
):
    long_idle(db_sessions, site)
    context, page = new_screen(papers_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        driver_steps.open_pickup(page)
        driver_steps.scan_reference(page)
        driver_steps.walk_to_review(page, name="Idle Driverson", truck="IDLE-1")
        assert len(rows(db_sessions, Photo)) == 1
        # The short idle time applies from the next page the kiosk loads.
        with db_sessions.begin() as session:
            session.get(Site, site.id).idle_seconds = IDLE_SECONDS

        page.reload()

        # Nobody touches the screen now.
        start = re.compile(re.escape(kiosk_server.url) + r"/$")
        page.wait_for_url(start, timeout=10_000)
        expect(page.locator("a[href$='/pickup']")).to_be_visible()
        assert "Idle Driverson" not in page.content()
        assert rows(db_sessions, Photo) == []
        page.go_back()
        page.wait_for_load_state("load")
        assert "Idle Driverson" not in page.content()
        assert "IDLE-1" not in page.content()
    finally:
        context.close()

    assert rows(db_sessions, Pickup) == []
