"""Appointments (CTPAT 10.7): one row check for the console, CSV and API; matching
an arrival with its appointment; carriers' API keys."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gatekeeper import appointments
from gatekeeper.db import utcnow
from gatekeeper.models import Appointment, AuditEvent, Carrier, Site, User
from gatekeeper.text import TextError

NOW = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)


def _row(**overrides) -> dict:
    row = {
        "reference": "bol 1001",
        "carrier": "Swift Lines",
        "driver_name": "Rosa Díaz",
        "truck_number": "tx  4411",
        "expected_at": "2026-03-03 14:30",
        "seal_number": "ul-1234567",
        "consignee_email": "receiving@example.com",
    }
    return {**row, **overrides}


def test_a_row_is_cleaned_and_a_time_without_offset_is_the_sites(site):
    values, problems = appointments.check_row(_row(), site, NOW)

    assert problems == []
    assert values["reference"] == "BOL1001"
    assert values["truck_number"] == "TX 4411"
    assert values["seal_number"] == "UL1234567"
    # Dock A is in America/Chicago: 14:30 there is 20:30 UTC in March.
    assert values["expected_at"] == datetime(2026, 3, 3, 20, 30, tzinfo=UTC)


def test_a_time_with_an_offset_keeps_it(site):
    values, _ = appointments.check_row(
        _row(expected_at="2026-03-03T14:30:00+01:00"), site, NOW
    )

    assert values["expected_at"] == datetime(2026, 3, 3, 13, 30, tzinfo=UTC)


def test_every_problem_of_a_row_is_listed(site):
    _, problems = appointments.check_row(
        {
            "reference": "A B<",
            "driver_name": "",
            "truck_number": 12,
            "expected_at": "2027-01-01 00:00",
            "consignee_email": "nobody",
            "colour": "blue",
        },
        site,
        NOW,
    )

    assert problems == [
        "Unknown fields: colour.",
        "carrier is required.",
        "driver_name is required.",
        "A pickup reference is up to 40 letters, digits and - _ / # . characters.",
        "truck_number must be text.",
        "Consignee email is not a valid email address.",
        "expected_at must be within the last day or the next 90 days.",
    ]


def test_a_refused_row_in_an_import_leaves_the_others_imported(sessions, site, guard):
    with sessions.begin() as s:
        report = appointments.import_rows(
            s,
            s.get(Site, site.id),
            [_row(), _row(reference="B-2", driver_name=""), _row(reference="C-3")],
            actor=s.get(User, guard.id),
            source="csv",
            now=NOW,
            numbers=[2, 4, 7],
        )

    assert report.imported == 2
    assert report.refused == [(4, ["driver_name is required."])]
    with sessions.begin() as s:
        assert set(s.scalars(select(Appointment.reference))) == {"BOL1001", "C-3"}
        audit = s.scalar(
            select(AuditEvent).where(AuditEvent.action == "appointments.imported")
        )
        assert '"imported": 2' in audit.detail and '"refused": 1' in audit.detail


def test_a_csv_row_is_numbered_by_the_line_it_starts_on():
    data = (
        "\ufeffReference , Carrier,driver_name,truck_number,expected_at\r\n"
        "\r\n"
        'A-1,Swift,"Rosa\r\nDíaz",T1,2026-03-03 10:00\r\n'
        "A-2,Swift,Ann,T2,2026-03-03 11:00,surplus\r\n"
    ).encode()

    lines = appointments.read_csv_lines(data)

    assert [line for line, _ in lines] == [3, 5]
    assert lines[0][1]["reference"] == "A-1"
    assert lines[1][1]["_extra"] == "surplus"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "missing: reference"),
        (b"reference,carrier,driver_name\n", "missing: truck_number, expected_at"),
        (b'"reference,carrier\n', "valid CSV"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_a_file_that_is_not_a_usable_csv_is_refused_whole(data, message):
    with pytest.raises(appointments.AppointmentError, match=message):
        appointments.read_csv(data)


def _appointment(sessions, site, **overrides) -> Appointment:
    with sessions.begin() as s:
        return appointments.add(
            s,
            s.get(Site, site.id),
            _row(expected_at=utcnow().isoformat(), **overrides),
            actor="test",
            now=utcnow(),
        )


def test_an_arrival_matching_its_appointment_has_no_differences(sessions, site):
    appointment = _appointment(sessions, site)
    with sessions.begin() as s:
        found = appointments.differences(
            s.get(Appointment, appointment.id),
            site=s.get(Site, site.id),
            driver_name="DIAZ, rosa",
            truck_number="TX-4411",
            arrived_at=utcnow() + timedelta(minutes=90),
        )

    assert found == []


def test_each_way_an_arrival_differs_from_its_appointment_is_named(sessions, site):
    appointment = _appointment(sessions, site)
    with sessions.begin() as s:
        found = appointments.differences(
            s.get(Appointment, appointment.id),
            site=s.get(Site, site.id),
            driver_name="Rosa Diaz Ortega",
            truck_number="TX 4412",
            arrived_at=utcnow() + timedelta(minutes=121),
        )
        missing = appointments.differences(
            None,
            site=s.get(Site, site.id),
            driver_name="x",
            truck_number="y",
            arrived_at=utcnow(),
        )

    assert [d.code for d in found] == ["driver", "truck", "window"]
    assert "window of 120 minutes" in found[2].message
    assert [d.code for d in missing] == ["no_appointment"]


def test_a_cancelled_appointment_no_longer_matches(sessions, site, guard):
    appointment = _appointment(sessions, site)
    with sessions.begin() as s:
        appointments.cancel(
            s, s.get(Appointment, appointment.id), actor=s.get(User, guard.id)
        )

    with sessions.begin() as s:
        assert appointments.find(s, site.id, "bol-1001") is None
        with pytest.raises(appointments.AppointmentError, match="already cancelled"):
            appointments.cancel(
                s, s.get(Appointment, appointment.id), actor=s.get(User, guard.id)
            )


def test_a_new_key_replaces_the_old_and_a_revoked_or_inactive_carrier_has_none(
    sessions, site, guard
):
    with sessions.begin() as s:
        carrier = appointments.add_carrier(
            s, s.get(Site, site.id), "Swift Lines", actor=s.get(User, guard.id)
        )
        first = appointments.issue_key(s, carrier, actor=s.get(User, guard.id))
        second = appointments.issue_key(s, carrier, actor=s.get(User, guard.id))

    with sessions.begin() as s:
        assert appointments.carrier_for_key(s, first) is None
        assert appointments.carrier_for_key(s, second).id == carrier.id
        s.get(Carrier, carrier.id).active = False

    with sessions.begin() as s:
        assert appointments.carrier_for_key(s, second) is None
        row = s.get(Carrier, carrier.id)
        row.active = True
        appointments.revoke_key(s, row, actor=s.get(User, guard.id))

    with sessions.begin() as s:
        assert appointments.carrier_for_key(s, second) is None
        actions = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.startswith("carrier."))
            .order_by(AuditEvent.id)
        )
        assert list(actions) == [
            "carrier.added",
            "carrier.key_issued",
            "carrier.key_issued",
            "carrier.key_revoked",
        ]


def test_a_carrier_name_must_be_a_name(sessions, site, guard):
    with sessions.begin() as s, pytest.raises(appointments.AppointmentError):
        appointments.add_carrier(
            s, s.get(Site, site.id), "1234", actor=s.get(User, guard.id)
        )


def test_a_vehicle_number_is_letters_digits_spaces_and_hyphens():
    assert appointments.clean_vehicle(" ab-12  c ", "Truck number") == "AB-12 C"
    for bad in ("", "A" * 21, "AB_12", "-12"):
        with pytest.raises(TextError):
            appointments.clean_vehicle(bad, "Truck number")
