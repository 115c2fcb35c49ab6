"""A pre-registered visitor at the kiosk: the invitation's code, scanned or typed,
fills in name, company and host, and never the photo ID (CTPAT 10.2)."""

import json
from datetime import timedelta

import pytest

from gatekeeper import invitations, sites
from gatekeeper.db import utcnow
from gatekeeper.models import Invitation, LogEntry, Site, Visit
from tests.functional import rows


def _invite(db_sessions, site, *, days_ahead: int = 0, host: str = "Bob Stone"):
    """An invitation to the site for today (or later); returns its code and id."""
    with db_sessions.begin() as session:
        row = session.get(Site, site.id)
        [chosen] = [h for h in sites.active_hosts(session, row.id) if h.name == host]
        invitation, code = invitations.create(
            session,
            row,
            visitor_name="Carla Díaz",
            company="Norte Logística",
            email="carla@example.com",
            expected_on=invitations.site_today(row) + timedelta(days=days_ahead),
            host_id=chosen.id,
            actor="test",
        )
        return code, invitation.id


@pytest.fixture
def invitation(db_sessions, site):
    return _invite(db_sessions, site)


def _scan(visitor, code: str, field: str = "code"):
    visitor.post("/check-in", visitor_type="visitor")
    path = "/check-in/invitation" if field == "code" else "/check-in/identity"
    return visitor.post(path, **{field: code})


def test_a_scanned_invitation_fills_in_the_visitor_and_the_host(
    visitor, invitation, db_sessions
):
    code, invitation_id = invitation

    response = _scan(visitor, code)

    # The typing is skipped; the photo ID is not.
    assert response.location.endswith("/check-in/id-type")
    seen = visitor.reach()
    assert "/check-in/host" not in seen
    review = visitor.client.get("/check-in/review").get_data(as_text=True)
    for shown in ("Carla Díaz", "Norte Logística", "Bob Stone"):
        assert shown in review

    visitor.confirm()
    [visit] = rows(db_sessions, Visit)
    assert (visit.visitor_name, visit.company, visit.host_name) == (
        "Carla Díaz",
        "Norte Logística",
        "Bob Stone",
    )
    assert visit.invitation_id == invitation_id
    assert visit.id_status == "captured"
    [used] = rows(db_sessions, Invitation)
    assert used.used_at is not None
    [entry] = rows(db_sessions, LogEntry)
    assert json.loads(entry.body)["details"]["invitation"] == invitation_id


def test_a_code_typed_as_printed_in_the_email_is_accepted(visitor, invitation):
    code, _ = invitation

    response = _scan(visitor, invitations.printable(code).lower())

    assert response.location.endswith("/check-in/id-type")


def test_a_code_a_scanner_typed_into_the_name_field_is_taken_as_the_invitation(
    visitor, invitation
):
    code, _ = invitation

    response = _scan(visitor, code, field="visitor_name")

    assert response.location.endswith("/check-in/id-type")
    visitor.reach()
    review = visitor.client.get("/check-in/review").get_data(as_text=True)
    assert "Carla Díaz" in review
    assert code not in review


@pytest.mark.parametrize(
    ("entered", "message"),
    [
        ("hello", "That is not an invitation code."),
        ("INV" + "A" * 16, "We cannot find an invitation for today with that code."),
        ("", "Invitation code is required."),
    ],
)
def test_a_code_that_names_no_invitation_says_so_on_the_same_screen(
    visitor, invitation, db_sessions, entered, message
):
    response = _scan(visitor, entered)

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert message in text
    assert 'name="visitor_name"' in text
    assert "Carla" not in text
    assert visitor.client.get("/check-in/id-type").location.endswith(
        "/check-in/identity"
    )


def test_an_invitation_for_another_day_or_site_or_already_used_is_refused(
    visitor, db_sessions, site, other_site
):
    tomorrow, _ = _invite(db_sessions, site, days_ahead=1)
    elsewhere, _ = _invite(db_sessions, other_site)
    used, used_id = _invite(db_sessions, site)
    with db_sessions.begin() as session:
        session.get(Invitation, used_id).used_at = utcnow()

    for code in (tomorrow, elsewhere, used):
        response = _scan(visitor, code)
        assert response.status_code == 200
        assert b"We cannot find an invitation for today" in response.data


def test_an_invitation_cancelled_after_it_was_scanned_records_no_visit(
    visitor, invitation, db_sessions
):
    code, invitation_id = invitation
    _scan(visitor, code)
    visitor.reach()
    key = visitor.review_key()
    with db_sessions.begin() as session:
        invitations.cancel(session, session.get(Invitation, invitation_id), "test")

    response = visitor.confirm(key)

    assert response.location.endswith("/check-in/identity")
    assert rows(db_sessions, Visit) == []
    page = visitor.client.get("/check-in/identity").get_data(as_text=True)
    assert "This invitation can no longer be used." in page


def test_typing_another_name_over_an_invitation_drops_it(
    visitor, invitation, db_sessions
):
    code, _ = invitation
    _scan(visitor, code)

    visitor.post("/check-in/identity", visitor_name="Jane Roe", company="Acme")
    visitor.check_in()

    [visit] = rows(db_sessions, Visit)
    assert visit.invitation_id is None
    assert rows(db_sessions, Invitation)[0].used_at is None
