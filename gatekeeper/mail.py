"""Email to hosts and invited visitors, through an outbox so that none is lost.

A message is written to the outbox in the same transaction as the event it tells
of; delivery comes after, and a message that cannot be delivered stays in the
outbox for the console to show.

Delivery runs in three short steps, so no database lock is held while a mail
server is slow: claim a message (a conditional UPDATE that only one deliverer can
win), send it with no transaction open, then record the outcome. While a message
is claimed its last_error reads "sending since <time>"; a claim older than
CLAIM_LEASE belongs to a deliverer that died mid-send, and is taken over.

Two things start a delivery: the commit of a request's transaction that queued a
message (a background thread per process, see Courier), and `kiosk send-mail`,
which a timer runs to pick up whatever failed before.
"""

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app, has_app_context
from sqlalchemy import event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from gatekeeper.config import Settings
from gatekeeper.db import read_only, utcnow
from gatekeeper.models import Host, OutboxMessage, Visit

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 20
# Longer than any send can take with SMTP_TIMEOUT_SECONDS on each step, so a live
# deliverer's claim is never taken over.
CLAIM_LEASE = timedelta(minutes=15)
CLAIM_MARK = "sending since "
# Automatic delivery stops trying a message after this many attempts; a person can
# still press "retry now" in the console. Messages with the fewest attempts go
# first, so during an outage the attempts spread over all waiting messages instead
# of using up the oldest one's.
MAX_ATTEMPTS = 20
ERROR_LENGTH = 500
ATTACHMENT_FILENAME = "visit-qr-code.png"
# Errors that concern one message; the connection stays usable for the next one.
MESSAGE_ERRORS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
    ValueError,
)
COURIER_KEY = "gatekeeper.mail.courier"
_COURIER_LOCK = threading.Lock()
_WAKE_PENDING = "gatekeeper.mail.wake"

Sessions = sessionmaker[Session]


def queue(
    session: Session,
    *,
    site_id: int | None,
    recipient: str,
    subject: str,
    body: str,
    attachment: bytes | None = None,
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction.

    attachment is a PNG image (an invitation's QR code). Inside an app with SMTP
    configured, delivery starts once the caller's transaction commits.
    """
    message = OutboxMessage(
        site_id=site_id,
        recipient=recipient,
        subject=subject[:200],
        body=body,
        attachment=attachment,
    )
    session.add(message)
    _deliver_after_commit(session)
    return message


def notify_host(session: Session, visit: Visit) -> OutboxMessage | None:
    """Tell the host their visitor has been admitted and is on the way."""
    host = session.get(Host, visit.host_id) if visit.host_id else None
    if host is None or not host.email:
        return None

    lines = [
        f"{visit.visitor_name} of {visit.company} has checked in at "
        f"{visit.site.name} to see you.",
        "",
        f"Badge number: {visit.badge_number}",
    ]
    if visit.escort_required and visit.escort_name:
        lines.append(
            f"An escort is required; the escort recorded is {visit.escort_name}."
        )
    elif visit.escort_required:
        lines.append("An escort is required; none is recorded yet.")

    return queue(
        session,
        site_id=visit.site_id,
        recipient=host.email,
        subject=f"Your visitor {visit.visitor_name} has arrived",
        body="\n".join(lines) + "\n",
    )


# What the console shows of a message


def claimed_at(message: OutboxMessage) -> datetime | None:
    """When a deliverer claimed the message, while it is being sent; else None."""
    if message.sent_at is not None:
        return None

    return _claim_time(message.last_error)


def _claim_time(last_error: str) -> datetime | None:
    if not last_error.startswith(CLAIM_MARK):
        return None

    try:
        return datetime.fromisoformat(last_error.removeprefix(CLAIM_MARK))
    except ValueError:
        return None


def _claim_is_live(last_error: str, now: datetime) -> bool:
    since = _claim_time(last_error)
    return since is not None and now - since < CLAIM_LEASE


def state(message: OutboxMessage, now: datetime | None = None) -> str:
    """sent, sending, waiting (never tried), failed, or stopped (retry by hand)."""
    if message.sent_at is not None:
        return "sent"

    if _claim_is_live(message.last_error, now or utcnow()):
        return "sending"

    if message.attempts == 0:
        return "waiting"

    if message.attempts >= MAX_ATTEMPTS:
        return "stopped"

    return "failed"


# Delivery


@dataclass
class Delivery:
    """What one delivery run did: ids sent, ids failed with their errors."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    # Messages another deliverer claimed first.
    skipped: list[int] = field(default_factory=list)


def deliver_pending(
    sessions: Sessions,
    settings: Settings,
    *,
    limit: int = 50,
    max_attempts: int = MAX_ATTEMPTS,
) -> Delivery:
    """Send up to `limit` waiting or failed messages over SMTP.

    sessions makes a new session (a sessionmaker). With no SMTP_HOST nothing is
    sent and every message stays in the outbox. A failure that concerns the
    server (refused connection, authentication, disconnection) is recorded on the
    message being sent and ends the run, since the next one would fail alike.
    """
    delivery = Delivery()
    if not settings.SMTP_HOST:
        return delivery

    with sessions() as session:
        due = _due(read_only(session), utcnow(), max_attempts)

    connection = _Connection(settings)
    try:
        for message_id, attempts in due[:limit]:
            if not _deliver(sessions, connection, message_id, attempts, delivery):
                break
    finally:
        connection.close()

    if delivery.sent or delivery.failed:
        logger.info(
            "mail: %s sent, %s failed", len(delivery.sent), len(delivery.failed)
        )

    return delivery


def deliver_message(
    sessions: Sessions, settings: Settings, message_id: int
) -> Delivery:
    """Send one unsent message now, however often it failed before ("retry now").

    A message another deliverer is sending is left to it (reported as skipped).
    """
    delivery = Delivery()
    if not settings.SMTP_HOST:
        return delivery

    with sessions() as session:
        row = (
            read_only(session)
            .execute(
                select(OutboxMessage.attempts, OutboxMessage.last_error).where(
                    OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None)
                )
            )
            .first()
        )

    if row is None or _claim_is_live(row.last_error, utcnow()):
        delivery.skipped.append(message_id)
        return delivery

    connection = _Connection(settings)
    try:
        _deliver(sessions, connection, message_id, row.attempts, delivery)
    finally:
        connection.close()

    return delivery


def waiting_count(session: Session) -> int:
    """How many messages have not been sent."""
    query = select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
    return session.scalar(query) or 0


def _due(session: Session, now: datetime, max_attempts: int) -> list[tuple[int, int]]:
    """Unsent messages nobody is sending: (id, attempts), fewest attempts first."""
    query = (
        select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.last_error)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < max_attempts)
        .order_by(OutboxMessage.attempts, OutboxMessage.id)
    )
    return [
        (row.id, row.attempts)
        for row in session.execute(query)
        if not _claim_is_live(row.last_error, now)
    ]


