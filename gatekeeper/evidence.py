"""The evidence pack: one ZIP a security manager hands a CTPAT validator.

For a site and a range of its local days it holds, organised by criterion, the
visitor log (10.2), the drivers' identification (10.3), the cargo pickup log
(10.4), the appointments (10.7), the VVTT seal inspections (6.7), the discrepancy
cases (7.27) and the consignee notices (7.29); then the staff audit trail, the
review sign-offs and the roll calls; a completeness summary per month; and the
result of verifying the site's hash-chained log, with its head hash. index.html is
one page saying what each part shows, and checksums.txt the SHA-256 of every file,
so a validator can tell later that nothing in the pack was changed.

Each table is a CSV file (UTF-8 with a byte-order mark, so spreadsheets read the
accents; a cell that a spreadsheet would run as a formula is prefixed with a
quote) and the two logs are also a printable HTML page. Times are the site's local
times, in the zone the index names. Everything is read from one snapshot of the
database by the caller's session (see snapshot()), so the parts agree with each
other and with the verification. Images are never part of the pack.
"""

import hashlib
import json
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

import jinja2
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

# cases, pickups and visits declare the rows the log rebuilds (chain.SUBJECTS); the
# verification in the pack must compare all of them.
from gatekeeper import (  # noqa: F401
    cases,
    chain,
    exports,
    mail,
    pickups,
    reviews,
    visits,
)
from gatekeeper.config import PROJECT_ROOT
from gatekeeper.db import read_only, utcnow
from gatekeeper.models import (
    ID_TYPES,
    Appointment,
    AuditEvent,
    BadgeCheck,
    Case,
    LogEntry,
    OutboxMessage,
    Photo,
    Pickup,
    Review,
    RollCall,
    RollCallMark,
    Site,
    Visit,
    user_sites,
)

# A pack covers at most a year; a longer look-back is several packs.
MAX_DAYS = 366
TEMPLATES = PROJECT_ROOT / "templates" / "console" / "evidence" / "pack"
ID_STATUS_LABELS = {
    "unverified": "not verified",
    "captured": "captured, not compared",
    "verified": "verified by an employee",
    "exempt": "exempt",
    "not_required": "not required for the type",
}
UNVERIFIED = ("unverified", "captured")
# Pickups whose cargo left: logged out with a seal, or gone without a logout.
LEFT = ("departed", "left")
SECTIONS = (
    ("10.2", "Visitors show photo ID and every visit is logged"),
    ("10.3", "Drivers are positively identified before cargo is released"),
    ("10.4", "The cargo pickup log, kept from the drivers"),
    ("10.7", "Pickups by appointment, with the carrier's advance notice"),
    ("6.7", "The VVTT inspection of the seal at departure"),
    ("7.27", "Discrepancies are investigated and resolved"),
    ("7.29", "Seal numbers are sent to the consignee"),
    ("4.5, 4.7", "Staff access is recorded and reviewed"),
    ("Reviews", "Periodic reviews and their sign-offs"),
    ("Emergencies", "Roll calls of everyone on site"),
    ("Completeness", "Gaps in the logs, month by month, and the log's integrity"),
)


class RangeError(ValueError):
    """A range of days the pack cannot cover; the message is for the person."""


@dataclass
class Table:
    header: list[str]
    rows: list[list[object]]


@dataclass
class Part:
    """One file of the pack, as the index lists it."""

    section: str
    path: str
    title: str
    shows: str
    rows: int | None = None


@dataclass
class Pack:
    """What was written: the parts, the verification, and the ZIP's own digest."""

    site_code: str
    first: date
    last: date
    generated_at: datetime
    report: chain.Report
    parts: list[Part] = field(default_factory=list)
    sha256: str = ""
    size: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {part.path: part.rows for part in self.parts if part.rows is not None}


def check_range(first: date, last: date) -> None:
    if last < first:
        raise RangeError("The range ends before it starts.")

    if (last - first).days >= MAX_DAYS:
        raise RangeError(
            f"A pack covers at most {MAX_DAYS} days; make one pack per year."
        )


