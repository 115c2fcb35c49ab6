"""The cargo pickup log: arrival, registration, departure (CTPAT 10.3, 10.4, 7.30).

A driver's arrival at the kiosk is only a request: a facility employee compares
the driver with the photo ID and registers them, and only then is the driver on
site (10.4 Must). A guard logs the driver out with the seal number affixed to the
trailer, after the VVTT inspection. Every change to a pickup row is written with
its log entry in one transaction, and the kiosk has no way to read any of it back.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gatekeeper import appointments, audit, cases, chain, mail, seals
from gatekeeper.db import utcnow
from gatekeeper.models import (
    ID_TYPES,
    Case,
    Kiosk,
    LogEntry,
    OutboxMessage,
    Photo,
    Pickup,
    Site,
    User,
)
from gatekeeper.text import TextError, clean_name, clean_text
from gatekeeper.visits import actor_label

LOGGED_COLUMNS = (
    "status",
    "appointment_id",
    "reference",
    "driver_name",
    "carrier",
    "truck_number",
    "trailer_number",
    "arrived_at",
    "id_type",
    "id_fallback_reason",
    "id_document_expired",
    "registered_by",
    "registered_at",
    "departed_at",
    "departed_by",
    "seal_number",
    "vvtt_checked_by",
    "trailer_rechecked",
)
chain.register_subject("pickup", Pickup, LOGGED_COLUMNS)

# What the employee checked (10.3): a government-issued photo ID, or, where that is
# not feasible, a photo ID issued by the carrier that employs the driver.
CARRIER_ID = "carrier_photo_id"
ID_LABELS = {**ID_TYPES, CARRIER_ID: "Carrier-issued photo ID"}
CORRECTABLE = ("reference", "driver_name", "carrier", "truck_number", "trailer_number")
ON_SITE = ("arrived", "registered")
# arrived: waiting at the gate; registered: on site; departed: logged out with the
# seal; refused: turned away at registration; left: gone without being logged out.
STATUSES = ("arrived", "registered", "departed", "refused", "left")
REASON_MIN = 3


class PickupError(ValueError):
    """An action on a pickup that cannot be done; the message is for the person."""


@dataclass
class Driver:
    """What a driver or an employee types about a pickup."""

    reference: str
    driver_name: str
    carrier: str
    truck_number: str
    trailer_number: str

    def cleaned(self) -> "Driver":
        """The fields as the kiosk accepts them, named as the kiosk asks for them."""
        labels = {
            "reference": _("Reference"),
            "driver_name": _("Your full name"),
            "carrier": _("Company you drive for"),
            "truck_number": _("Truck number"),
            "trailer_number": _("Trailer number"),
        }
        return Driver(
            **{
                name: _clean_field(name, getattr(self, name), labels[name])
                for name in CORRECTABLE
            }
        )


def _clean_field(name: str, value: str | None, label: str) -> str:
    """One of the driver's fields cleaned by the one rule the kiosk, the gate and a
    correction share; the label names the field in the words of the screen."""
    try:
        if name == "reference":
            return appointments.clean_reference(value)

        if name in ("truck_number", "trailer_number"):
            return appointments.clean_vehicle(value, label)

        return clean_name(value, label=label)
    except TextError as error:
        raise PickupError(str(error)) from error


@dataclass
class Evidence:
    """Photos and barcode findings a driver's arrival brings."""

    photos: dict[str, Photo] = field(default_factory=dict)
    id_type: str = ""
    id_document_expired: bool | None = None


def _log(session, pickup: Pickup, kind: str, actor, changes, details=None) -> None:
    chain.append(
        session,
        site_id=pickup.site_id,
        kind=kind,
        subject_type="pickup",
        subject_id=pickup.id,
        actor=actor_label(actor),
        changes=changes,
        details=details,
    )


