"""Visitor badges in the console: a guard's check, a reprint, a revocation (CTPAT 10.2).

The check is made for a phone held at the gate: one field that a USB barcode
scanner types the badge's code into, and one large verdict. Reading the code with
the phone's own camera is not built; the field takes a scanner or typing only.
"""

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from admin.access import allow, current_site, require_site
from admin.forms import ActionForm
from gatekeeper import audit, badge_checks, badges, visits
from gatekeeper.models import Visit
from gatekeeper.web import client_address, db, transaction

bp = Blueprint("badges", __name__)

MANAGE = ("front_desk", "security_manager")
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
@allow("guard", "front_desk", "security_manager")
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
    return render_template(
        "console/badges/check.html",
        form=form,
        message=message,
        result=result,
        site=site,
        headline=HEADLINES[verdict.status] if verdict else None,
        time_left=_duration(verdict.time_left) if verdict else None,
        # Visits do not record an escort requirement yet; see badges.face.
        escort_required=bool(getattr(visit, "escort_required", False)),
        can_manage=current_user.role in MANAGE,
        action_form=ActionForm(),
    )


def _duration(left: timedelta | None) -> str | None:
    """A time left as hours and minutes, rounded down: never more than there is."""
    if left is None:
        return None

    minutes = int(left.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@bp.get("/<int:visit_id>")
@allow(*MANAGE)
def reprint(visit_id: int):
    """The badge of a visit on site, to print again; each reprint is audited."""
    visit = _visit_or_404(visit_id)
    if visit.departed_at or visit.badge_revoked_at:
        flash(
            f"{visit.visitor_name}'s badge is no longer in use "
            "(signed out or revoked); it cannot be reprinted.",
            "error",
        )
        return redirect(url_for("badges.check"))

    # A reprint puts a second copy of a valid badge into the world, so it is kept
    # in the audit trail. A GET reads under SQLite's shared lock (gatekeeper.db):
    # that transaction ends first, so the event's own takes the write lock at once.
    db().commit()
    with transaction():
        audit.record(
            db(),
            "badge.reprinted",
            actor=current_user.user,
            site_id=visit.site_id,
            target=f"visit:{visit.id}",
            address=client_address(),
        )

    return render_template(
        "badge/badge.html",
        face=badges.face(_secret(), visit),
        script="console/print-badge.js",
        back_url=url_for("badges.check"),
    )


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
