"""A security manager's correction of a pickup (CTPAT 7.6): checked as the kiosk
and the gate check each field, in the console's words, refused when it changes
nothing, and kept in the chained log with the value before."""

import json

import pytest
from sqlalchemy import select

from gatekeeper import pickups
from gatekeeper.models import LogEntry, Pickup, User
from tests.gatekeeper.test_pickups import arrive, depart, register, whole


def correct(sessions, pickup_id: int, user_id: int, column: str, value: str, **more):
    with sessions.begin() as s:
        pickup = s.get(Pickup, pickup_id)
        pickups.correct(
            s,
            pickup,
            column=column,
            value=value,
            reason=more.pop("reason", "Checked against the bill of lading"),
            actor=s.get(User, user_id),
            **more,
        )


def entries(sessions) -> list[LogEntry]:
    with sessions() as s:
        return list(s.scalars(select(LogEntry).order_by(LogEntry.seq)))


def stored(sessions, pickup_id: int) -> Pickup:
    with sessions() as s:
        return s.get(Pickup, pickup_id)


def test_a_correction_keeps_the_value_before_and_the_chain_stays_whole(
    sessions, site, guard, manager
):
    pickup = arrive(sessions, site)
    register(sessions, pickup.id, guard.id, decision="Walk-in accepted")

    correct(sessions, pickup.id, manager.id, "carrier", "Swift Lines Inc.")

    entry = entries(sessions)[-1]
    body = json.loads(entry.body)
    assert entry.kind == "pickup.corrected" and entry.actor == "user:mia.manager"
    assert body["set"] == {"carrier": "Swift Lines Inc."}
    assert body["details"] == {
        "field": "carrier",
        "reason": "Checked against the bill of lading",
        "before": "Swift Lines",
    }
    assert whole(sessions, site)


@pytest.mark.parametrize(
    ("column", "value"),
    [("driver_name", "Rosa Diaz"), ("truck_number", "tx-4411")],
)
def test_an_unchanged_value_is_refused_and_nothing_is_written(
    sessions, site, manager, column, value
):
    pickup = arrive(sessions, site)
    before = len(entries(sessions))

    with pytest.raises(pickups.PickupError, match="that is the value already"):
        correct(sessions, pickup.id, manager.id, column, value)

    assert len(entries(sessions)) == before


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("driver_name", "", "Driver's name is required."),
        ("carrier", "1234", "Carrier must contain letters."),
        ("trailer_number", "", "Enter the trailer number."),
    ],
)
def test_messages_name_the_field_as_the_console_does(
    sessions, site, manager, column, value, message
):
    pickup = arrive(sessions, site)

    with pytest.raises(pickups.PickupError) as refused:
        correct(sessions, pickup.id, manager.id, column, value)

    assert str(refused.value) == message


def test_corrections_at_the_gate_are_named_as_the_console_names_them(
    sessions, site, guard
):
    pickup = arrive(sessions, site)

    with pytest.raises(pickups.PickupError, match="^Driver's name is required.$"):
        register(sessions, pickup.id, guard.id, corrections={"driver_name": " "})


def test_a_correction_needs_a_reason(sessions, site, manager):
    pickup = arrive(sessions, site)

    with pytest.raises(pickups.PickupError, match="needs a reason"):
        correct(sessions, pickup.id, manager.id, "carrier", "New Co", reason=" ")


def test_the_photo_id_and_the_seal_are_corrected_once_recorded(
    sessions, site, guard, manager
):
    pickup = arrive(sessions, site)
    with pytest.raises(pickups.PickupError, match="cannot be corrected"):
        correct(sessions, pickup.id, manager.id, "id_type", "passport")

    register(sessions, pickup.id, guard.id, decision="Walk-in accepted")
    with pytest.raises(pickups.PickupError, match="cannot be corrected"):
        correct(sessions, pickup.id, manager.id, "seal_number", "UL1", confirmation="")

    correct(sessions, pickup.id, manager.id, "id_type", pickups.CARRIER_ID)
    carrier = stored(sessions, pickup.id)
    assert depart(sessions, pickup.id, guard.id).departed
    correct(
        sessions,
        pickup.id,
        manager.id,
        "seal_number",
        "ul 7654321",
        confirmation="UL-7654321",
    )

    assert carrier.id_fallback_reason == "Checked against the bill of lading"
    assert stored(sessions, pickup.id).seal_number == "UL7654321"
    assert whole(sessions, site)


def test_no_other_column_can_be_corrected(sessions, site, manager):
    pickup = arrive(sessions, site)

    for column in ("status", "departed_at", "registered_by", "id_fallback_reason"):
        with pytest.raises(pickups.PickupError, match="cannot be corrected"):
            correct(sessions, pickup.id, manager.id, column, "x")
