"""The tables: sites, staff, kiosks, visits, the chained log and the audit trail."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gatekeeper.db import Base, UTCDateTime, utcnow

ROLES = ("front_desk", "guard", "security_manager", "administrator")
ROLE_LABELS = {
    "front_desk": "Front desk",
    "guard": "Guard",
    "security_manager": "Security manager",
    "administrator": "Administrator",
}
# CTPAT 4.8 recommends multi-factor authentication; these roles must use it.
MFA_ROLES = frozenset({"security_manager", "administrator"})

ID_TYPES = {
    "drivers_licence": "Driver's licence",
    "passport": "Passport",
    "national_id": "National ID card",
    "other_government": "Other government photo ID",
}
# The visitor types a new site starts with, and their rules; a site changes them or
# adds its own in the console.
VISITOR_TYPES = {
    "visitor": "Visitor",
    "vendor": "Vendor",
    "service_provider": "Service provider",
}
DEFAULT_TYPE_RULES = {
    "visitor": {"escort_required": True, "id_required": True},
    "vendor": {"escort_required": True, "id_required": True},
    "service_provider": {"escort_required": False, "id_required": True},
}
# attended: the visit waits for an employee to compare the ID with the person before
# the badge prints; self_service: the kiosk keeps the ID images as captured, and the
# guard's first scan of the badge asks for that comparison (CTPAT 10.2).
VERIFICATION_MODES = ("attended", "self_service")
# Where a visit stands between arrival and a printed badge.
ADMISSIONS = ("admitted", "awaiting_id", "held", "denied")
# What is known of a visit's photo ID: unverified (not yet shown), captured (images
# taken at the kiosk, not yet compared with the person), verified, exempt (the person
# is exempt from showing one), not_required (the visitor type asks for none).
ID_STATUSES = ("unverified", "captured", "verified", "exempt", "not_required")
# The front of the photo ID, its back (where a US or Canadian licence has its PDF417
# barcode), and the face photo for the badge.
PHOTO_KINDS = ("id", "id_back", "face", "seal")
BLOCK_KINDS = ("person", "company", "id_number")

user_sites = Table(
    "user_sites",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="America/Chicago")
    idle_seconds: Mapped[int] = mapped_column(Integer, default=90)
    verification_mode: Mapped[str] = mapped_column(String(16), default="attended")
    # How long a visitor's temporary badge stays valid after check-in (CTPAT 10.2).
    badge_valid_hours: Mapped[int] = mapped_column(Integer, default=12)
    badge_size: Mapped[str] = mapped_column(String(16), default="62x100mm")
    # Cargo pickups (10.4, 10.7): whether a driver without an appointment is taken,
    # how far from the appointment's time an arrival still matches it, when a driver
    # on site is flagged, and the pattern seal numbers must follow (ISO 17712 seals
    # carry a manufacturer's prefix and a serial; sites set what theirs look like).
    walk_in_pickups: Mapped[bool] = mapped_column(Boolean, default=True)
    appointment_window_minutes: Mapped[int] = mapped_column(Integer, default=120)
    driver_overdue_hours: Mapped[int] = mapped_column(Integer, default=4)
    seal_pattern: Mapped[str] = mapped_column(
        String(120), default=r"[A-Z]{0,4}[0-9]{6,10}"
    )
    # Retention by class of data (CTPAT 4.12 keeps records; privacy keeps images no
    # longer than needed): ID images and face photos are purged after this many
    # days, while the logs, which are never purged, are kept at least this many
    # years (shown in the console so that no one archives them sooner).
    photo_retention_days: Mapped[int] = mapped_column(Integer, default=30)
    log_retention_years: Mapped[int] = mapped_column(Integer, default=3)
    # The kiosk's languages, first the default: "en,es" offers both.
    languages: Mapped[str] = mapped_column(String(32), default="en,es")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VisitorType(Base):
    """Who a person at the kiosk can say they are, with that type's rules (10.2)."""

    __tablename__ = "visitor_types"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    # The label as the site wrote it; the three built-in codes are shown translated.
    label: Mapped[str] = mapped_column(String(60))
    label_es: Mapped[str] = mapped_column(String(60), default="")
    escort_required: Mapped[bool] = mapped_column(Boolean, default=True)
    id_required: Mapped[bool] = mapped_column(Boolean, default=True)
    # None: the site's badge_valid_hours.
    badge_valid_hours: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Host(Base):
    """A company point of contact in a site's directory (the 10.2 log field)."""

    __tablename__ = "hosts"
    __table_args__ = (UniqueConstraint("site_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    department: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    site: Mapped[Site] = relationship()


class User(Base):
    """An individually assigned staff account (CTPAT 4.8)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), default="")
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[str | None] = mapped_column(Text, default=None)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_token: Mapped[str] = mapped_column(String(64))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sites: Mapped[list[Site]] = relationship(secondary=user_sites, order_by=Site.code)

    @property
    def needs_mfa(self) -> bool:
        return self.role in MFA_ROLES

    @property
    def site_ids(self) -> set[int]:
        return {site.id for site in self.sites}


class RecoveryCode(Base):
    """A one-time code that stands in for a TOTP code when the phone is lost."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Kiosk(Base):
    """A touchscreen bound to one site by a one-time enrolment code."""

    __tablename__ = "kiosks"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    enrolment_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    enrolment_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_token_hash: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"

        if self.enrolled_at:
            return "enrolled"

        return "awaiting enrolment"


class Visit(Base):
    """The current state of one visit; every change to it is also a log entry."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("site_id", "badge_number"),
        Index("ix_visits_site_arrived", "site_id", "arrived_at"),
        # Who is on site now: the visits not yet signed out.
        Index("ix_visits_site_departed", "site_id", "departed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    badge_number: Mapped[str] = mapped_column(String(16))
    visitor_name: Mapped[str] = mapped_column(String(120))
    company: Mapped[str] = mapped_column(String(120))
    visitor_type: Mapped[str] = mapped_column(String(32))
    host_id: Mapped[int | None] = mapped_column(ForeignKey("hosts.id"))
    host_name: Mapped[str] = mapped_column(String(120))
    id_type: Mapped[str] = mapped_column(String(32))
    id_status: Mapped[str] = mapped_column(String(16), default="unverified")
    id_verified_by: Mapped[str | None] = mapped_column(String(120))
    id_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    departed_by: Mapped[str | None] = mapped_column(String(120))
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    badge_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    admission: Mapped[str] = mapped_column(String(16), default="admitted")
    escort_required: Mapped[bool] = mapped_column(Boolean, default=False)
    escort_name: Mapped[str | None] = mapped_column(String(120))
    # Who granted the photo-ID exemption this visit used, when it used one.
    id_exemption_by: Mapped[str | None] = mapped_column(String(120))
    # Read from the ID's barcode, when it had one: None when nothing could be read.
    id_document_expired: Mapped[bool | None] = mapped_column(Boolean)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"))

    site: Mapped[Site] = relationship()


class Photo(Base):
    """A face photo or ID image, sealed with the instance's photo key (CTPAT 4.12).

    A kiosk's capture is stored before the visit exists, under the hash of a random
    capture key the kiosk page holds; check-in attaches it to the visit. Unattached
    captures are deleted after an hour. The image itself never goes back to a kiosk.
    """

    __tablename__ = "photos"
    __table_args__ = (Index("ix_photos_visit_kind", "visit_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("pickups.id"))
    kind: Mapped[str] = mapped_column(String(8))
    capture_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    uploaded_by: Mapped[str | None] = mapped_column(String(120))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # What the judge and the barcode reader found, as JSON (no image data).
    details: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Exemption(Base):
    """A frequent, well-known person a security manager excused from showing ID."""

    __tablename__ = "exemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    person_name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(240), index=True)
    company: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    granted_by: Mapped[str] = mapped_column(String(120))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_by: Mapped[str | None] = mapped_column(String(120))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BlockListEntry(Base):
    """A person, company or ID number whose check-in waits for a decision."""

    __tablename__ = "block_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(120))
    # One alias a line.
    aliases: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_by: Mapped[str | None] = mapped_column(String(120))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def alias_list(self) -> list[str]:
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]


class Invitation(Base):
    """A pre-registered visit: the QR code emailed to the visitor fills in the kiosk."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    visitor_name: Mapped[str] = mapped_column(String(120))
    company: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), default="")
    expected_on: Mapped[date] = mapped_column(Date)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    host: Mapped[Host] = relationship()


