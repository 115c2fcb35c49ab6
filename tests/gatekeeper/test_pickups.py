"""The cargo pickup log: arrival, registration, departure with seal and VVTT (10.4)."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gatekeeper import (
    accounts,
    appointments,
    cases,
    chain,
    photos,
    pickups,
    seals,
    sites,
)
from gatekeeper.db import make_engine, make_sessionmaker, utcnow
from gatekeeper.models import (
    Appointment,
    Case,
    LogEntry,
    OutboxMessage,
    Photo,
    Pickup,
    Site,
    User,
)

ALL_STEPS = dict.fromkeys(seals.VVTT_STEPS, True)


@pytest.fixture
def appointment(sessions, site, guard) -> Appointment:
    with sessions.begin() as s:
        return appointments.add(
            s,
            s.get(Site, site.id),
            {
                "reference": "bol-1001",
                "carrier": "Swift Lines",
                "driver_name": "Rosa Díaz",
                "truck_number": "TX-4411",
                "expected_at": utcnow().isoformat(),
                "seal_number": "UL 1234567",
                "consignee_email": "receiving@example.com",
            },
            actor=s.get(User, guard.id),
            now=utcnow(),
        )


def driver(**overrides) -> pickups.Driver:
    fields = {
        "reference": "BOL-1001",
        "driver_name": "Rosa Diaz",
        "carrier": "Swift Lines",
        "truck_number": "tx-4411",
        "trailer_number": "53 889",
    }
    return pickups.Driver(**{**fields, **overrides})


def arrive(sessions, site, **overrides) -> Pickup:
    with sessions.begin() as s:
        return pickups.arrive(
            s, site=s.get(Site, site.id), kiosk=None, driver=driver(**overrides)
        )


def register(sessions, pickup_id, user_id, **fields) -> Pickup:
    with sessions.begin() as s:
        return pickups.register(
            s,
            s.get(Pickup, pickup_id),
            actor=s.get(User, user_id),
            **{"id_type": "drivers_licence", **fields},
        )


def depart(sessions, pickup_id, user_id, **fields) -> pickups.Outcome:
    values = {
        "seal_number": "UL1234567",
        "seal_confirmation": "ul-1234567",
        "trailer_number": "53 889",
        "vvtt": ALL_STEPS,
        **fields,
    }
    with sessions.begin() as s:
        return pickups.depart(
            s,
            s.get(Pickup, pickup_id),
            pickups.Departure(**values),
            actor=s.get(User, user_id),
        )


def whole(sessions, site) -> bool:
    with sessions.begin() as s:
        return chain.verify_site(s, s.get(Site, site.id)).ok


def test_a_pickup_goes_from_arrival_to_departure_with_every_logged_field(
    sessions, site, guard, appointment
):
    pickup = arrive(sessions, site)
    assert (pickup.status, pickup.truck_number, pickup.reference) == (
        "arrived",
        "TX-4411",
        "BOL-1001",
    )
    assert pickup.appointment_id == appointment.id

    register(sessions, pickup.id, guard.id)
    outcome = depart(sessions, pickup.id, guard.id)

    assert outcome.departed
    with sessions.begin() as s:
        row = s.get(Pickup, pickup.id)
        assert row.status == "departed"
        assert row.seal_number == "UL1234567"
        assert (row.registered_by, row.departed_by) == ("Gina Guard", "Gina Guard")
        kinds = list(
            s.scalars(
                select(LogEntry.kind)
                .where(LogEntry.subject_type == "pickup")
                .order_by(LogEntry.seq)
            )
        )
        notice = s.scalar(select(OutboxMessage))

    assert kinds == ["pickup.arrived", "pickup.registered", "pickup.departed"]
    assert notice.recipient == "receiving@example.com"
    assert notice.pickup_id == pickup.id
    assert "UL1234567" in notice.body and "53 889" in notice.body
    assert whole(sessions, site)


def test_a_second_arrival_of_a_truck_on_site_is_refused(sessions, site):
    arrive(sessions, site)
    with pytest.raises(pickups.PickupError, match="already checked in"):
        arrive(sessions, site, truck_number="TX 4411".replace(" ", "-"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("truck_number", "TX<4411>", "Truck number"),
        ("trailer_number", "X" * 21, "Trailer number"),
        ("reference", "", "reference"),
        ("driver_name", "1234", "letters"),
    ],
)
def test_odd_numbers_and_names_are_refused_with_a_message(
    sessions, site, field, value, message
):
    with pytest.raises(pickups.PickupError, match=message):
        arrive(sessions, site, **{field: value})

    with sessions.begin() as s:
        assert s.scalar(select(func.count()).select_from(Pickup)) == 0


def test_departure_without_registration_is_refused(sessions, site, guard):
    pickup = arrive(sessions, site)
    with pytest.raises(pickups.PickupError, match="Register"):
        depart(sessions, pickup.id, guard.id)


def test_a_carrier_id_needs_the_reason_a_government_id_was_not_feasible(
    sessions, site, guard, appointment
):
    pickup = arrive(sessions, site)
    with pytest.raises(pickups.PickupError, match="not feasible"):
        register(sessions, pickup.id, guard.id, id_type=pickups.CARRIER_ID)

    register(
        sessions,
        pickup.id,
        guard.id,
        id_type=pickups.CARRIER_ID,
        fallback_reason="Licence held at the border checkpoint",
    )
    with sessions.begin() as s:
        row = s.get(Pickup, pickup.id)
        assert row.id_fallback_reason == "Licence held at the border checkpoint"


def test_differences_from_the_appointment_need_a_decision_and_open_a_case(
    sessions, site, guard, appointment
):
    pickup = arrive(sessions, site, driver_name="Someone Else", truck_number="TX-9")
    with sessions.begin() as s:
        found = pickups.differences(s, s.get(Pickup, pickup.id))
    assert {d.code for d in found} == {"driver", "truck"}

    with pytest.raises(pickups.PickupError, match="decision"):
        register(sessions, pickup.id, guard.id)

    register(sessions, pickup.id, guard.id, decision="Carrier called: relief driver")
    with sessions.begin() as s:
        [case] = cases.open_cases(s, site.id)
        assert (case.kind, case.pickup_id) == ("appointment_mismatch", pickup.id)

    assert whole(sessions, site)


def test_a_site_by_appointment_only_refuses_to_register_without_one(
    sessions, site, guard
):
    with sessions.begin() as s:
        s.get(Site, site.id).walk_in_pickups = False

    pickup = arrive(sessions, site, reference="NOPE-1")
    with pytest.raises(pickups.PickupError, match="appointment only"):
        register(sessions, pickup.id, guard.id, decision="Walk-in")


def test_corrections_at_registration_are_logged_with_the_values_before(
    sessions, site, guard, appointment
):
    pickup = arrive(sessions, site, trailer_number="53-88")
    register(sessions, pickup.id, guard.id, corrections={"trailer_number": "53 889"})
    with sessions.begin() as s:
        entry = s.scalar(select(LogEntry).where(LogEntry.kind == "pickup.registered"))
    assert '"corrected_from":{"trailer_number":"53-88"}' in entry.body
    assert whole(sessions, site)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"seal_confirmation": "UL1234568"}, "differ"),
        ({"seal_number": "12", "seal_confirmation": "12"}, "format"),
        ({"vvtt": {**ALL_STEPS, "tug": False}}, "tug"),
        ({"trailer_number": "53 880"}, "trailer number differs"),
    ],
)
def test_a_departure_refuses_a_bad_seal_an_incomplete_vvtt_or_another_trailer(
    sessions, site, guard, appointment, fields, message
):
    pickup = arrive(sessions, site)
    register(sessions, pickup.id, guard.id)
    with pytest.raises(pickups.PickupError, match=message):
        depart(sessions, pickup.id, guard.id, **fields)

    with sessions.begin() as s:
        assert s.get(Pickup, pickup.id).status == "registered"


def test_a_mismatched_seal_blocks_departure_until_a_manager_releases_it(
    sessions, site, guard, manager, appointment
):
    pickup = arrive(sessions, site)
    register(sessions, pickup.id, guard.id)
    other = {"seal_number": "UL7654321", "seal_confirmation": "UL7654321"}

    blocked = depart(sessions, pickup.id, guard.id, **other)
    again = depart(sessions, pickup.id, guard.id, **other)

    assert not blocked.departed and blocked.blocked_by is not None
    assert again.blocked_by.id == blocked.blocked_by.id
    with sessions.begin() as s:
        assert s.get(Pickup, pickup.id).status == "registered"
        case = s.get(Case, blocked.blocked_by.id)
        with pytest.raises(pickups.PickupError, match="security manager"):
            pickups.decide_seal(
                s, case, "release", note="ok", actor=s.get(User, guard.id)
            )

        pickups.decide_seal(
            s,
            case,
            "release",
            note="Shipper resealed after inspection",
            actor=s.get(User, manager.id),
        )

    assert depart(sessions, pickup.id, guard.id, **other).departed
    assert whole(sessions, site)


def test_a_refused_driver_ends_the_pickup_and_opens_a_case(sessions, site, guard):
    pickup = arrive(sessions, site)
    with sessions.begin() as s:
        pickups.refuse(
            s,
            s.get(Pickup, pickup.id),
            reason="ID photo does not match",
            actor=s.get(User, guard.id),
        )

    with sessions.begin() as s:
        assert s.get(Pickup, pickup.id).status == "refused"
        [case] = cases.open_cases(s, site.id)
        assert case.kind == "id_refused"

    # The truck has left, so it may arrive again.
    assert arrive(sessions, site).status == "arrived"


def test_a_walk_up_driver_is_registered_by_the_guard_at_once(sessions, site, guard):
    with sessions.begin() as s:
        pickup = pickups.register_walk_up(
            s,
            s.get(Site, site.id),
            driver=driver(reference="WALK-9"),
            actor=s.get(User, guard.id),
            id_type="passport",
            decision="Walk-in accepted by the dock lead",
        )

    assert (pickup.status, pickup.registered_by) == ("registered", "Gina Guard")
    assert whole(sessions, site)


def test_two_guards_logging_out_one_driver_record_one_departure(pg_url, tmp_path):
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        site = sites.create_site(s, code="race", name="Race", timezone="UTC")
        users = [
            accounts.create_user(
                s,
                username=f"guard{n}",
                display_name=f"Guard {n}",
                role="guard",
                sites=[site],
                actor="setup",
            )[0]
            for n in range(2)
        ]

    pickup = arrive(sessions, site)
    register(sessions, pickup.id, users[0].id, decision="Walk-in accepted")
    barrier = threading.Barrier(2)
    results: list = []

    def guard_departs(user_id):
        barrier.wait()
        try:
            depart(sessions, pickup.id, user_id, seal_confirmation="UL1234567")
            results.append("departed")
        except pickups.PickupError as error:
            results.append(str(error))

    threads = [threading.Thread(target=guard_departs, args=(u.id,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["This driver is already logged out.", "departed"]
    with sessions.begin() as s:
        departures = s.scalar(
            select(func.count())
            .select_from(LogEntry)
            .where(LogEntry.kind == "pickup.departed")
        )
        assert departures == 1
        assert chain.verify_site(s, s.get(Site, site.id)).ok

    engine.dispose()


def test_a_driver_on_site_past_the_site_time_is_overdue(
    sessions, site, guard, appointment
):
    pickup = arrive(sessions, site)
    register(sessions, pickup.id, guard.id)
    with sessions.begin() as s:
        row = s.get(Pickup, pickup.id)
        assert not pickups.is_overdue(row, utcnow())
        assert pickups.is_overdue(row, utcnow() + timedelta(hours=5))


def test_a_driver_gone_without_logout_ends_the_pickup_with_a_case(
    sessions, site, guard, appointment
):
    pickup = arrive(sessions, site)
    with sessions.begin() as s, pytest.raises(pickups.PickupError, match="on site"):
        pickups.mark_left(
            s, s.get(Pickup, pickup.id), reason="Gone", actor=s.get(User, guard.id)
        )

    register(sessions, pickup.id, guard.id)
    with sessions.begin() as s:
        pickups.mark_left(
            s,
            s.get(Pickup, pickup.id),
            reason="Seen leaving at 14:10",
            actor=s.get(User, guard.id),
        )

    with sessions.begin() as s:
        row = s.get(Pickup, pickup.id)
        assert (row.status, row.seal_number, row.departed_by) == (
            "left",
            None,
            "Gina Guard",
        )
        [case] = cases.open_cases(s, site.id)
        assert case.kind == "left_unlogged"

    assert whole(sessions, site)


def test_differences_are_previewed_for_a_driver_not_yet_recorded(
    sessions, site, appointment
):
    with sessions.begin() as s:
        found = pickups.preview_differences(
            s, s.get(Site, site.id), driver(truck_number="TX 9"), utcnow()
        )
        none = pickups.preview_differences(s, s.get(Site, site.id), driver(), utcnow())
        assert s.scalar(select(func.count()).select_from(Pickup)) == 0

    assert [d.code for d in found] == ["truck"]
    assert none == []


def test_the_site_rules_are_checked_before_any_is_changed(sessions, site, guard):
    good = pickups.Rules(False, 30, 8, r"UL[0-9]{7}")
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        for bad, message in [
            (pickups.Rules(False, 2, 8, "UL[0-9]{7}"), "5 to 1440"),
            (pickups.Rules(False, 30, 0, "UL[0-9]{7}"), "1 to 72"),
            (pickups.Rules(False, 30, 8, "UL[0-9"), "not a valid"),
            (pickups.Rules(False, 30, 8, " "), "Enter the seal pattern"),
        ]:
            with pytest.raises(pickups.PickupError, match=message):
                pickups.set_rules(s, row, bad, actor=s.get(User, guard.id))

        assert (row.walk_in_pickups, row.appointment_window_minutes) == (True, 120)
        pickups.set_rules(s, row, good, actor=s.get(User, guard.id))

    with sessions.begin() as s:
        row = s.get(Site, site.id)
        assert (row.walk_in_pickups, row.driver_overdue_hours) == (False, 8)
        assert row.seal_pattern == r"UL[0-9]{7}"


def test_the_log_holds_the_range_and_whoever_is_still_on_site(sessions, site, guard):
    early = arrive(sessions, site, reference="EARLY-1", truck_number="E 1")
    register(sessions, early.id, guard.id, decision="Walk-in")
    gone = arrive(sessions, site, reference="GONE-1", truck_number="G 1")
    with sessions.begin() as s:
        pickups.refuse(
            s, s.get(Pickup, gone.id), reason="No ID", actor=s.get(User, guard.id)
        )
        for row in (s.get(Pickup, early.id), s.get(Pickup, gone.id)):
            row.arrived_at = utcnow() - timedelta(days=3)

    with sessions.begin() as s:
        today = pickups.local_range(s.get(Site, site.id), *[utcnow().date()] * 2)
        shown = pickups.log_between(s, site.id, *today)

    assert [p.reference for p in shown] == ["EARLY-1"]


def test_photos_of_a_pickup_outlive_the_purge_of_unattached_captures(sessions, site):
    with sessions.begin() as s:
        photo = Photo(site_id=site.id, kind="id", sealed=b"x")
        loose = Photo(site_id=site.id, kind="id", sealed=b"y")
        s.add_all([photo, loose])
        s.flush()
        pickup = pickups.arrive(
            s,
            site=s.get(Site, site.id),
            kiosk=None,
            driver=driver(),
            evidence=pickups.Evidence(photos={"id": photo}),
        )

    with sessions.begin() as s:
        assert photos.purge_stale_captures(s, utcnow() + timedelta(hours=2)) == 1
        assert pickups.photos_of(s, pickup.id)["id"].sealed == b"x"
