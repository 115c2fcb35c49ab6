"""Invitations in the console: the list of the account's sites, the form that
invites a visitor, and cancelling."""

from datetime import timedelta

import pytest

from gatekeeper import invitations, sites
from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent, Host, Invitation, OutboxMessage, Site
from tests.fixtures.apps import sign_in
from tests.functional import audit_actions, rows, submit, table_rows

FORM = "/invitations/new"


def _today():
    """The date at the test sites, which keep UTC."""
    return utcnow().date()


def _host(db_sessions, site, name: str = "Ana López") -> Host:
    return rows(db_sessions, Host, site_id=site.id, name=name)[0]


def _fields(host: Host, **changes) -> dict:
    fields = {
        "visitor_name": "Katherine Johnson",
        "company": "Langley Research",
        "email": "katherine@example.org",
        "expected_on": _today().isoformat(),
        "host_id": str(host.id),
    }
    fields.update(changes)
    return fields


def _invite(client, host: Host, **changes):
    return submit(client, FORM, _fields(host, **changes), token_page=FORM)


@pytest.mark.parametrize("role", ["front_desk", "security_manager", "administrator"])
def test_the_desk_and_managers_invite_a_visitor_who_is_emailed(
    signed_in, db_sessions, site, role
):
    client = signed_in(role)
    host = _host(db_sessions, site)

    response = _invite(client, host)

    assert response.status_code == 302
    assert response.location.endswith("/invitations/")
    [invitation] = rows(db_sessions, Invitation)
    assert (invitation.site_id, invitation.host_id) == (site.id, host.id)
    assert invitation.expected_on == _today()
    [message] = rows(db_sessions, OutboxMessage)
    assert message.recipient == "katherine@example.org"
    assert message.attachment
    [event] = rows(db_sessions, AuditEvent, action="invitation.created")
    assert event.actor == f"{role.replace('_', '')}main"
    page = client.get(response.location)
    assert b"Katherine Johnson is invited for" in page.data
    upcoming = [row for row in table_rows(page.data) if "Katherine Johnson" in row]
    assert upcoming and "Ana López" in upcoming[0]


def test_the_form_offers_only_the_active_hosts_of_the_account_s_sites(
    signed_in, db_sessions, site, other_site
):
    retired = _host(db_sessions, site, "Bob Stone")
    with db_sessions.begin() as session:
        session.get(Host, retired.id).active = False

    page = signed_in("front_desk").get(FORM)

    assert page.status_code == 200
    assert "Ana López".encode() in page.data
    assert b"Bob Stone" not in page.data
    elsewhere = _host(db_sessions, other_site).id
    assert f'<option value="{elsewhere}"'.encode() not in page.data


