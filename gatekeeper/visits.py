"""Visits: check-in, ID verification, sign-out, closing, corrections (CTPAT 10.2).

Every change to a visit row is written with its log entry in one transaction, and
the entry carries the columns it set, so the log alone can rebuild the visitor log.
"""

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gatekeeper import chain, mail, photos, screening, visitor_types
from gatekeeper.db import utcnow
from gatekeeper.models import (
    ID_TYPES,
    Exemption,
    Host,
    Invitation,
    Kiosk,
    LogEntry,
    Photo,
    Site,
    User,
    Visit,
    VisitorType,
)
from gatekeeper.text import TextError, clean_name, clean_text

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
    "admission",
    "escort_required",
    "escort_name",
    "id_exemption_by",
    "id_document_expired",
)
# Visits logged before these columns existed were all admitted, with no escort noted.
chain.register_subject(
    "visit",
    Visit,
    LOGGED_COLUMNS,
    later_defaults={
        "admission": "admitted",
        "escort_required": False,
        "escort_name": None,
        "id_exemption_by": None,
        "id_document_expired": None,
    },
)

CORRECTABLE = ("visitor_name", "company", "host_name", "id_type", "visitor_type")
CLOSE_REASON_MIN = 3
CLOSE_REASON_MAX = 500


class VisitError(ValueError):
    """An action on a visit that cannot be done; the message is for the person."""


def actor_label(actor: User | Kiosk | str) -> str:
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


@dataclass(frozen=True)
class Rules:
    """The visitor type and the person's exemption, as the caller already read them
    in the same transaction; check_in then does not read them again."""

    kind: VisitorType | None
    exemption: Exemption | None


@dataclass
class Arrival:
    """What a check-in brings besides the form: photos, barcode, invitation, who."""

    photos: dict[str, Photo] = field(default_factory=dict)
    # From the ID's barcode, when one was read: the holder's document number is
    # matched against the block list, the expiry flagged on the visit.
    id_number: str | None = None
    id_document_expired: bool | None = None
    invitation: Invitation | None = None
    # The employee who compared the photo ID with the person at a desk check-in.
    verified_by: User | None = None
    rules: Rules | None = None


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
    arrival: Arrival | None = None,
) -> Visit:
    """Record an arrival. A repeated submission key returns the visit already made.

    Where the visit stands afterwards (its admission) follows the site's rules: held
    when the visitor matches the block list; otherwise admitted when the visitor type
    needs no photo ID, the person is exempt, an employee verified the ID at the desk,
    or the site is self-service; otherwise awaiting an employee's verification.
    """
    arrival = arrival or Arrival()
    if submission_key:
        existing = session.scalar(
            select(Visit).where(Visit.submission_key == submission_key)
        )
        if existing:
            return existing

    host = session.get(Host, host_id)
    if host is None or host.site_id != site.id or not host.active:
        raise VisitError(_("Choose your point of contact from the list."))

    rules = arrival.rules or read_rules(
        session, site.id, visitor_type, visitor_name, company
    )
    kind, exemption = rules.kind, rules.exemption
    if kind is None or kind.site_id != site.id or kind.code != visitor_type:
        raise VisitError(_("Choose who you are."))

    id_needed = kind.id_required and exemption is None
    if id_needed and id_type not in ID_TYPES:
        raise VisitError(_("Choose the type of photo ID you showed."))

    if id_type and id_type not in ID_TYPES:
        raise VisitError(_("Choose the type of photo ID you showed."))

    arrived_at = utcnow()
    visit = Visit(
        site_id=site.id,
        badge_number=_new_badge_number(session, site.id),
        visitor_name=visitor_name,
        company=company,
        visitor_type=kind.code,
        host_id=host.id,
        host_name=host.name,
        id_type=id_type if id_needed else (id_type or ""),
        id_status="unverified",
        arrived_at=arrived_at,
        valid_until=arrived_at + timedelta(hours=visitor_types.valid_hours(kind, site)),
        kiosk_id=kiosk.id if kiosk else None,
        submission_key=submission_key,
        escort_required=kind.escort_required,
        escort_name=host.name if kind.escort_required else None,
        id_document_expired=arrival.id_document_expired,
        invitation_id=arrival.invitation.id if arrival.invitation else None,
    )
    _set_identity(visit, site, kiosk, kind, exemption, arrival)
    matches = screening.matches(
        session,
        site.id,
        name=visitor_name,
        company=company,
        id_number=arrival.id_number,
    )
    if matches:
        visit.admission = "held"

    session.add(visit)
    session.flush()
    for photo in arrival.photos.values():
        photos.attach(photo, visit)

    if arrival.invitation is not None:
        _use_invitation(session, arrival.invitation, arrived_at)

    details = {}
    if matches:
        details["block_list"] = [
            {"entry": m.entry_id, "kind": m.kind, "matched": m.matched, "rule": m.rule}
            for m in matches
        ]
    if arrival.invitation is not None:
        details["invitation"] = arrival.invitation.id

    chain.append(
        session,
        site_id=site.id,
        kind="visit.arrived",
        subject_type="visit",
        subject_id=visit.id,
        actor=actor_label(arrival.verified_by or kiosk or "console"),
        changes={name: getattr(visit, name) for name in LOGGED_COLUMNS},
        details=details or None,
    )
    if visit.admission == "admitted":
        mail.notify_host(session, visit)

    return visit


