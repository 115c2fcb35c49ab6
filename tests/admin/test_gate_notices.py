"""The consignee's notice of the seal (CTPAT 7.29) through a real SMTP server: sent
at departure, and a refused one kept, shown as failed with its error, and sent by a
retry once the server takes it; none is lost."""

import pytest
from sqlalchemy import select

from gatekeeper import mail
from gatekeeper.models import OutboxMessage
from tests.fixtures.apps import csrf_token
from tests.support import mail_server
from tests.support.pickups import ASSIGNED_SEAL, add_appointment, on_site

CONSIGNEE = "receiving@consignee.example"


@pytest.fixture
def smtp():
    with mail_server.running(refuse={CONSIGNEE}) as server:
        yield server


@pytest.fixture
def app_settings(app_settings, smtp):
    return {**app_settings, "SMTP_HOST": mail_server.HOST, "SMTP_PORT": smtp.port}


def _depart(client, pickup_id: int):
    page = f"/gate/{pickup_id}/depart"
    return client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "seal_number": ASSIGNED_SEAL,
            "seal_confirmation": ASSIGNED_SEAL,
            "trailer_number": "53889",
            **dict.fromkeys(("view", "verify", "tug", "twist"), "y"),
        },
    )


def _courier_done(console_app) -> None:
    assert console_app.extensions[mail.COURIER_KEY].wait(10)


def test_a_refused_notice_is_kept_shown_as_failed_and_sent_on_retry(
    console_app, signed_in, db_sessions, site, people, smtp
):
    add_appointment(db_sessions, site)
    pickup = on_site(db_sessions, site, people["guard"].id)
    guard = signed_in("guard")

    assert _depart(guard, pickup.id).status_code == 302
    _courier_done(console_app)

    page = guard.get(f"/pickups/{pickup.id}").get_data(as_text=True)
    assert 'tag-alert">failed</span>' in page
    assert "No such mailbox" in page
    with db_sessions() as session:
        message = session.scalar(select(OutboxMessage))
    assert (message.pickup_id, message.sent_at, message.attempts) == (
        pickup.id,
        None,
        1,
    )

    smtp.inbox.refuse.clear()
    manager = signed_in("security_manager")
    manager.post(
        f"/outbox/{message.id}/retry",
        data={"csrf_token": csrf_token(manager, "/outbox/")},
    )

    [received] = smtp.inbox.wait_for(1)
    assert received.recipients == [CONSIGNEE]
    assert f"Seal number: {ASSIGNED_SEAL}" in received.email.get_content()
    page = guard.get(f"/gate/{pickup.id}/pass").get_data(as_text=True)
    assert 'tag-ok">sent</span>' in page