def _deliver(
    sessions: Sessions,
    connection: "_Connection",
    message_id: int,
    attempts: int,
    delivery: Delivery,
) -> bool:
    """Claim, send and record one message; False when the server failed."""
    message = _claim(sessions, message_id, attempts)
    if message is None:
        delivery.skipped.append(message_id)
        return True

    try:
        connection.send(build_email(message, connection.settings.MAIL_FROM))
    except MESSAGE_ERRORS as error:
        reason = connection.describe(error)
        logger.warning("mail: message %s was not sent: %s", message.id, reason)
        _record_failure(sessions, message, reason, delivery)
        return True
    except (smtplib.SMTPException, OSError) as error:
        reason = connection.describe(error)
        logger.warning("mail: the SMTP server failed: %s", reason)
        connection.close()
        _record_failure(sessions, message, reason, delivery)
        return False

    with sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.sent_at.is_(None))
            .values(sent_at=utcnow(), last_error="")
        )

    delivery.sent.append(message.id)
    return True


def _claim(sessions: Sessions, message_id: int, attempts: int) -> OutboxMessage | None:
    """Take a message for sending, unless another deliverer took it first.

    The UPDATE only matches while the attempts count is the one this deliverer
    read, and every claim raises it: of two deliverers that read the same row,
    the second one's UPDATE matches nothing (PostgreSQL re-checks the condition
    after the first one's commit; SQLite writers take turns).
    """
    mark = CLAIM_MARK + utcnow().isoformat()
    with sessions.begin() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.attempts == attempts,
            )
            .values(attempts=attempts + 1, last_error=mark)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None

        return session.get(OutboxMessage, message_id)


def _record_failure(
    sessions: Sessions, message: OutboxMessage, error: str, delivery: Delivery
) -> None:
    with sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.attempts == message.attempts,
            )
            .values(last_error=error)
        )

    delivery.failed[message.id] = error


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The outbox row as an email: plain text, and the QR code as an inline PNG."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    # The same id on every attempt, so a receiving server can tell a retry of a
    # message it already took from a new one.
    stamp = f"{message.created_at:%Y%m%d%H%M%S%f}"
    email["Message-ID"] = f"<outbox.{message.id}.{stamp}@{_domain(sender)}>"
    # RFC 3834: nobody's out-of-office reply should answer this.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body)
    if message.attachment:
        email.add_attachment(
            message.attachment,
            maintype="image",
            subtype="png",
            filename=ATTACHMENT_FILENAME,
            disposition="inline",
        )

    return email


