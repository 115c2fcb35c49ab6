"""Visitor badges in the console: a guard's check, a reprint, a PDF, a revocation.

The check is made for a phone held at the gate (CTPAT 10.2): a USB barcode scanner
types the badge's code into one field, or the phone's camera reads it (frames are
posted to `scan`, which decodes them on the server), and one large verdict answers.
At a self-service site the first check of a badge whose ID was only captured at the
kiosk shows that ID, and asks the guard to confirm it is the person's.
"""

import logging
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from admin.access import allow, current_site, limiter, require_site
from admin.forms import ActionForm
from admin.photos import photo_key
from gatekeeper import (
    audit,
    badge_checks,
    badge_pdf,
    badges,
    images,
    photos,
    scanning,
    visitor_types,
    visits,
)
from gatekeeper.models import Visit
from gatekeeper.web import client_address, db, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("badges", __name__)

MANAGE = ("front_desk", "security_manager")
CHECKERS = ("guard", "front_desk", "security_manager")
# What the verdict shows in large letters; the label under it says it in words.
HEADLINES = {
    badges.Status.VALID: "VALID",
    badges.Status.EXPIRED: "EXPIRED",
    badges.Status.SIGNED_OUT: "SIGNED OUT",
    badges.Status.REVOKED: "REVOKED",
    badges.Status.FORGED: "FORGED",
}


class BadgeCheckForm(FlaskForm):
    # No validators: anything typed or scanned is judged, and whatever does not
    # read as a genuine token of this site is a forged badge, not a form error.
    code = StringField(
        "Badge code",
        render_kw={
            "autofocus": True,
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "enterkeyhint": "go",
        },
    )


def _visit_or_404(visit_id: int) -> Visit:
    visit = db().get(Visit, visit_id)
    if visit is None:
        abort(404)

    require_site(visit.site_id)
    return visit


def _secret() -> str:
    # The kiosk signs badges with its SECRET_KEY and the console reads them with its
    # own, so both apps must run with the same key (they share the instance folder).
    return current_app.config["SECRET_KEY"]


@bp.route("/check", methods=["GET", "POST"])
@allow(*CHECKERS)
def check():
    """Check a visitor's badge by its scanned code and show one verdict."""
    form = BadgeCheckForm()
    if not form.validate_on_submit():
        return _check_page(form)

    code = (form.code.data or "").strip()
    form.code.data = ""
    if not code:
        return _check_page(form, message="Scan the code on the badge first.")

    if code.isascii() and code.isdigit() and len(code) == 6:
        return _check_page(
            form,
            message="That is a badge number. A number alone cannot show that a "
            "badge is genuine: scan the code on the badge.",
        )

    site = current_site()
    with transaction():
        result = badge_checks.check(
            db(),
            site_id=site.id,
            token=code,
            secret=_secret(),
            checked_by=current_user.username,
        )

    return _check_page(form, result=result, site=site)


def _check_page(form, *, message=None, result=None, site=None):
    verdict = result.verdict if result else None
    visit = result.visit if result else None
    has_face = visit is not None and _has_photo(visit, "face")
    return render_template(
        "console/badges/check.html",
        form=form,
        message=message,
        result=result,
        site=site,
        headline=HEADLINES[verdict.status] if verdict else None,
        time_left=_duration(verdict.time_left) if verdict else None,
        has_face=has_face,
        confirm_id=_needs_guard_confirmation(verdict, visit),
        type_label=_type_label(visit) if visit else None,
        can_manage=current_user.role in MANAGE,
        action_form=ActionForm(),
    )


def _has_photo(visit: Visit, kind: str) -> bool:
    return photos.photo_of(db(), visit.id, kind) is not None


def _needs_guard_confirmation(verdict, visit) -> bool:
    """True at the first check of a valid badge whose ID was only captured.

    That is the self-service case: the kiosk kept the ID images and admitted the
    visitor, and the guard's first scan is where a person compares them (10.2).
    """
    return (
        verdict is not None
        and verdict.status is badges.Status.VALID
        and visit.id_status == "captured"
        and _has_photo(visit, "id")
    )


def _type_label(visit: Visit) -> str:
    kind = visitor_types.find(db(), visit.site_id, visit.visitor_type)
    return kind.label if kind else visit.visitor_type