def _truck_on_site(
    session: Session, site_id: int, truck_number: str, *, excluding: int = 0
) -> bool:
    """Whether the truck is at the gate or on site already, under another pickup
    than `excluding`.

    "TX-4411" and "TX 4411" are one truck, as the appointment check also holds, so
    spaces and hyphens are left out of the comparison.
    """
    stored = func.replace(func.replace(Pickup.truck_number, " ", ""), "-", "")
    query = select(Pickup.id).where(
        Pickup.site_id == site_id,
        stored == truck_number.replace(" ", "").replace("-", ""),
        Pickup.status.in_(ON_SITE),
        Pickup.id != excluding,
    )
    return session.scalar(query.limit(1)) is not None


def arrive(
    session: Session,
    *,
    site: Site,
    kiosk: Kiosk | None,
    driver: Driver,
    evidence: Evidence | None = None,
    submission_key: str | None = None,
    actor: User | None = None,
) -> Pickup:
    """Record a driver's arrival, waiting for an employee to register them.

    The appointment with the reference, if any, is linked here but never named to
    the driver: the kiosk's answer is the same whether the reference exists or not.
    """
    evidence = evidence or Evidence()
    if submission_key:
        existing = session.scalar(
            select(Pickup).where(Pickup.submission_key == submission_key)
        )
        if existing is not None:
            return existing

    driver = driver.cleaned()
    if evidence.id_type and evidence.id_type not in ID_TYPES:
        raise PickupError(_("Choose the type of photo ID you showed."))

    if _truck_on_site(session, site.id, driver.truck_number):
        raise PickupError(
            _("This truck is already checked in. Please see the gate staff.")
        )

    appointment = appointments.find(session, site.id, driver.reference)
    pickup = Pickup(
        site_id=site.id,
        status="arrived",
        appointment_id=appointment.id if appointment else None,
        reference=driver.reference,
        driver_name=driver.driver_name,
        carrier=driver.carrier,
        truck_number=driver.truck_number,
        trailer_number=driver.trailer_number,
        arrived_at=utcnow(),
        kiosk_id=kiosk.id if kiosk else None,
        submission_key=submission_key,
        id_type=evidence.id_type,
        id_document_expired=evidence.id_document_expired,
        trailer_rechecked=False,
    )
    session.add(pickup)
    session.flush()
    for photo in evidence.photos.values():
        photo.pickup_id = pickup.id
        photo.capture_key_hash = None

    _log(
        session,
        pickup,
        "pickup.arrived",
        actor or kiosk or "console",
        {name: getattr(pickup, name) for name in LOGGED_COLUMNS},
    )
    return pickup


def differences(session: Session, pickup: Pickup) -> list[appointments.Difference]:
    """How the pickup differs from its appointment, for the employee to decide on."""
    appointment = pickup.appointment
    if appointment is None:
        appointment = appointments.find(session, pickup.site_id, pickup.reference)

    return appointments.differences(
        appointment,
        site=pickup.site,
        driver_name=pickup.driver_name,
        truck_number=pickup.truck_number,
        arrived_at=pickup.arrived_at,
    )


def preview_differences(
    session: Session, site: Site, driver: Driver, arrived_at: datetime
) -> list[appointments.Difference]:
    """How a driver not yet recorded differs from the appointment of the reference.

    The guard sees these before registering a walk-up driver, and when corrections
    at registration change the reference, name or truck; nothing is written.
    """
    cleaned = driver.cleaned()
    return appointments.differences(
        appointments.find(session, site.id, cleaned.reference),
        site=site,
        driver_name=cleaned.driver_name,
        truck_number=cleaned.truck_number,
        arrived_at=arrived_at,
    )


