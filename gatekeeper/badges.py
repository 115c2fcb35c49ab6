"""The QR code on a visitor's temporary badge, and what a guard's scan of it means.

CTPAT 10.2 asks that a visitor's temporary identification be visibly displayed for
the whole visit. The badge carries a QR code holding a signed token that names the
site, the visit, the badge number and the time the badge stops being good. A guard
scans it; `read_token` checks the signature and `verdict` compares the claim with the
visit as it stands now, giving one answer: valid, expired, signed out, revoked or
forged.

The token is an HMAC, not an encryption: anyone can read the site and visit ids in
it, which are not secret. What nobody can do without the secret is make one.
"""

import base64
import binascii
import enum
import hashlib
import hmac
import io
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import qrcode
import qrcode.image.svg
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

# Why HMAC-SHA256 over a fixed binary layout, written in base32, rather than an
# itsdangerous serializer: the serializer writes JSON in mixed-case base64 with a
# SHA-1 signature, about 66 characters, which a QR code can only store in its byte
# mode. These fields packed into 20 bytes plus a 16-byte tag make 36 bytes, and
# uppercase base32 (A-Z, 2-7) fits the QR alphanumeric mode, so the code is version 3
# (29 × 29 modules) at medium error correction instead of version 4 or 5: larger
# modules on the same small badge, and an easier scan through a plastic sleeve.
#
# The purpose is mixed into the signing key, so a session cookie, a kiosk credential
# or any other value signed with the same secret can never pass as a badge. A new
# layout gets a new purpose, which turns every token of the old layout away.
PURPOSE = b"gatekeeper visitor badge token v1"
# The first byte of each token names the secret that signed it. To rotate, sign new
# badges with the next id and pass read_token a mapping that still holds the old id
# until the last badge it signed has expired.
KEY_ID = 1
# A 128-bit tag: a forger's odds per guess are 2**-128.
TAG_BYTES = 16
# key id (1 byte), site id, visit id, valid-until in Unix seconds (4 bytes each,
# unsigned), then the badge number's length (1 byte) and its ASCII characters.
_HEADER = struct.Struct(">BIIIB")
MAX_BADGE_LENGTH = 16
_UINT32_MAX = 2**32 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A token is about 60 characters; anything much longer is not one, and is refused
# before any decoding work.
MAX_TOKEN_LENGTH = 512
_MAX_RAW_BYTES = _HEADER.size + MAX_BADGE_LENGTH + TAG_BYTES


@dataclass(frozen=True)
class BadgeClaim:
    """What a genuine badge token says: which visit it belongs to, and until when."""

    site_id: int
    visit_id: int
    badge_number: str
    valid_until: datetime


def make_token(
    secret: str,
    *,
    site_id: int,
    visit_id: int,
    badge_number: str,
    valid_until: datetime,
    key_id: int = KEY_ID,
) -> str:
    """Sign the token for a badge's QR code; valid_until is kept to the second."""
    _check_id("site_id", site_id)
    _check_id("visit_id", visit_id)
    _check_badge_number(badge_number)
    if not 0 < key_id <= 255:
        raise ValueError("key_id must fit in one byte and not be 0")

    if valid_until.tzinfo is None:
        raise ValueError("valid_until must be an aware datetime")

    # Rounded down, so a badge never lasts longer than it was given.
    until = (valid_until - _EPOCH) // timedelta(seconds=1)
    if not 0 <= until <= _UINT32_MAX:
        raise ValueError("valid_until is outside 1970-2106")

    badge = badge_number.encode("ascii")
    body = _HEADER.pack(key_id, site_id, visit_id, until, len(badge)) + badge
    raw = body + _tag(secret, body)
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def read_token(secret: str | Mapping[int, str], token: str) -> BadgeClaim | None:
    """The claim of a genuine, unaltered token; None for anything else, never raising.

    `secret` is the current secret (key id KEY_ID), or a mapping of key id to secret
    while a rotation is under way.
    """
    try:
        return _read(secret, token)
    except (ValueError, TypeError, struct.error, binascii.Error):
        return None