def read_rules(
    session: Session, site_id: int, visitor_type: str, name: str, company: str
) -> Rules:
    """The site's active visitor type of this code, and the person's exemption."""
    kind = visitor_types.find(session, site_id, visitor_type)
    if kind is None:
        return Rules(None, None)

    return Rules(kind, screening.exemption_for(session, site_id, name, company))


def _use_invitation(session: Session, invitation: Invitation, now: datetime) -> None:
    """Spend an invitation once, even when two kiosks scan the same code at once."""
    result = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise VisitError(_("This invitation has already been used."))

    session.refresh(invitation)


def _set_identity(visit, site, kiosk, kind, exemption, arrival: Arrival) -> None:
    """The visit's ID status and admission, before the block list is consulted."""
    if not kind.id_required:
        visit.id_status, visit.admission = "not_required", "admitted"
    elif exemption is not None:
        visit.id_status, visit.admission = "exempt", "admitted"
        visit.id_exemption_by = exemption.granted_by
    elif arrival.verified_by is not None:
        visit.id_status, visit.admission = "verified", "admitted"
        visit.id_verified_by = arrival.verified_by.display_name
        visit.id_verified_at = visit.arrived_at
    else:
        visit.id_status = "captured" if "id" in arrival.photos else "unverified"
        self_service = site.verification_mode == "self_service"
        visit.admission = "admitted" if self_service and kiosk else "awaiting_id"


def find_by_submission(session: Session, submission_key: str) -> Visit | None:
    return session.scalar(select(Visit).where(Visit.submission_key == submission_key))


def is_duplicate_submission(error: IntegrityError) -> bool:
    """True when an insert failed because the same form was submitted twice at once."""
    return "submission_key" in str(error.orig)


def verify_id(session: Session, visit: Visit, id_type: str, *, actor: User) -> None:
    """Record that an employee compared the photo ID with the person (10.2).

    A visit awaiting this is admitted by it: its badge may print and its host is
    told. In self-service the guard's first scan of the badge records it.
    """
    if id_type not in ID_TYPES:
        raise VisitError(_("Choose the type of photo ID you checked."))

    if visit.id_status == "verified":
        raise VisitError(_("This visitor's ID is already verified."))

    if visit.admission in ("held", "denied"):
        raise VisitError(_("This check-in is held or denied; decide the hold first."))

    if visit.departed_at is not None:
        raise VisitError(_("This visit has already ended."))

    visit.id_type = id_type
    visit.id_status = "verified"
    visit.id_verified_by = actor.display_name
    visit.id_verified_at = utcnow()
    changes = {
        "id_type": visit.id_type,
        "id_status": visit.id_status,
        "id_verified_by": visit.id_verified_by,
        "id_verified_at": visit.id_verified_at,
    }
    admitted = visit.admission == "awaiting_id"
    if admitted:
        visit.admission = changes["admission"] = "admitted"

    chain.append(
        session,
        site_id=visit.site_id,
        kind="visit.id_verified",
        subject_type="visit",
        subject_id=visit.id,
        actor=actor_label(actor),
        changes=changes,
    )
    if admitted:
        mail.notify_host(session, visit)