def snapshot(session: Session) -> Session:
    """Make the session read one consistent snapshot, without writing or locking.

    On PostgreSQL a read-only REPEATABLE READ transaction; on SQLite a plain read
    transaction, which sees one snapshot until it ends and does not block kiosks.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection(
            execution_options={
                "isolation_level": "REPEATABLE READ",
                "postgresql_readonly": True,
            }
        )
    else:
        read_only(session)

    return session


# Cells and files


def cell(value: object) -> str:
    """A value as a CSV cell: yes or no for a flag, and text a spreadsheet would
    run as a formula quoted, by the rules of the log exports."""
    if isinstance(value, bool):
        return "yes" if value else "no"

    return exports.neutralise(value)


def csv_bytes(table: Table) -> bytes:
    """A table as the log exports write CSV: UTF-8 with a byte-order mark."""
    rows = ([cell(value) for value in row] for row in table.rows)
    return "".join(exports.csv_text(table.header, rows)).encode("utf-8")


class _Clock:
    """Formats UTC instants as the site's local times."""

    def __init__(self, site: Site):
        self.zone = ZoneInfo(site.timezone)

    def local(self, value: datetime | None) -> str:
        if value is None:
            return ""

        return value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def month(self, value: datetime) -> str:
        return value.astimezone(self.zone).strftime("%Y-%m")


def _person(actor: str | None) -> str:
    """A log's actor label as a person reads it: "user:jdoe" is jdoe."""
    return (actor or "").removeprefix("user:")


# Reading the records


@dataclass
class _Records:
    """Everything the pack shows, read once."""

    site: Site
    first: date
    last: date
    start: datetime
    end: datetime
    visits: list[Visit]
    pickups: list[Pickup]
    departures: list[Pickup]
    closed_visits: set[int]


def _read(session: Session, site: Site, first: date, last: date) -> _Records:
    start, end = pickups.local_range(site, first, last)
    visit_rows = session.scalars(
        select(Visit)
        .where(Visit.site_id == site.id, Visit.arrived_at >= start)
        .where(Visit.arrived_at < end)
        .order_by(Visit.arrived_at, Visit.id)
    ).all()
    pickup_rows = session.scalars(
        select(Pickup)
        .where(Pickup.site_id == site.id, Pickup.arrived_at >= start)
        .where(Pickup.arrived_at < end)
        .order_by(Pickup.arrived_at, Pickup.id)
    ).all()
    departures = session.scalars(
        select(Pickup)
        .where(Pickup.site_id == site.id, Pickup.status.in_(LEFT))
        .where(Pickup.departed_at >= start, Pickup.departed_at < end)
        .order_by(Pickup.departed_at, Pickup.id)
    ).all()
    closed = session.scalars(
        select(LogEntry.subject_id).where(
            LogEntry.site_id == site.id,
            LogEntry.kind == "visit.closed",
            LogEntry.subject_type == "visit",
            LogEntry.recorded_at >= start,
        )
    ).all()
    return _Records(
        site=site,
        first=first,
        last=last,
        start=start,
        end=end,
        visits=list(visit_rows),
        pickups=list(pickup_rows),
        departures=list(departures),
        closed_visits=set(closed),
    )


def visitor_log(records: _Records, clock: _Clock) -> Table:
    """The 10.2 log: every field the criterion names, and how the visit went."""
    header = [
        "Date",
        "Visitor's name",
        "Company",
        "Visitor type",
        "Photo ID type",
        "Photo ID",
        "ID verified by",
        "ID verified at",
        "Exemption granted by",
        "Time of arrival",
        "Point of contact",
        "Time of departure",
        "Departure recorded by",
        "Badge number",
        "Escort required",
        "Escort",
        "Admission",
    ]
    rows = []
    for visit in records.visits:
        rows.append(
            [
                clock.local(visit.arrived_at)[:10],
                visit.visitor_name,
                visit.company,
                visit.visitor_type,
                ID_TYPES.get(visit.id_type, visit.id_type),
                ID_STATUS_LABELS.get(visit.id_status, visit.id_status),
                visit.id_verified_by,
                clock.local(visit.id_verified_at),
                visit.id_exemption_by,
                clock.local(visit.arrived_at),
                visit.host_name,
                clock.local(visit.departed_at),
                _person(visit.departed_by),
                visit.badge_number,
                visit.escort_required,
                visit.escort_name,
                visit.admission,
            ]
        )

    return Table(header, rows)