def _read(secret: str | Mapping[int, str], token: str) -> BadgeClaim | None:
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        return None

    if not token.isascii():
        return None

    raw = base64.b32decode(token + "=" * (-len(token) % 8))
    # Only the one spelling make_token writes is accepted: no lowercase, no stray
    # padding bits, so no second string ever reads as the same badge.
    if base64.b32encode(raw).decode("ascii").rstrip("=") != token:
        return None

    if not _HEADER.size + 1 + TAG_BYTES <= len(raw) <= _MAX_RAW_BYTES:
        return None

    key_id, site_id, visit_id, until, length = _HEADER.unpack_from(raw)
    if len(raw) != _HEADER.size + length + TAG_BYTES:
        return None

    keys = {KEY_ID: secret} if isinstance(secret, str) else secret
    if key_id not in keys:
        return None

    body, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(keys[key_id], body)):
        return None

    badge_number = body[_HEADER.size :].decode("ascii")
    return BadgeClaim(
        site_id=site_id,
        visit_id=visit_id,
        badge_number=badge_number,
        valid_until=datetime.fromtimestamp(until, UTC),
    )


def _tag(secret: str, body: bytes) -> bytes:
    if not secret:
        raise ValueError("a badge secret is required")

    key = hmac.new(secret.encode("utf-8"), PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, body, hashlib.sha256).digest()[:TAG_BYTES]


def _check_id(name: str, value: int) -> None:
    if not isinstance(value, int) or not 0 < value <= _UINT32_MAX:
        raise ValueError(f"{name} must be a positive 32-bit integer")


def _check_badge_number(value: str) -> None:
    if not (
        0 < len(value) <= MAX_BADGE_LENGTH
        and value.isascii()
        and value.isprintable()
        and " " not in value
    ):
        raise ValueError("a badge number is 1-16 printable ASCII characters")


class Status(enum.Enum):
    """What a guard's scan of a badge found."""

    VALID = "valid"
    EXPIRED = "expired"
    SIGNED_OUT = "signed_out"
    REVOKED = "revoked"
    FORGED = "forged"

    @property
    def label(self):
        """The English label, translated when shown inside a request."""
        return LABELS[self]

    @property
    def colour(self) -> str:
        """The colour name the console shows the verdict in."""
        return COLOURS[self]


LABELS = {
    Status.VALID: _l("Valid badge"),
    Status.EXPIRED: _l("Badge expired"),
    Status.SIGNED_OUT: _l("Visitor already signed out"),
    Status.REVOKED: _l("Badge revoked"),
    Status.FORGED: _l("Forged or unknown badge"),
}

# Red for both revoked and forged: either way the guard stops the holder.
COLOURS = {
    Status.VALID: "green",
    Status.EXPIRED: "amber",
    Status.SIGNED_OUT: "grey",
    Status.REVOKED: "red",
    Status.FORGED: "red",
}


# Why a genuine badge of a visit that is not admitted gets the verdict it gets; the
# guard reads the note under the verdict's label.
NOTES = {
    "held": _l(
        "Check-in held: the visitor matched the block list and awaits a decision."
    ),
    "denied": _l("Check-in denied: this visitor was refused entry."),
    "awaiting_id": _l(
        "Not valid yet: the photo ID has not been verified. Send the visitor to "
        "the front desk."
    ),
}


@dataclass(frozen=True)
class Verdict:
    """A scan's one answer, and for a valid badge the time it has left.

    `note` says why a genuine badge of a visit that was never admitted is not good.
    """

    status: Status
    time_left: timedelta | None = None
    note: LazyString | None = None

    @property
    def label(self):
        return self.status.label

    @property
    def colour(self) -> str:
        return self.status.colour


