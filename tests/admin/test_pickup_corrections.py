"""A security manager corrects a pickup from its record page (CTPAT 7.6): every
field is checked as the kiosk and the gate check it, the changed ones are
corrected together with one reason or not at all, the log keeps the value before,
and the page shows both. Nothing in the console deletes a record."""

import pytest

from gatekeeper.models import AuditEvent, Pickup
from tests.fixtures.apps import csrf_token, sign_in
from tests.functional import log_kinds, rows, table_rows
from tests.support.pickups import (
    ASSIGNED_SEAL,
    OTHER_SEAL,
    add_appointment,
    arrive,
    depart,
    on_site,
    register,
)

REASON = "Checked against the bill of lading"
# What the form shows of a pickup on site, as tests.support.pickups makes it.
ON_SITE_VALUES = {
    "reference": "BOL-1001",
    "driver_name": "Rosa Díaz",
    "carrier": "Swift Lines",
    "truck_number": "TX-4411",
    "trailer_number": "53889",
    "id_type": "drivers_licence",
}


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def manager(signed_in):
    return signed_in("security_manager")


@pytest.fixture
def registered(db_sessions, site, people):
    """A driver on site, registered by the guard without an appointment."""
    return on_site(db_sessions, site, people["guard"].id)


@pytest.fixture
def departed(db_sessions, site, people):
    """A walk-in driver logged out with a seal: no seal was assigned to it."""
    pickup = on_site(db_sessions, site, people["guard"].id)
    assert depart(db_sessions, pickup.id, people["guard"].id).departed
    return pickup


def _correct(client, pickup_id: int, values=None, **changes):
    page = f"/records/pickups/{pickup_id}/correct"
    data = {
        "csrf_token": csrf_token(client, page),
        **(values or ON_SITE_VALUES),
        "reason": REASON,
        **changes,
    }
    return client.post(page, data=data)


def _stored(db_sessions, pickup_id: int) -> Pickup:
    return rows(db_sessions, Pickup, id=pickup_id)[0]


def test_a_manager_corrects_a_pickup_and_its_page_shows_both_values(
    manager, db_sessions, registered
):
    response = _correct(manager, registered.id, driver_name="Rosa María Díaz")

    assert response.status_code == 302
    assert response.location.endswith(f"/pickups/{registered.id}")
    page = manager.get(f"/pickups/{registered.id}")
    text = _text(page)
    assert "Corrected: Driver&#39;s name." in text
    (row,) = [r for r in table_rows(page.data) if r[1:2] == ["Driver's name"]]
    assert row[2:6] == ["Rosa Díaz", "Rosa María Díaz", "securitymanagermain", REASON]
    assert "<del>Rosa Díaz</del>" in text and "<ins>Rosa María Díaz</ins>" in text
    assert log_kinds(db_sessions)[-1] == "pickup.corrected"
    assert _stored(db_sessions, registered.id).driver_name == "Rosa María Díaz"


def test_several_fields_are_corrected_together_with_one_reason(
    manager, db_sessions, registered
):
    _correct(manager, registered.id, carrier="Swift Lines Inc.", truck_number="tx 4412")

    stored = _stored(db_sessions, registered.id)
    assert (stored.carrier, stored.truck_number) == ("Swift Lines Inc.", "TX 4412")
    assert log_kinds(db_sessions)[-2:] == ["pickup.corrected", "pickup.corrected"]


def test_a_carrier_photo_id_takes_the_reason_as_why_a_government_one_was_not_feasible(
    manager, db_sessions, registered
):
    _correct(manager, registered.id, id_type="carrier_photo_id")
    page = _text(manager.get(f"/pickups/{registered.id}"))
    carrier_id = _stored(db_sessions, registered.id)
    _correct(
        manager,
        registered.id,
        values={**ON_SITE_VALUES, "id_type": "carrier_photo_id"},
        id_type="passport",
    )

    assert carrier_id.id_fallback_reason == REASON
    assert "<del>Driver&#39;s licence</del>" in page
    assert "<ins>Carrier-issued photo ID</ins>" in page
    stored = _stored(db_sessions, registered.id)
    assert (stored.id_type, stored.id_fallback_reason) == ("passport", None)
    # The reason set with the ID type is not a correction of its own.
    page = manager.get(f"/pickups/{registered.id}")
    fields = [r[1] for r in table_rows(page.data) if r[-1:] == [REASON]]
    assert fields == ["Photo ID checked", "Photo ID checked"]


