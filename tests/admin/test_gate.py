"""The gate in the console: registration by an employee, walk-ups, departure with
seal and VVTT, the gate pass, the driver's ID images and the site's pickup rules
(CTPAT 10.3, 10.4, 6.7, 7.30)."""

import io
import re
import subprocess

import numpy as np
import pytest
import zxingcpp
from sqlalchemy import func, select

from gatekeeper import cases
from gatekeeper.models import AuditEvent, Case, OutboxMessage, Photo, Pickup, Site
from tests.fixtures.apps import PHOTO_KEY, csrf_token
from tests.support import pdfs, pictures
from tests.support.pickups import (
    ASSIGNED_SEAL,
    OTHER_SEAL,
    add_appointment,
    arrive,
    on_site,
)


@pytest.fixture
def guard(signed_in):
    return signed_in("guard")


@pytest.fixture
def appointment(db_sessions, site):
    return add_appointment(db_sessions, site)


def _pickup(db_sessions, pickup_id: int) -> Pickup:
    with db_sessions() as session:
        return session.get(Pickup, pickup_id)


def _count(db_sessions, model, *where) -> int:
    with db_sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _text(response) -> str:
    return response.get_data(as_text=True)


def _post(client, path: str, form_page: str, data: dict, **kwargs):
    token = csrf_token(client, form_page)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def _registration(client, pickup_id: int, **fields):
    data = {
        "id_type": "drivers_licence",
        "reference": "BOL-1001",
        "driver_name": "Rosa Díaz",
        "carrier": "Swift Lines",
        "truck_number": "TX-4411",
        "trailer_number": "53889",
        "fallback_reason": "",
        "decision": "",
        **fields,
    }
    page = f"/gate/{pickup_id}/register"
    return _post(client, page, page, data)


def _departure(client, pickup_id: int, **fields):
    data = {
        "seal_number": ASSIGNED_SEAL,
        "seal_confirmation": ASSIGNED_SEAL,
        "trailer_number": "53889",
        "view": "y",
        "verify": "y",
        "tug": "y",
        "twist": "y",
        **fields,
    }
    data = {name: value for name, value in data.items() if value is not None}
    page = f"/gate/{pickup_id}/depart"
    return _post(client, page, page, data)


# The queue and registration


def test_the_queue_shows_who_waits_and_who_is_on_site(
    guard, db_sessions, site, people, appointment
):
    waiting = arrive(db_sessions, site)
    other = on_site(
        db_sessions,
        site,
        people["guard"].id,
        reference="WALK-1",
        driver_name="Ivan Petrov",
        truck_number="NM 77",
    )

    page = _text(guard.get("/gate/"))

    assert "Rosa Díaz" in page and "matches" in page
    assert f"/gate/{waiting.id}/register" in page
    assert "Ivan Petrov" in page and f"/gate/{other.id}/depart" in page


def test_a_guard_registers_a_driver_after_checking_the_photo_id(
    guard, db_sessions, site, appointment
):
    pickup = arrive(db_sessions, site)

    response = _registration(guard, pickup.id)

    assert response.status_code == 302
    row = _pickup(db_sessions, pickup.id)
    assert (row.status, row.id_type, row.registered_by) == (
        "registered",
        "drivers_licence",
        "Test Guard",
    )
    assert row.registered_at is not None


def test_differences_are_shown_first_and_registration_waits_for_a_decision(
    guard, db_sessions, site, appointment
):
    pickup = arrive(db_sessions, site, driver_name="Tom Baker", truck_number="TX-9")

    page = _text(guard.get(f"/gate/{pickup.id}/register"))
    assert "The appointment names driver Rosa Díaz." in page
    assert "The appointment names truck TX-4411." in page

    refused = _registration(
        guard, pickup.id, driver_name="Tom Baker", truck_number="TX-9"
    )
    assert refused.status_code == 400
    assert "Record your decision" in _text(refused)
    assert _pickup(db_sessions, pickup.id).status == "arrived"

    done = _registration(
        guard,
        pickup.id,
        driver_name="Tom Baker",
        truck_number="TX-9",
        decision="Carrier confirmed a relief driver by phone",
    )
    assert done.status_code == 302
    assert _pickup(db_sessions, pickup.id).status == "registered"
    assert _count(db_sessions, Case, Case.kind == "appointment_mismatch") == 1