def verdict(claim: BadgeClaim | None, visit, *, now: datetime, site_id: int) -> Verdict:
    """Judge a scanned claim against the visit it names, at the guard's site.

    `visit` is the visit row loaded by the claim's visit id (None when there is no
    such visit); it needs id, site_id and badge_number, and may have departed_at,
    badge_revoked_at, valid_until and admission (missing: admitted). The badge is
    good until the earlier of the time signed into it and the visit's own
    valid_until when it has one: a visit can be cut short without reprinting, but
    lengthening it needs a new badge, so a photo of an old badge never outlives what
    was printed. `now` must be aware.

    When several answers apply, the first of these wins: FORGED (the claim is
    missing, names another site than the guard's, or does not match the visit's id,
    site and badge number — nothing else about the visit can be trusted then),
    REVOKED (a deliberate security action outranks the visit's ordinary end), then
    SIGNED_OUT (the visitor has left, so the badge should have been handed back),
    then EXPIRED (still on site past the time allowed). time_left is set only for a
    VALID badge.

    A badge should print only for an admitted visit, but one may exist for a visit
    that is not (a reprint raced a hold, a kiosk page printed early). Such a badge
    is genuine, so never FORGED; what it gets:

    - denied: REVOKED. The security decision refused the visitor; the denial also
      signed the visit out, but a refused person wearing a badge must be stopped,
      not treated as someone who merely left, so this outranks SIGNED_OUT.
    - held: REVOKED. A block-list match suspends the badge until someone decides;
      red, so the guard stops the holder meanwhile.
    - awaiting_id: EXPIRED. The badge's good period begins when the ID is verified,
      so before that it is outside its time, as after it: amber, the visitor goes
      back to the desk, nobody is alarmed.
    """
    if not _claim_names_visit(claim, visit, site_id):
        return Verdict(Status.FORGED)

    admission = getattr(visit, "admission", None) or "admitted"
    if getattr(visit, "badge_revoked_at", None) is not None:
        return Verdict(Status.REVOKED)

    if admission in ("denied", "held"):
        return Verdict(Status.REVOKED, note=NOTES[admission])

    if getattr(visit, "departed_at", None) is not None:
        return Verdict(Status.SIGNED_OUT)

    if admission == "awaiting_id":
        return Verdict(Status.EXPIRED, note=NOTES[admission])

    valid_until = claim.valid_until
    visit_until = getattr(visit, "valid_until", None)
    if visit_until is not None:
        valid_until = min(valid_until, visit_until)

    if now >= valid_until:
        return Verdict(Status.EXPIRED)

    return Verdict(Status.VALID, time_left=valid_until - now)


def _claim_names_visit(claim: BadgeClaim | None, visit, site_id: int) -> bool:
    if claim is None or visit is None:
        return False

    return (
        claim.site_id == site_id
        and visit.site_id == claim.site_id
        and visit.id == claim.visit_id
        and visit.badge_number == claim.badge_number
    )


def _qr(token: str, box_size: int) -> qrcode.QRCode:
    # Medium error correction survives a crease or a scuffed corner and keeps a
    # 60-character token at version 3; the 4-module quiet zone is the standard's.
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4
    )
    code.add_data(token)
    code.make(fit=True)
    return code


def qr_png(token: str, *, box_size: int = 6) -> bytes:
    """The token as a black-on-white PNG QR code, box_size pixels per module."""
    image = _qr(token, box_size).make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(token: str) -> bytes:
    """The token as a standalone SVG QR code, one path, sized in millimetres."""
    image = _qr(token, box_size=10).make_image(
        image_factory=qrcode.image.svg.SvgPathImage
    )
    return image.to_string(encoding="utf-8")


