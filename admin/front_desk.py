"""The front desk: the queue of check-ins waiting for it, and check-in at the desk.

At an attended site a visit waits in the queue until an employee has compared the
person with the photo ID (CTPAT 10.2); a check-in the block list held waits there
for an approve-or-deny decision, and while one does, every console page of the
front desk and security managers of its site says so.

A visitor the kiosk could not photograph (no camera, or the camera refused) is
checked in here, with photos uploaded from the desk: each is judged as the kiosk's
are, and a photo the judge refuses leaves nothing stored.
"""

import logging
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from admin.access import allow, current_site
from admin.forms import DeskCheckInForm
from admin.photos import photo_key
from gatekeeper import images, photos, screening, sites, visitor_types, visits
from gatekeeper.models import Site, Visit
from gatekeeper.web import db, read_beside, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("front_desk", __name__)

QUEUE_ROLES = ("front_desk", "security_manager")
WAITING = ("awaiting_id", "held")
QUEUE_LIMIT = 200
# The uploads of a desk check-in: the form field, the photo kind, and its name in
# the messages.
UPLOADS = (
    ("id_photo", "id", "ID photo"),
    ("id_back", "id_back", "Back of the licence"),
    ("face_photo", "face", "Face photo"),
)


def _waiting_query(site_ids):
    return select(Visit).where(
        Visit.site_id.in_(site_ids),
        Visit.admission.in_(WAITING),
        Visit.departed_at.is_(None),
    )


@bp.app_context_processor
def held_alert() -> dict:
    """How many check-ins of the account's sites are held, for the console banner."""
    if not current_user.is_authenticated or current_user.role not in QUEUE_ROLES:
        return {"held_count": 0}

    query = select(func.count(Visit.id)).where(
        Visit.site_id.in_(current_user.site_ids),
        Visit.admission == "held",
        Visit.departed_at.is_(None),
    )
    count = read_beside(lambda: db().scalar(query), 0, "the held check-ins")
    return {"held_count": count or 0}


def _waiting_visits() -> list[Visit]:
    query = (
        _waiting_query(current_user.site_ids)
        .order_by(Visit.arrived_at.desc(), Visit.id.desc())
        .limit(QUEUE_LIMIT)
    )
    return list(db().scalars(query))


@bp.get("/")
@allow(*QUEUE_ROLES)
def queue():
    """Check-ins of the account's sites waiting for the desk, newest first."""
    return render_template(
        "console/front_desk/queue.html",
        visits=_waiting_visits(),
        sites={site.id: site for site in current_user.sites},
    )


@bp.get("/queue.json")
@allow(*QUEUE_ROLES)
def queue_data():
    """The same queue for the page's script, which redraws the list from it."""
    sites_by_id = {site.id: site for site in current_user.sites}
    rows = [
        _queue_row(visit, sites_by_id[visit.site_id]) for visit in _waiting_visits()
    ]
    held = sum(1 for row in rows if row["admission"] == "held")
    return jsonify(visits=rows, held=held)


def _queue_row(visit: Visit, site: Site) -> dict:
    return {
        "id": visit.id,
        "url": url_for("visits.show", visit_id=visit.id),
        "visitor_name": visit.visitor_name,
        "company": visit.company,
        "host_name": visit.host_name,
        "site": site.name,
        "admission": visit.admission,
        # In the site's zone, as the page first drew it.
        "arrived": visit.arrived_at.astimezone(ZoneInfo(site.timezone)).strftime(
            "%H:%M"
        ),
    }


def _check_in_form(site: Site) -> DeskCheckInForm:
    form = DeskCheckInForm()
    kinds = visitor_types.for_site(db(), site.id)
    form.visitor_type.choices = {kind.code: kind.label for kind in kinds}
    form.host_id.choices = {
        host.id: host.name for host in sites.active_hosts(db(), site.id)
    }
    return form


class _Refused(Exception):
    """A desk check-in turned down; raised inside the transaction to undo it."""