def _domain(address: str) -> str:
    domain = address.rpartition("@")[2].strip("<> ")
    return domain or "localhost"


class _Connection:
    """One SMTP connection for a run, opened when the first message needs it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        if self._client is None:
            self._client = self._open()

        self._client.send_message(email)

    def _open(self) -> smtplib.SMTP:
        settings = self.settings
        # The EHLO name is the sender's domain: asking the resolver for this
        # machine's full name can hang on a closed network.
        client = smtplib.SMTP(
            settings.SMTP_HOST,
            settings.SMTP_PORT,
            local_hostname=_domain(settings.MAIL_FROM),
            timeout=SMTP_TIMEOUT_SECONDS,
        )
        try:
            if settings.SMTP_STARTTLS:
                client.starttls(context=ssl.create_default_context())

            if settings.SMTP_USER:
                client.login(settings.SMTP_USER, settings.SMTP_PASSWORD)
        except BaseException:
            client.close()
            raise

        return client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return

        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def describe(self, error: BaseException) -> str:
        """The error as the outbox keeps it: short, and never with the password."""
        if isinstance(error, smtplib.SMTPResponseException):
            reply = error.smtp_error
            if isinstance(reply, bytes):
                reply = reply.decode("utf-8", "replace")
            text = f"{type(error).__name__}: {error.smtp_code} {reply}"
        elif isinstance(error, smtplib.SMTPRecipientsRefused):
            refused = "; ".join(
                f"{address}: {code} {reply.decode('utf-8', 'replace')}"
                for address, (code, reply) in error.recipients.items()
            )
            text = f"{type(error).__name__}: {refused}"
        else:
            text = f"{type(error).__name__}: {error}"

        password = self.settings.SMTP_PASSWORD
        if password:
            text = text.replace(password, "********")

        text = " ".join(text.split())
        return text[:ERROR_LENGTH] or type(error).__name__


# Delivery after a commit


def _deliver_after_commit(session: Session) -> None:
    """Wake the app's courier once the transaction that queued a message commits.

    Outside an app (the CLI, scripts) nothing is woken: `kiosk send-mail` delivers.
    A transaction that rolls back leaves the wake-up for the session's next commit,
    which costs one look at the outbox.
    """
    if not has_app_context() or session.info.get(_WAKE_PENDING):
        return

    app = current_app._get_current_object()
    settings: Settings | None = app.config.get("SETTINGS")
    sessions = app.extensions.get("gatekeeper.sessions")
    if settings is None or not settings.SMTP_HOST or sessions is None:
        return

    def wake(committed: Session) -> None:
        committed.info.pop(_WAKE_PENDING, None)
        courier(app.extensions, sessions, settings).wake()

    session.info[_WAKE_PENDING] = True
    event.listen(session, "after_commit", wake, once=True)


def courier(extensions: dict, sessions: Sessions, settings: Settings) -> "Courier":
    """The process's courier for one app, made on first use."""
    with _COURIER_LOCK:
        if COURIER_KEY not in extensions:
            extensions[COURIER_KEY] = Courier(sessions, settings)

        return extensions[COURIER_KEY]


class Courier:
    """Runs deliveries in one background thread per process, one run at a time.

    A wake-up during a run asks for one more run after it, so a message queued
    while the thread was sending is not left for the timer. Each gunicorn worker
    has its own courier; the claims keep them from sending a message twice, and on
    SQLite each claim or outcome is one short write. The thread is not a daemon:
    a stopping worker lets it finish the run (every SMTP step has a timeout), and
    one killed mid-send leaves a claim that CLAIM_LEASE expires.
    """

    def __init__(self, sessions: Sessions, settings: Settings):
        self._sessions = sessions
        self._settings = settings
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False

    def wake(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._again = True
                return

            self._thread = threading.Thread(
                target=self._run, name="gatekeeper-mail", daemon=False
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                deliver_pending(self._sessions, self._settings)
            except Exception:
                logger.exception("mail: a delivery run failed")

            with self._lock:
                if not self._again:
                    self._thread = None
                    return

                self._again = False

    def wait(self, timeout: float) -> bool:
        """Wait until no run is going; True when idle within the timeout."""
        with self._lock:
            thread = self._thread

        if thread is not None:
            thread.join(timeout)

        with self._lock:
            return self._thread is None


def visible_to(site_ids: set[int], *, unsited: bool):
    """The outbox condition for an account: its sites' messages, and those with no
    site when it may see them (administrators)."""
    condition = OutboxMessage.site_id.in_(site_ids)
    if unsited:
        condition = or_(condition, OutboxMessage.site_id.is_(None))

    return condition
