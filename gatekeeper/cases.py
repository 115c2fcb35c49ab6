"""Discrepancy and incident cases (CTPAT 7.27, 7.37, 6.1).

A seal that does not match, a broken or tampered seal, a driver who differs from the
appointment, an ID refused, a driver who left without being logged out: each opens
a case with a status, notes, who was notified and a resolution. A case and every
change to it are log entries, so the log alone tells its history.
"""

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gatekeeper import chain
from gatekeeper.db import utcnow
from gatekeeper.models import Case, LogEntry, User
from gatekeeper.text import TextError, clean_text

KINDS = {
    "seal_mismatch": "Seal number differs from the one assigned",
    "seal_tampered": "Seal broken or tampered with",
    "appointment_mismatch": "Driver or truck differs from the appointment",
    "id_refused": "Driver's ID refused",
    "left_unlogged": "Driver left without being logged out",
    "other": "Other incident",
}
STATUSES = ("open", "closed")
LOGGED_COLUMNS = (
    "kind",
    "status",
    "pickup_id",
    "visit_id",
    "summary",
    "seal_number",
    "decision",
    "notified",
    "resolution",
    "opened_by",
    "opened_at",
    "closed_by",
    "closed_at",
)
chain.register_subject("case", Case, LOGGED_COLUMNS)
NOTE_MAX = 2000


class CaseError(ValueError):
    """A change to a case that cannot be made; the message is for the person."""


def _label(actor: User | str) -> str:
    return f"user:{actor.username}" if isinstance(actor, User) else actor


def _name(actor: User | str) -> str:
    return actor.display_name if isinstance(actor, User) else actor


def _text(value: str | None, label: str, max_length: int, required=True) -> str:
    try:
        return clean_text(value, label=label, max_length=max_length, required=required)
    except TextError as error:
        raise CaseError(str(error)) from error


def open_case(
    session: Session,
    *,
    site_id: int,
    kind: str,
    summary: str,
    actor: User | str,
    pickup_id: int | None = None,
    visit_id: int | None = None,
    notified: str = "",
) -> Case:
    if kind not in KINDS:
        raise CaseError("Choose what kind of case this is.")

    case = Case(
        site_id=site_id,
        kind=kind,
        status="open",
        pickup_id=pickup_id,
        visit_id=visit_id,
        summary=_text(summary, "Summary", 500),
        notified=_text(notified, "Notified", 500, required=False),
        opened_by=_name(actor),
        opened_at=utcnow(),
    )
    session.add(case)
    session.flush()
    chain.append(
        session,
        site_id=site_id,
        kind="case.opened",
        subject_type="case",
        subject_id=case.id,
        actor=_label(actor),
        changes={name: getattr(case, name) for name in LOGGED_COLUMNS},
    )
    return case


def add_note(
    session: Session, case: Case, note: str, *, actor: User, notified: str = ""
) -> None:
    """Add a note to a case, and who was told of it; notes live in the log only."""
    text = _text(note, "Note", NOTE_MAX)
    changes = {}
    told = _text(notified, "Notified", 500, required=False)
    if told and told != case.notified:
        case.notified = told
        changes["notified"] = told

    chain.append(
        session,
        site_id=case.site_id,
        kind="case.noted",
        subject_type="case",
        subject_id=case.id,
        actor=_label(actor),
        changes=changes,
        details={"note": text},
    )


def close(session: Session, case: Case, resolution: str, *, actor: User) -> None:
    if case.status == "closed":
        raise CaseError("This case is already closed.")

    # A seal mismatch holds a trailer at the gate: closing it first would leave
    # the guard with a blocked departure and no decision to act on.
    if case.kind == "seal_mismatch" and case.decision is None:
        raise CaseError("Record the seal decision (release or hold) before closing.")

    case.resolution = _text(resolution, "Resolution", NOTE_MAX)
    case.status = "closed"
    case.closed_by = _name(actor)
    case.closed_at = utcnow()
    chain.append(
        session,
        site_id=case.site_id,
        kind="case.closed",
        subject_type="case",
        subject_id=case.id,
        actor=_label(actor),
        changes={
            "status": case.status,
            "resolution": case.resolution,
            "closed_by": case.closed_by,
            "closed_at": case.closed_at,
        },
    )


def open_cases(session: Session, site_id: int) -> list[Case]:
    query = (
        select(Case)
        .where(Case.site_id == site_id, Case.status == "open")
        .order_by(Case.opened_at.desc(), Case.id.desc())
    )
    return list(session.scalars(query))


def recent(session: Session, site_id: int, *, status: str, limit: int = 200):
    """A site's cases of one status, the newest first."""
    query = (
        select(Case)
        .where(Case.site_id == site_id, Case.status == status)
        .order_by(Case.opened_at.desc(), Case.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def decisions_waiting(session: Session, site_ids: set[int]) -> int:
    """How many seal mismatches of these sites wait for a security manager."""
    query = select(func.count(Case.id)).where(
        Case.site_id.in_(site_ids),
        Case.kind == "seal_mismatch",
        Case.status == "open",
        Case.decision.is_(None),
    )
    return session.scalar(query) or 0


def cases_of_pickups(session: Session, pickup_ids: list[int]) -> dict[int, list[Case]]:
    """The cases of each of these pickups, oldest first, for the log's rows."""
    found: dict[int, list[Case]] = {pickup_id: [] for pickup_id in pickup_ids}
    if not pickup_ids:
        return found

    query = select(Case).where(Case.pickup_id.in_(pickup_ids)).order_by(Case.id)
    for case in session.scalars(query):
        found[case.pickup_id].append(case)

    return found


def history(session: Session, case: Case) -> list[dict]:
    """Every log entry of a case, oldest first: opened, decided, noted, closed."""
    query = (
        select(LogEntry)
        .where(
            LogEntry.site_id == case.site_id,
            LogEntry.subject_type == "case",
            LogEntry.subject_id == case.id,
        )
        .order_by(LogEntry.seq)
    )
    events = []
    for entry in session.scalars(query):
        body = json.loads(entry.body)
        events.append(
            {
                "kind": entry.kind,
                "at": entry.recorded_at,
                "actor": entry.actor.removeprefix("user:"),
                "set": body.get("set") or {},
                "details": body.get("details") or {},
            }
        )

    return events


def cases_of_pickup(session: Session, pickup_id: int) -> list[Case]:
    query = select(Case).where(Case.pickup_id == pickup_id).order_by(Case.id)
    return list(session.scalars(query))


def notes(session: Session, case: Case) -> list[dict]:
    """The notes of a case, oldest first, as the log keeps them."""
    query = (
        select(LogEntry)
        .where(
            LogEntry.site_id == case.site_id,
            LogEntry.subject_type == "case",
            LogEntry.subject_id == case.id,
            LogEntry.kind == "case.noted",
        )
        .order_by(LogEntry.seq)
    )
    return [
        {
            "at": entry.recorded_at,
            "actor": entry.actor.removeprefix("user:"),
            "note": json.loads(entry.body)["details"].get("note", ""),
        }
        for entry in session.scalars(query)
    ]
