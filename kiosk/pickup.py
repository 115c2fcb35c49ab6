"""A truck driver's arrival for a cargo pickup, at the kiosk (CTPAT 10.3, 10.4).

Pickup reference (typed, or its barcode scanned) → name → carrier → truck and
trailer → the type of photo ID → its photo → the back of a licence → review. The
steps work as the visitor's do (kiosk/steps.py), with the same camera and the same
judgement of every picture; the licence's barcode fills in the name and flags an
expired card for the gate staff.

The review records an arrival that waits at the gate: only a facility employee
registers the driver (10.4). The kiosk never reads the pickup log back. It does not
say whether the reference names an appointment, and the last screen shows what the
driver typed on this screen and nothing from the database, so that drivers learn
nothing of other drivers, appointments or past pickups.
"""

import logging

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import StringField
from wtforms.validators import ValidationError

from gatekeeper import appointments, images, pickups, visits
from gatekeeper.forms import CleanName
from gatekeeper.models import Pickup
from gatekeeper.text import TextError
from gatekeeper.web import db, transaction
from kiosk import draft as drafts
from kiosk import steps
from kiosk.forms import ActionForm, IdTypeForm, ReviewForm
from kiosk.views import limiter

logger = logging.getLogger(__name__)
bp = Blueprint("pickup", __name__)

STEP_ENDPOINTS = {step: f"pickup.{step}" for step in drafts.PICKUP_STEPS}
# Whom a driver sees when the kiosk's camera fails: the gate, not the front desk.
SCANNER_NO_CAMERA = _l(
    "The camera is not working. Please type the reference in, or see the gate staff."
)
NO_CAMERA = _l("The camera cannot start. Please see the gate staff.")


class VehicleNumber:
    """A truck or trailer number as the pickup log keeps it, or why not.

    The pickup log's own rule (appointments.clean_vehicle) decides; the messages
    are the kiosk's, in the driver's language.
    """

    def __init__(self, missing, malformed):
        self.missing = missing
        self.malformed = malformed

    def __call__(self, form, field):
        if not (field.data or "").strip():
            raise ValidationError(str(self.missing))

        try:
            field.data = appointments.clean_vehicle(field.data, "number")
        except TextError as error:
            raise ValidationError(str(self.malformed)) from error


class PickupReference:
    """A pickup reference in the shape every reference has. Whether an appointment
    has it is never checked here: the answer would tell a driver about the log."""

    def __call__(self, form, field):
        if not (field.data or "").strip():
            raise ValidationError(_("Enter the pickup reference."))

        try:
            field.data = appointments.clean_reference(field.data)
        except TextError as error:
            raise ValidationError(
                _(
                    "A pickup reference is up to 40 letters and digits, "
                    "with - _ / # . allowed after the first."
                )
            ) from error


class ReferenceForm(FlaskForm):
    # A USB barcode scanner types the reference into this field and presses Enter.
    reference = StringField(
        _l("Pickup reference"),
        description=_l("The load, order or bill of lading number on your papers."),
        validators=[PickupReference()],
        render_kw={"spellcheck": "false", "autocapitalize": "characters"},
    )


class DriverNameForm(FlaskForm):
    driver_name = StringField(
        _l("Your full name"),
        description=_l("As it is written on your photo ID."),
        validators=[CleanName(_l("Your full name"), 120)],
    )


class CarrierForm(FlaskForm):
    carrier = StringField(
        _l("Company you drive for"),
        description=_l("The carrier that employs you."),
        validators=[CleanName(_l("Company you drive for"), 120)],
    )


class VehicleForm(FlaskForm):
    truck_number = StringField(
        _l("Truck number"),
        description=_l("The number on the cab, or the licence plate."),
        validators=[
            VehicleNumber(
                _l("Enter the truck number."),
                _l("A truck number is up to 20 letters, digits, spaces or hyphens."),
            )
        ],
        render_kw={"spellcheck": "false", "autocapitalize": "characters"},
    )
    trailer_number = StringField(
        _l("Trailer number"),
        description=_l("The number on the trailer or container."),
        validators=[
            VehicleNumber(
                _l("Enter the trailer number."),
                _l("A trailer number is up to 20 letters, digits, spaces or hyphens."),
            )
        ],
        render_kw={"spellcheck": "false", "autocapitalize": "characters"},
    )


def _draft() -> dict:
    return drafts.current(drafts.PICKUP)


def _open(step: str):
    """The draft and its plan, or where the driver must go instead of this step."""
    draft = _draft()
    if draft.get("arrived"):
        return draft, None, redirect(url_for("pickup.done"))

    plan = drafts.pickup_plan(draft)
    if not plan.reached(step):
        return draft, plan, steps.to_missing(plan, STEP_ENDPOINTS)

    return draft, plan, None


