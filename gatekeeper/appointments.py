"""Expected pickups and carriers' pre-notifications of them (CTPAT 10.7).

An appointment comes from a clerk in the console, a CSV file a carrier sends, or a
carrier's TMS posting JSON with its API key. All three go through one row check,
so a row is imported whole or not at all, and each refused row says what is wrong.
"""

import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatekeeper import audit, matching, scanning, seals
from gatekeeper.db import utcnow
from gatekeeper.models import Appointment, Carrier, Pickup, Site, User
from gatekeeper.sites import check_email
from gatekeeper.text import TextError, clean_name

FIELDS = (
    "reference",
    "carrier",
    "driver_name",
    "truck_number",
    "expected_at",
    "seal_number",
    "consignee_email",
)
REQUIRED = ("reference", "carrier", "driver_name", "truck_number", "expected_at")
MAX_ROWS = 2000
MAX_BYTES = 1024 * 1024
# How far ahead an appointment may be made, and how late one may still be recorded.
MAX_AHEAD = timedelta(days=90)
MAX_BEHIND = timedelta(days=1)
REFERENCE = re.compile(r"^[A-Z0-9][A-Z0-9\-_/#.]{0,39}$")
VEHICLE = re.compile(r"^[A-Z0-9][A-Z0-9\- ]{0,19}$")
API_KEY_PREFIX = "gkc_"


class AppointmentError(ValueError):
    """An appointment or import that cannot be accepted; the message says why.

    `problems` lists each problem of a refused row on its own, for the reports.
    """

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


@dataclass
class RowReport:
    """What happened to each row of an import: how many were added, which refused."""

    imported: int = 0
    refused: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused


def normalise_reference(text: str | None) -> str:
    return "".join((text or "").split()).upper()


def clean_reference(text: str | None) -> str:
    reference = normalise_reference(text)
    if not reference:
        raise TextError("Enter the pickup reference.")

    if not REFERENCE.match(reference):
        raise TextError(
            "A pickup reference is up to 40 letters, digits and - _ / # . characters."
        )

    return reference


def read_reference(frame: bytes) -> str | None:
    """The pickup reference in a camera frame's Code 128, Code 39 or QR code, or None.

    A driver holds the bill of lading or pickup sheet to the kiosk's camera; only a
    code that is a well-formed reference is taken, never whether one is expected.
    """
    return scanning.read_first(
        frame, scanning.REFERENCE_SYMBOLOGIES, _reference_or_none
    )


def _reference_or_none(text: str) -> str | None:
    try:
        return clean_reference(text)
    except TextError:
        return None


def clean_vehicle(text: str | None, label: str) -> str:
    """A truck or trailer number: letters, digits, spaces and hyphens, up to 20."""
    value = " ".join((text or "").split()).upper()
    if not value:
        raise TextError(f"Enter the {label.lower()}.")

    if not VEHICLE.match(value):
        raise TextError(f"{label}: up to 20 letters, digits, spaces or hyphens.")

    return value


def parse_time(text: str | None, site: Site) -> datetime:
    """An ISO 8601 date and time; one without an offset is the site's local time."""
    value = (text or "").strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise TextError(
            "Expected time: use a date and time like 2026-12-03 14:30."
        ) from error

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(site.timezone))

    return moment.astimezone(UTC)


def check_row(row: dict, site: Site, now: datetime) -> tuple[dict, list[str]]:
    """The cleaned values of one row and the problems found, one message a field."""
    values: dict = {}
    problems: list[str] = []
    if "_extra" in row:
        row = {k: v for k, v in row.items() if k != "_extra"}
        problems.append("This line has more values than the header has columns.")

    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        problems.append(f"Unknown fields: {', '.join(map(str, unknown))}.")

    for name in REQUIRED:
        if not str(row.get(name) or "").strip():
            problems.append(f"{name} is required.")

    checks = {
        "reference": clean_reference,
        "carrier": lambda v: clean_name(v, label="Carrier"),
        "driver_name": lambda v: clean_name(v, label="Driver name"),
        "truck_number": lambda v: clean_vehicle(v, "Truck number"),
        "expected_at": lambda v: parse_time(v, site),
        "seal_number": lambda v: seals.normalise(v) or None,
        "consignee_email": lambda v: (
            check_email(v, label="Consignee email") if str(v or "").strip() else ""
        ),
    }
    for name, check in checks.items():
        raw = row.get(name)
        if name in REQUIRED and not str(raw or "").strip():
            continue

        if raw is not None and not isinstance(raw, str):
            problems.append(f"{name} must be text.")
            continue

        try:
            values[name] = check(raw)
        except TextError as error:
            problems.append(str(error))

    expected = values.get("expected_at")
    if expected is not None and not (now - MAX_BEHIND <= expected <= now + MAX_AHEAD):
        problems.append("expected_at must be within the last day or the next 90 days.")

    seal = values.get("seal_number")
    if seal and (len(seal) > seals.MAX_LENGTH or not seal.isalnum()):
        problems.append("seal_number: letters and digits, at most 20.")

    return values, problems


