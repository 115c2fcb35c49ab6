"""The kiosk's screens: enrolment, language, check-in and sign-out.

No route here reads the visitor or pickup log back (CTPAT 10.4: drivers may not
reach the log); a screen shows only what the person in front of it just entered.
"""

import logging
import secrets

from flask import (
    Blueprint,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from gatekeeper import badge_checks, badges, kiosks, sites, visits
from gatekeeper.models import Visit
from gatekeeper.web import (
    LANGUAGES,
    client_address,
    database_is_up,
    db,
    new_limiter,
    transaction,
)
from kiosk import device
from kiosk.forms import CheckInForm, EnrolForm, LanguageForm, SignOutForm

logger = logging.getLogger(__name__)
bp = Blueprint("kiosk", __name__)
limiter = new_limiter()

VISITOR_TYPE_LABELS = {
    "visitor": _l("Visitor"),
    "vendor": _l("Vendor or supplier"),
    "service_provider": _l("Service provider or contractor"),
}
ID_TYPE_LABELS = {
    "drivers_licence": _l("Driver's licence"),
    "passport": _l("Passport"),
    "national_id": _l("National ID card"),
    "other_government": _l("Other government photo ID"),
}


@bp.get("/healthz")
def healthz():
    """Answer the load balancer: 200 while the database answers."""
    if not database_is_up():
        return {"status": "database unavailable"}, 503

    return {"status": "ok"}


@bp.route("/enrol", methods=["GET", "POST"])
@limiter.limit("10 per 10 minutes", methods=["POST"])
def enrol():
    """Bind this browser to a kiosk with the one-time code from the console."""
    if g.kiosk is not None:
        return redirect(url_for("kiosk.start"))

    form = EnrolForm()
    if not form.is_submitted():
        # An installer may open the link the console or `kiosk demo` prints, with the
        # code in it; it still takes a tap on Enrol, so the form keeps its CSRF check.
        form.code.data = request.args.get("code", "")[:32]

    revoked = device.COOKIE in request.cookies
    if form.validate_on_submit():
        try:
            with transaction():
                kiosk, token = kiosks.enrol(
                    db(), form.code.data, address=client_address()
                )
        except kiosks.EnrolmentError as error:
            form.code.errors.append(str(error))
        else:
            logger.info("kiosk %s enrolled from %s", kiosk.id, client_address())
            response = make_response(redirect(url_for("kiosk.start")))
            device.bind(response, kiosk.id, token)
            return response

    return render_template("kiosk/enrol.html", form=form, revoked=revoked)


@bp.get("/")
def start():
    """The first screen: choose a language, then what to do."""
    session.pop("done_badge", None)
    return render_template("kiosk/start.html", form=LanguageForm())


@bp.post("/language")
def language():
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in LANGUAGES:
        session["lang"] = form.lang.data

    return redirect(url_for("kiosk.start"))


@bp.post("/reset")
def reset():
    """Forget this screen's session: the idle timer and the Done button come here."""
    session.clear()
    return redirect(url_for("kiosk.start"))


def _check_in_form() -> CheckInForm:
    form = CheckInForm()
    form.visitor_type.choices = {k: str(v) for k, v in VISITOR_TYPE_LABELS.items()}
    form.id_type.choices = {k: str(v) for k, v in ID_TYPE_LABELS.items()}
    hosts = sites.active_hosts(db(), g.kiosk.site_id)
    form.host_id.choices = {0: _("Choose a person")} | {
        host.id: host.name for host in hosts
    }
    if not form.submission_key.data:
        form.submission_key.data = secrets.token_urlsafe(24)

    return form


@bp.get("/hosts")
@limiter.limit("120 per minute")
def hosts():
    """The check-in page's search as you type: the kiosk's own site's hosts that match.

    A host's name and department only; the directory's email addresses stay in the
    console.
    """
    query = request.args.get("q", "")
    found = sites.search_hosts(db(), g.kiosk.site_id, query)
    return [
        {"id": host.id, "name": host.name, "department": host.department}
        for host in found
    ]


@bp.route("/check-in", methods=["GET", "POST"])
def check_in():
    """A visitor's arrival: who they are, whom they visit, the ID they show."""
    form = _check_in_form()
    if form.validate_on_submit():
        if form.host_id.data == 0:
            form.host_id.errors.append(_("Choose your point of contact."))
        else:
            visit = _record_check_in(form)
            if visit is not None:
                session["done_badge"] = visit.badge_number
                return redirect(url_for("kiosk.check_in_done"))

    return render_template("kiosk/check_in.html", form=form)


def _record_check_in(form: CheckInForm):
    kiosk = g.kiosk
    try:
        with transaction():
            return visits.check_in(
                db(),
                site=kiosk.site,
                kiosk=kiosk,
                visitor_name=form.visitor_name.data,
                company=form.company.data,
                host_id=form.host_id.data,
                visitor_type=form.visitor_type.data,
                id_type=form.id_type.data,
                submission_key=form.submission_key.data,
            )
    except visits.VisitError as error:
        form.form_errors.append(str(error))
    except IntegrityError as error:
        if not visits.is_duplicate_submission(error):
            raise

        # The same form arrived twice at once; the first one made the visit.
        return visits.find_by_submission(db(), form.submission_key.data)

    return None


@bp.get("/check-in/done")
def check_in_done():
    badge = session.get("done_badge")
    if badge is None:
        return redirect(url_for("kiosk.start"))

    return render_template("kiosk/check_in_done.html", badge=badge)


@bp.get("/check-in/badge")
def check_in_badge():
    """The badge of the visit this screen just recorded, which prints itself.

    The visit is found from this session's badge number only, never from the
    address, so a kiosk cannot be made to print anybody else's badge. While the
    "checked in" screen lasts the visitor may print again, e.g. after a label jam;
    the count of prints is not limited or recorded.
    """
    visit = _just_checked_in()
    if visit is None:
        return redirect(url_for("kiosk.start"))

    return render_template(
        "badge/badge.html",
        face=badges.face(current_app.config["SECRET_KEY"], visit),
        script="kiosk/print-badge.js",
        back_url=url_for("kiosk.check_in_done"),
    )


def _just_checked_in() -> Visit | None:
    badge = session.get("done_badge")
    if badge is None:
        return None

    visit = badge_checks.visit_by_badge_number(db(), g.kiosk.site_id, badge)
    if visit is None or visit.departed_at or visit.badge_revoked_at:
        return None

    return visit


@bp.route("/sign-out", methods=["GET", "POST"])
@limiter.limit("30 per 10 minutes", methods=["POST"])
def sign_out():
    """Sign a visitor out by badge number or by the scanned badge (CTPAT 10.2)."""
    form = SignOutForm()
    if form.validate_on_submit():
        try:
            with transaction():
                _record_sign_out(form.badge_number.data)
        except visits.VisitError as error:
            form.badge_number.errors.append(str(error))
        else:
            return render_template("kiosk/signed_out.html")

    return render_template("kiosk/sign_out.html", form=form)


def _record_sign_out(entered: str) -> None:
    if badges.looks_like_token(entered):
        badge_checks.sign_out_by_token(
            db(),
            site_id=g.kiosk.site_id,
            token=entered,
            secret=current_app.config["SECRET_KEY"],
            actor=g.kiosk,
        )
    else:
        visits.sign_out(
            db(), site_id=g.kiosk.site_id, badge_number=entered, actor=g.kiosk
        )
