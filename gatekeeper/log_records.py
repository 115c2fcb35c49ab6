"""One record of a log read back whole, for the console's record pages.

A visit or a pickup is shown with every entry the chained log holds of it, in
the order they were written; with its corrections, each giving the value before
and the value after (the original is never overwritten in the log, CTPAT 7.6);
and with its discrepancies (7.27): what a security manager reviewing the record
should look at, read from the log, the row, its cases and its badge checks.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatekeeper.cases import KINDS as CASE_KINDS
from gatekeeper.models import BadgeCheck, Case, LogEntry, Pickup, Visit

DIFFERENCE_LABELS = {
    "no_appointment": "no appointment had the reference",
    "driver": "another driver was expected",
    "truck": "another truck was expected",
    "window": "it came outside the appointment's window",
}
BLOCK_KIND_LABELS = {"person": "person", "company": "company", "id_number": "ID number"}
VERDICT_LABELS = {
    "expired": "expired",
    "signed_out": "already signed out",
    "revoked": "revoked",
    "forged": "forged",
}


@dataclass(frozen=True)
class Entry:
    """One log entry of the record: what it set, and anything else it kept."""

    seq: int
    kind: str
    actor: str
    at: datetime
    changes: dict
    details: dict


@dataclass(frozen=True)
class Correction:
    """One field corrected: the value the log held before, and the new one."""

    field: str
    before: object
    after: object
    actor: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class Discrepancy:
    """Something about the record a reviewer should look at, and when it arose."""

    summary: str
    at: datetime | None = None
    case_id: int | None = None
    open: bool = False


def entries(session: Session, record: Visit | Pickup) -> list[Entry]:
    """The record's log entries, in the order they were appended."""
    subject_type = "visit" if isinstance(record, Visit) else "pickup"
    query = (
        select(LogEntry)
        .where(
            LogEntry.site_id == record.site_id,
            LogEntry.subject_type == subject_type,
            LogEntry.subject_id == record.id,
        )
        .order_by(LogEntry.seq)
    )
    found = []
    for entry in session.scalars(query):
        body = json.loads(entry.body)
        found.append(
            Entry(
                seq=entry.seq,
                kind=entry.kind,
                actor=entry.actor.removeprefix("user:"),
                at=entry.recorded_at,
                changes=body.get("set") or {},
                details=body.get("details") or {},
            )
        )

    return found


def corrections(log: list[Entry]) -> list[Correction]:
    """Each field corrected, oldest first: by a manager afterwards, or by the
    employee who registered a driver and fixed what the driver had typed."""
    found = []
    for entry in log:
        if entry.kind.endswith(".corrected"):
            # An entry names the field it corrects when it also set others as a
            # consequence (a pickup's carrier-ID reason); those are not corrections.
            named = entry.details.get("field")
            for name in [named] if named else list(entry.changes):
                found.append(
                    Correction(
                        field=name,
                        before=entry.details.get("before"),
                        after=entry.changes.get(name),
                        actor=entry.actor,
                        at=entry.at,
                        reason=str(entry.details.get("reason", "")),
                    )
                )
        elif entry.kind == "pickup.registered":
            for name, before in (entry.details.get("corrected_from") or {}).items():
                found.append(
                    Correction(
                        field=name,
                        before=before,
                        after=entry.changes.get(name),
                        actor=entry.actor,
                        at=entry.at,
                        reason="corrected at registration",
                    )
                )

    return found


def visit_discrepancies(
    session: Session, visit: Visit, log: list[Entry], now: datetime
) -> list[Discrepancy]:
    """What a reviewer of this visit should look at (10.2)."""
    found = []
    for entry in log:
        found.extend(_visit_entry_discrepancies(entry))

    if visit.id_document_expired:
        found.append(
            Discrepancy("The barcode on the photo ID said the document had expired.")
        )

    unchecked = visit.id_status in ("unverified", "captured")
    if visit.departed_at and unchecked and visit.admission != "denied":
        found.append(
            Discrepancy(
                "The visit ended with the photo ID never compared with the person.",
                visit.departed_at,
            )
        )

    end = visit.valid_until
    if end and visit.departed_at and visit.departed_at > end:
        found.append(Discrepancy("The visitor stayed past the badge's validity.", end))
    elif end and not visit.departed_at and now > end:
        found.append(
            Discrepancy("Overdue: still on site after the badge's validity.", end)
        )

    checks = select(BadgeCheck).where(
        BadgeCheck.visit_id == visit.id, BadgeCheck.verdict != "valid"
    )
    for check in session.scalars(checks.order_by(BadgeCheck.checked_at)):
        verdict = VERDICT_LABELS.get(check.verdict, check.verdict)
        found.append(
            Discrepancy(
                f"A guard ({check.checked_by}) scanned the badge: {verdict}.",
                check.checked_at,
            )
        )

    found.extend(_cases(session, Case.visit_id == visit.id))
    return found


