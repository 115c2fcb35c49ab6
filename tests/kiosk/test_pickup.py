"""A driver's arrival at the kiosk (CTPAT 10.3, 10.4): one question a screen, the ID
photographed and judged as a visitor's is, and an arrival that waits at the gate
for an employee to register the driver."""

import json
import re

import pytest

from gatekeeper import pickups
from gatekeeper.models import LogEntry, Photo, Pickup, Site, User
from tests.functional import log_kinds, rows
from tests.support import licences
from tests.support.drivers import Driver
from tests.support.pickups import add_appointment

STEPS_WITH_PASSPORT = [
    "/pickup",
    "/pickup/name",
    "/pickup/carrier",
    "/pickup/vehicle",
    "/pickup/id-type",
    "/pickup/id-photo",
]
# The CSRF token in forms and in the meta tag scripts read (signed with the time),
# and the review's random submission key: different on every screen.
RANDOM_VALUE = re.compile(
    r'((?:csrf[-_]token|submission_key)"[^>]*(?:value|content)=)"[^"]*"'
)


@pytest.fixture
def driver(kiosk_client, face_jpeg, licence_back) -> Driver:
    """A driver at the main site's kiosk."""
    return Driver(kiosk_client, face_jpeg, licence_back)


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.location
    return response.get_data(as_text=True)


def test_a_driver_answers_one_screen_at_a_time_and_waits_for_the_gate(
    driver, db_sessions
):
    assert driver.reach() == STEPS_WITH_PASSPORT
    review = _page(driver.client, "/pickup/review")
    for typed in ("BOL-1001", "Rosa Díaz", "Swift Lines", "TX-4411", "53889"):
        assert typed in review

    response = driver.confirm()

    assert response.location.endswith("/pickup/done")
    [pickup] = rows(db_sessions, Pickup)
    assert pickup.status == "arrived"
    assert (pickup.reference, pickup.driver_name, pickup.carrier) == (
        "BOL-1001",
        "Rosa Díaz",
        "Swift Lines",
    )
    assert (pickup.truck_number, pickup.trailer_number) == ("TX-4411", "53889")
    assert (pickup.id_type, pickup.id_document_expired) == ("passport", None)
    assert pickup.kiosk_id is not None and pickup.registered_by is None
    [photo] = rows(db_sessions, Photo)
    assert (photo.kind, photo.pickup_id, photo.visit_id) == ("id", pickup.id, None)
    assert photo.capture_key_hash is None
    assert log_kinds(db_sessions) == ["pickup.arrived"]

    done = _page(driver.client, "/pickup/done")
    assert "A staff member will register you" in done
    assert "Please wait at the gate window." in done
    assert "Rosa Díaz" in done and "TX-4411" in done and "53889" in done


def test_the_arrival_reaches_the_gate_queue_and_an_employee_registers_it(
    driver, db_sessions, site, people
):
    driver.arrive()

    with db_sessions.begin() as session:
        [waiting] = pickups.gate_queue(session, site.id)
        guard = session.get(User, people["guard"].id)
        pickups.register(
            session, waiting, actor=guard, id_type="passport", decision="Walk-in"
        )

    [pickup] = rows(db_sessions, Pickup)
    assert (pickup.status, pickup.registered_by) == ("registered", "Test Guard")


def test_typed_numbers_are_kept_as_the_pickup_log_writes_them(driver, db_sessions):
    driver.arrive(reference=" bol 1001 ", truck="tx  4411", trailer=" 53889 ")

    [pickup] = rows(db_sessions, Pickup)
    assert (pickup.reference, pickup.truck_number) == ("BOL1001", "TX 4411")
    assert pickup.trailer_number == "53889"


