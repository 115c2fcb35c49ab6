"""The console's front door: where each role lands, and the site switch."""

from flask import Blueprint, abort, redirect, session, url_for
from flask_login import current_user

from admin.access import PUBLIC, SIGNED_IN, STAFF_ON_SITE, allow
from admin.forms import SiteChoiceForm
from gatekeeper.web import database_is_up

bp = Blueprint("console", __name__)


@bp.get("/")
@allow(SIGNED_IN)
def index():
    if current_user.role in STAFF_ON_SITE:
        return redirect(url_for("visits.today"))

    return redirect(url_for("users.index"))


@bp.post("/site")
@allow(SIGNED_IN)
def choose_site():
    """Switch the site the console shows, among the account's own sites."""
    form = SiteChoiceForm()
    form.site_id.choices = {site.id: site.name for site in current_user.sites}
    if not form.validate_on_submit():
        abort(400, "Choose one of your sites.")

    session["site_id"] = form.site_id.data
    return redirect(url_for("console.index"))


@bp.get("/healthz")
@allow(PUBLIC)
def healthz():
    if not database_is_up():
        return {"status": "database unavailable"}, 503

    return {"status": "ok"}
