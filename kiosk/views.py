"""The kiosk's screens: enrolment, the start screen, language, sign-out, scanning.

The check-in steps are in kiosk/check_in.py.

No route here reads the visitor or pickup log back (CTPAT 10.4: drivers may not
reach the log); a screen shows only what the person in front of it just entered.
"""

import logging

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

from gatekeeper import (
    badge_checks,
    badges,
    images,
    invitations,
    kiosks,
    photos,
    scanning,
    sites,
    visits,
)
from gatekeeper.web import (
    LANGUAGES,
    client_address,
    database_is_up,
    db,
    new_limiter,
    read_beside,
    transaction,
)
from kiosk import device
from kiosk import draft as drafts
from kiosk.forms import EnrolForm, LanguageForm, SignOutForm

logger = logging.getLogger(__name__)
bp = Blueprint("kiosk", __name__)
limiter = new_limiter()


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
    """The first screen: choose a language, then what to do.

    Whatever the last person left is forgotten here: the check-in they did not
    finish and its pictures, or the visit they finished.
    """
    keys = drafts.capture_keys(drafts.current())
    if keys:
        # A GET reads under SQLite's shared lock (gatekeeper.db): that transaction
        # ends first, so the deletion takes the write lock at once.
        db().commit()
        with transaction():
            photos.discard_captures(db(), keys)

    drafts.clear()
    return render_template("kiosk/start.html", form=LanguageForm())


def offered_languages() -> list[str]:
    """The languages this kiosk offers: its site's, the default first."""
    kiosk = g.get("kiosk")
    if kiosk is None:
        return list(LANGUAGES)

    languages = read_beside(
        lambda: kiosk.site.languages, ",".join(LANGUAGES), "the kiosk's languages"
    )
    return [code.strip() for code in languages.split(",")]


@bp.post("/language")
def language():
    """Choose one of the languages the kiosk's site offers; any other is ignored."""
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in offered_languages():
        session["lang"] = form.lang.data

    return redirect(url_for("kiosk.start"))


@bp.post("/reset")
def reset():
    """Forget this screen's session: the idle timer and the Done button come here.

    The pictures of a check-in left unfinished are deleted with it, and so are any
    that other kiosks left behind longer ago than a capture lasts.
    """
    with transaction():
        photos.discard_captures(db(), drafts.capture_keys(drafts.current()))
        photos.purge_stale_captures(db())

    session.clear()
    return redirect(url_for("kiosk.start"))


@bp.get("/hosts")
@limiter.limit("120 per minute")
def hosts():
    """The host step's search as you type: the kiosk's own site's hosts that match.

    A host's name and department only; the directory's email addresses stay in the
    console.
    """
    query = request.args.get("q", "")
    found = sites.search_hosts(db(), g.kiosk.site_id, query)
    return [
        {"id": host.id, "name": host.name, "department": host.department}
        for host in found
    ]


@bp.post("/scan")
@limiter.limit("240 per minute")
def scan():
    """Read the QR code in one camera frame: a badge at sign-out, an invitation.

    The page posts a frame every few hundred milliseconds while its camera is on,
    and fills its field with what comes back. Only text shaped like a badge token
    or an invitation code is returned; the frame itself is not kept.
    """
    frame = request.files.get("frame")
    if frame is None:
        return {"text": None}, 400

    text = scanning.decode_qr(frame.read(images.MAX_BYTES + 1))
    if text is None or not _ours(text):
        return {"text": None}

    return {"text": text}


def _ours(text: str) -> bool:
    if badges.looks_like_token(text):
        return True

    return invitations.looks_like_code(text)


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
