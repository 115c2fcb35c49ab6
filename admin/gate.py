"""The gate: drivers waiting to be registered, drivers on site, and their departure.

A driver's arrival at the kiosk only puts them in this queue. A guard or clerk
compares the ID photo with the person, records which photo ID was checked (a
government one, or the carrier's where a government one is not feasible, CTPAT
10.3), corrects what the driver typed, decides on any difference from the
appointment, and registers the driver: only then are they on site (10.4). A
driver who never touched the kiosk is registered here in one step.

At departure the guard enters the seal number twice (or scans it), confirms each
VVTT step and reads the trailer number again (6.7, 7.30). A seal that differs from
the shipment's blocks the departure and opens a case for a security manager. The
gate pass then prints with the seal number on it.

The pages are made for a guard's phone (390 × 844) as much as for a desk.
"""

import logging
import secrets
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
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, Optional

from admin.access import allow, current_site, limiter, require_site
from admin.photos import send_image
from gatekeeper import cases, gate_pass, images, photos, pickups, seals
from gatekeeper.db import utcnow
from gatekeeper.models import Photo, Pickup, Site
from gatekeeper.web import client_address, db, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("gate", __name__)

GATE = ("front_desk", "guard", "security_manager")
MANAGER = "security_manager"
# Who may open the pickup log and the cases from a gate page's links.
LOG_READERS = ("guard", "security_manager")
RECENT_DEPARTURES = timedelta(hours=12)
CASE_KINDS = {
    "seal_tampered": cases.KINDS["seal_tampered"],
    "other": cases.KINDS["other"],
}


class DriverFields(FlaskForm):
    """What the driver typed at the kiosk, for the employee to correct."""

    reference = StringField("Pickup reference (load or BOL number)")
    driver_name = StringField("Driver's name")
    carrier = StringField("Carrier (the driver's employer)")
    truck_number = StringField("Truck number")
    trailer_number = StringField("Trailer number")


class RegisterForm(DriverFields):
    id_type = RadioField(
        "Photo ID you checked",
        choices=dict(pickups.ID_LABELS),
        validators=[InputRequired("Choose the photo ID you checked.")],
    )
    fallback_reason = StringField(
        "Why a government photo ID was not feasible (carrier ID only)"
    )
    decision = StringField("Your decision on the differences")


class WalkUpForm(RegisterForm):
    # One key per filled-in form: a second press of the button, or a reload that
    # posts again, finds the pickup the first one made instead of a second one.
    submission_key = HiddenField(validators=[Optional(), Length(max=64)])


class DepartForm(FlaskForm):
    seal_number = StringField("Seal number on the trailer")
    seal_confirmation = StringField("Seal number again")
    trailer_number = StringField("Trailer number, read again from the trailer")
    view = BooleanField(seals.VVTT_STEPS["view"])
    verify = BooleanField(seals.VVTT_STEPS["verify"])
    tug = BooleanField(seals.VVTT_STEPS["tug"])
    twist = BooleanField(seals.VVTT_STEPS["twist"])
    seal_photo = FileField("Photo of the seal (optional)")


class ReasonForm(FlaskForm):
    reason = StringField("Reason")


class ReportForm(FlaskForm):
    kind = SelectField("What was found", choices=dict(CASE_KINDS))
    summary = StringField("What happened")
    notified = StringField("Who was told (optional)")


class RulesForm(FlaskForm):
    walk_in_pickups = BooleanField("Accept pickups without an appointment")
    appointment_window_minutes = IntegerField(
        "Appointment window (minutes either side of the expected time)",
        validators=[InputRequired("Enter the window in minutes.")],
    )
    driver_overdue_hours = IntegerField(
        "Flag a driver on site after (hours)",
        validators=[InputRequired("Enter the hours.")],
    )
    seal_pattern = StringField("Seal number pattern (a regular expression)")


class _Refused(Exception):
    """A departure turned down before the domain saw it; undoes the transaction."""


def _pickup_or_404(pickup_id: int) -> Pickup:
    pickup = db().get(Pickup, pickup_id)
    if pickup is None:
        abort(404)

    require_site(pickup.site_id)
    return pickup


def photo_key() -> str:
    return current_app.config["SETTINGS"].PHOTO_KEY


@bp.get("/")
@allow(*GATE)
def queue():
    """Drivers waiting to be registered, drivers on site, and recent departures."""
    site = current_site()
    now = utcnow()
    waiting = pickups.gate_queue(db(), site.id)
    on_site = pickups.on_site(db(), site.id)
    return render_template(
        "console/gate/queue.html",
        site=site,
        waiting=waiting,
        differences={p.id: pickups.differences(db(), p) for p in waiting},
        on_site=on_site,
        overdue={p.id for p in on_site if pickups.is_overdue(p, now)},
        blocked={
            p.id: case
            for p in on_site
            if (case := pickups.waiting_seal_decision(db(), p.id)) is not None
        },
        departed=pickups.departed_since(db(), site.id, now - RECENT_DEPARTURES),
        can_read_log=current_user.role in LOG_READERS,
    )