def block_list_decisions(session: Session, records: _Records, clock: _Clock) -> Table:
    """Each check-in the block list held, what it matched, and the decision."""
    site_id = records.site.id
    decided = session.scalars(
        select(LogEntry)
        .where(LogEntry.site_id == site_id, LogEntry.subject_type == "visit")
        .where(LogEntry.kind.in_(("visit.hold_approved", "visit.hold_denied")))
        .where(
            LogEntry.recorded_at >= records.start, LogEntry.recorded_at < records.end
        )
        .order_by(LogEntry.seq)
    ).all()
    ids = [entry.subject_id for entry in decided]
    held = {v.id: v for v in session.scalars(select(Visit).where(Visit.id.in_(ids)))}
    matched = _block_list_matches(session, site_id, ids)
    rows = []
    for entry in decided:
        visit = held.get(entry.subject_id)
        details = json.loads(entry.body).get("details") or {}
        rows.append(
            [
                clock.local(visit.arrived_at) if visit else "",
                visit.visitor_name if visit else "",
                visit.company if visit else "",
                matched.get(entry.subject_id, ""),
                "approved" if entry.kind.endswith("approved") else "denied",
                _person(entry.actor),
                clock.local(entry.recorded_at),
                details.get("reason", ""),
            ]
        )

    header = [
        "Time of arrival",
        "Visitor's name",
        "Company",
        "Matched on the block list",
        "Decision",
        "Decided by",
        "Decided at",
        "Reason",
    ]
    return Table(header, rows)


def _block_list_matches(session: Session, site_id: int, ids: list[int]) -> dict:
    """What each held visit matched, from the details of its arrival entry."""
    arrivals = session.scalars(
        select(LogEntry).where(
            LogEntry.site_id == site_id,
            LogEntry.kind == "visit.arrived",
            LogEntry.subject_type == "visit",
            LogEntry.subject_id.in_(ids),
        )
    )
    found = {}
    for entry in arrivals:
        details = json.loads(entry.body).get("details") or {}
        found[entry.subject_id] = "; ".join(
            f"{match.get('kind')}: {match.get('matched')}"
            for match in details.get("block_list", [])
        )

    return found


def badge_checks(session: Session, records: _Records, clock: _Clock) -> Table:
    """Every guard's scan of a visitor badge in the range and its verdict."""
    query = (
        select(BadgeCheck, Visit)
        .outerjoin(Visit, Visit.id == BadgeCheck.visit_id)
        .where(BadgeCheck.site_id == records.site.id)
        .where(BadgeCheck.checked_at >= records.start)
        .where(BadgeCheck.checked_at < records.end)
        .order_by(BadgeCheck.checked_at, BadgeCheck.id)
    )
    rows = [
        [
            clock.local(check.checked_at),
            check.verdict,
            check.checked_by,
            visit.badge_number if visit else "",
            visit.visitor_name if visit else "",
        ]
        for check, visit in session.execute(query)
    ]
    header = ["Checked at", "Verdict", "Checked by", "Badge number", "Visitor's name"]
    return Table(header, rows)


def driver_identification(records: _Records, clock: _Clock) -> Table:
    """10.3: which photo ID an employee checked for each driver, and when."""
    header = [
        "Time of arrival",
        "Driver's name",
        "Carrier",
        "Status",
        "Photo ID checked",
        "Carrier's ID accepted because",
        "ID document expired",
        "Registered by",
        "Registered at",
    ]
    rows = [
        [
            clock.local(pickup.arrived_at),
            pickup.driver_name,
            pickup.carrier,
            pickup.status,
            pickups.ID_LABELS.get(pickup.id_type, pickup.id_type),
            pickup.id_fallback_reason,
            pickup.id_document_expired,
            pickup.registered_by,
            clock.local(pickup.registered_at),
        ]
        for pickup in records.pickups
    ]
    return Table(header, rows)


