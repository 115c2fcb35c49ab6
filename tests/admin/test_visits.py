"""Today's visitor log in the console (CTPAT 10.2): the six fields of each visit,
verifying the photo ID, signing a visitor out, and overdue visits and closing them."""

import json
from datetime import timedelta

from gatekeeper import chain, visits
from gatekeeper.db import utcnow
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


def _close(client, visit_id: int, reason: str):
    return submit(
        client, f"/visits/{visit_id}/close", {"reason": reason}, token_page="/account"
    )


def _visit(db_sessions, visit_id: int) -> Visit:
    return rows(db_sessions, Visit, id=visit_id)[0]


def _arrived_hours_ago(monkeypatch, make_visit, site, name: str, hours: int) -> Visit:
    """A visit checked in some hours ago; the main site's badges last 12 hours."""
    arrived = utcnow() - timedelta(hours=hours)
    with monkeypatch.context() as clock:
        clock.setattr(visits, "utcnow", lambda: arrived)
        return make_visit(site, name)


def _names(page: bytes) -> list[str]:
    return [cells[1].split(" Acme")[0] for cells in table_rows(page)[1:]]


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
    assert _close(client, visit.id, "Left by the yard gate").status_code == 404
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


def test_overdue_visits_are_tagged_counted_and_listed_first(
    signed_in, make_visit, site, monkeypatch
):
    make_visit(site, "Jane Roe")
    two_days = _arrived_hours_ago(monkeypatch, make_visit, site, "Old Timer", 50)
    _arrived_hours_ago(monkeypatch, make_visit, site, "Late Leaver", 20)
    _arrived_hours_ago(monkeypatch, make_visit, site, "Still Welcome", 6)

    page = signed_in("guard").get("/visits/today")

    assert b"2 visits overdue" in page.data
    assert _names(page.data) == [
        "Old Timer",
        "Late Leaver",
        "Jane Roe",
        "Still Welcome",
    ]
    date, *_, departed, _badge, actions = _row_of(page.data, "Old Timer")
    assert date == two_days.arrived_at.strftime("%Y-%m-%d")
    expected_end = two_days.valid_until.strftime("%Y-%m-%d %H:%M")
    assert departed == f"overdue expected to leave by {expected_end}"
    assert _row_of(page.data, "Late Leaver")[5].startswith("overdue ")
    assert _row_of(page.data, "Still Welcome")[5] == "on site"
    assert actions.startswith("Sign out Old Timer Close visit of Old Timer")
    assert f'action="/visits/{two_days.id}/close"'.encode() in page.data


def test_one_overdue_visit_is_counted_in_the_singular(
    signed_in, make_visit, site, monkeypatch
):
    _arrived_hours_ago(monkeypatch, make_visit, site, "Late Leaver", 13)

    page = signed_in("front_desk").get("/visits/today")

    assert b"1 visit overdue" in page.data


def test_no_count_is_shown_when_nothing_is_overdue(signed_in, make_visit, site):
    make_visit(site, "Jane Roe")

    page = signed_in("front_desk").get("/visits/today")

    assert b" overdue" not in page.data


def test_a_visit_is_closed_with_its_reason_once_and_shows_who_closed_it(
    signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site)
    client = signed_in("front_desk")

    response = _close(client, visit.id, "  Left by the yard gate, host confirmed ")

    assert response.status_code == 302
    page = client.get(response.location)
    assert b"The visit of Jane Roe is closed." in page.data
    closed = _visit(db_sessions, visit.id)
    assert closed.departed_by == "user:frontdeskmain"
    assert _row_of(page.data, "Jane Roe")[5] == (
        f"{closed.departed_at.strftime('%H:%M')} visit closed by frontdeskmain: "
        "Left by the yard gate, host confirmed"
    )
    assert f'action="/visits/{visit.id}/close"'.encode() not in page.data

    again = _close(client, visit.id, "Closing it a second time")

    assert b"already has a time of departure" in client.get(again.location).data
    assert _visit(db_sessions, visit.id).departed_at == closed.departed_at
    assert log_kinds(db_sessions) == ["visit.arrived", "visit.closed"]


def test_closing_an_overdue_visit_clears_it_and_logs_that_it_was_overdue(
    signed_in, make_visit, site, db_sessions, monkeypatch
):
    visit = _arrived_hours_ago(monkeypatch, make_visit, site, "Late Leaver", 30)
    client = signed_in("guard")

    response = _close(client, visit.id, "Host saw them leave yesterday")

    page = client.get(response.location).data
    assert b"The visit of Late Leaver is closed." in page
    assert b"overdue" not in page
    entry = rows(db_sessions, LogEntry)[-1]
    assert (entry.kind, entry.actor) == ("visit.closed", "user:guardmain")
    assert json.loads(entry.body)["details"] == {
        "reason": "Host saw them leave yesterday",
        "overdue": True,
    }
    with db_sessions() as session:
        report = chain.verify_site(session, session.get(Site, site.id))
        assert report.ok, (report.chain_problem, report.state_problems)


def test_a_visit_is_not_closed_without_a_reason(
    signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site)
    client = signed_in("front_desk")

    for reason in ("", "   "):
        response = _close(client, visit.id, reason)

        assert response.status_code == 302
        page = client.get(response.location).data
        assert b"The visit of Jane Roe was not closed." in page
        assert b"Say why you are closing this visit." in page

    assert b"not allowed" in client.get(_close(client, visit.id, "a\tb").location).data
    assert _visit(db_sessions, visit.id).departed_at is None
    assert log_kinds(db_sessions) == ["visit.arrived"]


def test_an_administrator_cannot_close_a_visit(
    signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site)

    response = _close(signed_in("administrator"), visit.id, "Host saw them leave")

    assert response.status_code == 403
    assert _visit(db_sessions, visit.id).departed_at is None
