"""The carrier endpoint a TMS posts pre-notifications to (CTPAT 10.7): a per-carrier
API key, a report of each row, and refusals for anything malformed or too large."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from admin.app import create_app
from gatekeeper import appointments
from gatekeeper.db import utcnow
from gatekeeper.models import Appointment, AuditEvent, Site
from tests.fixtures.apps import close

URL = "/api/v1/appointments"


@pytest.fixture
def carrier_key(db_sessions, site) -> str:
    with db_sessions.begin() as session:
        carrier = appointments.add_carrier(
            session, session.get(Site, site.id), "Swift Lines", actor="test"
        )
        return appointments.issue_key(session, carrier, actor="test")


def _row(**overrides) -> dict:
    row = {
        "reference": "LOAD-77",
        "driver_name": "Rosa Díaz",
        "truck_number": "TX 4411",
        "expected_at": (utcnow() + timedelta(hours=4)).isoformat(),
        "seal_number": "UL1234567",
        "consignee_email": "receiving@consignee.example",
    }
    return {**row, **overrides}


def _post(client, key, body, **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(
        URL,
        data=data,
        headers=headers,
        content_type=kwargs.pop("content_type", "application/json"),
        **kwargs,
    )


def _count(db_sessions) -> int:
    with db_sessions() as session:
        return session.scalar(select(func.count()).select_from(Appointment))


def test_a_carrier_posts_appointments_and_each_is_imported(
    console, db_sessions, carrier_key
):
    body = {"appointments": [_row(), _row(reference="LOAD-78", carrier="Fake Co")]}

    response = _post(console, carrier_key, body)

    assert response.status_code == 200
    assert response.get_json() == {"imported": 2, "refused": []}
    with db_sessions() as session:
        rows = session.scalars(select(Appointment).order_by(Appointment.id)).all()
        audit = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "appointments.imported")
        )
    # The key says who the carrier is, whatever a row claims.
    assert {row.carrier_name for row in rows} == {"Swift Lines"}
    assert {row.source for row in rows} == {"api"}
    assert audit.actor == "carrier:Swift Lines"
    assert "Set-Cookie" not in response.headers


def test_bad_rows_are_reported_one_by_one_and_the_good_ones_kept(
    console, db_sessions, carrier_key
):
    body = {
        "appointments": [
            _row(),
            _row(reference="LOAD-2", truck_number=4411, driver_name=""),
            "not an object",
            _row(reference="LOAD-77"),
            _row(reference="LOAD-4", colour="blue"),
        ]
    }

    answer = _post(console, carrier_key, body).get_json()

    assert answer["imported"] == 1
    refused = {entry["row"]: entry["errors"] for entry in answer["refused"]}
    assert set(refused) == {2, 3, 4, 5}
    assert refused[2] == ["driver_name is required.", "truck_number must be text."]
    assert refused[3] == ["Each appointment must be an object."]
    assert refused[4] == ["Reference LOAD-77 already has an appointment."]
    assert refused[5] == ["Unknown fields: colour."]
    assert _count(db_sessions) == 1


@pytest.mark.parametrize(
    "key",
    [None, "gkc_wrong", "not-even-the-prefix", "gkc_" + "x" * 200],
    ids=["none", "wrong", "foreign", "huge"],
)
def test_a_bad_key_gets_401_and_nothing_is_read(console, db_sessions, key):
    response = _post(console, key, {"appointments": [_row()]})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _count(db_sessions) == 0


def test_a_revoked_key_gets_401(console, db_sessions, carrier_key):
    with db_sessions.begin() as session:
        carrier = appointments.carrier_for_key(session, carrier_key)
        appointments.revoke_key(session, carrier, actor="test")

    assert _post(console, carrier_key, {"appointments": [_row()]}).status_code == 401


def test_a_staff_session_or_a_kiosk_credential_is_not_a_key(
    signed_in, console_app, kiosk_client, db_sessions
):
    manager = signed_in("security_manager")
    kiosk = console_app.test_client()
    kiosk.set_cookie(
        "gk_kiosk_device", kiosk_client.get_cookie("gk_kiosk_device").value
    )

    for client in (manager, kiosk):
        assert _post(client, None, {"appointments": [_row()]}).status_code == 401

    assert _count(db_sessions) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"appointments": [', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "one key"),
        (b'{"appointments": [], "extra": 1}', "one key"),
        (b'{"appointments": []}', "at least one"),
        (b'{"appointments": {"reference": "A"}}', "must be a list"),
    ],
)
def test_malformed_json_gets_400_with_the_reason(
    console, db_sessions, carrier_key, body, message
):
    response = _post(console, carrier_key, body)

    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert _count(db_sessions) == 0


def test_a_body_that_is_not_json_gets_415(console, carrier_key):
    response = _post(console, carrier_key, b"reference=A", content_type="text/plain")

    assert response.status_code == 415


def test_an_oversized_body_gets_413_before_it_is_read(
    console, db_sessions, carrier_key
):
    body = json.dumps({"appointments": [_row(note="x" * appointments.MAX_BYTES)]})

    response = _post(console, carrier_key, body.encode())

    assert response.status_code == 413
    assert "larger than" in response.get_json()["error"]
    assert _count(db_sessions) == 0


def test_too_many_rows_get_400(console, carrier_key):
    rows = [{"reference": f"R{n}"} for n in range(appointments.MAX_ROWS + 1)]

    response = _post(console, carrier_key, {"appointments": rows})

    assert response.status_code == 400
    assert "At most" in response.get_json()["error"]


def test_the_endpoint_is_rate_limited(app_settings):
    # A fresh app, so the counters of other tests' requests do not count here.
    app = create_app(app_settings)
    client = app.test_client()
    try:
        responses = [
            _post(client, "gkc_wrong", {"appointments": [_row()]}) for _ in range(61)
        ]
    finally:
        close(app)

    assert [r.status_code for r in responses[:60]] == [401] * 60
    assert responses[60].status_code == 429
    assert "Too many requests" in responses[60].get_json()["error"]