def _visit_entry_discrepancies(entry: Entry) -> list[Discrepancy]:
    reason = str(entry.details.get("reason", ""))
    if entry.kind == "visit.arrived":
        return [
            Discrepancy(
                f"Matched the block list at check-in: "
                f"{BLOCK_KIND_LABELS.get(match.get('kind'), match.get('kind'))} "
                f"{match.get('matched')}.",
                entry.at,
            )
            for match in entry.details.get("block_list", [])
        ]

    messages = {
        "visit.hold_approved": f"{entry.actor} approved the held check-in: {reason}",
        "visit.hold_denied": f"{entry.actor} denied the held check-in: {reason}",
        "visit.closed": f"Closed by {entry.actor} without a sign-out: {reason}",
        "visit.badge_revoked": f"The badge was revoked by {entry.actor}.",
    }
    if entry.kind in messages:
        return [Discrepancy(messages[entry.kind], entry.at)]

    return []


def pickup_discrepancies(
    session: Session, pickup: Pickup, log: list[Entry], now: datetime
) -> list[Discrepancy]:
    """What a reviewer of this pickup should look at (10.3, 10.4, 7.27)."""
    found = []
    for entry in log:
        found.extend(_pickup_entry_discrepancies(entry))

    if pickup.id_fallback_reason:
        found.append(
            Discrepancy(
                "A carrier-issued photo ID was accepted instead of a government "
                f"one: {pickup.id_fallback_reason}",
                pickup.registered_at,
            )
        )

    if pickup.id_document_expired:
        found.append(
            Discrepancy("The barcode on the photo ID said the document had expired.")
        )

    allowed = timedelta(hours=pickup.site.driver_overdue_hours)
    if pickup.status == "registered" and now - pickup.arrived_at > allowed:
        found.append(
            Discrepancy(
                f"Overdue: on site longer than {pickup.site.driver_overdue_hours} "
                "hours.",
                pickup.arrived_at + allowed,
            )
        )
    elif pickup.departed_at and pickup.departed_at - pickup.arrived_at > allowed:
        found.append(
            Discrepancy(
                f"The driver stayed longer than {pickup.site.driver_overdue_hours} "
                "hours.",
                pickup.departed_at,
            )
        )

    found.extend(_cases(session, Case.pickup_id == pickup.id))
    return found


def _pickup_entry_discrepancies(entry: Entry) -> list[Discrepancy]:
    reason = str(entry.details.get("reason", ""))
    if entry.kind == "pickup.registered" and entry.details.get("differences"):
        said = ", ".join(
            DIFFERENCE_LABELS.get(code, code) for code in entry.details["differences"]
        )
        decision = entry.details.get("decision", "")
        return [
            Discrepancy(
                f"Registered by {entry.actor} although {said}; decision: {decision}",
                entry.at,
            )
        ]

    messages = {
        "pickup.refused": f"Refused at the gate by {entry.actor}: {reason}",
        "pickup.left": f"Left without being logged out, found by {entry.actor}: "
        f"{reason}",
    }
    if entry.kind in messages:
        return [Discrepancy(messages[entry.kind], entry.at)]

    return []


def _cases(session: Session, condition) -> list[Discrepancy]:
    query = select(Case).where(condition).order_by(Case.id)
    return [
        Discrepancy(
            f"{CASE_KINDS.get(case.kind, case.kind)}: {case.summary}",
            case.opened_at,
            case_id=case.id,
            open=case.status == "open",
        )
        for case in session.scalars(query)
    ]
