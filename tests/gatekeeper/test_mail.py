"""The outbox and its delivery over SMTP, against a real server on the loopback."""

import io
import logging
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from gatekeeper import invitations, mail, visits
from gatekeeper.cli import main as kiosk_command
from gatekeeper.config import Settings
from gatekeeper.db import utcnow
from gatekeeper.models import OutboxMessage, Site, User
from tests.support import mail_server

SENDER = "kiosk@dock-a.example"


@pytest.fixture
def smtp():
    with mail_server.running() as server:
        yield server


def settings_for(server: mail_server.Server | None, **changes) -> Settings:
    """Settings that send to the test server, or none that send at all."""
    base = Settings(GATEKEEPER_ENV="testing", MAIL_FROM=SENDER)
    if server is not None:
        base = replace(base, SMTP_HOST=mail_server.HOST, SMTP_PORT=server.port)

    return replace(base, **changes)


def queue(sessions, count: int = 1, **fields) -> list[int]:
    """Queue `count` plain messages; returns their ids."""
    ids = []
    with sessions.begin() as s:
        for n in range(count):
            message = mail.queue(
                s,
                site_id=None,
                recipient=fields.get("recipient", f"person{n}@example.com"),
                subject=fields.get("subject", f"Message {n}"),
                body=fields.get("body", f"Body {n}\n"),
            )
            s.flush()
            ids.append(message.id)

    return ids


def outbox(sessions) -> list[OutboxMessage]:
    with sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_the_host_notice_arrives_and_is_marked_sent(sessions, arrive, guard, smtp):
    with sessions.begin() as s:
        desk = visits.Arrival(verified_by=s.get(User, guard.id))
        visit = arrive(s, "Ada Lovelace", arrival=desk)

    delivery = mail.deliver_pending(sessions, settings_for(smtp))

    [received] = smtp.inbox.wait_for(1)
    assert received.recipients == ["grace@example.com"]
    assert received.sender == SENDER
    assert received.email["Subject"] == "Your visitor Ada Lovelace has arrived"
    assert received.email["Auto-Submitted"] == "auto-generated"
    assert f"Badge number: {visit.badge_number}" in received.email.get_content()
    [row] = outbox(sessions)
    assert delivery.sent == [row.id]
    assert row.sent_at is not None
    assert (row.attempts, row.last_error) == (1, "")
    assert mail.state(row) == "sent"


def _decode_qr(png: bytes) -> str:
    image = Image.open(io.BytesIO(png))
    [symbol] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return symbol.text


def test_the_invitation_arrives_with_a_qr_code_the_kiosk_lookup_accepts(
    sessions, site, host, smtp
):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        invitation, code = invitations.create(
            s,
            row,
            visitor_name="Katherine Johnson",
            company="Langley",
            email="katherine@example.org",
            expected_on=invitations.site_today(row),
            host_id=host.id,
            actor="test",
        )

    mail.deliver_pending(sessions, settings_for(smtp))

    [received] = smtp.inbox.wait_for(1)
    assert received.recipients == ["katherine@example.org"]
    text = received.email.get_body(("plain",)).get_content()
    assert invitations.printable(code) in text
    assert "photo ID" in text
    [attachment] = list(received.email.iter_attachments())
    assert attachment.get_content_type() == "image/png"
    scanned = _decode_qr(attachment.get_content())
    assert scanned == code
    with sessions() as s:
        row = s.get(Site, site.id)
        assert invitations.lookup(s, row, scanned).id == invitation.id
        printed = invitations.printable(code).lower()
        assert invitations.lookup(s, row, printed).id == invitation.id


def test_with_no_smtp_host_nothing_is_sent_and_every_message_waits(sessions, smtp):
    queue(sessions, 2)

    delivery = mail.deliver_pending(sessions, settings_for(None))

    assert delivery == mail.Delivery()
    assert smtp.inbox.messages == []
    assert [(m.attempts, m.sent_at) for m in outbox(sessions)] == [(0, None)] * 2
    assert [mail.state(m) for m in outbox(sessions)] == ["waiting", "waiting"]