def _next(draft: dict):
    drafts.save(draft)
    return steps.to_missing(drafts.pickup_plan(draft), STEP_ENDPOINTS)


def _page(step: str, template: str, plan: drafts.Plan, draft: dict, **values):
    return steps.step_page(step, template, plan, draft, STEP_ENDPOINTS, **values)


@bp.route("", methods=["GET", "POST"])
def reference():
    """Step 1: the pickup reference on the driver's papers, typed or scanned."""
    draft, plan, elsewhere = _open("reference")
    if elsewhere is not None:
        return elsewhere

    form = ReferenceForm()
    if form.validate_on_submit():
        if not draft:
            with transaction():
                draft = drafts.fresh(db(), drafts.PICKUP)

        draft["reference"] = form.reference.data
        return _next(draft)

    if not form.is_submitted():
        form.reference.data = draft.get("reference", "")

    return _page(
        "reference",
        "kiosk/pickup/reference.html",
        plan,
        draft,
        form=form,
        no_camera_text=SCANNER_NO_CAMERA,
    )


@bp.post("/scan")
@limiter.limit("240 per minute")
def scan():
    """Read a pickup reference from one camera frame: a bill of lading's barcode.

    Only the text of a code shaped like a reference comes back, and nothing is
    looked up: the frame is read, not kept.
    """
    frame = request.files.get("frame")
    if frame is None:
        return {"text": None}, 400

    return {"text": appointments.read_reference(frame.read(images.MAX_BYTES + 1))}


@bp.route("/name", methods=["GET", "POST"])
def name():
    """Step 2: the driver's name, as on the photo ID."""
    draft, plan, elsewhere = _open("name")
    if elsewhere is not None:
        return elsewhere

    form = DriverNameForm()
    if form.validate_on_submit():
        if form.driver_name.data != draft.get("name"):
            # Typed over, the name is the driver's own again.
            draft.pop("name_from_licence", None)

        draft["name"] = form.driver_name.data
        return _next(draft)

    if not form.is_submitted():
        form.driver_name.data = draft.get("name", "")

    return _fields_page("name", plan, draft, form, _l("Your name"))


@bp.route("/carrier", methods=["GET", "POST"])
def carrier():
    """Step 3: the carrier that employs the driver (CTPAT 10.4: employer)."""
    draft, plan, elsewhere = _open("carrier")
    if elsewhere is not None:
        return elsewhere

    form = CarrierForm()
    if form.validate_on_submit():
        draft["carrier"] = form.carrier.data
        return _next(draft)

    if not form.is_submitted():
        form.carrier.data = draft.get("carrier", "")

    return _fields_page("carrier", plan, draft, form, _l("Company you drive for"))


@bp.route("/vehicle", methods=["GET", "POST"])
def vehicle():
    """Step 4: the truck's and the trailer's numbers (CTPAT 10.4)."""
    draft, plan, elsewhere = _open("vehicle")
    if elsewhere is not None:
        return elsewhere

    form = VehicleForm()
    if form.validate_on_submit():
        draft["truck"] = form.truck_number.data
        draft["trailer"] = form.trailer_number.data
        return _next(draft)

    if not form.is_submitted():
        form.truck_number.data = draft.get("truck", "")
        form.trailer_number.data = draft.get("trailer", "")

    return _fields_page("vehicle", plan, draft, form, _l("Your truck and trailer"))


def _fields_page(step: str, plan, draft: dict, form: FlaskForm, title):
    fields = [field for field in form if field.name != "csrf_token"]
    return _page(
        step,
        "kiosk/pickup/fields.html",
        plan,
        draft,
        form=form,
        fields=fields,
        title=title,
    )


@bp.route("/id-type", methods=["GET", "POST"])
def id_type():
    """Step 5: the government photo ID the driver will show (CTPAT 10.3)."""
    draft, plan, elsewhere = _open("id_type")
    if elsewhere is not None:
        return elsewhere

    form = IdTypeForm()
    form.id_type.choices = steps.id_type_choices()
    if form.validate_on_submit():
        steps.choose_id_type(draft, form.id_type.data)
        return _next(draft)

    if not form.is_submitted():
        form.id_type.data = draft.get("id_type")

    return _page("id_type", "kiosk/id_type.html", plan, draft, form=form)