HOLD_DECISIONS = ("approve", "deny")


def decide_hold(
    session: Session, visit: Visit, decision: str, *, reason: str, actor: User
) -> None:
    """Approve or deny a check-in the block list held; the log keeps the decision.

    Approved, the visit goes on as it would have: awaiting the ID check when the ID
    still needs verifying at an attended site, admitted otherwise. Denied, the visit
    ends at once, with no badge.
    """
    if decision not in HOLD_DECISIONS:
        raise VisitError(_("Choose approve or deny."))

    if visit.admission != "held":
        raise VisitError(_("This check-in is not held."))

    reason = _close_reason(reason, _("Say why you approve or deny this check-in."))
    now = utcnow()
    label = actor_label(actor)
    if decision == "approve":
        waiting = visit.id_status in ("unverified", "captured") and (
            visit.site.verification_mode == "attended" or visit.kiosk_id is None
        )
        visit.admission = "awaiting_id" if waiting else "admitted"
        changes = {"admission": visit.admission}
    else:
        visit.admission = "denied"
        visit.departed_at = now
        visit.departed_by = label
        changes = {
            "admission": visit.admission,
            "departed_at": now,
            "departed_by": label,
        }

    chain.append(
        session,
        site_id=visit.site_id,
        kind=f"visit.hold_{'approved' if decision == 'approve' else 'denied'}",
        subject_type="visit",
        subject_id=visit.id,
        actor=label,
        changes=changes,
        details={"reason": reason},
    )
    if visit.admission == "admitted":
        mail.notify_host(session, visit)


