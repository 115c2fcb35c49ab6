"""axe-core on the gate's and the pickup log's screens, on a guard's phone and a
security manager's desk, with their error states: no serious or critical
violation."""

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import Audit
from tests.fixtures.apps import PHOTO_KEY
from tests.support import pictures
from tests.support.pickups import (
    OTHER_SEAL,
    add_appointment,
    arrive,
    depart,
    on_site,
    sign_in_page,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def pickups_in_every_state(db_sessions, site, people):
    """A driver waiting with an ID photo, one on site, one blocked by its seal."""
    guard_id = people["guard"].id
    add_appointment(db_sessions, site)
    image = pictures.jpeg(pictures.framed(pictures.portrait()))
    waiting = arrive(
        db_sessions, site, images={"id": image}, key=PHOTO_KEY, truck_number="TX 9"
    )
    present = on_site(db_sessions, site, guard_id, reference="W-1", truck_number="W1")
    add_appointment(db_sessions, site, reference="B-2", truck_number="B 2")
    blocked = on_site(db_sessions, site, guard_id, reference="B-2", truck_number="B 2")
    outcome = depart(
        db_sessions,
        blocked.id,
        guard_id,
        seal_number=OTHER_SEAL,
        seal_confirmation=OTHER_SEAL,
    )
    return waiting, present, blocked, outcome.blocked_by


def test_the_gate_screens_pass_axe_on_a_guards_phone(
    browser, console_server, people, pickups_in_every_state
):
    waiting, present, blocked, _case = pickups_in_every_state
    audit = Audit()
    url = console_server.url
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    try:
        page = context.new_page()
        sign_in_page(page, url, people["guard"])
        page.goto(url + "/gate/")
        audit(page, "gate queue")

        page.goto(f"{url}/gate/{waiting.id}/register")
        expect(page.locator(".differences")).to_be_visible()
        audit(page, "registration")
        page.get_by_role("button", name="Register driver").tap()
        expect(page.locator(".alert-error")).to_be_visible()
        audit(page, "registration with errors")

        page.goto(url + "/gate/walk-up")
        audit(page, "walk-up")
        page.get_by_label("Pickup reference").fill("NOPE-1")
        page.get_by_role("button", name="Register driver").tap()
        expect(page.locator(".alert-error")).to_be_visible()
        audit(page, "walk-up with errors")

        page.goto(f"{url}/gate/{present.id}/depart")
        audit(page, "departure")
        page.get_by_role("button", name="Log out driver").tap()
        expect(page.locator(".alert-error")).to_be_visible()
        audit(page, "departure with errors")
        page.goto(f"{url}/gate/{blocked.id}/depart")
        audit(page, "departure waiting for a seal decision")

        page.goto(url + "/pickups/")
        audit(page, "pickup log")
        page.goto(f"{url}/pickups/{blocked.id}")
        audit(page, "pickup page")
        page.goto(url + "/cases/")
        audit(page, "cases")

        page.goto(url + "/appointments/")
        audit(page, "appointments")
        page.get_by_role("button", name="Record appointment").tap()
        expect(page.locator(".alert-error")).to_be_visible()
        audit(page, "appointments with errors")
        page.get_by_label("CSV file from the carrier").set_input_files(
            files=[
                {
                    "name": "pickups.csv",
                    "mimeType": "text/csv",
                    "buffer": b"reference,carrier,driver_name,truck_number,"
                    b"expected_at\nA-1,Swift,Ann Lee,T 1,someday\n",
                }
            ]
        )
        page.get_by_role("button", name="Upload and import").tap()
        expect(page.locator(".refused-rows")).to_be_visible()
        audit(page, "CSV import report")
    finally:
        context.close()

    audit.assert_clean()


def test_the_managers_screens_pass_axe_at_the_desk(
    browser, console_server, people, pickups_in_every_state, db_sessions, site
):
    _waiting, present, _blocked, case = pickups_in_every_state
    # No seal was assigned to this one, so it leaves with any seal of the format.
    depart(
        db_sessions,
        present.id,
        people["guard"].id,
        seal_number="UL5555555",
        seal_confirmation="UL5555555",
    )
    audit = Audit()
    url = console_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        sign_in_page(page, url, people["security_manager"])
        page.goto(f"{url}/cases/{case.id}")
        audit(page, "case with a seal decision")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator(".field-errors")).to_be_visible()
        audit(page, "case with a note error")

        page.goto(f"{url}/gate/{present.id}/pass")
        audit(page, "gate pass")

        page.goto(url + "/gate/settings")
        audit(page, "pickup rules")
        page.get_by_label("Seal number pattern (a regular expression)").fill("[0-9")
        page.get_by_role("button", name="Save pickup rules").click()
        expect(page.get_by_role("alert")).to_be_visible()
        audit(page, "pickup rules with an error")

        page.goto(url + "/appointments/carriers")
        page.get_by_label("Carrier's name").fill("Swift Lines")
        page.get_by_role("button", name="Add carrier").click()
        page.get_by_role("button", name="Issue API key of Swift Lines").click()
        expect(page.locator("#api-key")).to_be_visible()
        audit(page, "carriers with a new key")
    finally:
        context.close()

    audit.assert_clean()