def test_a_seal_number_is_corrected_when_typed_twice(manager, db_sessions, departed):
    values = {**ON_SITE_VALUES, "seal_number": ASSIGNED_SEAL}

    response = _correct(
        manager,
        departed.id,
        values=values,
        seal_number="ul-7654321",
        seal_confirmation="UL 7654321",
    )

    assert response.status_code == 302
    assert _stored(db_sessions, departed.id).seal_number == OTHER_SEAL
    page = manager.get(f"/pickups/{departed.id}")
    (row,) = [r for r in table_rows(page.data) if r[1:2] == ["Seal number"]]
    assert row[2:4] == [ASSIGNED_SEAL, OTHER_SEAL]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"driver_name": ""}, "Driver&#39;s name is required."),
        ({"carrier": "=HYPERLINK(1)"}, "Carrier contains a character that is not"),
        ({"truck_number": "TX@4411"}, "Truck number: up to 20 letters, digits"),
        ({"trailer_number": ""}, "Enter the trailer number."),
        ({"reference": "BOL 1001 !"}, "A pickup reference is up to 40 letters"),
        ({"id_type": "library_card"}, "Not a valid choice"),
        ({"carrier": "New Co", "reason": ""}, "Reason for the correction is required"),
        ({"carrier": "New Co", "reason": "ok"}, "Say why, in at least 3 characters."),
        ({}, "Nothing was changed: change a field first."),
        # Changed to the form, the same value once cleaned: refused by the rule.
        ({"truck_number": "tx-4411"}, "Truck number: that is the value already"),
        # Valid to the form, refused by the rule: the carrier is not changed either.
        ({"carrier": "New Co", "reference": "  "}, "Enter the pickup reference."),
    ],
)
def test_a_refused_correction_is_explained_on_its_page_and_nothing_is_written(
    manager, db_sessions, registered, changes, message
):
    before = log_kinds(db_sessions)

    response = _correct(manager, registered.id, **changes)

    assert response.status_code == 400
    assert message in _text(response)
    assert log_kinds(db_sessions) == before
    stored = _stored(db_sessions, registered.id)
    assert (stored.carrier, stored.truck_number) == ("Swift Lines", "TX-4411")


def test_a_truck_already_on_site_under_another_pickup_is_refused(
    manager, db_sessions, site, people, registered
):
    on_site(db_sessions, site, people["guard"].id, truck_number="TX-9000")

    response = _correct(manager, registered.id, truck_number="TX 9000")

    assert response.status_code == 400
    assert "That truck is already on site." in _text(response)


@pytest.mark.parametrize(
    ("seal", "confirmation", "message"),
    [
        (OTHER_SEAL, "UL7654320", "The two seal numbers differ."),
        ("AB12", "AB12", "This is not a seal number of this site&#39;s format."),
    ],
)
def test_a_seal_number_is_checked_as_at_departure(
    manager, db_sessions, departed, seal, confirmation, message
):
    values = {**ON_SITE_VALUES, "seal_number": ASSIGNED_SEAL}

    response = _correct(
        manager,
        departed.id,
        values=values,
        seal_number=seal,
        seal_confirmation=confirmation,
    )

    assert response.status_code == 400
    assert message in _text(response)
    assert _stored(db_sessions, departed.id).seal_number == ASSIGNED_SEAL


def test_a_seal_other_than_the_one_assigned_is_a_case_not_a_correction(
    manager, db_sessions, site, people
):
    add_appointment(db_sessions, site)
    pickup = on_site(db_sessions, site, people["guard"].id)
    assert depart(db_sessions, pickup.id, people["guard"].id).departed

    response = _correct(
        manager,
        pickup.id,
        values={**ON_SITE_VALUES, "seal_number": ASSIGNED_SEAL},
        seal_number=OTHER_SEAL,
        seal_confirmation=OTHER_SEAL,
    )

    assert response.status_code == 400
    assert f"Seal {OTHER_SEAL} is not the one assigned" in _text(response)
    assert _stored(db_sessions, pickup.id).seal_number == ASSIGNED_SEAL