def _taken(session: Session, site_id: int, reference: str) -> str | None:
    """Why a reference cannot be used again, or None when it is free."""
    cancelled_at = session.execute(
        select(Appointment.cancelled_at).where(
            Appointment.site_id == site_id, Appointment.reference == reference
        )
    ).first()
    if cancelled_at is None:
        return None

    # A reference names one shipment in the log for good, so even a cancelled
    # appointment keeps it: a driver giving it later must not match another load.
    if cancelled_at[0] is not None:
        return f"Reference {reference} belongs to a cancelled appointment."

    return f"Reference {reference} already has an appointment."


def add(
    session: Session,
    site: Site,
    row: dict,
    *,
    actor: User | str,
    source: str = "console",
    carrier: Carrier | None = None,
    now: datetime,
) -> Appointment:
    """Record one appointment from a row; AppointmentError lists every problem."""
    if carrier is not None:
        row = {**row, "carrier": carrier.name}

    values, problems = check_row(row, site, now)
    taken = "reference" in values and _taken(session, site.id, values["reference"])
    if taken:
        problems.append(taken)

    if problems:
        raise AppointmentError(" ".join(problems), problems)

    appointment = Appointment(
        site_id=site.id,
        reference=values["reference"],
        carrier_id=carrier.id if carrier else None,
        carrier_name=values["carrier"],
        driver_name=values["driver_name"],
        truck_number=values["truck_number"],
        expected_at=values["expected_at"],
        seal_number=values.get("seal_number"),
        consignee_email=values.get("consignee_email", ""),
        source=source,
        created_by=actor.username if isinstance(actor, User) else actor,
    )
    session.add(appointment)
    session.flush()
    return appointment


def create(
    session: Session,
    site: Site,
    row: dict,
    *,
    actor: User,
    now: datetime,
    address: str = "",
) -> Appointment:
    """A clerk's appointment from the console, kept in the audit trail too."""
    appointment = add(session, site, row, actor=actor, now=now)
    audit.record(
        session,
        "appointment.created",
        actor=actor,
        site_id=site.id,
        target=f"appointment:{appointment.id}",
        address=address,
        reference=appointment.reference,
    )
    return appointment


def cancel(
    session: Session, appointment: Appointment, *, actor: User, address: str = ""
) -> None:
    """Cancel an appointment no driver has come for; its reference stays taken."""
    _not_yet_arrived(session, appointment, "cancelled")
    appointment.cancelled_at = utcnow()
    audit.record(
        session,
        "appointment.cancelled",
        actor=actor,
        site_id=appointment.site_id,
        target=f"appointment:{appointment.id}",
        address=address,
        reference=appointment.reference,
    )


# What a clerk may change of an appointment: everything but its reference, which
# names the shipment in the log for good (see _taken).
EDITABLE = tuple(name for name in FIELDS if name != "reference")


def _not_yet_arrived(session: Session, appointment: Appointment, doing: str) -> None:
    """Refuse `doing` to a cancelled appointment or one a driver has come for."""
    if appointment.cancelled_at is not None:
        raise AppointmentError("This appointment is already cancelled.")

    arrived = session.scalar(
        select(Pickup.id).where(
            Pickup.appointment_id == appointment.id, Pickup.status != "refused"
        )
    )
    if arrived is not None:
        raise AppointmentError(
            f"A driver has already arrived for {appointment.reference}; "
            f"the appointment cannot be {doing}."
        )


