"""Binding a kiosk's browser to a site, and revoking it (the kiosk's credential)."""

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gatekeeper import audit
from gatekeeper.db import utcnow
from gatekeeper.models import Kiosk, Site, User
from gatekeeper.text import clean_text

# No 0/O, 1/I/L: the code is read off one screen and typed on another.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(hours=24)


class EnrolmentError(ValueError):
    """An enrolment code that cannot be used; the message is for the installer."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("ascii", "ignore")).hexdigest()


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def create_kiosk(
    session: Session, site: Site, name: str, *, actor: User | str, address: str = ""
) -> tuple[Kiosk, str]:
    """Create a kiosk awaiting enrolment; returns it and its one-time code."""
    name = clean_text(name, label="Kiosk name", max_length=80)
    taken = session.scalar(
        select(Kiosk).where(Kiosk.site_id == site.id, Kiosk.name == name)
    )
    if taken:
        raise EnrolmentError(f"This site already has a kiosk named {name!r}.")

    kiosk = Kiosk(site_id=site.id, name=name)
    session.add(kiosk)
    session.flush()
    code = issue_code(kiosk)
    audit.record(
        session,
        "kiosk.create",
        actor=actor,
        site_id=site.id,
        target=f"kiosk {kiosk.id} {name}",
        address=address,
    )
    return kiosk, code


def issue_code(kiosk: Kiosk) -> str:
    """Give a kiosk that is not revoked a fresh one-time code (a replacement device)."""
    if kiosk.revoked_at:
        raise EnrolmentError("A revoked kiosk cannot be enrolled again.")

    code = _new_code()
    kiosk.enrolment_code_hash = _digest(_normalise_code(code))
    kiosk.enrolment_expires_at = utcnow() + CODE_LIFETIME
    return code


def enrol(session: Session, code: str, *, address: str = "") -> tuple[Kiosk, str]:
    """Spend an enrolment code; returns the kiosk and the device token to keep."""
    normalised = _normalise_code(code)
    if len(normalised) != CODE_LENGTH:
        raise EnrolmentError(_("Enter the 8-character code shown in the console."))

    kiosk = session.scalar(
        select(Kiosk)
        .where(Kiosk.enrolment_code_hash == _digest(normalised))
        .with_for_update()
    )
    if kiosk is None or kiosk.revoked_at:
        raise EnrolmentError(
            _("That code is not valid. Check it, or ask for a new one.")
        )

    if kiosk.enrolment_expires_at is None or kiosk.enrolment_expires_at < utcnow():
        raise EnrolmentError(
            _("That code has expired. Ask for a new one in the console.")
        )

    token = secrets.token_urlsafe(32)
    kiosk.device_token_hash = _digest(token)
    kiosk.enrolment_code_hash = None
    kiosk.enrolment_expires_at = None
    kiosk.enrolled_at = utcnow()
    audit.record(
        session,
        "kiosk.enrol",
        actor=f"kiosk:{kiosk.id}",
        site_id=kiosk.site_id,
        target=f"kiosk {kiosk.id} {kiosk.name}",
        address=address,
    )
    return kiosk, token


def authenticate(session: Session, kiosk_id: int, token: str) -> Kiosk | None:
    """The kiosk a device credential names, if it is enrolled and not revoked."""
    if not 0 < kiosk_id < 2**31:
        return None

    # Nearly every kiosk request reads its site's settings (languages, idle time,
    # rules): one query for both instead of a second round trip per request.
    kiosk = session.get(Kiosk, kiosk_id, options=[joinedload(Kiosk.site)])
    if kiosk is None or kiosk.revoked_at or not kiosk.device_token_hash:
        return None

    if not secrets.compare_digest(kiosk.device_token_hash, _digest(token)):
        return None

    return kiosk


def revoke(
    session: Session, kiosk: Kiosk, *, actor: User | str, address: str = ""
) -> None:
    """Revoke a kiosk: its device is refused from its next request on."""
    if kiosk.revoked_at:
        return

    kiosk.revoked_at = utcnow()
    kiosk.device_token_hash = None
    kiosk.enrolment_code_hash = None
    audit.record(
        session,
        "kiosk.revoke",
        actor=actor,
        site_id=kiosk.site_id,
        target=f"kiosk {kiosk.id} {kiosk.name}",
        address=address,
    )


def replace_device(
    session: Session, kiosk: Kiosk, *, actor: User | str, address: str = ""
) -> str:
    """Unbind a kiosk's current device and issue a code for the one replacing it."""
    code = issue_code(kiosk)
    kiosk.device_token_hash = None
    kiosk.enrolled_at = None
    audit.record(
        session,
        "kiosk.new_code",
        actor=actor,
        site_id=kiosk.site_id,
        target=f"kiosk {kiosk.id} {kiosk.name}",
        address=address,
    )
    return code


def rename(
    session: Session, kiosk: Kiosk, name: str, *, actor: User | str, address: str = ""
) -> bool:
    """Rename a kiosk, keeping names unique per site; False when the name is the same.

    The device's credential names the kiosk by id, so it keeps working.
    """
    name = clean_text(name, label="Kiosk name", max_length=80)
    if name == kiosk.name:
        return False

    taken = session.scalar(
        select(Kiosk).where(Kiosk.site_id == kiosk.site_id, Kiosk.name == name)
    )
    if taken:
        raise EnrolmentError(f"This site already has a kiosk named {name!r}.")

    before = kiosk.name
    kiosk.name = name
    audit.record(
        session,
        "kiosk.rename",
        actor=actor,
        site_id=kiosk.site_id,
        target=f"kiosk {kiosk.id} {name}",
        address=address,
        before=before,
    )
    return True
