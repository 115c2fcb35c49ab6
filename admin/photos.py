"""The photos of a visit, shown to the staff who compare them with the person.

Face photos and ID images are personal data (CTPAT 4.12): they are decrypted only
here, only for the front desk, guards and security managers of the visit's site,
never cached by the browser, and every view of an ID image is kept in the audit
trail. Administrators manage accounts and kiosks and have no need to see them.
"""

import logging

from flask import Blueprint, Response, abort, current_app
from flask_login import current_user

from admin.access import allow, require_site
from gatekeeper import audit, photos
from gatekeeper.models import PHOTO_KINDS, Photo, Visit
from gatekeeper.web import client_address, db, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("photos", __name__)

VIEWERS = ("front_desk", "guard", "security_manager")
# The images of a person's identity document; the face photo is on the badge the
# person wears, so its views are not recorded one by one.
ID_KINDS = frozenset({"id", "id_back"})


def photo_key() -> str:
    """The instance's key that seals personal images."""
    return current_app.config["SETTINGS"].PHOTO_KEY


@bp.get("/<int:visit_id>/<kind>.jpg")
@allow(*VIEWERS)
def image(visit_id: int, kind: str):
    """One photo of a visit as JPEG; an ID image's view is recorded first."""
    if kind not in PHOTO_KINDS:
        abort(404)

    visit = db().get(Visit, visit_id)
    if visit is None:
        abort(404)

    require_site(visit.site_id)
    photo = photos.photo_of(db(), visit.id, kind)
    if photo is None:
        abort(404)

    return send_image(photo, site_id=visit.site_id, target=f"visit:{visit.id}")


def send_image(photo: Photo, *, site_id: int, target: str) -> Response:
    """A stored photo as a JPEG nobody caches, for a visit's or a pickup's page.

    Each view of an ID image is recorded in the audit trail before it is sent.
    """
    try:
        data = photos.image_of(photo, photo_key())
    except photos.PhotoError:
        logger.exception("photo %s of %s cannot be opened", photo.id, target)
        abort(404)

    if photo.kind in ID_KINDS:
        _record_view(site_id, target, photo.kind)

    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


def _record_view(site_id: int, target: str, kind: str) -> None:
    # A GET reads under SQLite's shared lock (gatekeeper.db): that transaction ends
    # first, so the event's own takes the write lock at once.
    db().commit()
    with transaction():
        audit.record(
            db(),
            "photo.viewed",
            actor=current_user.user,
            site_id=site_id,
            target=target,
            address=client_address(),
            kind=kind,
        )
