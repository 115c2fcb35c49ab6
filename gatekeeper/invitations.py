"""Pre-registered visits: an invitation emailed with a QR code fills in the kiosk.

The code in the QR is "INV" and sixteen base32 characters, uppercase letters and
digits only, so a USB scanner that types what it reads (a keyboard wedge) sends it
unchanged on any keyboard layout, and a person can type it from the email. Only
its SHA-256 is stored. An invitation skips the typing at the kiosk, never the
photo ID: the visit it starts follows the same rules as any other (CTPAT 10.2).
"""

import base64
import hashlib
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gatekeeper import audit, badges, mail
from gatekeeper.db import utcnow
from gatekeeper.models import Host, Invitation, Site, User
from gatekeeper.sites import check_email
from gatekeeper.text import TextError, clean_name

PREFIX = "INV"
CODE_BYTES = 10
CODE_LENGTH = len(PREFIX) + CODE_BYTES * 8 // 5
# How far ahead a visit can be invited: far enough for planned audits, near enough
# that a forgotten invitation does not linger for a season.
MAX_DAYS_AHEAD = 90
# Base32 has no 0, 1 or 8; a person copying the code may type them for O, I and B.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def site_today(site: Site, now: datetime | None = None) -> date:
    """The date at the site, in its own time zone."""
    return (now or utcnow()).astimezone(ZoneInfo(site.timezone)).date()


def _normalise(text: str) -> str:
    """The code as typed or scanned, without spaces, hyphens or lower case."""
    bare = "".join(text.split()).replace("-", "").upper()
    return bare.translate(_LOOKALIKES)


def looks_like_code(text: str) -> bool:
    """True when text has the shape of an invitation code (it may still be unknown)."""
    if not isinstance(text, str) or len(text) > 2 * CODE_LENGTH:
        return False

    code = _normalise(text)
    return (
        len(code) == CODE_LENGTH
        and code.startswith(PREFIX)
        and set(code[len(PREFIX) :]) <= _BASE32
    )


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _new_code() -> str:
    body = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")
    return PREFIX + body


def printable(code: str) -> str:
    """The code in groups of four after its prefix, for reading and typing."""
    body = code[len(PREFIX) :]
    groups = [body[i : i + 4] for i in range(0, len(body), 4)]
    return "-".join([PREFIX, *groups])


def create(
    session: Session,
    site: Site,
    *,
    visitor_name: str,
    company: str,
    email: str,
    expected_on: date,
    host_id: int,
    actor: User | str,
    address: str = "",
) -> tuple[Invitation, str]:
    """Invite a visitor for one day and queue their email; returns it and the code.

    The code is returned once, for the caller to show or test with; only its hash
    is kept. Raises TextError with a message for the person on any bad field.
    """
    name = clean_name(visitor_name, label=_("Visitor's name"))
    company = clean_name(company, label=_("Company"))
    email = check_email(email, label=_("Visitor's email"))
    _check_day(site, expected_on)
    host = session.get(Host, host_id) if isinstance(host_id, int) else None
    if host is None or host.site_id != site.id or not host.active:
        raise TextError(_("Choose the host from the site's directory."))

    code = _new_code()
    invitation = Invitation(
        site_id=site.id,
        code_hash=_hash(code),
        visitor_name=name,
        company=company,
        email=email,
        expected_on=expected_on,
        host_id=host.id,
        created_by=_label(actor),
    )
    session.add(invitation)
    session.flush()
    mail.queue(
        session,
        site_id=site.id,
        recipient=email,
        subject=f"Your visit to {site.name} on {_long_date(expected_on)}",
        body=_email_body(invitation, site, host, code),
        attachment=badges.qr_png(code, box_size=8),
    )
    audit.record(
        session,
        "invitation.created",
        actor=actor,
        site_id=site.id,
        target=f"invitation:{invitation.id}",
        address=address,
        expected_on=expected_on.isoformat(),
        host_id=host.id,
    )
    return invitation, code


