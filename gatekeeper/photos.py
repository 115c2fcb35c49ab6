"""Encryption at rest for photos of people and their documents (CTPAT 4.12).

The key is the instance's PHOTO_KEY, a Fernet key; a sealed photo also carries the
time it was sealed and cannot be altered without open_sealed noticing.
"""

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, defer

from gatekeeper import aamva, images
from gatekeeper.db import utcnow
from gatekeeper.models import PHOTO_KINDS, Photo, Site

logger = logging.getLogger(__name__)


class PhotoError(ValueError):
    """A sealed photo that cannot be opened: wrong key, or altered since sealing."""


def seal(key: str, data: bytes) -> bytes:
    """Encrypt and authenticate a photo for storage."""
    return _fernet(key).encrypt(data)


def open_sealed(key: str, token: bytes) -> bytes:
    """The photo sealed in a token; PhotoError when the key or the token is wrong."""
    try:
        return _fernet(key).decrypt(token)
    except InvalidToken as error:
        raise PhotoError(
            "The photo cannot be opened: the key is wrong or it was altered."
        ) from error


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except ValueError as error:
        raise PhotoError("PHOTO_KEY is not a Fernet key.") from error


# Storing and reading the photos of visits.

CAPTURE_TTL = timedelta(hours=1)
# What each kind of photo must show, and the retake advice when the barcode on the
# back of a licence cannot be read.
EXPECT_FACE = {"id": True, "id_back": False, "face": True, "seal": False}
NO_BARCODE = _l(
    "We cannot read the barcode. Hold the back of the card level, "
    "filling the frame, in good light."
)


@dataclass
class Capture:
    """The server's judgement of one captured image, and where it was kept."""

    kind: str
    advice: list = field(default_factory=list)
    capture_key: str | None = None
    licence: aamva.LicenceData | None = None
    expired: bool | None = None

    @property
    def ok(self) -> bool:
        return not self.advice


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def judge_and_keep(
    session: Session,
    *,
    site: Site,
    kind: str,
    data: bytes,
    photo_key: str,
    kiosk_id: int | None = None,
    uploaded_by: str | None = None,
    today: date | None = None,
) -> Capture:
    """Judge an image and, if it is usable, keep it sealed under a new capture key.

    The back of an ID must also carry a readable AAMVA barcode; its holder's name,
    expiry and document number are kept sealed with the image.
    """
    if kind not in PHOTO_KINDS:
        raise ValueError(f"unknown photo kind {kind!r}")

    judgement = images.judge(data, expect_face=EXPECT_FACE[kind])
    result = Capture(kind=kind, advice=list(judgement.advice))
    if not judgement.ok:
        return result

    details = {
        "width": judgement.width,
        "height": judgement.height,
        "sharpness": round(judgement.sharpness or 0, 1),
        "brightness": round(judgement.brightness or 0, 1),
    }
    if kind == "id_back":
        licence = _read_licence(data)
        if licence is None:
            result.advice.append(NO_BARCODE)
            return result

        result.licence = licence
        result.expired = licence.expired(today or date.today())
        details["expired"] = result.expired
        details["licence"] = seal(photo_key, _licence_json(licence)).decode("ascii")

    key = secrets.token_urlsafe(24)
    session.add(
        Photo(
            site_id=site.id,
            kind=kind,
            capture_key_hash=_key_hash(key),
            kiosk_id=kiosk_id,
            uploaded_by=uploaded_by,
            sealed=seal(photo_key, judgement.clean_jpeg),
            details=json.dumps(details, sort_keys=True),
        )
    )
    session.flush()
    result.capture_key = key
    return result


def _read_licence(data: bytes) -> aamva.LicenceData | None:
    payload = aamva.decode_pdf417(data)
    if payload is None:
        return None

    try:
        return aamva.parse(payload)
    except aamva.AamvaError as error:
        logger.info("A PDF417 was read but is not a licence: %s", error)
        return None


def _licence_json(licence: aamva.LicenceData) -> bytes:
    return json.dumps(
        {
            "full_name": licence.full_name,
            "expiry": licence.expiry.isoformat(),
            "document_number": licence.document_number,
            "issuer": licence.issuer,
            "country": licence.country,
        },
        sort_keys=True,
    ).encode()


def licence_details(photo: Photo, photo_key: str) -> dict | None:
    """The barcode data kept with the back of an ID, or None."""
    sealed = json.loads(photo.details or "{}").get("licence")
    if not sealed:
        return None

    return json.loads(open_sealed(photo_key, sealed.encode("ascii")))


def take_capture(
    session: Session, *, site_id: int, kind: str, capture_key: str, kiosk_id=None
) -> Photo | None:
    """The unattached, unexpired capture with this key and kind, from this kiosk."""
    if not capture_key or len(capture_key) > 64:
        return None

    # Taking a capture only attaches it: the sealed image (a hundred kilobytes or
    # more) is left in the database unless someone reads it.
    photo = session.scalar(
        select(Photo)
        .where(Photo.capture_key_hash == _key_hash(capture_key))
        .options(defer(Photo.sealed))
    )
    if (
        photo is None
        or photo.visit_id is not None
        or photo.site_id != site_id
        or photo.kind != kind
        or photo.kiosk_id != kiosk_id
        or photo.created_at < utcnow() - CAPTURE_TTL
    ):
        return None

    return photo


def attach(photo: Photo, visit) -> None:
    photo.visit_id = visit.id
    # The key was the kiosk's claim on an unattached capture; attached, it is spent.
    photo.capture_key_hash = None


def photo_of(session: Session, visit_id: int, kind: str) -> Photo | None:
    """The latest photo of this kind attached to the visit."""
    return session.scalar(
        select(Photo)
        .where(Photo.visit_id == visit_id, Photo.kind == kind)
        .order_by(Photo.id.desc())
        .limit(1)
    )


def image_of(photo: Photo, photo_key: str) -> bytes:
    """The JPEG of a stored photo. Callers showing an ID image record it in audit."""
    return open_sealed(photo_key, photo.sealed)


def discard_captures(session: Session, capture_keys) -> int:
    """Delete unattached captures by key: a kiosk's reset forgets its last person."""
    hashes = [_key_hash(key) for key in capture_keys if key]
    if not hashes:
        return 0

    result = session.execute(
        delete(Photo).where(
            Photo.capture_key_hash.in_(hashes), Photo.visit_id.is_(None)
        )
    )
    return result.rowcount


def purge_stale_captures(session: Session, now: datetime | None = None) -> int:
    """Delete captures never attached to a visit or pickup within CAPTURE_TTL."""
    cutoff = (now or utcnow()) - CAPTURE_TTL
    result = session.execute(
        delete(Photo).where(
            Photo.visit_id.is_(None),
            Photo.pickup_id.is_(None),
            Photo.created_at < cutoff,
        )
    )
    return result.rowcount