# Registration


@bp.route("/<int:pickup_id>/register", methods=["GET", "POST"])
@allow(*GATE)
def register(pickup_id: int):
    """Compare the driver with the ID, correct what they typed, and register them."""
    pickup = _pickup_or_404(pickup_id)
    if pickup.status != "arrived":
        flash(f"{pickup.driver_name} is not waiting to be registered.", "error")
        return redirect(url_for("gate.queue"))

    # The ID type the driver named at the kiosk is shown, not chosen for the
    # employee: what they record is what they checked themselves (10.3).
    form = RegisterForm(**{name: getattr(pickup, name) for name in pickups.CORRECTABLE})
    shown = pickups.differences(db(), pickup)
    if form.validate_on_submit():
        try:
            with transaction():
                pickups.register(
                    db(),
                    pickup,
                    actor=current_user.user,
                    id_type=form.id_type.data,
                    fallback_reason=form.fallback_reason.data or "",
                    corrections=_corrections(pickup, form),
                    decision=form.decision.data or "",
                )
        except pickups.PickupError as error:
            form.form_errors.append(str(error))
            shown = _differences_as_corrected(pickup, form) or shown
        else:
            flash(f"{pickup.driver_name} is registered and on site.", "ok")
            return redirect(url_for("gate.queue"))

    return _register_page(pickup, form, shown)


def _register_page(pickup: Pickup, form: RegisterForm, shown):
    kept = pickups.photos_of(db(), pickup.id)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "console/gate/register.html",
        pickup=pickup,
        site=pickup.site,
        form=form,
        refuse_form=ReasonForm(formdata=None, prefix="refuse"),
        differences=shown,
        photos={kind: kept[kind] for kind in ("id", "id_back") if kind in kept},
        licence=_licence(kept.get("id_back")),
        claimed=pickups.ID_LABELS.get(pickup.id_type),
    ), status


def _corrections(pickup: Pickup, form: DriverFields) -> dict[str, str]:
    """The fields the employee changed from what the driver typed."""
    return {
        name: form[name].data or ""
        for name in pickups.CORRECTABLE
        if (form[name].data or "") != getattr(pickup, name)
    }


def _differences_as_corrected(pickup: Pickup, form: DriverFields):
    """The differences the corrected values would have; None when they do not clean."""
    driver = pickups.Driver(**{name: form[name].data for name in pickups.CORRECTABLE})
    try:
        return pickups.preview_differences(db(), pickup.site, driver, pickup.arrived_at)
    except pickups.PickupError:
        return None


def _licence(photo: Photo | None) -> dict | None:
    """What the barcode on the back of the licence said, kept sealed with it."""
    if photo is None:
        return None

    try:
        return photos.licence_details(photo, photo_key())
    except photos.PhotoError:
        logger.exception("the barcode data of photo %s cannot be opened", photo.id)
        return None


@bp.post("/<int:pickup_id>/refuse")
@allow(*GATE)
def refuse(pickup_id: int):
    """Turn a waiting driver away; an ID-refused case opens with the reason."""
    pickup = _pickup_or_404(pickup_id)
    form = ReasonForm(prefix="refuse")
    if not form.validate_on_submit():
        abort(400)

    try:
        with transaction():
            pickups.refuse(
                db(), pickup, reason=form.reason.data, actor=current_user.user
            )
    except pickups.PickupError as error:
        flash(f"The driver was not refused. {error}", "error")
        return redirect(url_for("gate.register", pickup_id=pickup.id))

    flash(f"{pickup.driver_name} is refused; a case is open.", "ok")
    return redirect(url_for("gate.queue"))


@bp.route("/walk-up", methods=["GET", "POST"])
@allow(*GATE)
def walk_up():
    """Register a driver who never touched the kiosk, arrival and registration both."""
    site = current_site()
    form = WalkUpForm()
    shown = []
    if form.validate_on_submit():
        driver = pickups.Driver(
            **{name: form[name].data or "" for name in pickups.CORRECTABLE}
        )
        try:
            shown = pickups.preview_differences(db(), site, driver, utcnow())
            with transaction():
                pickup = pickups.register_walk_up(
                    db(),
                    db().get(Site, site.id),
                    driver=driver,
                    actor=current_user.user,
                    id_type=form.id_type.data,
                    fallback_reason=form.fallback_reason.data or "",
                    decision=form.decision.data or "",
                    submission_key=form.submission_key.data or None,
                )
        except pickups.PickupError as error:
            form.form_errors.append(str(error))
        else:
            flash(f"{pickup.driver_name} is registered and on site.", "ok")
            return redirect(url_for("gate.queue"))

    if not form.submission_key.data:
        form.submission_key.data = secrets.token_urlsafe(24)

    status = 400 if form.is_submitted() else 200
    return render_template(
        "console/gate/walk_up.html", site=site, form=form, differences=shown
    ), status