def _check_day(site: Site, expected_on: date) -> None:
    if not isinstance(expected_on, date) or isinstance(expected_on, datetime):
        raise TextError(_("Enter the date of the visit."))

    today = site_today(site)
    if expected_on < today:
        raise TextError(_("The date of the visit has passed."))

    if expected_on > today + timedelta(days=MAX_DAYS_AHEAD):
        raise TextError(
            _(
                "Invite at most %(days)s days ahead.",
                days=MAX_DAYS_AHEAD,
            )
        )


def _label(actor: User | str) -> str:
    if isinstance(actor, User):
        return actor.display_name

    return actor


def _long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _email_body(invitation: Invitation, site: Site, host: Host, code: str) -> str:
    return (
        f"Hello {invitation.visitor_name},\n"
        "\n"
        f"{host.name} expects you at {site.name} on "
        f"{_long_date(invitation.expected_on)}.\n"
        "\n"
        "When you arrive, hold the QR code attached to this email (printed or on "
        "your phone's screen) to the kiosk's scanner, or type this code at the "
        "kiosk:\n"
        "\n"
        f"    {printable(code)}\n"
        "\n"
        "It fills in your details for you. It works once, on that day only.\n"
        "\n"
        "Please bring a government-issued photo ID: you will still be asked to "
        "show it.\n"
    )


def lookup(
    session: Session, site: Site, text: str, today: date | None = None
) -> Invitation | None:
    """The invitation a scanned or typed code names, if it can start a visit now.

    None for anything else: not a code, unknown, used, cancelled, for another
    site, or for another day than today at the site.
    """
    if not looks_like_code(text):
        return None

    invitation = session.scalar(
        select(Invitation).where(Invitation.code_hash == _hash(_normalise(text)))
    )
    if invitation is None or invitation.site_id != site.id:
        return None

    if invitation.used_at is not None or invitation.cancelled_at is not None:
        return None

    if invitation.expected_on != (today or site_today(site)):
        return None

    return invitation


def cancel(
    session: Session, invitation: Invitation, actor: User | str, address: str = ""
) -> None:
    """Cancel an invitation not yet used; its code stops working at once."""
    if invitation.used_at is not None:
        raise TextError(_("This invitation was already used."))

    if invitation.cancelled_at is not None:
        raise TextError(_("This invitation is already cancelled."))

    invitation.cancelled_at = utcnow()
    audit.record(
        session,
        "invitation.cancelled",
        actor=actor,
        site_id=invitation.site_id,
        target=f"invitation:{invitation.id}",
        address=address,
    )


def upcoming(session: Session, site: Site) -> list[Invitation]:
    """The site's invitations for today or later that are neither used nor cancelled."""
    query = (
        select(Invitation)
        .where(
            Invitation.site_id == site.id,
            Invitation.expected_on >= site_today(site),
            Invitation.used_at.is_(None),
            Invitation.cancelled_at.is_(None),
        )
        .order_by(Invitation.expected_on, Invitation.visitor_name, Invitation.id)
    )
    return list(session.scalars(query))


def past(session: Session, site: Site, limit: int = 100) -> list[Invitation]:
    """The site's used, cancelled and missed invitations, the latest day first."""
    query = (
        select(Invitation)
        .where(
            Invitation.site_id == site.id,
            or_(
                Invitation.used_at.is_not(None),
                Invitation.cancelled_at.is_not(None),
                Invitation.expected_on < site_today(site),
            ),
        )
        .order_by(Invitation.expected_on.desc(), Invitation.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def status(invitation: Invitation, today: date) -> str:
    """used, cancelled, missed (its day passed unused), or upcoming."""
    if invitation.used_at is not None:
        return "used"

    if invitation.cancelled_at is not None:
        return "cancelled"

    if invitation.expected_on < today:
        return "missed"

    return "upcoming"