def test_a_carrier_photo_id_is_accepted_only_with_the_reason(
    guard, db_sessions, site, appointment
):
    pickup = arrive(db_sessions, site)

    refused = _registration(guard, pickup.id, id_type="carrier_photo_id")
    assert refused.status_code == 400
    assert "not feasible" in _text(refused)

    _registration(
        guard,
        pickup.id,
        id_type="carrier_photo_id",
        fallback_reason="Licence kept by the state police after a stop",
    )
    row = _pickup(db_sessions, pickup.id)
    assert row.id_type == "carrier_photo_id"
    assert row.id_fallback_reason == "Licence kept by the state police after a stop"


def test_corrections_at_registration_replace_what_the_driver_typed(
    guard, db_sessions, site, appointment
):
    pickup = arrive(db_sessions, site, trailer_number="5388")

    _registration(guard, pickup.id, trailer_number="53 889")

    assert _pickup(db_sessions, pickup.id).trailer_number == "53 889"


def test_a_registration_with_an_odd_truck_number_keeps_nothing(
    guard, db_sessions, site, appointment
):
    pickup = arrive(db_sessions, site)

    response = _registration(guard, pickup.id, truck_number="TX<4411>")

    assert response.status_code == 400
    assert "Truck number" in _text(response)
    row = _pickup(db_sessions, pickup.id)
    assert (row.status, row.truck_number) == ("arrived", "TX-4411")


def test_refusing_a_driver_ends_the_pickup_and_opens_a_case(
    guard, db_sessions, site, appointment
):
    pickup = arrive(db_sessions, site)
    page = f"/gate/{pickup.id}/register"

    response = _post(
        guard,
        f"/gate/{pickup.id}/refuse",
        page,
        {"refuse-reason": "The person is not the one on the licence"},
    )

    assert response.status_code == 302
    assert _pickup(db_sessions, pickup.id).status == "refused"
    assert _count(db_sessions, Case, Case.kind == "id_refused") == 1


def test_the_driver_id_images_are_shown_and_each_view_is_audited(
    guard, db_sessions, site, appointment
):
    image = pictures.jpeg(pictures.framed(pictures.portrait()))
    pickup = arrive(db_sessions, site, images={"id": image}, key=PHOTO_KEY)
    with db_sessions() as session:
        photo_id = session.scalar(select(Photo.id).where(Photo.pickup_id == pickup.id))

    page = _text(guard.get(f"/gate/{pickup.id}/register"))
    assert f"/gate/photos/{photo_id}.jpg" in page

    response = guard.get(f"/gate/photos/{photo_id}.jpg")

    assert response.status_code == 200 and response.data == image
    assert response.headers["Cache-Control"] == "no-store"
    with db_sessions() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "photo.viewed")
        )
    assert event.target == f"pickup:{pickup.id}" and '"kind": "id"' in event.detail


def test_a_photo_of_no_pickup_is_not_served_here(guard, db_sessions, site):
    with db_sessions.begin() as session:
        loose = Photo(site_id=site.id, kind="id", sealed=b"x")
        session.add(loose)
        session.flush()
        loose_id = loose.id

    assert guard.get(f"/gate/photos/{loose_id}.jpg").status_code == 404


# Walk-up drivers


def _walk_up(client, **fields):
    data = {
        "reference": "BOL-1001",
        "driver_name": "Rosa Díaz",
        "carrier": "Swift Lines",
        "truck_number": "TX-4411",
        "trailer_number": "53889",
        "id_type": "passport",
        "fallback_reason": "",
        "decision": "",
        "submission_key": "walk-up-key-1",
        **fields,
    }
    return _post(client, "/gate/walk-up", "/gate/walk-up", data)


def test_a_driver_who_never_touched_the_kiosk_is_registered_at_once(
    guard, db_sessions, site, appointment
):
    response = _walk_up(guard)
    again = _walk_up(guard)

    assert response.status_code == 302 and again.status_code == 302
    with db_sessions() as session:
        [row] = session.scalars(select(Pickup)).all()
    assert (row.status, row.registered_by, row.kiosk_id) == (
        "registered",
        "Test Guard",
        None,
    )


def test_a_walk_up_without_appointment_shows_it_and_waits_for_a_decision(
    guard, db_sessions, site
):
    response = _walk_up(guard, reference="NOPE-7")

    assert response.status_code == 400
    assert "No appointment has this reference." in _text(response)
    assert _count(db_sessions, Pickup) == 0

    assert _walk_up(guard, reference="NOPE-7", decision="Dock lead expects it")
    assert _count(db_sessions, Pickup, Pickup.status == "registered") == 1