def set_escort(session: Session, visit: Visit, escort_name: str, *, actor: User):
    """Record who escorts the visitor (the host unless the front desk says)."""
    try:
        name = clean_text(escort_name, label=_("Escort"), max_length=120)
    except TextError as error:
        raise VisitError(str(error)) from error

    if visit.departed_at is not None:
        raise VisitError(_("This visit has already ended."))

    if name == visit.escort_name:
        return

    visit.escort_name = name
    chain.append(
        session,
        site_id=visit.site_id,
        kind="visit.escort_changed",
        subject_type="visit",
        subject_id=visit.id,
        actor=actor_label(actor),
        changes={"escort_name": name},
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

    if not _record_departure(session, visit, kind="visit.departed", actor=actor):
        raise VisitError(_("This badge is already signed out."))

    return visit


def close_visit(session: Session, visit: Visit, *, reason: str, actor: User) -> Visit:
    """Close the visit of someone who left without signing out, saying who and why.

    The time of departure 10.2 asks for is then the time the visit was closed, not
    the time the visitor really left, so the entry keeps the reason and whether the
    visit was overdue, for whoever reads the log later.
    """
    reason = _close_reason(reason)
    now = utcnow()
    details = {"reason": reason, "overdue": is_overdue(visit, now)}
    departed = _record_departure(
        session, visit, kind="visit.closed", actor=actor, now=now, details=details
    )
    if not departed:
        raise VisitError(_("This visit already has a time of departure."))

    return visit


def _close_reason(reason: str | None, missing: str | None = None) -> str:
    try:
        text = clean_text(
            reason, label=_("Reason"), max_length=CLOSE_REASON_MAX, required=False
        )
    except TextError as error:
        raise VisitError(str(error)) from error

    if not text:
        raise VisitError(missing or _("Say why you are closing this visit."))

    if len(text) < CLOSE_REASON_MIN:
        raise VisitError(
            _("The reason must be at least %(n)s characters.", n=CLOSE_REASON_MIN)
        )

    return text


def _record_departure(
    session: Session,
    visit: Visit,
    *,
    kind: str,
    actor: User | Kiosk,
    now: datetime | None = None,
    details: dict | None = None,
) -> bool:
    """Set a visit's departure and log it, unless it has one; True when it was set."""
    now = now or utcnow()
    label = actor_label(actor)
    # The conditional UPDATE is what makes a departure happen once: a second
    # departure, even a concurrent one, matches no row.
    result = session.execute(
        update(Visit)
        .where(Visit.id == visit.id, Visit.departed_at.is_(None))
        .values(departed_at=now, departed_by=label)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False

    session.refresh(visit)
    chain.append(
        session,
        site_id=visit.site_id,
        kind=kind,
        subject_type="visit",
        subject_id=visit.id,
        actor=label,
        changes={"departed_at": now, "departed_by": label},
        details=details,
    )
    return True


def correct(
    session: Session,
    visit: Visit,
    *,
    column: str,
    value: str,
    reason: str,
    actor: User,
) -> None:
    """Correct one field of a visit: a new entry naming what it corrects and why.

    The value is checked as check-in checks it, and the entry keeps the value it
    replaces, so the log holds both the original and the correction.
    """
    if column not in CORRECTABLE:
        raise VisitError(_("That field cannot be corrected."))

    reason = _close_reason(reason, _("A correction needs a reason."))
    after = _corrected_value(session, visit, column, value)
    before = getattr(visit, column)
    if after == before:
        raise VisitError(_("That is the value already recorded."))

    setattr(visit, column, after)
    chain.append(
        session,
        site_id=visit.site_id,
        kind="visit.corrected",
        subject_type="visit",
        subject_id=visit.id,
        actor=actor_label(actor),
        changes={column: after},
        details={"reason": reason, "before": before},
    )


def _corrected_value(session: Session, visit: Visit, column: str, value) -> str:
    """A corrected value cleaned by the rules its field had at check-in."""
    if column == "id_type":
        if value not in ID_TYPES:
            raise VisitError(_("Choose the type of photo ID that was shown."))

        return value

    if column == "visitor_type":
        kind = visitor_types.find(session, visit.site_id, value or "")
        if kind is None:
            raise VisitError(_("Choose one of the site's visitor types."))

        return kind.code

    labels = {
        "visitor_name": _("Visitor's name"),
        "company": _("Company"),
        "host_name": _("Point of contact"),
    }
    try:
        return clean_name(value, label=labels[column])
    except TextError as error:
        raise VisitError(str(error)) from error


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


def is_overdue(visit: Visit, now: datetime) -> bool:
    """True for a visit still open after the end its badge was issued for."""
    if visit.departed_at is not None or visit.valid_until is None:
        return False

    return now > visit.valid_until


def overdue_visits(session: Session, site: Site, now: datetime) -> list[Visit]:
    """A site's open visits past their expected end, the oldest first."""
    query = (
        select(Visit)
        .where(
            Visit.site_id == site.id,
            Visit.departed_at.is_(None),
            Visit.valid_until < now,
        )
        .order_by(Visit.arrived_at, Visit.id)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class Closing:
    """Who closed a visit from the console, and the reason they gave."""

    username: str
    reason: str


def closings(
    session: Session, site_id: int, visit_ids: Iterable[int]
) -> dict[int, Closing]:
    """The closing of each of these visits that was closed, read from the site's log."""
    visit_ids = list(visit_ids)
    if not visit_ids:
        return {}

    query = select(LogEntry).where(
        LogEntry.site_id == site_id,
        LogEntry.kind == "visit.closed",
        LogEntry.subject_type == "visit",
        LogEntry.subject_id.in_(visit_ids),
    )
    found = {}
    for entry in session.scalars(query):
        details = json.loads(entry.body).get("details", {})
        found[entry.subject_id] = Closing(
            username=entry.actor.removeprefix("user:"),
            reason=details.get("reason", ""),
        )

    return found
