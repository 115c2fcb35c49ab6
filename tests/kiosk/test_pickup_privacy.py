"""CTPAT 10.4: drivers may not reach the pickup log. Every route of the kiosk, with
and without an enrolled kiosk, and in the middle of a driver's own arrival, answers
nothing of another driver's record or of any appointment.

The sibling for visits is tests/test_access.py (the kiosk never shows a record it
did not just take); that every console route refuses a kiosk's credential is
proved there too.
"""

import pytest
from flask import url_for

from gatekeeper.models import Appointment, Pickup
from tests.functional import rows
from tests.support import pickups as pickup_records
from tests.support.drivers import Driver

SESSION_COOKIE = "gk_kiosk_session"
# The appointment the driver at the kiosk names: its reference is what that driver
# typed, so it may be shown back to them; the rest of it is the log's.
APPOINTMENT = {
    "reference": "APPT-SECRET-1",
    "carrier": "Covert Haulage",
    "driver_name": "Hidden Appointee",
    "truck_number": "SECRETTRK-1",
    "seal_number": "SEALSECRET1",
    "consignee_email": "dock@consignee-secret.example",
}
# Other drivers, one at each stage of the log.
OTHERS = {
    "arrived": {
        "reference": "REF-SHADOW-1",
        "driver_name": "Quiet Driverson",
        "carrier": "Shadow Freight",
        "truck_number": "SHADOWTRK-1",
        "trailer_number": "SHADOWTRL-1",
    },
    "registered": {
        "reference": "REF-SHADOW-2",
        "driver_name": "Silent Wheeler",
        "carrier": "Unseen Transport",
        "truck_number": "SHADOWTRK-2",
        "trailer_number": "SHADOWTRL-2",
    },
    "departed": {
        "reference": "REF-SHADOW-3",
        "driver_name": "Absent Roadman",
        "carrier": "Vanished Carriers",
        "truck_number": "SHADOWTRK-3",
        "trailer_number": "SHADOWTRL-3",
    },
}
NEVER_SHOWN = [
    *(value for name, value in APPOINTMENT.items() if name != "reference"),
    *(value for record in OTHERS.values() for value in record.values()),
    pickup_records.ASSIGNED_SEAL,
    "Test Guard",
]


@pytest.fixture
def the_log(db_sessions, site, people, app_settings):
    """Other drivers' pickups at every stage, and an appointment with a consignee."""
    pickup_records.add_appointment(db_sessions, site, **APPOINTMENT)
    guard = people["guard"].id
    pickup_records.arrive(db_sessions, site, **OTHERS["arrived"])
    pickup_records.on_site(db_sessions, site, guard, **OTHERS["registered"])
    departed = pickup_records.on_site(db_sessions, site, guard, **OTHERS["departed"])
    outcome = pickup_records.depart(
        db_sessions,
        departed.id,
        guard,
        trailer_number=OTHERS["departed"]["trailer_number"],
    )
    assert outcome.departed
    assert len(rows(db_sessions, Pickup)) == 3
    assert len(rows(db_sessions, Appointment)) == 1


@pytest.fixture
def callers(kiosk_app, kiosk_client, face_jpeg, licence_back, the_log):
    """Each kind of caller: its client, and the session cookie it starts from."""
    driver = Driver(kiosk_client, face_jpeg, licence_back)
    driver.reach(
        reference=APPOINTMENT["reference"],
        name="Typed Here",
        truck="MYTRUCK-9",
        id_type="drivers_licence",
    )
    at_review = kiosk_client.get_cookie(SESSION_COOKIE).value
    driver.confirm()
    done = kiosk_client.get_cookie(SESSION_COOKIE).value
    driver.start_again()
    return {
        "a browser that is not an enrolled kiosk": (kiosk_app.test_client(), None),
        "an enrolled kiosk": (kiosk_client, None),
        "a driver at the review": (kiosk_client, at_review),
        "a driver who has arrived": (kiosk_client, done),
    }


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue

        with app.test_request_context():
            url = url_for(rule.endpoint)

        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


def test_no_kiosk_route_answers_anything_of_the_pickup_log(kiosk_app, callers):
    # CSRF has its own tests; here a refused token would hide what a route answers.
    kiosk_app.config["WTF_CSRF_ENABLED"] = False
    answered = 0
    for caller, (client, cookie) in callers.items():
        for method, url in _routes(kiosk_app):
            if cookie is not None:
                client.set_cookie(SESSION_COOKIE, cookie)

            response = client.open(url, method=method)
            body = response.get_data(as_text=True) + str(response.headers)
            response.close()
            assert response.status_code < 500, f"{method} {url} as {caller}"
            for secret in NEVER_SHOWN:
                assert secret not in body, f"{method} {url} as {caller}: {secret}"

            answered += response.status_code == 200

    # The walk reached pages, not only redirects to enrolment.
    assert answered > 40


def test_typing_another_drivers_reference_or_truck_shows_nothing_of_theirs(
    kiosk_client, face_jpeg, licence_back, the_log, db_sessions
):
    driver = Driver(kiosk_client, face_jpeg, licence_back)
    other = OTHERS["arrived"]
    driver.reach(reference=other["reference"], truck=other["truck_number"])

    refused = driver.confirm()

    page = refused.get_data(as_text=True)
    assert "This truck is already checked in. Please see the gate staff." in page
    for secret in NEVER_SHOWN:
        if secret not in (other["reference"], other["truck_number"]):
            assert secret not in page, secret

    assert len(rows(db_sessions, Pickup)) == 3