def test_a_site_by_appointment_only_refuses_a_walk_up_without_one(
    guard, db_sessions, site
):
    with db_sessions.begin() as session:
        session.get(Site, site.id).walk_in_pickups = False

    response = _walk_up(guard, reference="NOPE-7", decision="Dock lead expects it")

    assert response.status_code == 400
    assert "appointment only" in _text(response)
    assert _count(db_sessions, Pickup) == 0


def test_a_second_arrival_of_a_truck_on_site_is_refused(
    guard, db_sessions, site, people
):
    on_site(db_sessions, site, people["guard"].id, reference="A-1")

    response = _walk_up(guard, reference="A-2", decision="Second load")

    assert response.status_code == 400
    assert "already checked in" in _text(response)
    assert _count(db_sessions, Pickup) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("trailer_number", "T" * 21, "Trailer number"),
        ("truck_number", "TX;DROP", "Truck number"),
        ("reference", "", "reference"),
        ("driver_name", "", "name"),
    ],
)
def test_a_walk_up_with_bad_input_says_what_and_keeps_nothing(
    guard, db_sessions, site, field, value, message
):
    response = _walk_up(guard, **{field: value}, decision="Walk-in")

    assert response.status_code == 400
    assert message in _text(response)
    assert _count(db_sessions, Pickup) == 0


# Departure


def test_a_departure_with_the_assigned_seal_logs_the_driver_out(
    guard, db_sessions, site, people, appointment
):
    pickup = on_site(db_sessions, site, people["guard"].id)

    response = _departure(guard, pickup.id, seal_confirmation="ul-1234567")

    assert response.status_code == 302
    assert response.location.endswith(f"/gate/{pickup.id}/pass")
    row = _pickup(db_sessions, pickup.id)
    assert (row.status, row.seal_number, row.departed_by, row.vvtt_checked_by) == (
        "departed",
        ASSIGNED_SEAL,
        "Test Guard",
        "Test Guard",
    )
    assert row.trailer_rechecked
    with db_sessions() as session:
        notice = session.scalar(select(OutboxMessage))
    assert notice.pickup_id == pickup.id
    assert notice.recipient == "receiving@consignee.example"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tug": None}, "tug"),
        ({"view": None, "twist": None}, "view, twist"),
        ({"seal_confirmation": "UL1234568"}, "two seal numbers differ"),
        ({"seal_number": "12", "seal_confirmation": "12"}, "format"),
        ({"trailer_number": "53880"}, "trailer number differs"),
    ],
)
def test_a_departure_missing_a_step_or_with_a_bad_number_keeps_the_driver(
    guard, db_sessions, site, people, appointment, fields, message
):
    pickup = on_site(db_sessions, site, people["guard"].id)

    response = _departure(guard, pickup.id, **fields)

    assert response.status_code == 400
    assert message in _text(response)
    assert _pickup(db_sessions, pickup.id).status == "registered"
    assert _count(db_sessions, Case) == 0


def test_a_mismatched_seal_blocks_departure_until_a_manager_releases_it(
    guard, signed_in, db_sessions, site, people, appointment
):
    pickup = on_site(db_sessions, site, people["guard"].id)
    other = {"seal_number": OTHER_SEAL, "seal_confirmation": OTHER_SEAL}

    blocked = _departure(guard, pickup.id, **other)

    assert blocked.status_code == 409
    assert "Departure blocked" in _text(blocked)
    assert _pickup(db_sessions, pickup.id).status == "registered"
    with db_sessions() as session:
        [case] = session.scalars(select(Case)).all()
    assert (case.kind, case.seal_number, case.status) == (
        "seal_mismatch",
        OTHER_SEAL,
        "open",
    )

    manager = signed_in("security_manager")
    assert "1 seal mismatch" in _text(manager.get("/gate/"))
    decided = _post(
        manager,
        f"/cases/{case.id}/seal-decision",
        f"/cases/{case.id}",
        {"decision": "release", "note": "Shipper resealed after a broken seal"},
    )
    assert decided.status_code == 302

    assert _departure(guard, pickup.id, **other).status_code == 302
    assert _pickup(db_sessions, pickup.id).seal_number == OTHER_SEAL


def test_a_second_logout_of_the_same_driver_gets_a_clear_message(
    guard, signed_in, db_sessions, site, people, appointment
):
    pickup = on_site(db_sessions, site, people["guard"].id)
    other_guard = signed_in("security_manager")
    late_token = csrf_token(other_guard, f"/gate/{pickup.id}/depart")

    assert _departure(guard, pickup.id).status_code == 302
    late = other_guard.post(
        f"/gate/{pickup.id}/depart",
        data={
            "csrf_token": late_token,
            "seal_number": ASSIGNED_SEAL,
            "seal_confirmation": ASSIGNED_SEAL,
            "trailer_number": "53889",
            **dict.fromkeys(("view", "verify", "tug", "twist"), "y"),
        },
        follow_redirects=True,
    )

    assert "is already logged out" in _text(late)
    assert _count(db_sessions, OutboxMessage) == 1