def pickup_log(records: _Records, clock: _Clock) -> Table:
    """The 10.4 log: the fields the criterion names, and who did what."""
    header = [
        "Date",
        "Driver's name",
        "Time of arrival",
        "Employer (carrier)",
        "Truck number",
        "Trailer number",
        "Time of departure",
        "Seal number at departure",
        "Reference",
        "Status",
        "Registered by",
        "Departure recorded by",
    ]
    rows = [
        [
            clock.local(pickup.arrived_at)[:10],
            pickup.driver_name,
            clock.local(pickup.arrived_at),
            pickup.carrier,
            pickup.truck_number,
            pickup.trailer_number,
            clock.local(pickup.departed_at),
            pickup.seal_number,
            pickup.reference,
            pickup.status,
            pickup.registered_by,
            pickup.departed_by,
        ]
        for pickup in records.pickups
    ]
    return Table(header, rows)


def appointment_list(session: Session, records: _Records, clock: _Clock) -> Table:
    """10.7: each appointment due in the range, its notice, and the arrival."""
    due = session.scalars(
        select(Appointment)
        .where(Appointment.site_id == records.site.id)
        .where(Appointment.expected_at >= records.start)
        .where(Appointment.expected_at < records.end)
        .order_by(Appointment.expected_at, Appointment.id)
    ).all()
    ids = [appointment.id for appointment in due]
    arrivals = {}
    for pickup in session.scalars(
        select(Pickup).where(Pickup.appointment_id.in_(ids)).order_by(Pickup.id)
    ):
        arrivals.setdefault(pickup.appointment_id, pickup)

    rows = []
    for appointment in due:
        pickup = arrivals.get(appointment.id)
        rows.append(
            [
                appointment.reference,
                appointment.carrier_name,
                appointment.driver_name,
                appointment.truck_number,
                clock.local(appointment.expected_at),
                clock.local(appointment.created_at),
                appointment.source,
                appointment.created_by,
                clock.local(appointment.cancelled_at),
                clock.local(pickup.arrived_at) if pickup else "",
                pickup.driver_name if pickup else "",
                pickup.truck_number if pickup else "",
            ]
        )

    header = [
        "Reference",
        "Carrier",
        "Driver's name (notified)",
        "Truck number (notified)",
        "Estimated time of arrival",
        "Notified at",
        "Notified through",
        "Recorded by",
        "Cancelled at",
        "Driver arrived at",
        "Driver's name (at the gate)",
        "Truck number (at the gate)",
    ]
    return Table(header, rows)


def seal_inspections(session: Session, records: _Records, clock: _Clock) -> Table:
    """6.7: each departure with its seal, the VVTT check and the trailer re-read."""
    ids = [pickup.id for pickup in records.departures]
    photographed = set(
        session.scalars(
            select(Photo.pickup_id).where(
                Photo.pickup_id.in_(ids), Photo.kind == "seal"
            )
        )
    )
    header = [
        "Time of departure",
        "Driver's name",
        "Truck number",
        "Trailer number",
        "Status",
        "Seal number",
        "VVTT inspection by",
        "Trailer number checked again",
        "Seal photo kept",
        "Departure recorded by",
    ]
    rows = [
        [
            clock.local(pickup.departed_at),
            pickup.driver_name,
            pickup.truck_number,
            pickup.trailer_number,
            pickup.status,
            pickup.seal_number,
            pickup.vvtt_checked_by,
            pickup.trailer_rechecked,
            pickup.id in photographed,
            pickup.departed_by,
        ]
        for pickup in records.departures
    ]
    return Table(header, rows)