def register(
    session: Session,
    pickup: Pickup,
    *,
    actor: User,
    id_type: str,
    fallback_reason: str = "",
    corrections: dict[str, str] | None = None,
    decision: str = "",
) -> Pickup:
    """A facility employee registers the driver (10.4), after checking the ID (10.3).

    `id_type` is a government photo ID type, or CARRIER_ID with the reason a
    government ID was not feasible. Corrections fix what the driver typed; any
    difference from the appointment needs the employee's decision, which the log
    keeps, and a driver or truck that differs opens a case.
    """
    if pickup.status != "arrived":
        raise PickupError(_("This driver is not waiting to be registered."))

    reason = None
    if id_type == CARRIER_ID:
        reason = _reason(
            fallback_reason, _("Say why a government photo ID was not feasible.")
        )
    elif id_type not in ID_TYPES:
        raise PickupError(_("Choose the photo ID you checked."))

    before = {name: getattr(pickup, name) for name in CORRECTABLE}
    _apply_corrections(pickup, corrections or {})
    if pickup.truck_number != before["truck_number"] and _truck_on_site(
        session, pickup.site_id, pickup.truck_number
    ):
        raise PickupError(_("That truck is already on site."))

    pickup.appointment = appointments.find(session, pickup.site_id, pickup.reference)
    found = differences(session, pickup)
    codes = [difference.code for difference in found]
    if "no_appointment" in codes and not pickup.site.walk_in_pickups:
        raise PickupError(
            _(
                "This site takes pickups by appointment only, "
                "and none has this reference."
            )
        )

    decision = decision.strip()
    if found and len(decision) < REASON_MIN:
        raise PickupError(_("Record your decision on the differences shown."))

    now = utcnow()
    result = session.execute(
        update(Pickup)
        .where(Pickup.id == pickup.id, Pickup.status == "arrived")
        .values(status="registered")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise PickupError(_("Another employee has just dealt with this driver."))

    pickup.status = "registered"
    pickup.id_type = id_type
    pickup.id_fallback_reason = reason
    pickup.registered_by = actor.display_name
    pickup.registered_at = now
    changed = {name for name in CORRECTABLE if getattr(pickup, name) != before[name]}
    changes = {
        name: getattr(pickup, name)
        for name in (
            "status",
            "appointment_id",
            "id_type",
            "id_fallback_reason",
            "registered_by",
            "registered_at",
            *sorted(changed),
        )
    }
    details = {}
    if found:
        details["differences"] = [d.code for d in found]
        details["decision"] = decision

    if changed:
        details["corrected_from"] = {name: before[name] for name in sorted(changed)}

    _log(session, pickup, "pickup.registered", actor, changes, details or None)
    if {"driver", "truck"} & set(codes):
        cases.open_case(
            session,
            site_id=pickup.site_id,
            kind="appointment_mismatch",
            summary="; ".join(d.message for d in found),
            pickup_id=pickup.id,
            actor=actor,
        )

    return pickup


def _reason(text: str | None, missing: str) -> str:
    try:
        value = clean_text(text, label=_("Reason"), max_length=500, required=False)
    except TextError as error:
        raise PickupError(str(error)) from error

    if len(value) < REASON_MIN:
        raise PickupError(missing)

    return value


def _apply_corrections(pickup: Pickup, corrections: dict[str, str]) -> None:
    unknown = set(corrections) - set(CORRECTABLE)
    if unknown:
        raise PickupError(f"Cannot correct {', '.join(sorted(unknown))}.")

    # The employee corrects at the gate: the fields are named as the console names
    # them, not as the kiosk asked the driver.
    labels = correctable(pickup)
    cleaned = {
        name: _clean_field(name, value, labels[name])
        for name, value in corrections.items()
    }
    for name, value in cleaned.items():
        setattr(pickup, name, value)


def register_walk_up(
    session: Session,
    site: Site,
    *,
    driver: Driver,
    actor: User,
    id_type: str,
    fallback_reason: str = "",
    decision: str = "",
    submission_key: str | None = None,
) -> Pickup:
    """Register a driver who never touched the kiosk: arrived and registered at once."""
    pickup = arrive(
        session,
        site=site,
        kiosk=None,
        driver=driver,
        submission_key=submission_key,
        actor=actor,
    )
    if pickup.status != "arrived":
        return pickup

    return register(
        session,
        pickup,
        actor=actor,
        id_type=id_type,
        fallback_reason=fallback_reason,
        decision=decision,
    )


def refuse(session: Session, pickup: Pickup, *, reason: str, actor: User) -> None:
    """Turn a waiting driver away: the pickup ends and an ID-refused case opens."""
    if pickup.status != "arrived":
        raise PickupError(_("This driver is not waiting to be registered."))

    reason = _reason(reason, _("Say why the driver is refused."))
    now = utcnow()
    pickup.status = "refused"
    pickup.departed_at = now
    pickup.departed_by = actor.display_name
    _log(
        session,
        pickup,
        "pickup.refused",
        actor,
        {"status": "refused", "departed_at": now, "departed_by": actor.display_name},
        {"reason": reason},
    )
    cases.open_case(
        session,
        site_id=pickup.site_id,
        kind="id_refused",
        summary=reason,
        pickup_id=pickup.id,
        actor=actor,
    )


def mark_left(session: Session, pickup: Pickup, *, reason: str, actor: User) -> None:
    """Record that a driver on site left without being logged out; a case opens.

    The time is when the employee found out, not when the truck left, and there is
    no seal number: the case is where what is known of the departure is written.
    """
    if pickup.status != "registered":
        raise PickupError(_("Only a driver on site can be recorded as gone."))

    reason = _reason(reason, _("Say what is known of the driver leaving."))
    now = utcnow()
    result = session.execute(
        update(Pickup)
        .where(Pickup.id == pickup.id, Pickup.status == "registered")
        .values(status="left", departed_at=now, departed_by=actor.display_name)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise PickupError(_("Another employee has just dealt with this driver."))

    session.refresh(pickup)
    _log(
        session,
        pickup,
        "pickup.left",
        actor,
        {"status": "left", "departed_at": now, "departed_by": actor.display_name},
        {"reason": reason},
    )
    cases.open_case(
        session,
        site_id=pickup.site_id,
        kind="left_unlogged",
        summary=reason,
        pickup_id=pickup.id,
        actor=actor,
    )


@dataclass
class Departure:
    """What the guard enters and confirms at the gate as the truck leaves."""

    seal_number: str
    seal_confirmation: str
    trailer_number: str
    vvtt: dict[str, bool]
    seal_photo: Photo | None = None


@dataclass
class Outcome:
    """A departure: recorded, or blocked by a seal mismatch and its open case.

    A blocked departure is not an error to roll back: the case it opened must be
    committed, so that a security manager sees it.
    """

    departed: bool
    blocked_by: Case | None = None


def depart(
    session: Session, pickup: Pickup, departure: Departure, *, actor: User
) -> Outcome:
    """Log the driver out with the seal number, after the VVTT inspection (10.4).

    Exactly one departure is recorded even when two guards submit at once. A seal
    that differs from the one assigned to the shipment blocks the departure and
    opens a case, until a security manager releases it with that seal number.
    """
    if pickup.status == "departed":
        raise PickupError(_("This driver is already logged out."))

    if pickup.status != "registered":
        raise PickupError(_("Register this driver before logging them out."))

    try:
        seal = seals.check_number(
            departure.seal_number,
            departure.seal_confirmation,
            pattern=pickup.site.seal_pattern,
        )
        seals.check_vvtt(departure.vvtt)
    except seals.SealError as error:
        raise PickupError(str(error)) from error

    try:
        trailer = appointments.clean_vehicle(departure.trailer_number, "Trailer number")
    except TextError as error:
        raise PickupError(str(error)) from error

    if trailer.replace(" ", "") != pickup.trailer_number.replace(" ", ""):
        raise PickupError(
            _(
                "The trailer number differs from the one registered (%(number)s). "
                "Check the trailer again.",
                number=pickup.trailer_number,
            )
        )

    assigned = pickup.appointment.seal_number if pickup.appointment else None
    if not seals.matches_assigned(seal, assigned) and not _released(
        session, pickup, seal
    ):
        return Outcome(False, _seal_case(session, pickup, seal, assigned, actor))

    now = utcnow()
    result = session.execute(
        update(Pickup)
        .where(Pickup.id == pickup.id, Pickup.status == "registered")
        .values(
            status="departed",
            departed_at=now,
            departed_by=actor.display_name,
            seal_number=seal,
            vvtt_checked_by=actor.display_name,
            trailer_rechecked=True,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise PickupError(_("This driver is already logged out."))

    session.refresh(pickup)
    if departure.seal_photo is not None:
        departure.seal_photo.pickup_id = pickup.id
        departure.seal_photo.capture_key_hash = None

    _log(
        session,
        pickup,
        "pickup.departed",
        actor,
        {
            name: getattr(pickup, name)
            for name in (
                "status",
                "departed_at",
                "departed_by",
                "seal_number",
                "vvtt_checked_by",
                "trailer_rechecked",
            )
        },
        {"vvtt": sorted(seals.VVTT_STEPS)},
    )
    _notify_consignee(session, pickup)
    return Outcome(True)


def _released(session: Session, pickup: Pickup, seal: str) -> bool:
    """Whether a security manager released this pickup with this seal number."""
    query = select(Case.id).where(
        Case.pickup_id == pickup.id,
        Case.kind == "seal_mismatch",
        Case.decision == "release",
        Case.seal_number == seal,
    )
    return session.scalar(query) is not None


def _seal_case(session, pickup: Pickup, seal: str, assigned: str, actor: User):
    """The open seal-mismatch case of this pickup and seal, opened if there is none."""
    existing = session.scalar(
        select(Case).where(
            Case.pickup_id == pickup.id,
            Case.kind == "seal_mismatch",
            Case.seal_number == seal,
            Case.status == "open",
        )
    )
    if existing is not None:
        return existing

    case = cases.open_case(
        session,
        site_id=pickup.site_id,
        kind="seal_mismatch",
        summary=f"Seal {seal} at departure; the shipment was assigned seal {assigned}.",
        pickup_id=pickup.id,
        actor=actor,
    )
    case.seal_number = seal
    _case_changes(session, case, actor, {"seal_number": seal})
    return case


def _case_changes(session, case, actor, changes: dict, details=None) -> None:
    chain.append(
        session,
        site_id=case.site_id,
        kind="case.updated",
        subject_type="case",
        subject_id=case.id,
        actor=actor_label(actor),
        changes=changes,
        details=details,
    )


SEAL_DECISIONS = ("release", "hold")


def decide_seal(
    session: Session, case, decision: str, *, note: str, actor: User
) -> None:
    """A security manager's decision on a seal mismatch; release lets it depart."""
    if actor.role not in ("security_manager", "administrator"):
        raise PickupError(_("Only a security manager can decide on a seal mismatch."))

    if case.kind != "seal_mismatch" or case.decision is not None:
        raise PickupError(_("This case has no seal decision waiting."))

    if decision not in SEAL_DECISIONS:
        raise PickupError(_("Choose release or hold."))

    note = _reason(note, _("Say why."))
    case.decision = decision
    _case_changes(session, case, actor, {"decision": decision}, {"note": note})


def _notify_consignee(session: Session, pickup: Pickup) -> None:
    """Tell the consignee the seal number the trailer left with (7.29)."""
    appointment = pickup.appointment
    if appointment is None or not appointment.consignee_email:
        return

    site = pickup.site
    departed = pickup.departed_at.astimezone(ZoneInfo(site.timezone))
    body = "\n".join(
        [
            f"A shipment for you left {site.name} on {departed:%Y-%m-%d at %H:%M %Z}.",
            "",
            f"Seal number: {pickup.seal_number}",
            f"Trailer: {pickup.trailer_number}",
            f"Truck: {pickup.truck_number}",
            f"Carrier: {pickup.carrier}",
            f"Reference: {pickup.reference}",
            "",
            "Check the seal number when the trailer arrives; report any difference "
            "at once.",
        ]
    )
    message = mail.queue(
        session,
        site_id=site.id,
        recipient=appointment.consignee_email,
        subject=f"Shipment {pickup.reference} sealed {pickup.seal_number}",
        body=body + "\n",
    )
    message.pickup_id = pickup.id


def correctable(pickup: Pickup) -> dict[str, str]:
    """The fields of this pickup a security manager may correct, in the console's
    words: the driver's, the photo ID once an employee has checked it (10.3), and
    the seal number once the truck has left with it (10.4)."""
    fields = {
        "reference": _("Reference"),
        "driver_name": _("Driver's name"),
        "carrier": _("Carrier"),
        "truck_number": _("Truck number"),
        "trailer_number": _("Trailer number"),
    }
    if pickup.registered_at is not None:
        fields["id_type"] = _("Photo ID checked")

    if pickup.status == "departed":
        fields["seal_number"] = _("Seal number")

    return fields


def correct(
    session: Session,
    pickup: Pickup,
    *,
    column: str,
    value: str,
    reason: str,
    actor: User,
    confirmation: str = "",
) -> None:
    """Correct one field of a pickup: a new entry naming what it corrects and why.

    The value is checked as the kiosk, the gate's registration or its departure
    checks it (a seal number is typed twice, `confirmation` the second time), and
    the entry keeps the value it replaces, so the log holds both (7.6). A corrected
    reference leaves the appointment the registration found: the decisions taken
    on it stand.
    """
    fields = correctable(pickup)
    if column not in fields:
        raise PickupError(_("That field cannot be corrected on this pickup."))

    reason = _reason(reason, _("A correction needs a reason."))
    after = _corrected_value(session, pickup, column, value, confirmation)
    before = getattr(pickup, column)
    if after == before:
        raise PickupError(
            _("%(field)s: that is the value already recorded.", field=fields[column])
        )

    changes = {column: after}
    if column == "id_type":
        # A carrier's photo ID stands only with the reason a government one was not
        # feasible (10.3): the correction's reason is that reason.
        changes["id_fallback_reason"] = reason if after == CARRIER_ID else None

    for name, new in changes.items():
        setattr(pickup, name, new)

    _log(
        session,
        pickup,
        "pickup.corrected",
        actor,
        changes,
        {"field": column, "reason": reason, "before": before},
    )


def _corrected_value(
    session: Session, pickup: Pickup, column: str, value, confirmation: str
) -> str:
    """A corrected value cleaned by the rule its field had when it was recorded."""
    label = correctable(pickup)[column]
    if column == "id_type":
        if value not in ID_LABELS:
            raise PickupError(_("Choose the photo ID that was checked."))

        return value

    if column == "seal_number":
        return _corrected_seal(session, pickup, value, confirmation)

    cleaned = _clean_field(column, value, label)
    at_gate = column == "truck_number" and pickup.status in ON_SITE
    if at_gate and _truck_on_site(
        session, pickup.site_id, cleaned, excluding=pickup.id
    ):
        raise PickupError(_("That truck is already on site."))

    return cleaned


def _corrected_seal(session: Session, pickup: Pickup, value, confirmation: str) -> str:
    """A seal number checked as at departure: typed twice, of the site's format,
    and the one assigned to the shipment or released by a security manager."""
    try:
        seal = seals.check_number(
            value or "", confirmation or "", pattern=pickup.site.seal_pattern
        )
    except seals.SealError as error:
        raise PickupError(str(error)) from error

    assigned = pickup.appointment.seal_number if pickup.appointment else None
    if not seals.matches_assigned(seal, assigned) and not _released(
        session, pickup, seal
    ):
        # A seal that differs from the shipment's is a discrepancy to investigate
        # (6.1, 7.27), not a typing mistake to correct.
        raise PickupError(
            _(
                "Seal %(seal)s is not the one assigned to the shipment "
                "(%(assigned)s). Open a case to investigate it instead.",
                seal=seal,
                assigned=assigned,
            )
        )

    return seal


def gate_queue(session: Session, site_id: int) -> list[Pickup]:
    """Drivers waiting to be registered, the longest waiting first."""
    query = (
        select(Pickup)
        .where(Pickup.site_id == site_id, Pickup.status == "arrived")
        .order_by(Pickup.arrived_at, Pickup.id)
    )
    return list(session.scalars(query))


def on_site(session: Session, site_id: int) -> list[Pickup]:
    query = (
        select(Pickup)
        .where(Pickup.site_id == site_id, Pickup.status == "registered")
        .order_by(Pickup.arrived_at, Pickup.id)
    )
    return list(session.scalars(query))


def is_overdue(pickup: Pickup, now: datetime) -> bool:
    """A registered driver on site longer than the site's set time."""
    if pickup.status != "registered":
        return False

    return now - pickup.arrived_at > timedelta(hours=pickup.site.driver_overdue_hours)


# The site's pickup rules (10.4, 10.7), set by its security manager

WINDOW_LIMITS = (5, 24 * 60)
OVERDUE_LIMITS = (1, 72)


@dataclass
class Rules:
    """What a security manager sets about a site's pickups."""

    walk_in_pickups: bool
    appointment_window_minutes: int
    driver_overdue_hours: int
    seal_pattern: str


def set_rules(
    session: Session, site: Site, rules: Rules, *, actor: User, address: str = ""
) -> None:
    """Change a site's pickup rules after checking every one; audited with the old."""
    low, high = WINDOW_LIMITS
    if not low <= rules.appointment_window_minutes <= high:
        raise PickupError(f"The appointment window is {low} to {high} minutes.")

    low, high = OVERDUE_LIMITS
    if not low <= rules.driver_overdue_hours <= high:
        raise PickupError(f"A driver is flagged after {low} to {high} hours.")

    pattern = (rules.seal_pattern or "").strip()
    if not pattern or len(pattern) > 120:
        raise PickupError("Enter the seal pattern, at most 120 characters.")

    try:
        seals.check_pattern(pattern)
    except seals.SealError as error:
        raise PickupError(str(error)) from error

    names = ("walk_in_pickups", "appointment_window_minutes", "driver_overdue_hours")
    before = {name: getattr(site, name) for name in (*names, "seal_pattern")}
    for name in names:
        setattr(site, name, getattr(rules, name))

    site.seal_pattern = pattern
    after = {name: getattr(site, name) for name in before}
    audit.record(
        session,
        "site.pickup_rules_changed",
        actor=actor,
        site_id=site.id,
        target=f"site:{site.code}",
        address=address,
        before=before,
        after=after,
    )


# Reading the log back, for the console only (never the kiosk)


def local_range(site: Site, first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants from the start of `first` to the end of `last`, site time."""
    zone = ZoneInfo(site.timezone)
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def log_between(
    session: Session, site_id: int, start: datetime, end: datetime
) -> list[Pickup]:
    """Pickups that arrived in the range, and any still at the gate or on site."""
    query = (
        select(Pickup)
        .where(Pickup.site_id == site_id)
        .where(
            ((Pickup.arrived_at >= start) & (Pickup.arrived_at < end))
            | Pickup.status.in_(ON_SITE)
        )
        .order_by(Pickup.arrived_at.desc(), Pickup.id.desc())
    )
    return list(session.scalars(query))


def departed_since(session: Session, site_id: int, since: datetime) -> list[Pickup]:
    """Departures since a moment, the latest first: the gate's recent list."""
    query = (
        select(Pickup)
        .where(
            Pickup.site_id == site_id,
            Pickup.status == "departed",
            Pickup.departed_at >= since,
        )
        .order_by(Pickup.departed_at.desc(), Pickup.id.desc())
    )
    return list(session.scalars(query))


def history(session: Session, pickup: Pickup) -> list[LogEntry]:
    """The pickup's log entries, oldest first."""
    query = (
        select(LogEntry)
        .where(
            LogEntry.site_id == pickup.site_id,
            LogEntry.subject_type == "pickup",
            LogEntry.subject_id == pickup.id,
        )
        .order_by(LogEntry.seq)
    )
    return list(session.scalars(query))


def notices(session: Session, pickup_id: int) -> list[OutboxMessage]:
    """The consignee notices of a pickup, as the outbox keeps them (7.29)."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.pickup_id == pickup_id)
        .order_by(OutboxMessage.id)
    )
    return list(session.scalars(query))


def photos_of(session: Session, pickup_id: int) -> dict[str, Photo]:
    """The latest photo of each kind attached to the pickup."""
    query = select(Photo).where(Photo.pickup_id == pickup_id).order_by(Photo.id)
    return {photo.kind: photo for photo in session.scalars(query)}


def waiting_seal_decision(session: Session, pickup_id: int) -> Case | None:
    """The seal-mismatch case blocking this pickup's departure, if one waits."""
    query = select(Case).where(
        Case.pickup_id == pickup_id,
        Case.kind == "seal_mismatch",
        Case.status == "open",
        Case.decision.is_(None),
    )
    return session.scalar(query.order_by(Case.id.desc()).limit(1))