@bp.route("/check-in", methods=["GET", "POST"])
@allow("front_desk")
def check_in():
    """Check a visitor in at the desk, the ID compared here and photos uploaded."""
    site = current_site()
    form = _check_in_form(site)
    if form.validate_on_submit():
        try:
            with transaction():
                visit = _record_check_in(site, form)
        except _Refused:
            # The reasons are on the form's fields already; raising undid the
            # transaction, so the page is drawn again with nothing stored.
            logger.info("a desk check-in was refused on its form")
        else:
            return _checked_in(visit)

    status = 400 if form.is_submitted() else 200
    return render_template(
        "console/front_desk/check_in.html", form=form, site=site
    ), status


def _checked_in(visit: Visit):
    if visit.admission == "held":
        flash(
            f"{visit.visitor_name} matches the block list: the check-in is held "
            "until it is approved or denied.",
            "error",
        )
    else:
        flash(f"{visit.visitor_name} is checked in; print the badge.", "ok")

    return redirect(url_for("visits.show", visit_id=visit.id))


def _record_check_in(site: Site, form: DeskCheckInForm) -> Visit:
    """Judge and keep the uploads, then record the arrival; _Refused undoes both."""
    site = db().get(Site, site.id)
    kind = visitor_types.find(db(), site.id, form.visitor_type.data)
    exemption = screening.exemption_for(
        db(), site.id, form.visitor_name.data, form.company.data
    )
    id_needed = kind is not None and kind.id_required and exemption is None
    _require_uploads(form, id_needed)
    taken, back = _keep_uploads(site, form)
    arrival = visits.Arrival(
        photos=taken,
        id_number=back.licence.document_number if back else None,
        id_document_expired=back.expired if back else None,
        verified_by=current_user.user,
    )
    try:
        return visits.check_in(
            db(),
            site=site,
            kiosk=None,
            visitor_name=form.visitor_name.data,
            company=form.company.data,
            host_id=form.host_id.data,
            visitor_type=form.visitor_type.data,
            id_type=form.id_type.data or "",
            arrival=arrival,
        )
    except visits.VisitError as error:
        form.form_errors.append(str(error))
        raise _Refused from error


def _require_uploads(form: DeskCheckInForm, id_needed: bool) -> None:
    missing = False
    if id_needed and not form.id_type.data:
        form.id_type.errors.append("Choose the type of photo ID you checked.")
        missing = True

    if id_needed and not _has_file(form.id_photo):
        form.id_photo.errors.append("Upload a photo of the ID you checked.")
        missing = True

    if not _has_file(form.face_photo):
        form.face_photo.errors.append("Upload a face photo for the badge.")
        missing = True

    if missing:
        raise _Refused


def _has_file(field) -> bool:
    return bool(field.data and getattr(field.data, "filename", ""))


def _keep_uploads(site: Site, form: DeskCheckInForm):
    """Judge each upload; keep them all, or raise _Refused with the judge's advice.

    Returns the photos kept by kind, and the capture of the back of the licence
    (its barcode read) when one was uploaded.
    """
    taken = {}
    back = None
    refused = False
    for name, kind, _label in UPLOADS:
        field = getattr(form, name)
        if not _has_file(field):
            continue

        capture = photos.judge_and_keep(
            db(),
            site=site,
            kind=kind,
            data=_read_upload(field.data),
            photo_key=photo_key(),
            uploaded_by=current_user.display_name,
        )
        if not capture.ok:
            field.errors.extend(str(advice) for advice in capture.advice)
            refused = True
            continue

        taken[kind] = photos.take_capture(
            db(), site_id=site.id, kind=kind, capture_key=capture.capture_key
        )
        if kind == "id_back":
            back = capture

    if refused:
        raise _Refused

    return taken, back


def _read_upload(storage) -> bytes:
    # One byte past the limit is enough for the judge to call the file too large,
    # without reading the rest of an oversized upload into memory.
    return storage.stream.read(images.MAX_BYTES + 1)