# Departure


@bp.route("/<int:pickup_id>/depart", methods=["GET", "POST"])
@allow(*GATE)
def depart(pickup_id: int):
    """Log the driver out with the seal number, the VVTT check and the trailer."""
    pickup = _pickup_or_404(pickup_id)
    if pickup.status != "registered":
        return _not_on_site(pickup)

    form = DepartForm()
    blocked = None
    if form.validate_on_submit():
        try:
            outcome = _record_departure(pickup, form)
        except pickups.PickupError as error:
            form.form_errors.append(str(error))
        except _Refused:
            # The reason is on the form already and the transaction was undone.
            logger.info("a departure of pickup %s was refused on its form", pickup.id)
        else:
            if outcome.departed:
                flash(
                    f"{pickup.driver_name} is logged out with seal "
                    f"{pickup.seal_number}.",
                    "ok",
                )
                return redirect(url_for("gate.pass_page", pickup_id=pickup.id))

            blocked = outcome.blocked_by

    return _depart_page(pickup, form, blocked)


def _not_on_site(pickup: Pickup):
    if pickup.status == "departed":
        flash(f"{pickup.driver_name} is already logged out.", "error")
        return redirect(url_for("gate.pass_page", pickup_id=pickup.id))

    if pickup.status == "arrived":
        flash("Register this driver before logging them out.", "error")
        return redirect(url_for("gate.register", pickup_id=pickup.id))

    flash(f"{pickup.driver_name} is no longer on site.", "error")
    return redirect(url_for("gate.queue"))


def _record_departure(pickup: Pickup, form: DepartForm) -> pickups.Outcome:
    """Keep the seal photo and record the departure, all or nothing.

    A blocked departure commits too: the case it opened must reach a security
    manager. Its seal photo is not kept, since the trailer has not left with it.
    """
    with transaction():
        photo = _keep_seal_photo(pickup, form)
        outcome = pickups.depart(
            db(),
            pickup,
            pickups.Departure(
                seal_number=form.seal_number.data or "",
                seal_confirmation=form.seal_confirmation.data or "",
                trailer_number=form.trailer_number.data or "",
                vvtt={step: bool(form[step].data) for step in seals.VVTT_STEPS},
                seal_photo=photo,
            ),
            actor=current_user.user,
        )
        if not outcome.departed and photo is not None:
            db().delete(photo)

    return outcome


def _keep_seal_photo(pickup: Pickup, form: DepartForm) -> Photo | None:
    upload = form.seal_photo.data
    if not upload or not getattr(upload, "filename", ""):
        return None

    # One byte past the limit lets the judge call the file too large without
    # reading the rest of an oversized upload.
    capture = photos.judge_and_keep(
        db(),
        site=pickup.site,
        kind="seal",
        data=upload.stream.read(images.MAX_BYTES + 1),
        photo_key=photo_key(),
        uploaded_by=current_user.display_name,
    )
    if not capture.ok:
        form.seal_photo.errors.extend(str(advice) for advice in capture.advice)
        raise _Refused

    return photos.take_capture(
        db(), site_id=pickup.site_id, kind="seal", capture_key=capture.capture_key
    )


def _depart_page(pickup: Pickup, form: DepartForm, blocked):
    waiting = blocked or pickups.waiting_seal_decision(db(), pickup.id)
    status = 200
    if blocked is not None:
        status = 409
    elif form.is_submitted():
        status = 400

    return render_template(
        "console/gate/depart.html",
        pickup=pickup,
        site=pickup.site,
        form=form,
        steps=seals.VVTT_STEPS,
        blocked=blocked,
        waiting=waiting,
        open_cases=[
            case
            for case in cases.cases_of_pickup(db(), pickup.id)
            if case.status == "open"
        ],
        left_form=ReasonForm(formdata=None, prefix="left"),
        report_form=ReportForm(formdata=None, prefix="report"),
        can_read_log=current_user.role in LOG_READERS,
    ), status


@bp.post("/scan")
@allow(*GATE)
@limiter.limit("300 per minute", key_func=lambda: f"seal-scan:{current_user.id}")
def scan_seal():
    """Read a seal's barcode from one camera frame posted by the departure page.

    The answer is the number read, or null; the page puts it in both seal fields
    for the guard to compare with the seal, and the departure checks it as typed.
    """
    if request.content_length and request.content_length > images.MAX_BYTES:
        return jsonify(code=None, error="The picture is too large."), 413

    return jsonify(code=seals.read_code(request.get_data(cache=False)))