def test_a_server_that_is_down_leaves_the_message_with_its_error(sessions):
    [message_id] = queue(sessions)
    down = settings_for(None, SMTP_HOST="127.0.0.1", SMTP_PORT=mail_server.free_port())

    delivery = mail.deliver_pending(sessions, down)

    assert list(delivery.failed) == [message_id]
    [row] = outbox(sessions)
    assert row.sent_at is None
    assert row.attempts == 1
    assert row.last_error.startswith("ConnectionRefusedError")
    assert mail.state(row) == "failed"

    with mail_server.running() as server:
        mail.deliver_pending(sessions, settings_for(server))
        server.inbox.wait_for(1)

    [row] = outbox(sessions)
    assert (row.attempts, row.last_error) == (2, "")
    assert row.sent_at is not None


def test_a_server_failure_ends_the_run_without_touching_the_other_messages(sessions):
    first, second = queue(sessions, 2)
    down = settings_for(None, SMTP_HOST="127.0.0.1", SMTP_PORT=mail_server.free_port())

    delivery = mail.deliver_pending(sessions, down)

    assert list(delivery.failed) == [first]
    assert [m.attempts for m in outbox(sessions)] == [1, 0]
    # The next run starts with the message tried least, so an outage spreads its
    # failed attempts over the waiting messages.
    again = mail.deliver_pending(sessions, down)
    assert list(again.failed) == [second]


def test_a_refused_recipient_fails_only_its_own_message(sessions):
    ids = queue(sessions, 3)
    with mail_server.running(refuse={"person1@example.com"}) as server:
        delivery = mail.deliver_pending(sessions, settings_for(server))
        received = server.inbox.wait_for(2)

    assert sorted(delivery.sent) == [ids[0], ids[2]]
    assert list(delivery.failed) == [ids[1]]
    assert "550" in delivery.failed[ids[1]]
    assert [r.recipients for r in received] == [
        ["person0@example.com"],
        ["person2@example.com"],
    ]
    refused = outbox(sessions)[1]
    assert refused.sent_at is None
    assert "No such mailbox" in refused.last_error


def test_a_login_is_used_when_a_user_is_set(sessions):
    queue(sessions)
    with mail_server.running(login=("kiosk", "s3cret-Pass")) as server:
        settings = settings_for(server, SMTP_USER="kiosk", SMTP_PASSWORD="s3cret-Pass")
        delivery = mail.deliver_pending(sessions, settings)
        server.inbox.wait_for(1)

    assert len(delivery.sent) == 1
    assert server.inbox.logins == ["kiosk"]


def test_a_refused_login_is_recorded_without_the_password(sessions):
    queue(sessions)
    with mail_server.running(login=("kiosk", "right-password")) as server:
        wrong = settings_for(server, SMTP_USER="kiosk", SMTP_PASSWORD="wrong-PASS-42")
        delivery = mail.deliver_pending(sessions, wrong)

        assert server.inbox.messages == []

    [row] = outbox(sessions)
    assert row.last_error.startswith("SMTPAuthenticationError: 535")
    assert "wrong-PASS-42" not in row.last_error
    assert "wrong-PASS-42" not in str(delivery)
    assert "wrong-PASS-42" not in repr(wrong)


def test_two_deliverers_racing_send_each_message_once(sessions):
    ids = queue(sessions, 6)
    start = threading.Barrier(2)
    results = []

    def deliverer(settings):
        start.wait()
        results.append(mail.deliver_pending(sessions, settings))

    with mail_server.running(delay=0.05) as server:
        settings = settings_for(server)
        threads = [
            threading.Thread(target=deliverer, args=(settings,)) for _ in range(2)
        ]
        for thread in threads:
            thread.start()

        for thread in threads:
            thread.join(20)

        received = server.inbox.wait_for(6)

    recipients = sorted(r.recipients[0] for r in received)
    assert recipients == sorted(f"person{n}@example.com" for n in range(6))
    sent = sorted(i for result in results for i in result.sent)
    assert sent == ids
    assert [m.attempts for m in outbox(sessions)] == [1] * 6


