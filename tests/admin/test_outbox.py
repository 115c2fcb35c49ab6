"""The outbox in the console: what each account sees, "retry now", and delivery
started by the commit of the request that wrote a message."""

import time

import pytest

from admin.app import create_app as create_console
from gatekeeper import mail
from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent, Host, OutboxMessage
from tests.fixtures.apps import sign_in
from tests.functional import rows, running, submit, table_rows
from tests.support import mail_server


def _queue(db_sessions, site_id, recipient: str, body: str = "Hello\n") -> int:
    with db_sessions.begin() as session:
        message = mail.queue(
            session,
            site_id=site_id,
            recipient=recipient,
            subject=f"For {recipient}",
            body=body,
        )
        session.flush()
        return message.id


@pytest.fixture
def messages(db_sessions, site, other_site):
    """One message of the main site, one of the other site, one of no site."""
    return {
        "main": _queue(db_sessions, site.id, "main@example.com", "Badge <b>1</b>\n"),
        "north": _queue(db_sessions, other_site.id, "north@example.com"),
        "none": _queue(db_sessions, None, "nobody@example.com"),
    }


def _recipients(page: bytes) -> list[str]:
    return [row[1] for row in table_rows(page)[1:] if len(row) > 1]


def test_the_desk_sees_its_site_s_messages_and_their_bodies(signed_in, messages):
    page = signed_in("front_desk").get("/outbox/")

    assert page.status_code == 200
    assert _recipients(page.data) == ["main@example.com"]
    assert b"Badge &lt;b&gt;1&lt;/b&gt;" in page.data
    assert b"Not sent yet" in page.data
    assert b"No mail server is set up" in page.data
    # With no server there is nothing to retry.
    assert b"Retry now" not in page.data


def test_administrators_also_see_messages_of_no_site(signed_in, messages):
    page = signed_in("administrator").get("/outbox/")

    assert _recipients(page.data) == ["nobody@example.com", "main@example.com"]


@pytest.mark.parametrize("role", ["front_desk", "security_manager"])
def test_a_message_of_no_site_is_absent_for_site_staff(signed_in, messages, role):
    client = signed_in(role)

    retry = submit(client, f"/outbox/{messages['none']}/retry", token_page="/outbox/")

    assert retry.status_code == 404


def test_a_message_of_another_site_is_absent(signed_in, messages):
    client = signed_in("administrator")

    retry = submit(client, f"/outbox/{messages['north']}/retry", token_page="/outbox/")

    assert retry.status_code == 404


def test_a_guard_cannot_reach_the_outbox(signed_in, messages, db_sessions):
    guard = signed_in("guard")

    assert guard.get("/outbox/").status_code == 403
    retry = submit(guard, f"/outbox/{messages['main']}/retry", token_page="/account")
    assert retry.status_code == 403
    assert rows(db_sessions, AuditEvent, action="mail.retried") == []


def test_retry_without_a_mail_server_leaves_the_message_waiting(
    signed_in, messages, db_sessions
):
    client = signed_in("front_desk")

    response = submit(
        client, f"/outbox/{messages['main']}/retry", token_page="/outbox/"
    )

    assert response.status_code == 302
    assert b"No mail server is set up" in client.get(response.location).data
    [row] = rows(db_sessions, OutboxMessage, id=messages["main"])
    assert (row.attempts, row.sent_at) == (0, None)


def test_retry_needs_the_form_token(signed_in, messages):
    response = signed_in("front_desk").post(f"/outbox/{messages['main']}/retry")

    assert response.status_code == 400


@pytest.fixture
def smtp():
    with mail_server.running() as server:
        yield server


@pytest.fixture
def mailing_console(app_settings, smtp):
    """A console app that sends to the test server."""
    settings = {
        **app_settings,
        "SMTP_HOST": mail_server.HOST,
        "SMTP_PORT": smtp.port,
        "MAIL_FROM": "kiosk@main.example",
    }
    with running(create_console, settings) as app:
        yield app
        courier = app.extensions.get(mail.COURIER_KEY)
        assert courier is None or courier.wait(10)


def _desk(app, people):
    client = app.test_client()
    assert sign_in(client, people["front_desk"]).status_code == 302
    return client


def test_retry_now_sends_the_message_and_is_audited(
    mailing_console, people, messages, smtp, db_sessions
):
    client = _desk(mailing_console, people)
    assert b"Retry now" in client.get("/outbox/").data

    response = submit(
        client, f"/outbox/{messages['main']}/retry", token_page="/outbox/"
    )

    assert b"Sent to main@example.com." in client.get(response.location).data
    [received] = smtp.inbox.wait_for(1)
    assert received.recipients == ["main@example.com"]
    [row] = rows(db_sessions, OutboxMessage, id=messages["main"])
    assert row.sent_at is not None
    [event] = rows(db_sessions, AuditEvent, action="mail.retried")
    assert event.target == f"outbox:{messages['main']}"
    assert event.actor == "frontdeskmain"

    again = submit(client, f"/outbox/{messages['main']}/retry", token_page="/outbox/")
    assert b"already sent" in client.get(again.location).data


def test_retry_against_a_server_that_is_down_shows_why(
    app_settings, people, messages, db_sessions
):
    settings = {
        **app_settings,
        "SMTP_HOST": mail_server.HOST,
        "SMTP_PORT": mail_server.free_port(),
    }
    with running(create_console, settings) as app:
        client = _desk(app, people)
        response = submit(
            client, f"/outbox/{messages['main']}/retry", token_page="/outbox/"
        )
        page = client.get(response.location)

    assert b"Not sent: ConnectionRefusedError" in page.data
    [row] = rows(db_sessions, OutboxMessage, id=messages["main"])
    assert (row.attempts, row.sent_at) == (1, None)
    assert row.last_error.startswith("ConnectionRefusedError")


def test_a_message_written_by_a_request_is_sent_after_it_commits(
    mailing_console, people, site, smtp, db_sessions
):
    client = _desk(mailing_console, people)
    [host] = rows(db_sessions, Host, site_id=site.id, name="Bob Stone")
    form = {
        "visitor_name": "Mary Jackson",
        "company": "Langley Research",
        "email": "mary@example.org",
        "expected_on": utcnow().date().isoformat(),
        "host_id": str(host.id),
    }

    smtp.inbox.delay = 1.5
    started = time.monotonic()
    response = submit(client, "/invitations/new", form, token_page="/invitations/new")
    answered_in = time.monotonic() - started

    assert response.status_code == 302
    # The server takes 1.5 s to accept a message; the request did not wait for it.
    assert answered_in < 1.5
    assert rows(db_sessions, OutboxMessage)[0].sent_at is None
    [received] = smtp.inbox.wait_for(1, timeout=10)
    assert received.recipients == ["mary@example.org"]
    assert mailing_console.extensions[mail.COURIER_KEY].wait(10)
    assert rows(db_sessions, OutboxMessage)[0].sent_at is not None