# The lengths of the tokens make_token writes: the shortest has a one-character
# badge number, the longest a badge number of MAX_BADGE_LENGTH; base32 spends eight
# characters on every five bytes.
TOKEN_MIN_LENGTH = -(-(_HEADER.size + 1 + TAG_BYTES) * 8 // 5)
TOKEN_MAX_LENGTH = -(-_MAX_RAW_BYTES * 8 // 5)
_TOKEN_SHAPE = re.compile(
    rf"[A-Z2-7]{{{TOKEN_MIN_LENGTH},{TOKEN_MAX_LENGTH}}}", re.ASCII
)


def looks_like_token(text: str) -> bool:
    """True when text has the shape of a token: a form may pass it on to read_token.

    A shape says nothing of whether the token is genuine; only read_token can.
    """
    return bool(_TOKEN_SHAPE.fullmatch(text))


# The printed badge. Its colour band changes with the weekday of the arrival in the
# site's time zone, so a guard sees across a yard that yesterday's badge is still
# being worn; the colours themselves are in static/badge/badge.css.
WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
# The label stock a site prints on; the first is the default.
SIZES = ("62x100mm", "4x3in")
TYPE_LABELS = {
    "visitor": _l("Visitor"),
    "vendor": _l("Vendor"),
    "service_provider": _l("Service provider"),
}


@dataclass(frozen=True)
class Face:
    """What one printed badge shows, ready for the badge template.

    The times are UTC; the template shows them in `timezone`, the site's zone.
    """

    visitor_name: str
    company: str
    host_name: str
    visitor_type: str
    badge_number: str
    arrived_at: datetime
    valid_until: datetime
    timezone: str
    weekday: str
    size: str
    escort_required: bool
    qr_data_uri: str
    # The signed token the QR code holds, for a renderer that draws its own code.
    token: str = ""

    @property
    def ends_another_day(self) -> bool:
        """True when the badge stops being good on a later local date than it began."""
        zone = ZoneInfo(self.timezone)
        return self.valid_until.astimezone(zone).date() != (
            self.arrived_at.astimezone(zone).date()
        )


def badge_valid_until(visit) -> datetime:
    """When a visit's badge stops being good.

    A visit recorded before badges had a validity has none of its own; its badge
    then lasts the site's badge hours from arrival.
    """
    if visit.valid_until is not None:
        return visit.valid_until

    return visit.arrived_at + timedelta(hours=visit.site.badge_valid_hours)


def token_for(secret: str, visit) -> str:
    """The token of a visit's badge; the same visit always gets the same token."""
    return make_token(
        secret,
        site_id=visit.site_id,
        visit_id=visit.id,
        badge_number=visit.badge_number,
        valid_until=badge_valid_until(visit),
    )


def face(secret: str, visit, *, type_label: str | None = None) -> Face:
    """Everything a visit's printed badge shows, its QR code included.

    `visit` is a visit row with its site loaded. The escort flag comes from the
    visitor type at check-in (CTPAT 10.2 asks that visitors should be escorted);
    visits logged before types existed have none. `type_label` is the site's own
    label of the visitor type, for a type the site added.
    """
    site = visit.site
    token = token_for(secret, visit)
    svg = qr_svg(token)
    local_arrival = visit.arrived_at.astimezone(ZoneInfo(site.timezone))
    return Face(
        visitor_name=visit.visitor_name,
        company=visit.company,
        host_name=visit.host_name,
        visitor_type=str(
            TYPE_LABELS.get(visit.visitor_type, type_label or visit.visitor_type)
        ),
        badge_number=visit.badge_number,
        arrived_at=visit.arrived_at,
        valid_until=badge_valid_until(visit),
        timezone=site.timezone,
        weekday=WEEKDAYS[local_arrival.weekday()],
        size=site.badge_size if site.badge_size in SIZES else SIZES[0],
        escort_required=bool(getattr(visit, "escort_required", False)),
        qr_data_uri="data:image/svg+xml;base64,"
        + base64.b64encode(svg).decode("ascii"),
        token=token,
    )