def change(
    session: Session,
    appointment: Appointment,
    row: dict,
    *,
    actor: User,
    now: datetime,
    address: str = "",
) -> list[str]:
    """Change an appointment no driver has come for; the names of the fields changed.

    The row is checked as a new appointment's is. The audit trail keeps the values
    before and after, so what the gate compared a driver with can be traced.
    """
    _not_yet_arrived(session, appointment, "changed")
    site = session.get(Site, appointment.site_id)
    carrier = (
        session.get(Carrier, appointment.carrier_id) if appointment.carrier_id else None
    )
    if carrier is not None:
        row = {**row, "carrier": carrier.name}

    values, problems = check_row({**row, "reference": appointment.reference}, site, now)
    if problems:
        raise AppointmentError(" ".join(problems), problems)

    current = {
        "carrier": appointment.carrier_name,
        "driver_name": appointment.driver_name,
        "truck_number": appointment.truck_number,
        "expected_at": appointment.expected_at,
        "seal_number": appointment.seal_number,
        "consignee_email": appointment.consignee_email,
    }
    wanted = {name: values.get(name) for name in EDITABLE}
    wanted["consignee_email"] = wanted["consignee_email"] or ""
    changed = [
        name
        for name in EDITABLE
        if _comparable(wanted[name]) != _comparable(current[name])
    ]
    if not changed:
        raise AppointmentError("Nothing was changed.")

    appointment.carrier_name = wanted["carrier"]
    appointment.driver_name = wanted["driver_name"]
    appointment.truck_number = wanted["truck_number"]
    appointment.expected_at = wanted["expected_at"]
    appointment.seal_number = wanted["seal_number"]
    appointment.consignee_email = wanted["consignee_email"]
    audit.record(
        session,
        "appointment.changed",
        actor=actor,
        site_id=appointment.site_id,
        target=f"appointment:{appointment.id}",
        address=address,
        reference=appointment.reference,
        **{
            name: f"{_shown(current[name])} -> {_shown(wanted[name])}"
            for name in changed
        },
    )
    return changed


def _comparable(value):
    # Times are compared to the minute, the form's precision.
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)

        return value.astimezone(UTC).replace(second=0, microsecond=0)

    return value or None


def _shown(value) -> str:
    if isinstance(value, datetime):
        return _comparable(value).isoformat(timespec="minutes")

    return value or "(none)"


def upcoming(session: Session, site_id: int, now: datetime) -> list[Appointment]:
    """The site's appointments from a day ago on, soonest first, cancelled included."""
    query = (
        select(Appointment)
        .where(
            Appointment.site_id == site_id,
            Appointment.expected_at >= now - MAX_BEHIND,
        )
        .order_by(Appointment.expected_at, Appointment.id)
        .limit(MAX_ROWS)
    )
    return list(session.scalars(query))


def pickup_states(session: Session, appointment_ids: list[int]) -> dict[int, str]:
    """The status of the latest pickup of each appointment that has one."""
    if not appointment_ids:
        return {}

    query = (
        select(Pickup.appointment_id, Pickup.status)
        .where(Pickup.appointment_id.in_(appointment_ids))
        .order_by(Pickup.id)
    )
    return {appointment_id: status for appointment_id, status in session.execute(query)}


def import_rows(
    session: Session,
    site: Site,
    rows: list[dict],
    *,
    actor: User | str,
    source: str,
    carrier: Carrier | None = None,
    now: datetime,
    first_row: int = 1,
    numbers: list[int] | None = None,
) -> RowReport:
    """Add every good row, each in its own savepoint; report each refused row.

    Rows are reported by `numbers` (a CSV's lines) or counted from `first_row`.
    """
    report = RowReport()
    if len(rows) > MAX_ROWS:
        raise AppointmentError(f"At most {MAX_ROWS} appointments at a time.")

    numbers = numbers or list(range(first_row, first_row + len(rows)))
    for number, row in zip(numbers, rows, strict=True):
        if not isinstance(row, dict):
            report.refused.append((number, ["Each appointment must be an object."]))
            continue

        try:
            with session.begin_nested():
                add(
                    session,
                    site,
                    row,
                    actor=actor,
                    source=source,
                    carrier=carrier,
                    now=now,
                )
        except AppointmentError as error:
            report.refused.append((number, error.problems))
        else:
            report.imported += 1

    audit.record(
        session,
        "appointments.imported",
        actor=actor
        if isinstance(actor, User)
        else f"carrier:{carrier.name}"
        if carrier
        else actor,
        site_id=site.id,
        target=f"site:{site.code}",
        source=source,
        imported=report.imported,
        refused=len(report.refused),
    )
    return report


def read_csv(data: bytes) -> list[dict]:
    """The rows of an uploaded CSV (UTF-8, with or without BOM) keyed by its header."""
    return [row for _line, row in read_csv_lines(data)]


