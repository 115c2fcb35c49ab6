"""Appointments in the console (CTPAT 10.7): a clerk's form, a carrier's CSV, and
the carriers with the API keys their systems post with."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gatekeeper import appointments
from gatekeeper.db import utcnow
from gatekeeper.models import Appointment, AuditEvent, Carrier
from tests.fixtures.apps import csrf_token
from tests.support.pickups import add_appointment, arrive


def _text(response) -> str:
    return response.get_data(as_text=True)


def _count(db_sessions, model, *where) -> int:
    with db_sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _form(**overrides) -> dict:
    soon = (utcnow() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    fields = {
        "reference": "bol 2002",
        "carrier": "Swift Lines",
        "driver_name": "Rosa Díaz",
        "truck_number": "tx-4411",
        "expected_at": soon,
        "seal_number": "UL-1234567",
        "consignee_email": "receiving@consignee.example",
    }
    return {**fields, **overrides}


def _create(client, **overrides):
    token = csrf_token(client, "/appointments/")
    return client.post(
        "/appointments/", data={"csrf_token": token, **_form(**overrides)}
    )


@pytest.mark.parametrize("role", ["front_desk", "guard"])
def test_a_clerk_records_an_appointment_with_every_field(signed_in, db_sessions, role):
    client = signed_in(role)

    response = _create(client)

    assert response.status_code == 302
    with db_sessions() as session:
        row = session.scalar(select(Appointment))
        audited = session.scalar(
            select(AuditEvent.target).where(AuditEvent.action == "appointment.created")
        )
    assert (row.reference, row.truck_number, row.seal_number) == (
        "BOL2002",
        "TX-4411",
        "UL1234567",
    )
    assert (row.carrier_name, row.driver_name, row.consignee_email) == (
        "Swift Lines",
        "Rosa Díaz",
        "receiving@consignee.example",
    )
    assert audited == f"appointment:{row.id}"
    assert "BOL2002" in _text(client.get("/appointments/"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reference", "", "reference is required"),
        ("truck_number", "TX<1>", "Truck number"),
        ("expected_at", "tomorrow", "Expected time"),
        ("expected_at", "2001-01-01T10:00", "within the last day"),
        ("consignee_email", "not-an-email", "Consignee email"),
        ("driver_name", "12345", "letters"),
        ("seal_number", "UL-12*34", "seal_number"),
    ],
)
def test_a_bad_appointment_says_what_is_wrong_and_keeps_nothing(
    signed_in, db_sessions, field, value, message
):
    response = _create(signed_in("front_desk"), **{field: value})

    assert response.status_code == 400
    assert message in _text(response)
    assert _count(db_sessions, Appointment) == 0


def test_a_reference_is_taken_once(signed_in, db_sessions):
    client = signed_in("front_desk")
    _create(client)

    response = _create(client, reference="BOL-2002".replace("-", ""))

    assert response.status_code == 400
    assert "already has an appointment" in _text(response)
    assert _count(db_sessions, Appointment) == 1


def test_an_appointment_is_cancelled_until_its_driver_arrives(
    signed_in, db_sessions, site
):
    client = signed_in("guard")
    waiting = add_appointment(db_sessions, site, reference="A-1")
    used = add_appointment(db_sessions, site, reference="A-2", truck_number="X 2")
    arrive(db_sessions, site, reference="A-2", truck_number="X 2")
    token = csrf_token(client, "/appointments/")

    client.post(f"/appointments/{waiting.id}/cancel", data={"csrf_token": token})
    refused = client.post(
        f"/appointments/{used.id}/cancel",
        data={"csrf_token": token},
        follow_redirects=True,
    )

    assert "cannot be cancelled" in _text(refused)
    with db_sessions() as session:
        assert session.get(Appointment, waiting.id).cancelled_at is not None
        assert session.get(Appointment, used.id).cancelled_at is None


def _edit(client, appointment_id: int, **overrides):
    path = f"/appointments/{appointment_id}/edit"
    fields = {k: v for k, v in _form(**overrides).items() if k != "reference"}
    return client.post(path, data={"csrf_token": csrf_token(client, path), **fields})


def test_a_clerk_changes_an_appointment_and_the_audit_trail_keeps_the_old_values(
    signed_in, db_sessions, site
):
    client = signed_in("front_desk")
    appointment = add_appointment(db_sessions, site, reference="A-1")
    form = client.get(f"/appointments/{appointment.id}/edit")
    assert 'value="TX-4411"' in _text(form)

    response = _edit(
        client, appointment.id, truck_number="tx 9", reference="SNEAKY-REF"
    )

    assert response.status_code == 302
    shown = _text(client.get("/appointments/"))
    assert "Appointment A-1 changed: truck, expected time." in shown
    with db_sessions() as session:
        row = session.get(Appointment, appointment.id)
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "appointment.changed")
        )
    assert (row.reference, row.truck_number) == ("A-1", "TX 9")
    assert "TX-4411 -> TX 9" in event.detail
    assert event.target == f"appointment:{appointment.id}"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"truck_number": "TX/<b>"}, "Truck number: up to 20 letters"),
        ({"expected_at": "next week"}, "Expected time: use a date and time"),
        ({"driver_name": ""}, "driver_name is required."),
    ],
)
def test_a_bad_change_says_what_is_wrong_and_changes_nothing(
    signed_in, db_sessions, site, overrides, message
):
    client = signed_in("guard")
    appointment = add_appointment(db_sessions, site, reference="A-1")

    response = _edit(client, appointment.id, **overrides)

    assert response.status_code == 400
    assert message in _text(response)
    with db_sessions() as session:
        row = session.get(Appointment, appointment.id)
        changes = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "appointment.changed")
        )
    assert (row.truck_number, row.driver_name, changes) == ("TX-4411", "Rosa Díaz", 0)


def test_an_unchanged_or_arrived_appointment_is_not_changed(
    signed_in, db_sessions, site
):
    client = signed_in("guard")
    same = add_appointment(db_sessions, site, reference="A-1")
    used = add_appointment(db_sessions, site, reference="A-2", truck_number="X 2")
    arrive(db_sessions, site, reference="A-2", truck_number="X 2")
    with db_sessions() as session:
        row = session.get(Appointment, same.id)
        unchanged = {
            "carrier": row.carrier_name,
            "driver_name": row.driver_name,
            "truck_number": row.truck_number,
            "expected_at": row.expected_at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "seal_number": row.seal_number,
            "consignee_email": row.consignee_email,
        }

    nothing = _edit(client, same.id, **unchanged)
    arrived = _edit(client, used.id, truck_number="X 3")

    assert nothing.status_code == arrived.status_code == 400
    assert "Nothing was changed." in _text(nothing)
    assert "cannot be changed" in _text(arrived)
    with db_sessions() as session:
        assert session.get(Appointment, used.id).truck_number == "X 2"


CSV = (
    "reference,carrier,driver_name,truck_number,expected_at,seal_number,"
    "consignee_email\n"
    "L-1,Swift Lines,Rosa Díaz,TX 1,{soon},UL1234567,a@consignee.example\n"
    "L-2,Swift Lines,,TX 2,{soon},,\n"
    "L-3,Swift Lines,Ivan Petrov,TX 3,next week,,\n"
    "L-4,Swift Lines,Ann Lee,TX 4,{soon},,,extra\n"
    "L-5,Swift Lines,Ann Lee,TX 5,{soon},,\n"
)


def _upload(client, data: bytes, filename="pickups.csv"):
    token = csrf_token(client, "/appointments/")
    return client.post(
        "/appointments/upload",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_csv_imports_the_good_lines_and_reports_each_bad_one(signed_in, db_sessions):
    soon = (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    client = signed_in("front_desk")

    response = _upload(client, CSV.format(soon=soon).encode("utf-8-sig"))

    page = _text(response)
    assert response.status_code == 422
    assert "2 appointments imported" in page and "3 lines refused" in page
    assert "driver_name is required." in page
    assert "Expected time: use a date and time" in page
    assert "more values than the header has columns" in page
    for line in ("<td>3</td>", "<td>4</td>", "<td>5</td>"):
        assert line in page
    with db_sessions() as session:
        references = set(session.scalars(select(Appointment.reference)))
        sources = set(session.scalars(select(Appointment.source)))
    assert references == {"L-1", "L-5"} and sources == {"csv"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"reference,carrier\nA,B\n", "missing: driver_name, truck_number"),
        ("reference;carrier\n".encode("utf-16"), "not UTF-8"),
        (b"x" * (1024 * 1024 + 1), "larger than 1 MB"),
        (b'reference,carrier,driver_name,truck_number,expected_at\n"A,B', "valid CSV"),
    ],
)
def test_a_malformed_csv_is_refused_whole(signed_in, db_sessions, data, message):
    response = _upload(signed_in("front_desk"), data)
    # The test client spools a large body to a temporary file, which closing the
    # response closes only when the request followed redirects.
    response.close()

    assert response.status_code == 400
    assert message in _text(response)
    assert _count(db_sessions, Appointment) == 0


def test_an_upload_without_a_file_asks_for_one(signed_in):
    client = signed_in("front_desk")
    token = csrf_token(client, "/appointments/")

    response = client.post("/appointments/upload", data={"csrf_token": token})

    assert response.status_code == 400
    assert "Choose the CSV file" in _text(response)


def _carrier_action(client, path: str):
    token = csrf_token(client, "/appointments/carriers")
    return client.post(path, data={"csrf_token": token})


def test_a_clerk_adds_a_carrier_but_only_a_manager_issues_its_key(
    signed_in, db_sessions
):
    clerk = signed_in("front_desk")
    token = csrf_token(clerk, "/appointments/carriers")
    clerk.post("/appointments/carriers", data={"csrf_token": token, "name": "Acme"})
    with db_sessions() as session:
        carrier = session.scalar(select(Carrier))

    assert (
        _carrier_action(clerk, f"/appointments/carriers/{carrier.id}/key").status_code
        == 403
    )

    manager = signed_in("security_manager")
    page = _text(_carrier_action(manager, f"/appointments/carriers/{carrier.id}/key"))
    key = page.split('id="api-key">', 1)[1].split("<", 1)[0]

    with db_sessions() as session:
        assert appointments.carrier_for_key(session, key).id == carrier.id
        stored = session.get(Carrier, carrier.id)
        assert key not in (stored.api_key_hash, stored.api_key_prefix)

    assert key not in _text(manager.get("/appointments/carriers"))
    _carrier_action(manager, f"/appointments/carriers/{carrier.id}/revoke-key")
    with db_sessions() as session:
        assert appointments.carrier_for_key(session, key) is None


def test_a_carrier_name_is_taken_once_per_site(signed_in, db_sessions):
    clerk = signed_in("guard")
    for _ in range(2):
        token = csrf_token(clerk, "/appointments/carriers")
        response = clerk.post(
            "/appointments/carriers", data={"csrf_token": token, "name": "Acme"}
        )

    assert response.status_code == 400
    assert "already a carrier" in _text(response)
    assert _count(db_sessions, Carrier) == 1