def case_list(session: Session, records: _Records, clock: _Clock) -> Table:
    """7.27: every case open at any time in the range, with its notes."""
    open_during = (
        select(Case)
        .where(Case.site_id == records.site.id, Case.opened_at < records.end)
        .where(or_(Case.closed_at.is_(None), Case.closed_at >= records.start))
        .order_by(Case.opened_at, Case.id)
    )
    rows = []
    for case in session.scalars(open_during):
        notes = "\n".join(
            f"{clock.local(note['at'])} {note['actor']}: {note['note']}"
            for note in cases.notes(session, case)
        )
        rows.append(
            [
                case.id,
                cases.KINDS.get(case.kind, case.kind),
                case.status,
                case.summary,
                case.opened_by,
                clock.local(case.opened_at),
                case.seal_number,
                case.decision,
                case.notified,
                notes,
                case.resolution,
                case.closed_by,
                clock.local(case.closed_at),
            ]
        )

    header = [
        "Case",
        "Kind",
        "Status",
        "Summary",
        "Opened by",
        "Opened at",
        "Seal number",
        "Seal decision",
        "Notified",
        "Notes",
        "Resolution",
        "Closed by",
        "Closed at",
    ]
    return Table(header, rows)


def consignee_notices(session: Session, records: _Records, clock: _Clock) -> Table:
    """7.29: for each departure with a seal, whether the consignee was sent it."""
    sealed = [pickup for pickup in records.departures if pickup.seal_number]
    messages = defaultdict(list)
    for message in session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.pickup_id.in_([pickup.id for pickup in sealed]))
        .order_by(OutboxMessage.id)
    ):
        messages[message.pickup_id].append(message)

    rows = []
    for pickup in sealed:
        sent = messages.get(pickup.id) or [None]
        for message in sent:
            rows.append(
                [
                    pickup.reference,
                    clock.local(pickup.departed_at),
                    pickup.seal_number,
                    message.recipient if message else "",
                    clock.local(message.created_at) if message else "",
                    clock.local(message.sent_at) if message else "",
                    mail.state(message) if message else "no consignee email",
                ]
            )

    header = [
        "Reference",
        "Time of departure",
        "Seal number",
        "Consignee",
        "Notice written at",
        "Notice sent at",
        "Notice state",
    ]
    return Table(header, rows)