def read_csv_lines(data: bytes) -> list[tuple[int, dict]]:
    """Each row of an uploaded CSV with the line it starts on, for the report.

    A quoted value may hold line breaks and blank lines are skipped, so a row's
    line is not its position plus one.
    """
    if len(data) > MAX_BYTES:
        raise AppointmentError("The file is larger than 1 MB.")

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise AppointmentError("The file is not UTF-8 text.") from error

    # strict: an unclosed quote is an error, not a value that runs to the end.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip().lower() for name in reader.fieldnames or []]
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise AppointmentError(
                f"The first line must name the columns; missing: {', '.join(missing)}."
            )

        reader.fieldnames = header
        rows = []
        for row in reader:
            extra = row.pop(None, None)
            if extra:
                row["_extra"] = ",".join(extra)

            # The reader stands at the row's last line; its quoted line breaks
            # say how far back it began.
            breaks = sum(str(value).count("\n") for value in row.values() if value)
            rows.append((reader.line_num - breaks, {k: v for k, v in row.items() if k}))
    except csv.Error as error:
        raise AppointmentError(f"The file is not valid CSV: {error}.") from error

    return rows


# Carriers and their API keys


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_carrier(session: Session, site: Site, name: str, *, actor: User) -> Carrier:
    try:
        name = clean_name(name, label="Carrier")
    except TextError as error:
        raise AppointmentError(str(error)) from error

    if session.scalar(
        select(Carrier).where(Carrier.site_id == site.id, Carrier.name == name)
    ):
        raise AppointmentError(f"{name} is already a carrier of this site.")

    carrier = Carrier(site_id=site.id, name=name)
    session.add(carrier)
    session.flush()
    audit.record(
        session,
        "carrier.added",
        actor=actor,
        site_id=site.id,
        target=f"carrier:{carrier.id}",
    )
    return carrier


def issue_key(session: Session, carrier: Carrier, *, actor: User) -> str:
    """A new API key for a carrier's TMS, replacing any old one; shown only now."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(30)
    carrier.api_key_hash = _key_hash(key)
    carrier.api_key_prefix = key[:10]
    audit.record(
        session,
        "carrier.key_issued",
        actor=actor,
        site_id=carrier.site_id,
        target=f"carrier:{carrier.id}",
    )
    return key


def revoke_key(session: Session, carrier: Carrier, *, actor: User) -> None:
    """Stop a carrier's TMS from posting: its key no longer opens the endpoint."""
    if carrier.api_key_hash is None:
        raise AppointmentError(f"{carrier.name} has no API key.")

    carrier.api_key_hash = None
    carrier.api_key_prefix = ""
    audit.record(
        session,
        "carrier.key_revoked",
        actor=actor,
        site_id=carrier.site_id,
        target=f"carrier:{carrier.id}",
    )


def carriers(session: Session, site_id: int) -> list[Carrier]:
    query = select(Carrier).where(Carrier.site_id == site_id).order_by(Carrier.name)
    return list(session.scalars(query))


def carrier_for_key(session: Session, key: str | None) -> Carrier | None:
    if not key or not key.startswith(API_KEY_PREFIX) or len(key) > 100:
        return None

    carrier = session.scalar(
        select(Carrier).where(Carrier.api_key_hash == _key_hash(key))
    )
    if carrier is None or not carrier.active:
        return None

    return carrier


# Matching an arrival with its appointment


def find(session: Session, site_id: int, reference: str) -> Appointment | None:
    """The site's live appointment with this reference, or None."""
    reference = normalise_reference(reference)
    if not reference:
        return None

    return session.scalar(
        select(Appointment).where(
            Appointment.site_id == site_id,
            Appointment.reference == reference,
            Appointment.cancelled_at.is_(None),
        )
    )


@dataclass(frozen=True)
class Difference:
    """One way an arrival differs from its appointment, shown before registration."""

    code: str
    message: str


def differences(
    appointment: Appointment | None,
    *,
    site: Site,
    driver_name: str,
    truck_number: str,
    arrived_at: datetime,
) -> list[Difference]:
    if appointment is None:
        return [Difference("no_appointment", "No appointment has this reference.")]

    found = []
    if matching.normalise_name(driver_name) != matching.normalise_name(
        appointment.driver_name
    ):
        found.append(
            Difference(
                "driver",
                f"The appointment names driver {appointment.driver_name}.",
            )
        )

    if truck_number.replace(" ", "").replace("-", "") != (
        appointment.truck_number.replace(" ", "").replace("-", "")
    ):
        found.append(
            Difference(
                "truck", f"The appointment names truck {appointment.truck_number}."
            )
        )

    window = timedelta(minutes=site.appointment_window_minutes)
    if abs(arrived_at - appointment.expected_at) > window:
        local = appointment.expected_at.astimezone(ZoneInfo(site.timezone))
        found.append(
            Difference(
                "window",
                f"The appointment was for {local:%Y-%m-%d %H:%M}, outside the "
                f"site's window of {site.appointment_window_minutes} minutes.",
            )
        )

    return found