def _set(sessions, message_id: int, **values) -> None:
    with sessions.begin() as s:
        row = s.get(OutboxMessage, message_id)
        for name, value in values.items():
            setattr(row, name, value)


def test_a_message_being_sent_is_left_to_its_deliverer_until_the_claim_expires(
    sessions, smtp
):
    [message_id] = queue(sessions)
    claim = mail.CLAIM_MARK + utcnow().isoformat()
    _set(sessions, message_id, attempts=1, last_error=claim)

    untouched = mail.deliver_pending(sessions, settings_for(smtp))
    by_hand = mail.deliver_message(sessions, settings_for(smtp), message_id)

    assert untouched == mail.Delivery() and by_hand.skipped == [message_id]
    assert mail.state(outbox(sessions)[0]) == "sending"
    stale = utcnow() - mail.CLAIM_LEASE - timedelta(minutes=1)
    _set(sessions, message_id, last_error=mail.CLAIM_MARK + stale.isoformat())

    taken_over = mail.deliver_pending(sessions, settings_for(smtp))

    assert taken_over.sent == [message_id]
    assert len(smtp.inbox.wait_for(1)) == 1


def test_after_max_attempts_only_a_retry_by_hand_sends(sessions, smtp):
    [message_id] = queue(sessions)
    _set(sessions, message_id, attempts=mail.MAX_ATTEMPTS, last_error="Timeout")

    automatic = mail.deliver_pending(sessions, settings_for(smtp))

    assert automatic == mail.Delivery()
    assert mail.state(outbox(sessions)[0]) == "stopped"

    by_hand = mail.deliver_message(sessions, settings_for(smtp), message_id)

    assert by_hand.sent == [message_id]
    assert outbox(sessions)[0].attempts == mail.MAX_ATTEMPTS + 1
    assert mail.deliver_message(sessions, settings_for(smtp), message_id).skipped


def test_a_message_with_a_header_break_is_refused_not_sent(sessions, smtp):
    [message_id] = queue(sessions, subject="Hello\r\nBcc: victim@example.com")

    delivery = mail.deliver_pending(sessions, settings_for(smtp))

    assert list(delivery.failed) == [message_id]
    assert delivery.failed[message_id].startswith("ValueError")
    assert smtp.inbox.messages == []


# The `kiosk send-mail` command


@pytest.fixture
def send_mail(monkeypatch, tmp_path, database_url):
    """Run `kiosk send-mail` against the test database with extra environment."""
    # The command sets up the root logger; the test puts it back as it was.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("GATEKEEPER_ENV", "testing")
    monkeypatch.setenv("MAIL_FROM", SENDER)
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)

    def run(*, env=None, code=0):
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)

        result = CliRunner().invoke(kiosk_command, ["send-mail"])
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result.output

    return run


def test_send_mail_delivers_what_waits(send_mail, sessions, smtp):
    queue(sessions, 2)

    output = send_mail(env={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)})

    assert "Sent 2, failed 0; 0 not sent." in output
    assert len(smtp.inbox.wait_for(2)) == 2


def test_send_mail_without_a_server_says_what_waits(send_mail, sessions):
    queue(sessions, 3)

    output = send_mail()

    assert "SMTP_HOST is not set: 3 messages wait in the outbox." in output


def test_send_mail_exits_1_when_a_message_fails(send_mail, sessions):
    queue(sessions)
    port = str(mail_server.free_port())

    output = send_mail(env={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port}, code=1)

    assert "Sent 0, failed 1; 1 not sent." in output
    assert "ConnectionRefusedError" in output