def test_a_licence_fills_in_the_name_and_an_expired_one_is_flagged(driver, db_sessions):
    expired = licences.photo_of(licences.payload({**licences.TEXAS, "DBA": "07142020"}))
    driver.reach("/pickup/id-back", id_type="drivers_licence", name="Sean")

    answer = driver.photo("/pickup/id-back", expired).get_json()

    assert answer == {
        "ok": True,
        "advice": [],
        "next": "/pickup/review",
        "name": "Sean Patrick O'Brien",
        "expired": True,
    }
    review = _page(driver.client, "/pickup/review")
    assert "Name from your licence" in review
    assert "Sean Patrick O&#39;Brien" in review
    assert "Your licence has expired." in review

    driver.confirm()
    [pickup] = rows(db_sessions, Pickup)
    assert (pickup.driver_name, pickup.id_type) == (
        "Sean Patrick O'Brien",
        "drivers_licence",
    )
    assert pickup.id_document_expired is True
    assert sorted(p.kind for p in rows(db_sessions, Photo, pickup_id=pickup.id)) == [
        "id",
        "id_back",
    ]


def test_a_card_without_a_barcode_skips_its_back(driver, db_sessions):
    driver.arrive(id_type="national_id", no_barcode=True)

    [pickup] = rows(db_sessions, Pickup)
    assert (pickup.id_type, pickup.id_document_expired) == ("national_id", None)
    assert [p.kind for p in rows(db_sessions, Photo)] == ["id"]


def test_a_poor_id_photo_gets_advice_and_nothing_is_kept(driver, db_sessions):
    driver.reach("/pickup/id-photo")

    response = driver.photo("/pickup/id-photo", b"%PDF-1.7 not a picture")

    assert response.status_code == 422
    [advice] = response.get_json()["advice"]
    assert advice.startswith("This is not a picture we can read.")
    assert rows(db_sessions, Photo) == []


def test_a_picture_for_a_step_not_reached_is_refused(driver, db_sessions, face_jpeg):
    driver.reach("/pickup/vehicle")

    response = driver.photo("/pickup/id-photo", face_jpeg)

    assert response.status_code == 409
    assert response.get_json()["next"] == "/pickup/vehicle"
    assert rows(db_sessions, Photo) == []


def test_choosing_another_id_type_deletes_the_pictures_of_the_first(
    driver, db_sessions
):
    driver.reach("/pickup/review", id_type="passport")
    assert len(rows(db_sessions, Photo)) == 1

    driver.post("/pickup/id-type", id_type="drivers_licence")

    assert rows(db_sessions, Photo) == []
    assert driver.client.get("/pickup/review").location.endswith("/pickup/id-photo")


def test_a_step_opened_out_of_order_sends_the_driver_to_the_first_one_missing(
    driver,
):
    assert driver.client.get("/pickup/vehicle").location.endswith("/pickup")
    driver.reach("/pickup/carrier")

    for path in ("/pickup/review", "/pickup/id-photo", "/pickup/id-back"):
        assert driver.client.get(path).location.endswith("/pickup/carrier")

    assert driver.client.get("/pickup/done").location.endswith("/")


BAD_ANSWERS = {
    "empty reference": ("/pickup", {"reference": ""}, "Enter the pickup reference."),
    "reference with odd characters": (
        "/pickup",
        {"reference": "BOL<1001>"},
        "A pickup reference is up to 40 letters and digits",
    ),
    "reference too long": (
        "/pickup",
        {"reference": "B" * 41},
        "A pickup reference is up to 40 letters and digits",
    ),
    "reference with a control character": (
        "/pickup",
        {"reference": "BOL\u202e1001"},
        "A pickup reference is up to 40 letters and digits",
    ),
    "empty name": ("/pickup/name", {"driver_name": " "}, "Your full name"),
    "name without letters": (
        "/pickup/name",
        {"driver_name": "12345"},
        "must contain letters",
    ),
    "carrier too long": ("/pickup/carrier", {"carrier": "C" * 121}, "at most 120"),
    "empty truck": (
        "/pickup/vehicle",
        {"truck_number": "", "trailer_number": "53889"},
        "Enter the truck number.",
    ),
    "truck with odd characters": (
        "/pickup/vehicle",
        {"truck_number": "TX#4411!", "trailer_number": "53889"},
        "A truck number is up to 20 letters, digits, spaces or hyphens.",
    ),
    "truck with letters of another script": (
        "/pickup/vehicle",
        {"truck_number": "ТХ4411", "trailer_number": "53889"},
        "A truck number is up to 20 letters, digits, spaces or hyphens.",
    ),
    "trailer too long": (
        "/pickup/vehicle",
        {"truck_number": "TX-4411", "trailer_number": "5" * 21},
        "A trailer number is up to 20 letters, digits, spaces or hyphens.",
    ),
    "trailer starting with a hyphen": (
        "/pickup/vehicle",
        {"truck_number": "TX-4411", "trailer_number": "-53889"},
        "A trailer number is up to 20 letters, digits, spaces or hyphens.",
    ),
    "unknown ID type": ("/pickup/id-type", {"id_type": "library_card"}, "Not a"),
}