def test_the_form_offers_what_the_pickup_has_recorded_and_its_view_is_audited(
    manager, db_sessions, site, people, departed
):
    waiting = arrive(db_sessions, site, truck_number="TX-7000")
    registered = on_site(db_sessions, site, people["guard"].id, truck_number="TX-8000")

    arrived = _text(manager.get(f"/records/pickups/{waiting.id}/correct"))
    on_site_page = _text(manager.get(f"/records/pickups/{registered.id}/correct"))
    left = _text(manager.get(f"/records/pickups/{departed.id}/correct"))

    assert 'value="TX-7000"' in arrived
    assert 'name="id_type"' not in arrived and 'name="seal_number"' not in arrived
    assert '<option selected value="drivers_licence">' in on_site_page
    assert 'name="seal_number"' not in on_site_page
    assert f'value="{ASSIGNED_SEAL}"' in left and 'name="seal_confirmation"' in left
    reads = rows(db_sessions, AuditEvent, action="log.record_read")
    assert [event.target for event in reads] == [
        f"pickup:{waiting.id}",
        f"pickup:{registered.id}",
        f"pickup:{departed.id}",
    ]


def test_a_seal_cannot_be_set_on_a_pickup_that_has_not_departed(
    manager, db_sessions, registered
):
    response = _correct(
        manager, registered.id, seal_number=OTHER_SEAL, seal_confirmation=OTHER_SEAL
    )

    assert response.status_code == 400
    assert _stored(db_sessions, registered.id).seal_number is None


@pytest.mark.parametrize("role", ["front_desk", "guard", "administrator"])
def test_only_a_security_manager_corrects_a_pickup(
    signed_in, db_sessions, registered, role
):
    client = signed_in(role)
    before = log_kinds(db_sessions)

    refused = client.post(
        f"/records/pickups/{registered.id}/correct",
        data={
            "csrf_token": csrf_token(client, "/account"),
            **ON_SITE_VALUES,
            "carrier": "Changed Co",
            "reason": "Trying",
        },
    )

    assert refused.status_code == 403
    assert log_kinds(db_sessions) == before


def test_the_pickup_page_offers_the_correction_to_a_manager_only(signed_in, registered):
    guard = _text(signed_in("guard").get(f"/pickups/{registered.id}"))
    manager = _text(signed_in("security_manager").get(f"/pickups/{registered.id}"))

    assert "Correct this pickup" not in guard
    assert f'href="/records/pickups/{registered.id}/correct"' in manager


def test_a_correction_without_its_form_token_is_refused(
    manager, db_sessions, registered
):
    before = log_kinds(db_sessions)

    response = manager.post(
        f"/records/pickups/{registered.id}/correct",
        data={**ON_SITE_VALUES, "carrier": "Changed Co", "reason": "No token"},
    )

    assert response.status_code == 400
    assert log_kinds(db_sessions) == before


def test_a_pickup_of_another_site_cannot_be_corrected(
    make_person, console_app, other_site, db_sessions, registered
):
    client = console_app.test_client()
    sign_in(client, make_person("security_manager", other_site))

    assert client.get(f"/records/pickups/{registered.id}/correct").status_code == 404
    assert client.get("/records/pickups/99999/correct").status_code == 404
    assert rows(db_sessions, AuditEvent, action="log.record_read") == []


def test_corrections_made_at_registration_and_afterwards_are_listed_in_order(
    manager, db_sessions, site, people
):
    pickup = arrive(db_sessions, site, driver_name="Rosa Diaz")
    register(
        db_sessions,
        pickup.id,
        people["guard"].id,
        corrections={"driver_name": "Rosa Díaz"},
        decision="Walk-in accepted",
    )

    _correct(manager, pickup.id, driver_name="Rosa María Díaz")

    page = manager.get(f"/pickups/{pickup.id}")
    names = [r[2:4] for r in table_rows(page.data) if r[1:2] == ["Driver's name"]]
    assert names == [["Rosa Diaz", "Rosa Díaz"], ["Rosa Díaz", "Rosa María Díaz"]]


# The blueprints that read or write the visitor and pickup logs and their photos.
LOG_BLUEPRINTS = {"records", "pickup_log", "visits", "log_review", "gate", "photos"}


def test_no_console_route_deletes_a_log_record(console_app):
    """Corrections add to the log; no route of the logs' pages removes anything."""
    rules = [
        rule
        for rule in console_app.url_map.iter_rules()
        if rule.endpoint.partition(".")[0] in LOG_BLUEPRINTS
    ]

    assert len(rules) > 20
    for rule in rules:
        assert "DELETE" not in rule.methods, rule.rule
        words = set(rule.endpoint.rpartition(".")[2].split("_"))
        assert not {"delete", "remove", "purge"} & words, rule.endpoint