class OutboxMessage(Base):
    """An email to send; kept, sent or not, so that none is lost (host notices)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # An optional PNG sent with the message (an invitation's QR code).
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The pickup a consignee notice tells of (7.29), so its page shows the sending.
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("pickups.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")


class Carrier(Base):
    """A highway carrier that sends a site's pickups; its TMS may post appointments.

    The API key is shown once when made; only its SHA-256 is kept (10.7).
    """

    __tablename__ = "carriers"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The first characters of the key, to tell keys apart in the console.
    api_key_prefix: Mapped[str] = mapped_column(String(12), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Appointment(Base):
    """An expected pickup and the carrier's pre-notification of it (CTPAT 10.7)."""

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("site_id", "reference"),
        Index("ix_appointments_site_expected", "site_id", "expected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    # The pickup, load or bill-of-lading number the driver gives at the gate.
    reference: Mapped[str] = mapped_column(String(40))
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("carriers.id"))
    carrier_name: Mapped[str] = mapped_column(String(120))
    driver_name: Mapped[str] = mapped_column(String(120))
    truck_number: Mapped[str] = mapped_column(String(20))
    expected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The seal number assigned to the shipment, when known before departure.
    seal_number: Mapped[str | None] = mapped_column(String(20))
    consignee_email: Mapped[str] = mapped_column(String(254), default="")
    source: Mapped[str] = mapped_column(String(8), default="console")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Pickup(Base):
    """The current state of one cargo pickup; every change is also a log entry (10.4).

    A driver's arrival at the kiosk makes a row with status "arrived"; only a
    facility employee's registration puts the driver on site ("registered"), and a
    guard's logout with the seal number ends it ("departed"). "refused" is a driver
    turned away at registration.
    """

    __tablename__ = "pickups"
    __table_args__ = (
        Index("ix_pickups_site_arrived", "site_id", "arrived_at"),
        # Who is at the gate or on site now.
        Index("ix_pickups_site_status", "site_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    status: Mapped[str] = mapped_column(String(12), default="arrived")
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    reference: Mapped[str] = mapped_column(String(40), default="")
    driver_name: Mapped[str] = mapped_column(String(120))
    carrier: Mapped[str] = mapped_column(String(120))
    truck_number: Mapped[str] = mapped_column(String(20))
    trailer_number: Mapped[str] = mapped_column(String(20))
    # When the driver reached the kiosk, or the guard registered a driver who never
    # touched it; the time of arrival of the 10.4 log.
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_type: Mapped[str] = mapped_column(String(32), default="")
    # Set when the employee accepted the carrier's photo ID instead of a government
    # one (10.3 allows it only where a government ID is not feasible).
    id_fallback_reason: Mapped[str | None] = mapped_column(String(500))
    id_document_expired: Mapped[bool | None] = mapped_column(Boolean)
    registered_by: Mapped[str | None] = mapped_column(String(120))
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    departed_by: Mapped[str | None] = mapped_column(String(120))
    seal_number: Mapped[str | None] = mapped_column(String(20))
    # The guard's View, Verify, Tug, Twist inspection of the seal (7.30), confirmed
    # step by step at departure, and the trailer number checked again then.
    vvtt_checked_by: Mapped[str | None] = mapped_column(String(120))
    trailer_rechecked: Mapped[bool] = mapped_column(Boolean, default=False)

    site: Mapped[Site] = relationship()
    appointment: Mapped[Appointment | None] = relationship()


class Case(Base):
    """A discrepancy or incident: seal mismatch, tampering, refused ID (7.27)."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_site_status", "site_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("pickups.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    summary: Mapped[str] = mapped_column(String(500))
    # A seal mismatch blocks departure until a security manager decides: "release"
    # lets the trailer leave with the seal number recorded here, "hold" keeps it.
    seal_number: Mapped[str | None] = mapped_column(String(20))
    decision: Mapped[str | None] = mapped_column(String(16))
    notified: Mapped[str] = mapped_column(String(500), default="")
    resolution: Mapped[str | None] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BadgeCheck(Base):
    """A guard's scan of a visitor badge and the verdict it got; each one is kept."""

    __tablename__ = "badge_checks"
    __table_args__ = (Index("ix_badge_checks_site_at", "site_id", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    verdict: Mapped[str] = mapped_column(String(16))
    checked_by: Mapped[str] = mapped_column(String(120))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChainHead(Base):
    """The last sequence number and hash of a site's log; writers lock this row."""

    __tablename__ = "chain_heads"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class LogEntry(Base):
    """One append-only, hash-chained event of a site's visitor or pickup log."""

    __tablename__ = "log_entries"
    __table_args__ = (
        UniqueConstraint("site_id", "seq"),
        Index("ix_log_entries_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(48))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class RollCall(Base):
    """An evacuation muster: everyone on site at its start, marked by guards."""

    __tablename__ = "roll_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    started_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(500), default="")


class RollCallMark(Base):
    """One person on a roll call's list, and who accounted for them and when."""

    __tablename__ = "roll_call_marks"
    __table_args__ = (UniqueConstraint("roll_call_id", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    roll_call_id: Mapped[int] = mapped_column(ForeignKey("roll_calls.id"), index=True)
    # "visit" or "pickup": who was on site when the roll call began.
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    person: Mapped[str] = mapped_column(String(120))
    marked_by: Mapped[str | None] = mapped_column(String(120))
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Review(Base):
    """A security manager's periodic review: of the logs, camera footage (9.15),
    guard procedures (10.10) or staff access (4.7), and when the next is due."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_site_kind", "site_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(24))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    sampled: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    corrective_action: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_due: Mapped[date | None] = mapped_column(Date)


class AuditEvent(Base):
    """Staff access and administration (CTPAT 4.5, 4.7): who did what, from where."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(120))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    target: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")


class IntegrityCheck(Base):
    """A site's last full verification of its log, and the incident it left open.

    verified_seq and verified_hash are the head the last clean verification reached,
    so a console page need only check the entries written after it. A problem stays
    recorded until a security manager resolves it (see gatekeeper.integrity).
    """

    __tablename__ = "integrity_checks"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_seq: Mapped[int] = mapped_column(Integer, default=0)
    verified_hash: Mapped[str] = mapped_column(String(64))
    # What the verification that opened the incident found; None while none is open.
    problem: Mapped[str | None] = mapped_column(Text)
    problem_found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