BAD = {
    "no name": ({"visitor_name": ""}, "Visitor&#39;s name is required"),
    "a bad email": ({"email": "katherine"}, "not a valid email address"),
    "no date": ({"expected_on": ""}, "Enter the date of the visit."),
    "a date that is not one": ({"expected_on": "31/02/2030"}, "Not a valid date"),
    "yesterday": (
        {"expected_on": (_today() - timedelta(days=1)).isoformat()},
        "The date of the visit has passed.",
    ),
    "too far ahead": (
        {"expected_on": (_today() + timedelta(days=120)).isoformat()},
        "Invite at most 90 days ahead.",
    ),
    "no host": ({"host_id": ""}, "Choose the host."),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_field_is_shown_on_the_form_and_nothing_is_written(
    signed_in, db_sessions, site, case
):
    changes, message = BAD[case]

    response = _invite(signed_in("front_desk"), _host(db_sessions, site), **changes)

    assert response.status_code == 400
    assert message.encode() in response.data
    assert b'name="visitor_name"' in response.data
    assert rows(db_sessions, Invitation) == []
    assert rows(db_sessions, OutboxMessage) == []


def test_a_host_of_another_site_cannot_be_chosen(
    signed_in, db_sessions, site, other_site
):
    elsewhere = _host(db_sessions, other_site)

    response = _invite(signed_in("front_desk"), elsewhere)

    assert response.status_code == 400
    assert b"Not a valid choice" in response.data
    assert rows(db_sessions, Invitation) == []


def test_inviting_without_the_form_token_is_refused(signed_in, db_sessions, site):
    client = signed_in("front_desk")

    response = client.post(FORM, data=_fields(_host(db_sessions, site)))

    assert response.status_code == 400
    assert rows(db_sessions, Invitation) == []


@pytest.fixture
def invited(db_sessions, site):
    """An invitation for today at the main site, made through the service."""
    with db_sessions.begin() as session:
        row = session.get(Site, site.id)
        invitation, code = invitations.create(
            session,
            row,
            visitor_name="Mary Jackson",
            company="Langley Research",
            email="mary@example.org",
            expected_on=_today(),
            host_id=sites.active_hosts(session, row.id)[0].id,
            actor="test",
        )
        return invitation, code


def test_cancelling_stops_the_code_and_lists_the_invitation_as_cancelled(
    signed_in, db_sessions, site, invited
):
    invitation, code = invited
    client = signed_in("front_desk")

    response = submit(
        client, f"/invitations/{invitation.id}/cancel", token_page="/invitations/"
    )

    assert response.status_code == 302
    page = client.get(response.location)
    assert b"The invitation of Mary Jackson is cancelled." in page.data
    [row] = [r for r in table_rows(page.data) if "Mary Jackson" in r]
    assert row[-1].startswith("Cancelled")
    assert audit_actions(db_sessions, "invitation.") == [
        "invitation.created",
        "invitation.cancelled",
    ]
    with db_sessions() as session:
        assert invitations.lookup(session, session.get(Site, site.id), code) is None

    again = submit(
        client, f"/invitations/{invitation.id}/cancel", token_page="/invitations/"
    )
    assert b"already cancelled" in client.get(again.location).data


def test_cancelling_without_the_form_token_is_refused(signed_in, db_sessions, invited):
    invitation, _code = invited

    response = signed_in("front_desk").post(f"/invitations/{invitation.id}/cancel")

    assert response.status_code == 400
    assert rows(db_sessions, Invitation)[0].cancelled_at is None


def test_a_guard_cannot_reach_invitations(signed_in, db_sessions, site, invited):
    invitation, _code = invited
    guard = signed_in("guard")

    assert guard.get("/invitations/").status_code == 403
    assert guard.get(FORM).status_code == 403
    cancel = submit(
        guard, f"/invitations/{invitation.id}/cancel", token_page="/account"
    )
    assert cancel.status_code == 403
    assert rows(db_sessions, Invitation)[0].cancelled_at is None


def test_invitations_of_another_site_are_neither_shown_nor_cancelled(
    console_app, make_person, other_site, db_sessions, invited
):
    invitation, _code = invited
    client = console_app.test_client()
    sign_in(client, make_person("front_desk", other_site))

    page = client.get("/invitations/")
    cancel = submit(
        client, f"/invitations/{invitation.id}/cancel", token_page="/invitations/"
    )

    assert page.status_code == 200
    assert b"Mary Jackson" not in page.data
    assert b"North Yard" in page.data
    assert cancel.status_code == 404
    assert rows(db_sessions, Invitation)[0].cancelled_at is None


def test_the_list_escapes_what_was_typed(signed_in, db_sessions, site):
    host = _host(db_sessions, site)
    with db_sessions.begin() as session:
        invitations.create(
            session,
            session.get(Site, site.id),
            visitor_name="Ann O'Hara & Co",
            company="A & B",
            email="ann@example.org",
            expected_on=_today(),
            host_id=host.id,
            actor="test",
        )

    page = signed_in("front_desk").get("/invitations/")

    assert b"Ann O&#39;Hara &amp; Co" in page.data
    assert b"A &amp; B" in page.data