@pytest.mark.parametrize(
    ("path", "data", "message"), BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys()
)
def test_a_bad_answer_is_refused_on_its_own_screen_and_nothing_is_kept(
    driver, db_sessions, path, data, message
):
    driver.reach(path)
    with driver.client.session_transaction() as before:
        draft_before = dict(before["draft"]) if "draft" in before else None

    response = driver.post(path, **data)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page or "field-errors" in page
    with driver.client.session_transaction() as after:
        assert (dict(after["draft"]) if "draft" in after else None) == draft_before

    assert rows(db_sessions, Pickup) == []
    assert rows(db_sessions, LogEntry) == []


def test_unknown_and_known_references_get_the_same_screens(
    driver, db_sessions, site, people
):
    """The kiosk tells nothing of the appointments: the screens of a reference with
    one and of a reference without are the same, byte for byte."""
    add_appointment(db_sessions, site, reference="BOL-1001")
    screens = {}
    for reference in ("BOL-1001", "BOL-9999"):
        seen = driver.reach(reference=reference)
        pages = [_page(driver.client, path) for path in [*seen, "/pickup/review"]]
        driver.confirm()
        pages.append(_page(driver.client, "/pickup/done"))
        screens[reference] = [
            RANDOM_VALUE.sub(r"\1", page).replace(reference, "REFERENCE")
            for page in pages
        ]
        # The truck leaves, so the next driver may bring it again.
        with db_sessions.begin() as session:
            [pickup] = pickups.gate_queue(session, site.id)
            pickups.refuse(
                session,
                pickup,
                reason="Test over",
                actor=session.get(User, people["guard"].id),
            )

        driver.start_again()

    assert screens["BOL-1001"] == screens["BOL-9999"]
    linked = {p.reference: p.appointment_id for p in rows(db_sessions, Pickup)}
    assert linked["BOL-1001"] is not None and linked["BOL-9999"] is None


def test_a_truck_already_at_the_gate_is_sent_to_the_gate_staff(driver, db_sessions):
    driver.arrive(truck="TX-4411")
    driver.start_again()
    driver.reach(name="Someone Else", truck="tx 4411")
    photos_before = [(p.id, p.pickup_id) for p in rows(db_sessions, Photo)]

    response = driver.confirm()

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This truck is already checked in. Please see the gate staff." in page
    # Nothing half-written: no second arrival, no entry, the pictures unattached.
    assert len(rows(db_sessions, Pickup)) == 1
    assert log_kinds(db_sessions) == ["pickup.arrived"]
    assert [(p.id, p.pickup_id) for p in rows(db_sessions, Photo)] == photos_before
    # Another driver's record is not shown: only what this one typed.
    assert "Rosa Díaz" not in page


def test_a_double_tap_records_one_arrival(driver, db_sessions):
    driver.reach()
    key = driver.review_key()

    first = driver.confirm(key)
    second = driver.confirm(key)

    assert first.location.endswith("/pickup/done")
    assert second.location.endswith("/pickup/done")
    assert len(rows(db_sessions, Pickup)) == 1
    assert log_kinds(db_sessions) == ["pickup.arrived"]


