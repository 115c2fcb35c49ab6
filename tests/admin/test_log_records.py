"""A record's page for review: the visit's and the pickup's pages show their
corrections with both values and their discrepancies, every read is audited, and
a security manager corrects a visit's fields with a reason, all or nothing."""

import json

import pytest

from gatekeeper.models import AuditEvent, Visit
from tests.fixtures.apps import csrf_token, sign_in
from tests.functional import log_kinds, rows, table_rows
from tests.support.pickups import arrive, register


def _text(response) -> str:
    return response.get_data(as_text=True)


def _reads(db_sessions) -> list[tuple[str, dict]]:
    events = rows(db_sessions, AuditEvent, action="log.record_read")
    return [(event.target, json.loads(event.detail)) for event in events]


@pytest.fixture
def manager(signed_in):
    return signed_in("security_manager")


@pytest.fixture
def visit(make_visit, site):
    return make_visit(site, "Jane Roe", company="Acme Freight")


def _correct(client, visit_id: int, **changes):
    page = f"/records/visits/{visit_id}/correct"
    current = {
        "visitor_name": "Jane Roe",
        "company": "Acme Freight",
        "host_name": "Ana López",
        "id_type": "passport",
        "visitor_type": "visitor",
        "reason": "Checked against the passport",
    }
    data = {"csrf_token": csrf_token(client, page), **current, **changes}
    return client.post(page, data=data)


def test_each_read_of_a_visits_page_is_audited_with_the_photos_shown(
    signed_in, db_sessions, visit_with_photos, site
):
    visit = visit_with_photos(site, kinds=("face", "id"))

    signed_in("front_desk").get(f"/visits/{visit.id}")
    signed_in("security_manager").get(f"/visits/{visit.id}")

    events = rows(db_sessions, AuditEvent, action="log.record_read")
    assert [e.actor for e in events] == ["frontdeskmain", "securitymanagermain"]
    assert _reads(db_sessions)[0] == (f"visit:{visit.id}", {"photos": ["face", "id"]})


def test_a_pickups_page_is_audited_and_shows_corrections_made_at_registration(
    signed_in, db_sessions, site, people
):
    pickup = arrive(db_sessions, site, driver_name="Rosa Diaz")
    register(
        db_sessions,
        pickup.id,
        people["guard"].id,
        corrections={"driver_name": "Rosa Díaz"},
        decision="Walk-in accepted",
    )

    page = signed_in("guard").get(f"/pickups/{pickup.id}")

    corrections = [r for r in table_rows(page.data) if "Driver's name" in r]
    assert corrections and corrections[0][1:5] == [
        "Driver's name",
        "Rosa Diaz",
        "Rosa Díaz",
        "guardmain",
    ]
    assert "no appointment had the reference; decision: Walk-in accepted" in _text(page)
    assert _reads(db_sessions) == [(f"pickup:{pickup.id}", {"photos": []})]


def test_a_manager_corrects_a_visit_and_its_page_shows_both_values(
    manager, db_sessions, visit
):
    response = _correct(manager, visit.id, company="Acme Freight Lines")

    assert response.status_code == 302
    assert response.location.endswith(f"/visits/{visit.id}")
    page = manager.get(f"/visits/{visit.id}")
    text = _text(page)
    assert "Corrected: Company." in text
    (row,) = [r for r in table_rows(page.data) if r[1:2] == ["Company"]]
    assert row[2:6] == [
        "Acme Freight",
        "Acme Freight Lines",
        "securitymanagermain",
        "Checked against the passport",
    ]
    assert "<del>Acme Freight</del>" in text and "<ins>Acme Freight Lines</ins>" in text
    assert log_kinds(db_sessions) == ["visit.arrived", "visit.corrected"]
    assert rows(db_sessions, Visit, id=visit.id)[0].company == "Acme Freight Lines"


def test_several_fields_are_corrected_together_with_one_reason(
    manager, db_sessions, visit
):
    _correct(manager, visit.id, visitor_name="Jane Rowe", id_type="drivers_licence")

    stored = rows(db_sessions, Visit, id=visit.id)[0]
    assert (stored.visitor_name, stored.id_type) == ("Jane Rowe", "drivers_licence")
    assert log_kinds(db_sessions) == [
        "visit.arrived",
        "visit.corrected",
        "visit.corrected",
    ]
    page = _text(manager.get(f"/visits/{visit.id}"))
    assert "<del>Passport</del>" in page and "<ins>Driver&#39;s licence</ins>" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"company": "=HYPERLINK(1)"}, "Company contains a character that is not"),
        ({"visitor_name": ""}, "Visitor&#39;s name is required."),
        ({"company": "New Co", "reason": ""}, "Reason for the correction is required"),
        ({"company": "New Co", "reason": "ok"}, "Say why, in at least 3 characters."),
        ({"visitor_type": "astronaut"}, "Not a valid choice"),
        ({}, "Nothing was changed: change a field first."),
        # Valid to the form, refused by the rule: the company is not changed either.
        ({"company": "New Co", "id_type": ""}, "Nothing was corrected. Choose the"),
    ],
)
def test_a_refused_correction_is_explained_on_its_page_and_nothing_is_written(
    manager, db_sessions, visit, changes, message
):
    response = _correct(manager, visit.id, **changes)

    assert response.status_code == 400
    assert message in _text(response)
    assert log_kinds(db_sessions) == ["visit.arrived"]
    assert rows(db_sessions, Visit, id=visit.id)[0].company == "Acme Freight"


def test_the_correction_page_shows_the_current_values(manager, db_sessions, visit):
    page = _text(manager.get(f"/records/visits/{visit.id}/correct"))

    assert 'value="Jane Roe"' in page and 'value="Acme Freight"' in page
    assert '<option selected value="passport">' in page
    assert _reads(db_sessions) == [(f"visit:{visit.id}", {})]


@pytest.mark.parametrize("role", ["front_desk", "guard"])
def test_only_a_security_manager_corrects_a_visit(signed_in, db_sessions, visit, role):
    client = signed_in(role)
    page = _text(client.get(f"/visits/{visit.id}"))

    refused = client.post(
        f"/records/visits/{visit.id}/correct",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "company": "Changed Co",
            "reason": "Trying",
        },
    )

    assert "Correct this visit" not in page
    assert refused.status_code == 403
    assert log_kinds(db_sessions) == ["visit.arrived"]


def test_a_correction_without_its_form_token_is_refused(manager, db_sessions, visit):
    response = manager.post(
        f"/records/visits/{visit.id}/correct",
        data={"company": "Changed Co", "reason": "No token"},
    )

    assert response.status_code == 400
    assert log_kinds(db_sessions) == ["visit.arrived"]


def test_a_visit_of_another_site_cannot_be_corrected(
    make_person, console_app, other_site, db_sessions, visit
):
    client = console_app.test_client()
    sign_in(client, make_person("security_manager", other_site))

    assert client.get(f"/records/visits/{visit.id}/correct").status_code == 404
    assert _reads(db_sessions) == []


def test_the_visit_page_lists_its_discrepancies(
    manager, db_sessions, site, make_visit, block
):
    block(site, "Shady Ltd", kind="company")
    held = make_visit(site, "Carl Held", company="Shady Ltd")

    page = _text(manager.get(f"/visits/{held.id}"))

    assert "Matched the block list at check-in: company Shady Ltd." in page
    assert "Correct this visit" in page
