"""On site now: everyone on the premises on one page, printable as a muster list."""

import re

import pytest
from sqlalchemy import select

from gatekeeper import visits
from gatekeeper.models import AuditEvent, Site, User
from tests.support.pickups import arrive, on_site


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def on_the_premises(db_sessions, site, other_site, people, make_visit, admit):
    """An admitted visitor with an escort, one awaiting the ID check, one who left,
    a registered driver, a driver waiting at the gate, and a visitor elsewhere."""
    admitted = admit(make_visit(site, "Ada Lovelace", company="<b>Engines</b>"))
    with db_sessions.begin() as session:
        row = session.get(type(admitted), admitted.id)
        manager = session.get(User, people["security_manager"].id)
        visits.set_escort(session, row, "Hedy Lamarr", actor=manager)

    waiting = make_visit(site, "Blaise Pascal")
    gone = make_visit(site, "Dora Left")
    with db_sessions.begin() as session:
        visits.sign_out(
            session,
            site_id=site.id,
            badge_number=gone.badge_number,
            actor=session.get(User, people["guard"].id),
        )

    driver = on_site(db_sessions, site, people["guard"].id, driver_name="Eve Driver")
    at_gate = arrive(
        db_sessions,
        site,
        driver_name="Fay Waiting",
        reference="BOL-2",
        truck_number="TX-9",
    )
    make_visit(other_site, "Zed Elsewhere")
    return admitted, waiting, driver, at_gate


def test_a_guard_sees_everyone_on_site_with_host_carrier_and_escort(
    signed_in, on_the_premises
):
    admitted, waiting, driver, at_gate = on_the_premises

    page = _text(signed_in("guard").get("/roster/"))

    names = re.findall(r'<th scope="row">\s*<a [^>]*>([^<]+)</a>', page)
    assert names == [
        "Ada Lovelace",
        "Blaise Pascal",
        "Eve Driver",
        "Fay Waiting",
    ]
    assert "Hedy Lamarr" in page
    assert "Ana López" in page
    assert "Swift Lines" in page
    assert f"badge {admitted.badge_number}" in page
    assert "truck TX-9, trailer 53889" in page
    assert "in the lobby: awaiting the ID check" in page
    assert "at the gate: not yet registered" in page
    assert "<strong>4</strong> people on site: 2 visitors, 2 drivers" in page
    assert "Dora Left" not in page and "Zed Elsewhere" not in page


def test_names_and_companies_are_escaped(signed_in, on_the_premises):
    page = _text(signed_in("guard").get("/roster/"))

    assert "&lt;b&gt;Engines&lt;/b&gt;" in page
    assert "<b>Engines</b>" not in page


def test_the_roster_prints_as_a_muster_list_without_inline_script_or_style(
    signed_in, on_the_premises
):
    page = _text(signed_in("security_manager").get("/roster/"))

    assert "Evacuation muster list: Main Warehouse" in page
    assert 'class="print-only muster-heading"' in page
    assert "console/roster.css" in page and "console/roster-print.js" in page
    assert "<script>" not in page and "style=" not in page


def test_each_reading_of_the_roster_is_in_the_audit_trail(
    signed_in, db_sessions, site, on_the_premises
):
    client = signed_in("guard")
    client.get("/roster/")
    client.get("/roster/")

    with db_sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "roster.viewed")
        ).all()

    assert [(event.actor, event.site_id) for event in events] == [
        ("guardmain", site.id),
        ("guardmain", site.id),
    ]
    assert events[0].target == "site:main"


def test_an_empty_site_says_nobody_is_on_site(signed_in):
    page = _text(signed_in("guard").get("/roster/"))

    assert "Nobody is on site." in page
    assert "Start roll call" in page


@pytest.mark.parametrize("role", ["front_desk", "administrator"])
def test_the_roster_is_for_guards_and_security_managers_only(signed_in, role):
    assert signed_in(role).get("/roster/").status_code == 403


def test_a_security_manager_of_two_sites_sees_the_chosen_one(
    console_app, make_person, site, other_site, db_sessions, on_the_premises
):
    from tests.fixtures.apps import csrf_token, sign_in

    person = make_person("security_manager", site, username="twosites")
    with db_sessions.begin() as session:
        user = session.get(User, person.id)
        user.sites.append(session.get(Site, other_site.id))

    client = console_app.test_client()
    sign_in(client, person)
    client.post(
        "/site",
        data={"site_id": other_site.id, "csrf_token": csrf_token(client, "/roster/")},
    )

    page = _text(client.get("/roster/"))

    assert "Zed Elsewhere" in page and "Ada Lovelace" not in page