def _camera_step(step: str):
    """A camera screen on GET; on POST, the picture it took, judged (JSON)."""
    draft = _draft()
    if request.method == "POST":
        if draft.get("arrived"):
            return steps.photo_answer([], 409, next_url=url_for("pickup.done"))

        return steps.judge_photo(step, draft, STEP_ENDPOINTS, drafts.pickup_plan)

    draft, plan, elsewhere = _open(step)
    if elsewhere is not None:
        return elsewhere

    return _page(
        step,
        "kiosk/camera.html",
        plan,
        draft,
        skip_form=ActionForm() if step == "id_back" else None,
        skip_url=url_for("pickup.no_barcode"),
        no_camera_url=url_for("pickup.see_gate"),
        no_camera_text=NO_CAMERA,
        **steps.camera_values(step, draft),
    )


@bp.route("/id-photo", methods=["GET", "POST"])
@steps.photo_limit
def id_photo():
    """Step 6: the photo side of the ID, held to the camera."""
    return _camera_step("id_photo")


@bp.route("/id-back", methods=["GET", "POST"])
@steps.photo_limit
def id_back():
    """Step 7, for a licence or ID card: its back, whose barcode is read."""
    return _camera_step("id_back")


@bp.post("/id-back/none")
def no_barcode():
    """Step 7 skipped: the driver's card has no barcode on its back."""
    draft, plan, elsewhere = _open("id_back")
    if elsewhere is not None:
        return elsewhere

    if ActionForm().validate_on_submit():
        steps.skip_barcode(draft)

    return steps.to_missing(drafts.pickup_plan(draft), STEP_ENDPOINTS)


@bp.route("/review", methods=["GET", "POST"])
def review():
    """The last step: the driver checks what they typed, and the arrival is sent to
    the gate. A second tap finds the arrival the first one recorded."""
    form = ReviewForm()
    draft, plan, elsewhere = _open("review")
    if elsewhere is not None:
        return elsewhere

    if form.validate_on_submit():
        if form.submission_key.data != draft["key"]:
            return redirect(url_for("pickup.review"))

        try:
            pickup = _record(draft, plan)
        except drafts.CaptureGone as gone:
            return _retake(draft, gone.kind)
        except pickups.PickupError as error:
            # Names and numbers stay out of the log file: the pickup log has them.
            logger.info("kiosk %s: a driver's arrival was refused", g.kiosk.id)
            form.form_errors.append(str(error))
        else:
            logger.info(
                "kiosk %s: pickup %s arrived at the gate", g.kiosk.id, pickup.id
            )
            _arrived(draft)
            return redirect(url_for("pickup.done"))

    form.submission_key.data = draft["key"]
    return _page(
        "review",
        "kiosk/pickup/review.html",
        plan,
        draft,
        form=form,
        id_type_label=steps.ID_TYPE_LABELS.get(draft.get("id_type", "")),
    )


def _record(draft: dict, plan: drafts.Plan) -> Pickup:
    """Record the draft's arrival with its pictures, in one transaction."""
    try:
        with transaction():
            return _ours(drafts.record_pickup(db(), g.kiosk, draft, plan))
    except IntegrityError as error:
        if not visits.is_duplicate_submission(error):
            raise

        # The same review arrived twice at once; the first one made the arrival.
        query = select(Pickup).where(Pickup.submission_key == draft["key"])
        return _ours(db().scalar(query))


def _ours(pickup: Pickup | None) -> Pickup:
    """The arrival, if this kiosk made it: a submission key names no one else's."""
    if pickup is None or pickup.kiosk_id != g.kiosk.id:
        abort(400)

    return pickup


def _arrived(draft: dict) -> None:
    """Keep what the driver typed for the last screen, and nothing else: the
    pictures belong to the arrival now, and the draft can no longer change."""
    kept = {name: draft.get(name) for name in ("name", "truck", "trailer")}
    drafts.save({**kept, "flow": drafts.PICKUP, "arrived": True, "captures": {}})


def _retake(draft: dict, kind: str):
    draft["captures"].pop(kind, None)
    drafts.save(draft)
    flash(_("That picture is too old to use. Please take it again."), "error")
    return redirect(url_for(STEP_ENDPOINTS[drafts.PHOTO_STEPS[kind]]))


@bp.get("/done")
def done():
    """A staff member will register you: the same screen for every driver.

    Whether the reference had an appointment is not said; only what the driver
    typed on this screen is shown back.
    """
    draft = _draft()
    if not draft.get("arrived"):
        return redirect(url_for("kiosk.start"))

    return render_template("kiosk/pickup/done.html", draft=draft)


@bp.get("/see-gate")
def see_gate():
    """Please see the gate staff: this kiosk's camera cannot take the ID's picture."""
    return render_template("kiosk/pickup/see_gate.html")
