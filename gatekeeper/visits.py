"""Visits: check-in, ID verification, sign-out, corrections (CTPAT 10.2).

Every change to a visit row is written with its log entry in one transaction, and
the entry carries the columns it set, so the log alone can rebuild the visitor log.
"""

import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gatekeeper import chain
from gatekeeper.db import utcnow
from gatekeeper.models import ID_TYPES, VISITOR_TYPES, Host, Kiosk, Site, User, Visit

LOGGED_COLUMNS = (
    "badge_number",
    "visitor_name",
    "company",
    "visitor_type",
    "host_id",
    "host_name",
    "id_type",
    "id_status",
    "id_verified_by",
    "id_verified_at",
    "arrived_at",
    "departed_at",
    "departed_by",
    "valid_until",
    "badge_revoked_at",
)
chain.register_subject("visit", Visit, LOGGED_COLUMNS)

CORRECTABLE = ("visitor_name", "company", "host_name", "id_type", "visitor_type")


class VisitError(ValueError):
    """An action on a visit that cannot be done; the message is for the person."""


def _actor_label(actor: User | Kiosk | str) -> str:
    if isinstance(actor, User):
        return f"user:{actor.username}"

    if isinstance(actor, Kiosk):
        return f"kiosk:{actor.id}"

    return actor


def _new_badge_number(session: Session, site_id: int) -> str:
    for _attempt in range(50):
        number = f"{secrets.randbelow(900000) + 100000}"
        taken = session.scalar(
            select(Visit.id).where(
                Visit.site_id == site_id, Visit.badge_number == number
            )
        )
        if not taken:
            return number

    raise VisitError(_("No badge number is free; ask the front desk."))


def check_in(
    session: Session,
    *,
    site: Site,
    kiosk: Kiosk | None,
    visitor_name: str,
    company: str,
    host_id: int,
    visitor_type: str,
    id_type: str,
    submission_key: str | None = None,
) -> Visit:
    """Record an arrival. A repeated submission key returns the visit already made."""
    if submission_key:
        existing = session.scalar(
            select(Visit).where(Visit.submission_key == submission_key)
        )
        if existing:
            return existing

    host = session.get(Host, host_id)
    if host is None or host.site_id != site.id or not host.active:
        raise VisitError(_("Choose your point of contact from the list."))

    if id_type not in ID_TYPES:
        raise VisitError(_("Choose the type of photo ID you showed."))

    if visitor_type not in VISITOR_TYPES:
        raise VisitError(_("Choose who you are."))

    arrived_at = utcnow()
    visit = Visit(
        site_id=site.id,
        badge_number=_new_badge_number(session, site.id),
        visitor_name=visitor_name,
        company=company,
        visitor_type=visitor_type,
        host_id=host.id,
        host_name=host.name,
        id_type=id_type,
        id_status="unverified",
        arrived_at=arrived_at,
        valid_until=arrived_at + timedelta(hours=site.badge_valid_hours),
        kiosk_id=kiosk.id if kiosk else None,
        submission_key=submission_key,
    )
    session.add(visit)
    session.flush()
    chain.append(
        session,
        site_id=site.id,
        kind="visit.arrived",
        subject_type="visit",
        subject_id=visit.id,
        actor=_actor_label(kiosk or "console"),
        changes={name: getattr(visit, name) for name in LOGGED_COLUMNS},
    )
    return visit


def find_by_submission(session: Session, submission_key: str) -> Visit | None:
    return session.scalar(select(Visit).where(Visit.submission_key == submission_key))


def is_duplicate_submission(error: IntegrityError) -> bool:
    """True when an insert failed because the same form was submitted twice at once."""
    return "submission_key" in str(error.orig)


def verify_id(session: Session, visit: Visit, id_type: str, *, actor: User) -> None:
    """Record that an employee compared the photo ID with the person (10.2)."""
    if id_type not in ID_TYPES:
        raise VisitError(_("Choose the type of photo ID you checked."))

    if visit.id_status == "verified":
        raise VisitError(_("This visitor's ID is already verified."))

    visit.id_type = id_type
    visit.id_status = "verified"
    visit.id_verified_by = actor.display_name
    visit.id_verified_at = utcnow()
    chain.append(
        session,
        site_id=visit.site_id,
        kind="visit.id_verified",
        subject_type="visit",
        subject_id=visit.id,
        actor=_actor_label(actor),
        changes={
            "id_type": visit.id_type,
            "id_status": visit.id_status,
            "id_verified_by": visit.id_verified_by,
            "id_verified_at": visit.id_verified_at,
        },
    )


def sign_out(
    session: Session, *, site_id: int, badge_number: str, actor: User | Kiosk
) -> Visit:
    """Record a departure exactly once, even when two sign-outs race."""
    badge_number = badge_number.strip()
    if not (
        badge_number.isascii() and badge_number.isdigit() and len(badge_number) == 6
    ):
        raise VisitError(_("A badge number is 6 digits."))

    visit = session.scalar(
        select(Visit).where(
            Visit.site_id == site_id, Visit.badge_number == badge_number
        )
    )
    if visit is None:
        raise VisitError(
            _("No visit has that badge number. Please see the front desk.")
        )

    now = utcnow()
    label = _actor_label(actor)
    # The conditional UPDATE is what makes a departure happen once: a second
    # sign-out, even a concurrent one, matches no row.
    result = session.execute(
        update(Visit)
        .where(Visit.id == visit.id, Visit.departed_at.is_(None))
        .values(departed_at=now, departed_by=label)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise VisitError(_("This badge is already signed out."))

    session.refresh(visit)
    chain.append(
        session,
        site_id=site_id,
        kind="visit.departed",
        subject_type="visit",
        subject_id=visit.id,
        actor=label,
        changes={"departed_at": now, "departed_by": label},
    )
    return visit


def correct(
    session: Session,
    visit: Visit,
    *,
    column: str,
    value: str,
    reason: str,
    actor: User,
) -> None:
    """Correct one field of a visit: a new entry naming what it corrects and why."""
    if column not in CORRECTABLE:
        raise VisitError(_("That field cannot be corrected."))

    if not reason.strip():
        raise VisitError(_("A correction needs a reason."))

    before = getattr(visit, column)
    setattr(visit, column, value)
    chain.append(
        session,
        site_id=visit.site_id,
        kind="visit.corrected",
        subject_type="visit",
        subject_id=visit.id,
        actor=_actor_label(actor),
        changes={column: value},
        details={"reason": reason.strip(), "before": before},
    )


def local_day_bounds(site: Site, now: datetime) -> tuple[datetime, datetime]:
    """The start and end of the site's current calendar day, as UTC instants."""
    zone = ZoneInfo(site.timezone)
    local_date = now.astimezone(zone).date()
    start = datetime.combine(local_date, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def todays_visits(session: Session, site: Site) -> list[Visit]:
    """Visits that arrived on the site's current day, and those still on site."""
    start, end = local_day_bounds(site, utcnow())
    query = (
        select(Visit)
        .where(Visit.site_id == site.id)
        .where(
            ((Visit.arrived_at >= start) & (Visit.arrived_at < end))
            | Visit.departed_at.is_(None)
        )
        .order_by(Visit.arrived_at.desc())
    )
    return list(session.scalars(query))