def test_after_the_arrival_its_steps_cannot_be_changed(driver, db_sessions):
    driver.arrive()

    for path in ("/pickup", "/pickup/vehicle", "/pickup/review"):
        assert driver.client.get(path).location.endswith("/pickup/done")

    response = driver.post("/pickup/vehicle", truck_number="XX", trailer_number="YY")
    assert response.location.endswith("/pickup/done")
    [pickup] = rows(db_sessions, Pickup)
    assert pickup.truck_number == "TX-4411"


def test_a_stale_submission_key_records_nothing(driver, db_sessions):
    driver.reach()

    response = driver.confirm("A" * 32)

    assert response.location.endswith("/pickup/review")
    assert rows(db_sessions, Pickup) == []


def test_a_picture_gone_stale_is_asked_for_again(driver, db_sessions):
    driver.reach()
    with db_sessions.begin() as session:
        for photo in session.query(Photo):
            session.delete(photo)

    response = driver.confirm()

    assert response.location.endswith("/pickup/id-photo")
    assert rows(db_sessions, Pickup) == []
    assert "Please take it again" in _page(driver.client, "/pickup/id-photo")


@pytest.mark.parametrize("leave", ["start screen", "reset"])
def test_leaving_forgets_the_driver_and_deletes_the_pictures(
    driver, db_sessions, leave
):
    driver.reach(id_type="drivers_licence")
    assert len(rows(db_sessions, Photo)) == 2

    if leave == "start screen":
        driver.client.get("/")
    else:
        driver.start_again()

    assert rows(db_sessions, Photo) == []
    with driver.client.session_transaction() as session:
        assert "draft" not in session

    assert driver.client.get("/pickup/name").location.endswith("/pickup")


def test_a_visitors_check_in_left_for_a_drivers_arrival_leaves_no_picture(
    driver, visitor, db_sessions
):
    visitor.reach("/check-in/face")
    assert len(rows(db_sessions, Photo)) == 1

    driver.reach("/pickup/name")

    assert rows(db_sessions, Photo) == []
    assert driver.client.get("/check-in/identity").location.endswith("/check-in")


def test_the_done_screen_without_an_arrival_goes_back_to_the_start(driver):
    response = driver.client.get("/pickup/done")

    assert response.status_code == 302
    assert response.location.endswith("/")


def test_the_start_screen_offers_the_drivers_entry(kiosk_client):
    page = _page(kiosk_client, "/")

    assert 'href="/pickup"' in page
    assert "Driver — cargo pickup" in page


def test_a_kiosk_of_another_site_records_the_arrival_at_its_own_site(
    driver, db_sessions, site, other_site
):
    driver.arrive()

    [pickup] = rows(db_sessions, Pickup)
    assert pickup.site_id == site.id
    with db_sessions() as session:
        assert pickups.gate_queue(session, other_site.id) == []
        assert session.get(Site, site.id).code == "main"


def test_the_log_entry_keeps_what_the_driver_typed(driver, db_sessions):
    driver.arrive()

    [entry] = rows(db_sessions, LogEntry)
    body = json.loads(entry.body)
    assert body["set"]["driver_name"] == "Rosa Díaz"
    assert body["set"]["status"] == "arrived"
    assert entry.actor.startswith("kiosk")


def test_a_driver_who_chose_spanish_sees_the_steps_and_errors_in_spanish(
    driver, spanish_mo
):
    token = driver.token()
    driver.client.post("/language", data={"lang": "es", "csrf_token": token})
    driver.reach("/pickup/name")

    page = driver.post("/pickup/name", driver_name="").get_data(as_text=True)

    assert '<html lang="es">' in page
    assert "Paso 2 de 7" in page
    assert "Por favor, corrija los campos marcados abajo." in page
    assert "El campo “Su nombre completo” es obligatorio." in page
    assert ">Volver<" in page and ">Siguiente<" in page
