"""The photos of a visit, shown to the staff who compare them with the person.

Face photos, ID images and seal photos are personal or shipment data (CTPAT 4.12):
they are decrypted only here, only for the front desk, guards and security
managers of the record's site, never cached by the browser, and every view of
each one is kept in the audit trail, apart from the read of the page that shows
it (4.5). Administrators manage accounts and kiosks and have no need to see them.
"""

import logging

from flask import Blueprint, Response, abort, current_app

from admin import records
from admin.access import allow, require_site
from gatekeeper import photos
from gatekeeper.models import PHOTO_KINDS, Photo, Visit
from gatekeeper.web import db

logger = logging.getLogger(__name__)
bp = Blueprint("photos", __name__)

VIEWERS = ("front_desk", "guard", "security_manager")


def photo_key() -> str:
    """The instance's key that seals personal images."""
    return current_app.config["SETTINGS"].PHOTO_KEY


@bp.get("/<int:visit_id>/<kind>.jpg")
@allow(*VIEWERS)
def image(visit_id: int, kind: str):
    """One photo of a visit as JPEG; its view is recorded first."""
    if kind not in PHOTO_KINDS:
        abort(404)

    visit = db().get(Visit, visit_id)
    if visit is None:
        abort(404)

    require_site(visit.site_id)
    records.require_todays(visit)
    photo = photos.photo_of(db(), visit.id, kind)
    if photo is None:
        abort(404)

    return send_image(photo, site_id=visit.site_id, target=f"visit:{visit.id}")


def send_image(photo: Photo, *, site_id: int, target: str) -> Response:
    """A stored photo as a JPEG nobody caches, for a visit's or a pickup's page.

    Each view, of whatever kind, is recorded in the audit trail before it is sent.
    """
    try:
        data = photos.image_of(photo, photo_key())
    except photos.PhotoError:
        logger.exception("photo %s of %s cannot be opened", photo.id, target)
        abort(404)

    records.record_read("photo.viewed", site_id, target, kind=photo.kind)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = "inline"
    return response