@bp.post("/<int:pickup_id>/left")
@allow(*GATE)
def mark_left(pickup_id: int):
    """Record a driver who left without being logged out; a case opens."""
    pickup = _pickup_or_404(pickup_id)
    form = ReasonForm(prefix="left")
    if not form.validate_on_submit():
        abort(400)

    try:
        with transaction():
            pickups.mark_left(
                db(), pickup, reason=form.reason.data, actor=current_user.user
            )
    except pickups.PickupError as error:
        flash(f"Nothing was recorded. {error}", "error")
        return redirect(url_for("gate.queue"))

    flash(
        f"{pickup.driver_name} is recorded as gone without logout; a case is open.",
        "ok",
    )
    return redirect(url_for("gate.queue"))


@bp.post("/<int:pickup_id>/report")
@allow(*GATE)
def report(pickup_id: int):
    """Open a case about a pickup: a broken or tampered seal, or another incident."""
    pickup = _pickup_or_404(pickup_id)
    form = ReportForm(prefix="report")
    if not form.validate_on_submit():
        flash("Choose what was found.", "error")
        return redirect(url_for("gate.queue"))

    try:
        with transaction():
            case = cases.open_case(
                db(),
                site_id=pickup.site_id,
                kind=form.kind.data,
                summary=form.summary.data,
                notified=form.notified.data or "",
                pickup_id=pickup.id,
                actor=current_user.user,
            )
    except cases.CaseError as error:
        flash(f"No case was opened. {error}", "error")
    else:
        flash(f"Case {case.id} is open: {cases.KINDS[case.kind]}.", "ok")

    if pickup.status == "registered":
        return redirect(url_for("gate.depart", pickup_id=pickup.id))

    return redirect(url_for("gate.queue"))


# The gate pass


def _departed_or_redirect(pickup: Pickup):
    if pickup.status == "departed" and pickup.seal_number:
        return None

    flash("A gate pass prints once the driver is logged out with the seal.", "error")
    return redirect(url_for("gate.queue"))


@bp.get("/<int:pickup_id>/pass")
@allow(*GATE)
def pass_page(pickup_id: int):
    """The gate pass as a printable 4 × 6 inch page, with the consignee notice."""
    pickup = _pickup_or_404(pickup_id)
    refused = _departed_or_redirect(pickup)
    if refused is not None:
        return refused

    document = gate_pass.for_pickup(pickup)
    return render_template(
        "console/gate/pass.html",
        pickup=pickup,
        gate_pass=document,
        qr=gate_pass.qr_data_uri(document.seal_number),
        notices=pickups.notices(db(), pickup.id),
        now=utcnow(),
        can_read_log=current_user.role in LOG_READERS,
    )


@bp.get("/<int:pickup_id>/pass.pdf")
@allow(*GATE)
def pass_pdf(pickup_id: int):
    """The same gate pass as a PDF made on the server, to save or mail."""
    pickup = _pickup_or_404(pickup_id)
    refused = _departed_or_redirect(pickup)
    if refused is not None:
        return refused

    document = gate_pass.pdf(gate_pass.for_pickup(pickup))
    response = Response(document, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="gate-pass-{pickup.id}.pdf"'
    )
    return response


# The driver's ID images


@bp.get("/photos/<int:photo_id>.jpg")
@allow(*GATE)
def photo(photo_id: int):
    """One photo of a pickup as JPEG; each view of an ID image is audited first."""
    kept = db().get(Photo, photo_id)
    if kept is None or kept.pickup_id is None:
        abort(404)

    pickup = _pickup_or_404(kept.pickup_id)
    return send_image(kept, site_id=pickup.site_id, target=f"pickup:{pickup.id}")


# The site's pickup rules


@bp.route("/settings", methods=["GET", "POST"])
@allow(MANAGER)
def settings():
    """Walk-ins, the appointment window, the overdue time and the seal pattern."""
    site = current_site()
    form = RulesForm(obj=site)
    if form.validate_on_submit():
        rules = pickups.Rules(
            walk_in_pickups=form.walk_in_pickups.data,
            appointment_window_minutes=form.appointment_window_minutes.data,
            driver_overdue_hours=form.driver_overdue_hours.data,
            seal_pattern=form.seal_pattern.data or "",
        )
        try:
            with transaction():
                pickups.set_rules(
                    db(),
                    db().get(Site, site.id),
                    rules,
                    actor=current_user.user,
                    address=client_address(),
                )
        except pickups.PickupError as error:
            form.form_errors.append(str(error))
        else:
            flash(f"Pickup rules of {site.name} saved.", "ok")
            return redirect(url_for("gate.settings"))

    status = 400 if form.is_submitted() else 200
    return render_template("console/gate/settings.html", site=site, form=form), status
