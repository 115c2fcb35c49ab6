"""The log's integrity in the console: the red banner, a full verification on
demand, and the security manager's resolution of an incident (CTPAT 4.5, 7.23).

gatekeeper.integrity keeps each site's last full verification; this module shows
it, runs one when asked, and closes an incident once the log verifies again and a
security manager has said what was done.
"""

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, TextAreaField

from admin.access import allow, current_site
from gatekeeper import integrity
from gatekeeper.models import AuditEvent, Site
from gatekeeper.web import client_address, db, read_beside, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("integrity", __name__)

MANAGER = "security_manager"
# Who sees the banner and the page: those who answer for the log and its system.
WATCHERS = ("security_manager", "administrator")
RECENT_RESOLUTIONS = 10


class SiteActionForm(FlaskForm):
    """A button acting on one of the account's sites."""

    site_id = HiddenField()


class ResolutionForm(SiteActionForm):
    note = TextAreaField("What was found, and what was done about it")


@bp.app_context_processor
def integrity_alert() -> dict:
    """The account's sites whose log failed verification, for the red banner."""
    if not current_user.is_authenticated or current_user.role not in WATCHERS:
        return {"integrity_alerts": []}

    found = read_beside(
        lambda: integrity.alerts(db(), current_user.site_ids),
        [],
        "the log's integrity",
    )
    return {"integrity_alerts": found}


def _chosen_site() -> Site:
    """The site named by the request, one of the account's own, or the current one."""
    site_id = request.values.get("site_id", type=int)
    if site_id is None:
        return current_site()

    for site in current_user.sites:
        if site.id == site_id:
            return site

    abort(404)


def _page(site: Site, form: ResolutionForm | None = None, status: int = 200):
    check = integrity.incident(db(), site.id)
    resolutions = db().scalars(
        select(AuditEvent)
        .where(
            AuditEvent.site_id == site.id,
            AuditEvent.action == "integrity.resolved",
        )
        .order_by(AuditEvent.id.desc())
        .limit(RECENT_RESOLUTIONS)
    )
    return render_template(
        "console/integrity/index.html",
        site=site,
        check=check,
        unverified_problem=integrity.quick_check(db(), site.id, check),
        resolutions=list(resolutions),
        verify_form=SiteActionForm(formdata=None, site_id=site.id),
        form=form or ResolutionForm(formdata=None, site_id=site.id),
        can_resolve=current_user.role == MANAGER,
    ), status


def _verify_in_full(site: Site):
    """A full verification of the site's log, read in a session of its own."""
    # On SQLite this request's transaction holds the write lock, which every kiosk
    # would wait on while the whole log is read; it has written nothing yet.
    db().commit()
    sessions = current_app.extensions["gatekeeper.sessions"]
    return integrity.verify(sessions, [site.id])


@bp.get("/")
@allow(*WATCHERS)
def index():
    """A site's last full verification, any open incident, and its resolutions."""
    return _page(_chosen_site())


@bp.post("/verify")
@allow(*WATCHERS)
def verify():
    """Verify the site's whole log now and keep the result."""
    if not SiteActionForm().validate_on_submit():
        abort(400)

    site = _chosen_site()
    [report] = _verify_in_full(site)
    with transaction():
        integrity.record(db(), report)

    if report.ok:
        flash(
            f"The log of {site.name} verified: {report.entries} entries, "
            f"head {report.head_seq}.",
            "ok",
        )
    else:
        flash(f"The log of {site.name} failed verification.", "error")

    return redirect(url_for("integrity.index", site_id=site.id))


@bp.post("/resolve")
@allow(MANAGER)
def resolve():
    """Close the site's incident: the log must verify now, and the note is kept."""
    form = ResolutionForm()
    site = _chosen_site()
    if not form.validate_on_submit():
        abort(400)

    [report] = _verify_in_full(site)
    try:
        with transaction():
            integrity.resolve(
                db(),
                report,
                note=form.note.data,
                actor=current_user.user,
                address=client_address(),
            )
    except integrity.ResolutionError as error:
        form.note.errors.append(str(error))
        return _page(site, form, 400)

    flash(f"The integrity incident of {site.name} is resolved.", "ok")
    return redirect(url_for("integrity.index", site_id=site.id))