def _duration(left: timedelta | None) -> str | None:
    """A time left as hours and minutes, rounded down: never more than there is."""
    if left is None:
        return None

    minutes = int(left.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@bp.post("/scan")
@allow(*CHECKERS)
@limiter.limit("300 per minute", key_func=lambda: f"scan:{current_user.id}")
def scan():
    """Read the QR code in one camera frame posted by the check page's script.

    The answer is only the text read, or null: the script then submits it to the
    check like a scanner would, so every verdict is still given and kept there.
    """
    if request.content_length and request.content_length > images.MAX_BYTES:
        return jsonify(code=None, error="The picture is too large."), 413

    return jsonify(code=scanning.decode_qr(request.get_data(cache=False)))


@bp.post("/<int:visit_id>/confirm-id")
@allow(*CHECKERS)
def confirm_id(visit_id: int):
    """The guard compared the person with the ID captured at a self-service kiosk."""
    visit = _visit_or_404(visit_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    # Only the self-service case is the guard's: a visit admitted with its ID
    # captured. One awaiting the front desk's check stays the front desk's.
    if visit.admission != "admitted" or visit.id_status != "captured":
        flash(
            f"The ID of {visit.visitor_name} is not waiting for a guard's check.",
            "error",
        )
        return redirect(url_for("badges.check"))

    try:
        with transaction():
            visits.verify_id(db(), visit, visit.id_type, actor=current_user.user)
    except visits.VisitError as error:
        flash(f"The ID was not confirmed. {error}", "error")
    else:
        flash(
            f"Photo ID of {visit.visitor_name} confirmed and recorded as verified.",
            "ok",
        )

    return redirect(url_for("badges.check"))


def _printable_or_redirect(visit: Visit):
    """None when the visit's badge may be printed; else where to send the desk."""
    if visit.departed_at or visit.badge_revoked_at:
        flash(
            f"{visit.visitor_name}'s badge is no longer in use "
            "(signed out or revoked); it cannot be reprinted.",
            "error",
        )
        return redirect(url_for("badges.check"))

    # A badge prints only once the visit is admitted: at an attended site after the
    # ID is verified, and never while a block-list hold waits (CTPAT 10.2).
    if visit.admission != "admitted":
        flash(
            f"{visit.visitor_name} is not admitted yet; the badge prints once the "
            "ID is verified and any hold is approved.",
            "error",
        )
        return redirect(url_for("visits.show", visit_id=visit.id))

    return None


def _record_copy(visit: Visit, action: str) -> None:
    # A copy puts a second valid badge into the world, so it is kept in the audit
    # trail. A GET reads under SQLite's shared lock (gatekeeper.db): that
    # transaction ends first, so the event's own takes the write lock at once.
    db().commit()
    with transaction():
        audit.record(
            db(),
            action,
            actor=current_user.user,
            site_id=visit.site_id,
            target=f"visit:{visit.id}",
            address=client_address(),
        )


@bp.get("/<int:visit_id>")
@allow(*MANAGE)
def reprint(visit_id: int):
    """The badge of a visit on site, to print again; each reprint is audited."""
    visit = _visit_or_404(visit_id)
    refused = _printable_or_redirect(visit)
    if refused is not None:
        return refused

    has_face = _has_photo(visit, "face")
    _record_copy(visit, "badge.reprinted")
    return render_template(
        "badge/badge.html",
        face=badges.face(_secret(), visit, type_label=_type_label(visit)),
        photo_url=url_for("photos.image", visit_id=visit.id, kind="face")
        if has_face
        else None,
        script="console/print-badge.js",
        back_url=url_for("visits.show", visit_id=visit.id),
    )


@bp.get("/<int:visit_id>/badge.pdf")
@allow(*MANAGE)
def pdf(visit_id: int):
    """The same badge as a PDF of the label's size, made here; audited as a copy."""
    visit = _visit_or_404(visit_id)
    refused = _printable_or_redirect(visit)
    if refused is not None:
        return refused

    face = badges.face(_secret(), visit, type_label=_type_label(visit))
    document = badge_pdf.badge_pdf(face, photo_jpeg=_face_jpeg(visit))
    _record_copy(visit, "badge.downloaded")
    response = Response(document, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="badge-{visit.badge_number}.pdf"'
    )
    return response


def _face_jpeg(visit: Visit) -> bytes | None:
    photo = photos.photo_of(db(), visit.id, "face")
    if photo is None:
        return None

    try:
        return photos.image_of(photo, photo_key())
    except photos.PhotoError:
        logger.exception("the face photo of visit %s cannot be opened", visit.id)
        return None


@bp.post("/<int:visit_id>/revoke")
@allow(*MANAGE)
def revoke(visit_id: int):
    """Revoke a visit's badge, e.g. one lost or not handed back."""
    visit = _visit_or_404(visit_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    try:
        with transaction():
            badge_checks.revoke(db(), visit, actor=current_user.user)
    except visits.VisitError as error:
        flash(str(error), "error")
    else:
        flash(
            f"Badge {visit.badge_number} of {visit.visitor_name} is revoked; "
            "every check of it now says REVOKED.",
            "ok",
        )

    return redirect(url_for("badges.check"))
