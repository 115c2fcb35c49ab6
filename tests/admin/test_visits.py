"""Today's visitor log in the console (CTPAT 10.2): the six fields of each visit,
verifying the photo ID, and signing a visitor out."""

from gatekeeper import chain
from gatekeeper.models import LogEntry, Site, Visit
from tests.functional import log_kinds, rows, submit, table_rows

HEADINGS = ["Date", "Visitor", "Photo ID verification", "Arrived"]


def _row_of(page: bytes, name: str) -> list[str]:
    [row] = [cells for cells in table_rows(page) if cells and name in cells[1]]
    return row


def _verify(client, visit_id: int, id_type: str = "drivers_licence"):
    return submit(
        client,
        f"/visits/{visit_id}/verify-id",
        {"id_type": id_type},
        token_page="/account",
    )


def _sign_out(client, visit_id: int):
    return submit(client, f"/visits/{visit_id}/sign-out", token_page="/account")


def _visit(db_sessions, visit_id: int) -> Visit:
    return rows(db_sessions, Visit, id=visit_id)[0]


def test_the_front_desk_sees_the_six_fields_of_todays_visits_at_its_site(
    signed_in, make_visit, site, other_site
):
    visit = make_visit(site, "Jane Roe")
    make_visit(other_site, "Somebody Else")

    page = signed_in("front_desk").get("/visits/today")

    assert page.status_code == 200
    assert b"Somebody Else" not in page.data
    headings = table_rows(page.data)[0]
    assert headings[:6] == [*HEADINGS, "Point of contact", "Departed"]
    date, who, id_check, arrived, host, departed, badge, _ = _row_of(
        page.data, "Jane Roe"
    )
    assert date == visit.arrived_at.strftime("%Y-%m-%d")
    assert who.startswith("Jane Roe Acme Freight")
    assert id_check.startswith("Passport: not verified")
    assert arrived == visit.arrived_at.strftime("%H:%M")
    assert host == "Ana López"
    assert departed == "on site"
    assert badge == visit.badge_number


def test_verifying_an_id_records_who_verified_it(
    signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site)
    client = signed_in("front_desk")

    response = _verify(client, visit.id)

    assert response.status_code == 302
    page = client.get(response.location)
    assert b"ID verified for Jane Roe." in page.data
    id_check = _row_of(page.data, "Jane Roe")[2]
    assert id_check.startswith("Driver's licence: verified by Test Front Desk at")

    verified = _visit(db_sessions, visit.id)
    assert verified.id_status == "verified"
    assert verified.id_type == "drivers_licence"
    assert verified.id_verified_by == "Test Front Desk"
    assert verified.id_verified_at is not None
    entry = rows(db_sessions, LogEntry)[-1]
    assert entry.kind == "visit.id_verified"
    assert entry.actor == "user:frontdeskmain"


def test_an_id_is_verified_once(signed_in, make_visit, site, db_sessions):
    visit = make_visit(site)
    client = signed_in("front_desk")
    _verify(client, visit.id)

    response = _verify(client, visit.id, "passport")

    assert b"already verified" in client.get(response.location).data
    assert _visit(db_sessions, visit.id).id_type == "drivers_licence"
    assert log_kinds(db_sessions) == ["visit.arrived", "visit.id_verified"]


def test_a_guard_cannot_verify_an_id(signed_in, make_visit, site, db_sessions):
    visit = make_visit(site)

    response = _verify(signed_in("guard"), visit.id)

    assert response.status_code == 403
    assert _visit(db_sessions, visit.id).id_status == "unverified"
    assert log_kinds(db_sessions) == ["visit.arrived"]


def test_a_visitor_is_signed_out_from_the_console_once(
    signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site)
    client = signed_in("front_desk")

    response = _sign_out(client, visit.id)

    page = client.get(response.location)
    assert b"Jane Roe signed out." in page.data
    left = _visit(db_sessions, visit.id)
    assert left.departed_at is not None
    assert left.departed_by == "user:frontdeskmain"
    assert _row_of(page.data, "Jane Roe")[5] == left.departed_at.strftime("%H:%M")

    again = _sign_out(client, visit.id)

    assert b"already signed out" in client.get(again.location).data
    assert _visit(db_sessions, visit.id).departed_at == left.departed_at
    assert log_kinds(db_sessions) == ["visit.arrived", "visit.departed"]


def test_a_visit_of_another_site_is_absent(
    signed_in, make_visit, other_site, db_sessions
):
    visit = make_visit(other_site)
    client = signed_in("front_desk")

    assert _verify(client, visit.id).status_code == 404
    assert _sign_out(client, visit.id).status_code == 404
    assert _verify(client, visit.id + 1000).status_code == 404

    untouched = _visit(db_sessions, visit.id)
    assert untouched.id_status == "unverified"
    assert untouched.departed_at is None
    assert log_kinds(db_sessions) == ["visit.arrived"]


def test_the_log_stays_whole_through_the_consoles_changes(
    signed_in, make_visit, site, other_site, db_sessions
):
    first, second = make_visit(site, "Jane Roe"), make_visit(site, "John Doe")
    elsewhere = make_visit(other_site, "Somebody Else")
    front_desk, guard = signed_in("front_desk"), signed_in("guard")

    _verify(front_desk, first.id)
    _verify(guard, second.id)
    _sign_out(front_desk, first.id)
    _sign_out(guard, second.id)
    _sign_out(guard, second.id)
    _sign_out(front_desk, elsewhere.id)

    assert len(rows(db_sessions, LogEntry, site_id=site.id)) == 5
    with db_sessions() as session:
        for checked in (site, other_site):
            report = chain.verify_site(session, session.get(Site, checked.id))
            assert report.ok, (report.chain_problem, report.state_problems)
