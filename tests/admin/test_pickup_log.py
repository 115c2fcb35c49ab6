"""The cargo pickup log in the console (CTPAT 10.4): every field of each pickup,
overdue drivers flagged, one pickup's history, and none of it for a driver."""

from datetime import timedelta

import pytest

from gatekeeper.db import utcnow
from gatekeeper.models import Pickup
from tests.support.pickups import (
    ASSIGNED_SEAL,
    OTHER_SEAL,
    add_appointment,
    arrive,
    depart,
    on_site,
    register,
)


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def departed(db_sessions, site, people):
    """A pickup with an appointment, registered and logged out by the guard."""
    add_appointment(db_sessions, site)
    pickup = arrive(db_sessions, site)
    register(
        db_sessions,
        pickup.id,
        people["guard"].id,
        id_type="carrier_photo_id",
        fallback_reason="Licence held at the border",
    )
    assert depart(db_sessions, pickup.id, people["security_manager"].id).departed
    return pickup


def test_each_row_holds_the_fields_of_the_log(signed_in, departed):
    page = _text(signed_in("guard").get("/pickups/"))

    for value in (
        "Rosa Díaz",  # driver's name
        "Swift Lines",  # employer
        "TX-4411",  # truck
        "53889",  # trailer
        ASSIGNED_SEAL,  # seal at departure
        "Carrier-issued photo ID",  # the ID verified
        "Licence held at the border",
        "Test Guard",  # registered by
        "Test Security Manager",  # logged out by
        "BOL-1001",  # the appointment
    ):
        assert value in page, value

    assert page.count("<tr") == 2


def test_a_driver_on_site_past_the_site_time_is_flagged(
    signed_in, db_sessions, site, people
):
    pickup = on_site(db_sessions, site, people["guard"].id, reference="LATE-1")
    with db_sessions.begin() as session:
        row = session.get(Pickup, pickup.id)
        row.arrived_at = utcnow() - timedelta(hours=5)

    log = _text(signed_in("guard").get("/pickups/"))
    gate = _text(signed_in("guard").get("/gate/"))

    assert "overdue" in log and "log-row-overdue" in log
    assert "On site longer than 4 hours" in gate


def test_discrepancies_show_on_the_row_and_the_pickup_page(
    signed_in, db_sessions, site, people
):
    add_appointment(db_sessions, site)
    pickup = on_site(db_sessions, site, people["guard"].id)
    blocked = depart(
        db_sessions,
        pickup.id,
        people["guard"].id,
        seal_number=OTHER_SEAL,
        seal_confirmation=OTHER_SEAL,
    )
    client = signed_in("security_manager")

    log = _text(client.get("/pickups/"))
    show = _text(client.get(f"/pickups/{pickup.id}"))

    assert "Seal number differs from the one assigned (open)" in log
    assert f"/cases/{blocked.blocked_by.id}" in show
    assert "Arrived</strong>" in show and "Registered</strong>" in show


def test_the_pickup_page_shows_the_consignee_notice_and_its_state(signed_in, departed):
    page = _text(signed_in("guard").get(f"/pickups/{departed.id}"))

    assert "receiving@consignee.example" in page
    assert 'tag-warn">waiting</span>' in page
    assert f"/gate/{departed.id}/pass" in page


def test_a_range_of_days_is_shown_and_a_bad_one_explained(signed_in, departed):
    client = signed_in("guard")
    today = utcnow().date()

    earlier = _text(
        client.get(
            f"/pickups/?from={today - timedelta(days=9)}&to={today - timedelta(days=2)}"
        )
    )
    bad = client.get("/pickups/?from=yesterday")
    long = client.get(f"/pickups/?from={today - timedelta(days=40)}&to={today}")

    assert "No pickups in this range." in earlier
    assert bad.status_code == 400 and "Dates are written like" in _text(bad)
    assert long.status_code == 400 and "at most 31 days" in _text(long)


@pytest.mark.parametrize("role", ["front_desk", "administrator"])
def test_the_front_desk_and_administrators_cannot_read_the_log(
    signed_in, departed, role
):
    client = signed_in(role)

    assert client.get("/pickups/").status_code == 403
    assert client.get(f"/pickups/{departed.id}").status_code == 403


def test_a_kiosk_credential_reads_nothing_of_the_log(
    console_app, kiosk_client, departed
):
    kiosk = console_app.test_client()
    kiosk.set_cookie(
        "gk_kiosk_device", kiosk_client.get_cookie("gk_kiosk_device").value
    )

    for path in ("/pickups/", f"/pickups/{departed.id}", "/gate/", "/cases/"):
        response = kiosk.get(path)
        assert response.status_code == 302 and "/login" in response.location
        assert b"Rosa" not in response.data