def audit_trail(session: Session, records: _Records, clock: _Clock) -> Table:
    """4.5, 4.7: staff access at the site, and sign-ins of the site's accounts."""
    site_id = records.site.id
    staff = select(user_sites.c.user_id).where(user_sites.c.site_id == site_id)
    query = (
        select(AuditEvent)
        .where(AuditEvent.at >= records.start, AuditEvent.at < records.end)
        .where(
            or_(
                AuditEvent.site_id == site_id,
                AuditEvent.site_id.is_(None) & AuditEvent.actor_id.in_(staff),
            )
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    rows = [
        [
            clock.local(event.at),
            event.action,
            event.actor,
            event.target,
            event.address,
            event.detail,
        ]
        for event in session.scalars(query)
    ]
    return Table(["At", "Action", "By", "On", "From address", "Details"], rows)


def review_list(session: Session, records: _Records, clock: _Clock) -> Table:
    """Reviews whose period overlaps the range, with findings and sign-off."""
    query = (
        select(Review)
        .where(Review.site_id == records.site.id)
        .where(Review.period_start <= records.last)
        .where(Review.period_end >= records.first)
        .order_by(Review.period_start, Review.id)
    )
    rows = [
        [
            _review_label(review.kind),
            review.period_start.isoformat(),
            review.period_end.isoformat(),
            review.sampled,
            review.findings,
            review.corrective_action,
            review.recorded_by,
            clock.local(review.recorded_at),
            review.next_due.isoformat() if review.next_due else "",
        ]
        for review in session.scalars(query)
    ]
    header = [
        "Review",
        "Period from",
        "Period to",
        "Sampled",
        "Findings",
        "Corrective action",
        "Signed off by",
        "Signed off at",
        "Next due",
    ]
    return Table(header, rows)


def _review_label(kind: str) -> str:
    known = reviews.KINDS.get(kind)
    return f"{known.label} ({known.criterion})" if known else kind


def roll_calls(session: Session, records: _Records, clock: _Clock) -> Table:
    """Each roll call in the range, one row per person on it and who marked them."""
    calls = session.scalars(
        select(RollCall)
        .where(RollCall.site_id == records.site.id)
        .where(RollCall.started_at >= records.start)
        .where(RollCall.started_at < records.end)
        .order_by(RollCall.started_at, RollCall.id)
    ).all()
    marks = defaultdict(list)
    for mark in session.scalars(
        select(RollCallMark)
        .where(RollCallMark.roll_call_id.in_([call.id for call in calls]))
        .order_by(RollCallMark.id)
    ):
        marks[mark.roll_call_id].append(mark)

    rows = []
    for call in calls:
        head = [
            call.id,
            clock.local(call.started_at),
            call.started_by,
            clock.local(call.closed_at),
            call.closed_by,
            call.note,
        ]
        for mark in marks.get(call.id) or [None]:
            rows.append(
                head
                + (
                    [
                        mark.person,
                        mark.subject_type,
                        mark.marked_by,
                        clock.local(mark.marked_at),
                    ]
                    if mark
                    else ["", "", "", ""]
                )
            )

    header = [
        "Roll call",
        "Started at",
        "Started by",
        "Closed at",
        "Closed by",
        "Note",
        "Person",
        "Visitor or driver",
        "Accounted for by",
        "Accounted for at",
    ]
    return Table(header, rows)


def completeness(records: _Records, clock: _Clock, months: list[str]) -> Table:
    """Gaps in the logs per month: visits by arrival, departures by departure."""
    counts: dict[str, Counter] = {month: Counter() for month in months}
    for visit in records.visits:
        month = counts[clock.month(visit.arrived_at)]
        month["visits"] += 1
        month["no_departure"] += visit.departed_at is None
        month["unverified"] += (
            visit.id_status in UNVERIFIED and visit.admission != "denied"
        )
        month["not_returned"] += visit.id in records.closed_visits

    for pickup in records.pickups:
        month = counts[clock.month(pickup.arrived_at)]
        month["pickups"] += 1
        month["on_site"] += pickup.status == "registered"

    for pickup in records.departures:
        month = counts[clock.month(pickup.departed_at)]
        month["departures"] += 1
        month["no_seal"] += not pickup.seal_number
        month["no_vvtt"] += not pickup.vvtt_checked_by

    keys = (
        "visits",
        "no_departure",
        "unverified",
        "not_returned",
        "pickups",
        "on_site",
        "departures",
        "no_seal",
        "no_vvtt",
    )
    rows = [[month] + [counts[month][key] for key in keys] for month in months]
    header = [
        "Month",
        "Visits",
        "Visits without a time of departure",
        "Photo IDs not verified",
        "Badges not returned (visit closed by staff)",
        "Pickups",
        "Drivers registered and not logged out",
        "Departures",
        "Departures without a seal number",
        "Departures without the VVTT inspection",
    ]
    return Table(header, rows)


def months_between(first: date, last: date) -> list[str]:
    found, current = [], date(first.year, first.month, 1)
    while current <= last:
        found.append(current.strftime("%Y-%m"))
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)

    return found


def verification_text(site: Site, report: chain.Report, generated_at: datetime) -> str:
    """verify.txt: what `kiosk verify-log` prints, for the site, at the snapshot."""
    lines = [
        f"Site {report.site_code} ({site.name}): {'OK' if report.ok else 'FAILED'}",
        f"  verified at: {generated_at.isoformat(timespec='seconds')}",
        f"  entries:     {report.entries}",
        f"  head seq:    {report.head_seq}",
        f"  head hash:   {report.head_hash}",
    ]
    if report.chain_problem:
        lines.append(f"  chain problem: {report.chain_problem.message}")

    lines.extend(f"  state problem: {p.message}" for p in report.state_problems)
    lines += [
        "",
        "The log is verified in full: every entry's SHA-256 is recomputed from the",
        "hash before it, and the visit, pickup and case rows are rebuilt from the",
        "entries and compared with the tables. The head hash fixes the whole log up",
        "to that entry: compare it with the one `kiosk verify-log` prints now, or",
        "with a head hash recorded earlier, to show that nothing before it changed.",
        "",
    ]
    return "\n".join(lines)


# Writing the pack


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class _Writer:
    """Adds files to the ZIP and keeps each one's digest for checksums.txt."""

    def __init__(self, archive: zipfile.ZipFile, pack: Pack):
        self.archive = archive
        self.pack = pack
        self.digests: dict[str, str] = {}

    def add(self, path: str, data: bytes) -> None:
        self.archive.writestr(path, data)
        self.digests[path] = hashlib.sha256(data).hexdigest()

    def table(self, part: Part, table: Table) -> Table:
        part.rows = len(table.rows)
        self.pack.parts.append(part)
        self.add(part.path, csv_bytes(table))
        return table

    def page(self, part: Part, html: str) -> None:
        self.pack.parts.append(part)
        self.add(part.path, html.encode("utf-8"))


def build(
    session: Session,
    site: Site,
    first: date,
    last: date,
    out: BinaryIO,
    *,
    generated_by: str,
    now: datetime | None = None,
) -> Pack:
    """Write the evidence pack of a site's days `first` to `last` into `out`.

    The session should read one snapshot (see snapshot()); nothing is written to
    the database here, so the caller records the export in the audit trail.
    """
    check_range(first, last)
    now = now or utcnow()
    clock = _Clock(site)
    records = _read(session, site, first, last)
    pack = Pack(site.code, first, last, now, chain.verify_site(session, site))
    environment = _environment()
    context = {
        "site": site,
        "first": first,
        "last": last,
        "generated_at": clock.local(now),
        "generated_by": generated_by,
        "report": pack.report,
    }
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer = _Writer(archive, pack)
        _write_parts(writer, session, records, clock, environment, context)
        writer.add("report.css", _read_template(environment, "report.css"))
        writer.add(
            "index.html",
            environment.get_template("index.html")
            .render(**context, sections=_sections(pack.parts))
            .encode("utf-8"),
        )
        checksums = "".join(
            f"{digest}  {path}\n" for path, digest in sorted(writer.digests.items())
        )
        archive.writestr("checksums.txt", checksums)

    return pack


def _read_template(environment: jinja2.Environment, name: str) -> bytes:
    source, _filename, _uptodate = environment.loader.get_source(environment, name)
    return source.encode("utf-8")


def _write_parts(writer, session, records, clock, environment, context) -> None:
    """Every part, section by section, in the order the index lists them."""
    report = environment.get_template("report.html")

    def printable(section, path, title, table, note=""):
        html = report.render(**context, title=title, table=table, note=note)
        shows = f"The {title.lower()} above, as a page to print or read."
        writer.page(Part(section, path, f"{title} (printable)", shows), html)

    section = "10.2"
    visitors = writer.table(
        Part(
            section,
            "10.2-visitors/visitor-log.csv",
            "Visitor log",
            "Every visit that began in the range: date, name, company, the photo ID "
            "type and who verified it when, time of arrival, point of contact, time "
            "of departure, the badge and the escort.",
        ),
        visitor_log(records, clock),
    )
    printable(section, "10.2-visitors/visitor-log.html", "Visitor log", visitors)
    writer.table(
        Part(
            section,
            "10.2-visitors/block-list-decisions.csv",
            "Block-list decisions",
            "Each check-in held because the visitor matched the block list, what it "
            "matched, and who approved or denied it, when and why.",
        ),
        block_list_decisions(session, records, clock),
    )
    writer.table(
        Part(
            section,
            "10.2-visitors/badge-checks.csv",
            "Guard badge checks",
            "Every scan of a visitor badge by a guard and the verdict it got (valid, "
            "expired, signed out, revoked, forged): temporary IDs checked on site.",
        ),
        badge_checks(session, records, clock),
    )

    section = "10.3"
    writer.table(
        Part(
            section,
            "10.3-drivers/driver-identification.csv",
            "Driver identification",
            "For each driver who arrived: the photo ID the employee checked before "
            "registering them, and why a carrier's ID was accepted where it was.",
        ),
        driver_identification(records, clock),
    )

    section = "10.4"
    pickup_table = writer.table(
        Part(
            section,
            "10.4-pickups/pickup-log.csv",
            "Cargo pickup log",
            "Every pickup that began in the range: driver's name, date and time of "
            "arrival, employer, truck and trailer numbers, time of departure and the "
            "seal number at departure, with who registered and logged out the driver.",
        ),
        pickup_log(records, clock),
    )
    printable(section, "10.4-pickups/pickup-log.html", "Cargo pickup log", pickup_table)

    section = "10.7"
    writer.table(
        Part(
            section,
            "10.7-appointments/appointments.csv",
            "Appointments",
            "Each pickup appointment due in the range: the carrier's estimated time "
            "of arrival, driver and truck as notified and when, and who arrived.",
        ),
        appointment_list(session, records, clock),
    )

    section = "6.7"
    writer.table(
        Part(
            section,
            "6.7-seals/vvtt-inspections.csv",
            "Seal inspections at departure",
            "Every departure in the range: the seal number, who did the View, "
            "Verify, Tug, Twist inspection, and whether the trailer was read again.",
        ),
        seal_inspections(session, records, clock),
    )

    section = "7.27"
    writer.table(
        Part(
            section,
            "7.27-cases/cases.csv",
            "Discrepancy cases",
            "Every case open at any time in the range (seal mismatches, tampering, "
            "refused IDs, drivers gone without logout), its notes and resolution.",
        ),
        case_list(session, records, clock),
    )

    section = "7.29"
    writer.table(
        Part(
            section,
            "7.29-consignee/seal-notices.csv",
            "Seal numbers sent to consignees",
            "For each departure with a seal number: the consignee's notice of it, "
            "when it was written and sent, or that no consignee email was known.",
        ),
        consignee_notices(session, records, clock),
    )

    section = "4.5, 4.7"
    writer.table(
        Part(
            section,
            "4.7-staff-access/audit-trail.csv",
            "Audit trail of staff access",
            "Sign-ins, failures and lockouts of the site's accounts, account and "
            "kiosk changes, exports and every view of an ID image at the site.",
        ),
        audit_trail(session, records, clock),
    )

    section = "Reviews"
    writer.table(
        Part(
            section,
            "reviews/review-sign-offs.csv",
            "Review sign-offs",
            "The periodic reviews whose period overlaps the range: what was "
            "sampled, the findings, the corrective action and who signed it off.",
        ),
        review_list(session, records, clock),
    )

    section = "Emergencies"
    writer.table(
        Part(
            section,
            "roll-calls/roll-calls.csv",
            "Roll calls",
            "Each roll call started in the range, everyone on site at its start, and "
            "who accounted for each person, when.",
        ),
        roll_calls(session, records, clock),
    )

    section = "Completeness"
    months = months_between(records.first, records.last)
    summary = writer.table(
        Part(
            section,
            "completeness/completeness.csv",
            "Completeness per month",
            "For each month: visits without a time of departure, photo IDs not "
            "verified, badges not returned, drivers not logged out, and departures "
            "without a seal number or the VVTT inspection.",
        ),
        completeness(records, clock, months),
    )
    printable(
        section,
        "completeness/completeness.html",
        "Completeness per month",
        summary,
        note="Visits and pickups count in the month they began, departures in the "
        "month they left. A visit or driver still on site when the pack was made "
        "counts as without a departure.",
    )
    writer.page(
        Part(
            section,
            "verify.txt",
            "Log verification",
            "The result of verifying the site's hash-chained log when the pack was "
            "made, its number of entries and its head hash.",
        ),
        verification_text(records.site, writer.pack.report, writer.pack.generated_at),
    )


def _sections(parts: list[Part]) -> list[dict]:
    grouped = defaultdict(list)
    for part in parts:
        grouped[part.section].append(part)

    return [
        {"criterion": criterion, "title": title, "parts": grouped[criterion]}
        for criterion, title in SECTIONS
        if grouped[criterion]
    ]


def file_name(site: Site, first: date, last: date) -> str:
    return f"evidence-{site.code}-{first.isoformat()}-to-{last.isoformat()}.zip"


def digest(handle: BinaryIO) -> tuple[str, int]:
    """The SHA-256 and size of a finished pack, read from the start of its file."""
    handle.seek(0)
    hasher, size = hashlib.sha256(), 0
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        hasher.update(chunk)
        size += len(chunk)

    handle.seek(0)
    return hasher.hexdigest(), size