def test_departure_before_registration_is_refused(guard, db_sessions, site):
    pickup = arrive(db_sessions, site)

    response = guard.get(f"/gate/{pickup.id}/depart", follow_redirects=True)

    assert "Register this driver before logging them out." in _text(response)


def test_a_seal_photo_is_kept_with_the_departure(
    guard, db_sessions, site, people, appointment
):
    pickup = on_site(db_sessions, site, people["guard"].id)
    image = pictures.jpeg(pictures.framed(pictures.portrait()))
    page = f"/gate/{pickup.id}/depart"

    response = guard.post(
        page,
        data={
            "csrf_token": csrf_token(guard, page),
            "seal_number": ASSIGNED_SEAL,
            "seal_confirmation": ASSIGNED_SEAL,
            "trailer_number": "53889",
            **dict.fromkeys(("view", "verify", "tug", "twist"), "y"),
            "seal_photo": (io.BytesIO(image), "seal.jpg"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    with db_sessions() as session:
        photo = session.scalar(select(Photo).where(Photo.kind == "seal"))
    assert photo.pickup_id == pickup.id and photo.capture_key_hash is None


def test_a_seal_photo_the_judge_refuses_keeps_nothing(
    guard, db_sessions, site, people, appointment
):
    pickup = on_site(db_sessions, site, people["guard"].id)
    page = f"/gate/{pickup.id}/depart"

    response = guard.post(
        page,
        data={
            "csrf_token": csrf_token(guard, page),
            "seal_number": ASSIGNED_SEAL,
            "seal_confirmation": ASSIGNED_SEAL,
            "trailer_number": "53889",
            **dict.fromkeys(("view", "verify", "tug", "twist"), "y"),
            "seal_photo": (io.BytesIO(b"not a picture"), "seal.jpg"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "not a picture we can read" in _text(response)
    assert _pickup(db_sessions, pickup.id).status == "registered"
    assert _count(db_sessions, Photo) == 0


def test_the_camera_scan_reads_a_seals_code_128(guard, site):
    code = zxingcpp.create_barcode("UL 1234567", zxingcpp.BarcodeFormat.Code128)
    frame = np.full((720, 1280), 255, dtype=np.uint8)
    symbol = np.array(code.to_image(scale=4))
    frame[200 : 200 + symbol.shape[0], 300 : 300 + symbol.shape[1]] = symbol
    token = csrf_token(guard, "/gate/walk-up")

    read = guard.post(
        "/gate/scan",
        data=pictures.png(np.dstack([frame] * 3)),
        headers={"Content-Type": "image/png", "X-CSRFToken": token},
    )
    blank = guard.post(
        "/gate/scan",
        data=pictures.png(np.full((720, 1280, 3), 128, dtype=np.uint8)),
        headers={"Content-Type": "image/png", "X-CSRFToken": token},
    )

    assert read.get_json() == {"code": "UL1234567"}
    assert blank.get_json() == {"code": None}


def test_a_driver_gone_without_logout_is_recorded_with_a_case(
    guard, db_sessions, site, people
):
    pickup = on_site(db_sessions, site, people["guard"].id, reference="W-3")
    page = f"/gate/{pickup.id}/depart"

    response = _post(
        guard,
        f"/gate/{pickup.id}/left",
        page,
        {"left-reason": "Truck seen leaving at 14:10 by the dock lead"},
    )

    assert response.status_code == 302
    assert _pickup(db_sessions, pickup.id).status == "left"
    assert _count(db_sessions, Case, Case.kind == "left_unlogged") == 1


def test_a_tampered_seal_is_reported_as_a_case(guard, db_sessions, site, people):
    pickup = on_site(db_sessions, site, people["guard"].id, reference="W-4")
    page = f"/gate/{pickup.id}/depart"

    _post(
        guard,
        f"/gate/{pickup.id}/report",
        page,
        {
            "report-kind": "seal_tampered",
            "report-summary": "Bolt seal cut and glued",
            "report-notified": "Carrier dispatch",
        },
    )

    with db_sessions() as session:
        [case] = cases.open_cases(session, site.id)
    assert (case.kind, case.summary, case.notified) == (
        "seal_tampered",
        "Bolt seal cut and glued",
        "Carrier dispatch",
    )


# The gate pass


def test_the_gate_pass_carries_the_seal_number_in_print_and_as_a_code(
    guard, db_sessions, site, people, appointment, tmp_path
):
    pickup = on_site(db_sessions, site, people["guard"].id)
    _departure(guard, pickup.id)

    page = _text(guard.get(f"/gate/{pickup.id}/pass"))
    pdf = guard.get(f"/gate/{pickup.id}/pass.pdf")

    assert ASSIGNED_SEAL in page and "gate-pass.css" in page
    assert pdf.mimetype == "application/pdf"
    [(width, height)] = pdfs.page_sizes_mm(pdf.data)
    assert (width, height) == (pytest.approx(101.6, abs=0.1), pytest.approx(152.4, 0.1))
    [code] = pdfs.grey_images(pdf.data)
    assert [r.text for r in zxingcpp.read_barcodes(code)] == [ASSIGNED_SEAL]
    path = tmp_path / "pass.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for value in (ASSIGNED_SEAL, "53889", "TX-4411", "Rosa Díaz", "Test Guard"):
        assert value in text


def test_no_gate_pass_before_departure(guard, db_sessions, site, people):
    pickup = on_site(db_sessions, site, people["guard"].id, reference="W-5")

    response = guard.get(f"/gate/{pickup.id}/pass.pdf", follow_redirects=True)

    assert response.mimetype == "text/html"
    assert "once the driver is logged out" in _text(response)


# The site's pickup rules


def _rules(client, **fields):
    data = {
        "walk_in_pickups": "y",
        "appointment_window_minutes": "60",
        "driver_overdue_hours": "6",
        "seal_pattern": r"UL[0-9]{7}",
        **fields,
    }
    data = {name: value for name, value in data.items() if value is not None}
    return _post(client, "/gate/settings", "/gate/settings", data)


def test_a_security_manager_sets_the_pickup_rules(signed_in, db_sessions, site):
    manager = signed_in("security_manager")

    response = _rules(manager, walk_in_pickups=None)

    assert response.status_code == 302
    with db_sessions() as session:
        row = session.get(Site, site.id)
        audited = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "site.pickup_rules_changed")
        )
    assert (row.walk_in_pickups, row.appointment_window_minutes) == (False, 60)
    assert (row.driver_overdue_hours, row.seal_pattern) == (6, r"UL[0-9]{7}")
    assert audited is not None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"seal_pattern": "UL[0-9"}, "not a valid expression"),
        ({"seal_pattern": "[0-9]*"}, "empty seal number"),
        ({"appointment_window_minutes": "0"}, "5 to 1440 minutes"),
        ({"driver_overdue_hours": "500"}, "1 to 72 hours"),
        ({"driver_overdue_hours": "six"}, "Not a valid integer"),
    ],
)
def test_bad_pickup_rules_are_refused_and_nothing_changes(
    signed_in, db_sessions, site, fields, message
):
    manager = signed_in("security_manager")

    response = _rules(manager, **fields)

    assert response.status_code == 400
    assert message in _text(response)
    with db_sessions() as session:
        row = session.get(Site, site.id)
    assert (row.appointment_window_minutes, row.driver_overdue_hours) == (120, 4)


def test_a_pickup_of_another_site_is_absent(guard, db_sessions, other_site):
    pickup = arrive(db_sessions, other_site)

    for path in ("register", "depart", "pass", "pass.pdf"):
        assert guard.get(f"/gate/{pickup.id}/{path}").status_code == 404

    assert re.search(r"Nobody is waiting", _text(guard.get("/gate/")))


def test_registration_requires_a_waiting_driver(guard, db_sessions, site, people):
    pickup = on_site(db_sessions, site, people["guard"].id, reference="W-6")

    response = guard.get(f"/gate/{pickup.id}/register", follow_redirects=True)

    assert "is not waiting to be registered" in _text(response)


def test_the_id_type_the_driver_named_is_shown_but_not_chosen_for_the_guard(
    guard, db_sessions, site, appointment
):
    pickup = arrive(db_sessions, site)

    page = _text(guard.get(f"/gate/{pickup.id}/register"))

    assert "the driver said they carry: <strong>Driver&#39;s licence" in page
    [licence_choice] = re.findall(r'<input[^>]*value="drivers_licence"[^>]*>', page)
    assert "checked" not in licence_choice
    assert 'value="TX-4411"' in page
