"""Registration at the gate in Chromium on a guard's phone (CTPAT 10.3, 10.4): the
driver's ID photo beside the differences from the appointment, the ID checked and
the decision recorded, and a driver who never used the kiosk registered at once."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from gatekeeper.models import AuditEvent, Case, Pickup
from tests.fixtures.apps import PHOTO_KEY
from tests.support import pictures
from tests.support.pickups import add_appointment, arrive, sign_in_page

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    yield context.new_page()
    context.close()


def test_a_guard_compares_the_id_and_registers_a_kiosk_arrival(
    phone, console_server, db_sessions, site, people
):
    add_appointment(db_sessions, site)
    image = pictures.jpeg(pictures.framed(pictures.portrait()))
    pickup = arrive(
        db_sessions, site, images={"id": image}, key=PHOTO_KEY, truck_number="TX 9"
    )
    sign_in_page(phone, console_server.url, people["guard"])

    phone.get_by_role("link", name="Gate", exact=True).tap()
    phone.get_by_role("link", name="Check ID and register Rosa Díaz").tap()

    photo = phone.get_by_role("img", name="Photo ID, front shown by Rosa Díaz")
    expect(photo).to_be_visible()
    assert photo.evaluate("image => image.naturalWidth") == 1280
    expect(phone.locator(".differences")).to_contain_text(
        "The appointment names truck TX-4411."
    )
    phone.get_by_label("Driver's licence").check()
    phone.get_by_role("button", name="Register driver").tap()
    expect(phone.locator(".alert-error")).to_contain_text("Record your decision")

    phone.get_by_label("Driver's licence").check()
    phone.get_by_label("Your decision on the differences").fill(
        "Carrier swapped the tractor; confirmed by dispatch"
    )
    phone.get_by_role("button", name="Register driver").tap()

    expect(phone.locator(".alert-ok")).to_have_text(
        "Rosa Díaz is registered and on site."
    )
    expect(phone.get_by_role("link", name="Log out Rosa Díaz")).to_be_visible()
    with db_sessions() as session:
        row = session.get(Pickup, pickup.id)
        views = session.scalars(
            select(AuditEvent.target).where(AuditEvent.action == "photo.viewed")
        ).all()
        case = session.scalar(select(Case))
    assert (row.status, row.registered_by, row.id_type) == (
        "registered",
        "Test Guard",
        "drivers_licence",
    )
    assert set(views) == {f"pickup:{pickup.id}"}
    assert case.kind == "appointment_mismatch"
    # Nothing on the phone's page is wider than the phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_guard_registers_a_driver_who_never_used_the_kiosk(
    phone, console_server, db_sessions, site, people
):
    add_appointment(db_sessions, site)
    sign_in_page(phone, console_server.url, people["front_desk"])
    phone.goto(console_server.url + "/gate/")

    phone.get_by_role("link", name="Register a driver who did not use the kiosk").tap()
    phone.get_by_label("Pickup reference").fill("bol-1001")
    phone.get_by_label("Driver's name").fill("Rosa Díaz")
    phone.get_by_label("Carrier (the driver's employer)").fill("Swift Lines")
    phone.get_by_label("Truck number").fill("tx-4411")
    phone.get_by_label("Trailer number").fill("53889")
    phone.get_by_label("Passport").check()
    phone.get_by_role("button", name="Register driver").tap()

    expect(phone.locator(".alert-ok")).to_have_text(
        "Rosa Díaz is registered and on site."
    )
    with db_sessions() as session:
        row = session.scalar(select(Pickup))
    assert (row.status, row.registered_by, row.truck_number, row.kiosk_id) == (
        "registered",
        "Test Front Desk",
        "TX-4411",
        None,
    )
