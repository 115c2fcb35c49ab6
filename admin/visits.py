"""Today's visitor log for the front desk and guards (CTPAT 10.2).

Visits still open after their expected end are shown as overdue and first; they
stay open until someone signs the visitor out or closes the visit with a reason.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from admin.access import allow, current_site, require_site
from admin.forms import ActionForm, CloseVisitForm, VerifyIdForm
from gatekeeper import visits
from gatekeeper.db import utcnow
from gatekeeper.models import ID_TYPES, VISITOR_TYPES, Visit
from gatekeeper.web import db, transaction

bp = Blueprint("visits", __name__)


@bp.get("/today")
@allow("front_desk", "guard", "security_manager")
def today():
    """The visits of the site's day with the six fields 10.2 asks the log to hold,
    the overdue ones first, from whatever day they began."""
    site = current_site()
    now = utcnow()
    overdue = visits.overdue_visits(db(), site, now)
    flagged = {visit.id for visit in overdue}
    others = [v for v in visits.todays_visits(db(), site) if v.id not in flagged]
    shown = overdue + others
    return render_template(
        "console/visits/today.html",
        site=site,
        visits=shown,
        overdue_ids=flagged,
        closings=visits.closings(db(), site.id, [visit.id for visit in shown]),
        verify_form=VerifyIdForm(),
        action_form=ActionForm(),
        close_form=CloseVisitForm(),
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


@bp.post("/<int:visit_id>/close")
@allow("front_desk", "guard", "security_manager")
def close(visit_id: int):
    """Close the visit of someone who left without signing out, with the reason."""
    visit = _visit_or_404(visit_id)
    form = CloseVisitForm()
    if not form.validate_on_submit():
        abort(400)

    try:
        with transaction():
            visits.close_visit(
                db(), visit, reason=form.reason.data, actor=current_user.user
            )
    except visits.VisitError as error:
        flash(f"The visit of {visit.visitor_name} was not closed. {error}", "error")
    else:
        flash(f"The visit of {visit.visitor_name} is closed.", "ok")

    return redirect(url_for("visits.today"))
