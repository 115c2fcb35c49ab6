"""Today's visitor log for the front desk and guards (CTPAT 10.2)."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from admin.access import allow, current_site, require_site
from admin.forms import ActionForm, VerifyIdForm
from gatekeeper import visits
from gatekeeper.models import ID_TYPES, VISITOR_TYPES, Visit
from gatekeeper.web import db, transaction

bp = Blueprint("visits", __name__)


@bp.get("/today")
@allow("front_desk", "guard", "security_manager")
def today():
    """The visits of the site's day with the six fields 10.2 asks the log to hold."""
    site = current_site()
    return render_template(
        "console/visits/today.html",
        site=site,
        visits=visits.todays_visits(db(), site),
        verify_form=VerifyIdForm(),
        action_form=ActionForm(),
        id_types=ID_TYPES,
        visitor_types=VISITOR_TYPES,
    )


def _visit_or_404(visit_id: int) -> Visit:
    visit = db().get(Visit, visit_id)
    if visit is None:
        abort(404)

    require_site(visit.site_id)
    return visit


@bp.post("/<int:visit_id>/verify-id")
@allow("front_desk", "security_manager")
def verify_id(visit_id: int):
    """Record that this employee compared the visitor with their photo ID."""
    visit = _visit_or_404(visit_id)
    form = VerifyIdForm()
    if not form.validate_on_submit():
        flash("Choose the type of photo ID you checked.", "error")
        return redirect(url_for("visits.today"))

    try:
        with transaction():
            visits.verify_id(db(), visit, form.id_type.data, actor=current_user.user)
    except visits.VisitError as error:
        flash(str(error), "error")
    else:
        flash(f"ID verified for {visit.visitor_name}.", "ok")

    return redirect(url_for("visits.today"))


@bp.post("/<int:visit_id>/sign-out")
@allow("front_desk", "guard", "security_manager")
def sign_out(visit_id: int):
    """Sign a visitor out from the console, e.g. one who left without the kiosk."""
    visit = _visit_or_404(visit_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)

    try:
        with transaction():
            visits.sign_out(
                db(),
                site_id=visit.site_id,
                badge_number=visit.badge_number,
                actor=current_user.user,
            )
    except visits.VisitError as error:
        flash(str(error), "error")
    else:
        flash(f"{visit.visitor_name} signed out.", "ok")

    return redirect(url_for("visits.today"))
