"""Expected pickups, and the carriers that announce them (CTPAT 10.7).

A shipping clerk (front desk or guard) records an appointment: carrier, driver,
truck, expected time, the pickup reference, the seal assigned to the shipment when
known, and the consignee's email. A carrier's pre-notifications come as a CSV file
uploaded here, or from its TMS through the JSON endpoint (admin/carrier_api.py);
both check each row on its own and report every refused row.

API keys let a machine write appointments without a person, so issuing and
revoking them is for security managers only; clerks may list and add carriers.
"""

from datetime import UTC
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField

from admin.access import allow, current_site, require_site
from admin.forms import ActionForm
from gatekeeper import appointments
from gatekeeper.db import utcnow
from gatekeeper.models import Appointment, Carrier, Site
from gatekeeper.web import client_address, db, transaction

bp = Blueprint("appointments", __name__)

CLERKS = ("front_desk", "guard", "security_manager")
MANAGER = "security_manager"
STATE_LABELS = {
    "arrived": "at the gate",
    "registered": "on site",
    "departed": "departed",
    "refused": "refused",
    "left": "left without logout",
}


class AppointmentForm(FlaskForm):
    reference = StringField("Pickup reference (load or BOL number)")
    carrier = StringField("Carrier")
    driver_name = StringField("Driver's name")
    truck_number = StringField("Truck number")
    expected_at = StringField(
        "Estimated time of arrival", render_kw={"type": "datetime-local"}
    )
    seal_number = StringField("Seal number assigned to the shipment (if known)")
    consignee_email = StringField(
        "Consignee's email (told the seal number at departure)",
        render_kw={"type": "email"},
    )


class UploadForm(FlaskForm):
    file = FileField("CSV file from the carrier")


class CarrierForm(FlaskForm):
    name = StringField("Carrier's name")


def _appointment_or_404(appointment_id: int) -> Appointment:
    appointment = db().get(Appointment, appointment_id)
    if appointment is None:
        abort(404)

    require_site(appointment.site_id)
    return appointment


def _carrier_or_404(carrier_id: int) -> Carrier:
    carrier = db().get(Carrier, carrier_id)
    if carrier is None:
        abort(404)

    require_site(carrier.site_id)
    return carrier


def _index_page(form=None, upload_form=None, status=200):
    site = current_site()
    listed = appointments.upcoming(db(), site.id, utcnow())
    return render_template(
        "console/appointments/index.html",
        site=site,
        appointments=listed,
        states=appointments.pickup_states(db(), [a.id for a in listed]),
        state_labels=STATE_LABELS,
        carriers=appointments.carriers(db(), site.id),
        form=form or AppointmentForm(formdata=None),
        upload_form=upload_form or UploadForm(formdata=None),
        action_form=ActionForm(),
        fields=appointments.FIELDS,
        required=appointments.REQUIRED,
    ), status


@bp.get("/")
@allow(*CLERKS)
def index():
    """The site's appointments from yesterday on, and the forms to add more."""
    return _index_page()


@bp.post("/")
@allow(*CLERKS)
def create():
    """Record one expected pickup; every problem is listed, nothing is half-kept."""
    site = current_site()
    form = AppointmentForm()
    if form.validate_on_submit():
        row = {name: form[name].data or "" for name in appointments.FIELDS}
        try:
            with transaction():
                appointment = appointments.create(
                    db(),
                    db().get(Site, site.id),
                    row,
                    actor=current_user.user,
                    now=utcnow(),
                    address=client_address(),
                )
        except appointments.AppointmentError as error:
            form.form_errors.append(str(error))
        else:
            flash(f"Appointment {appointment.reference} recorded.", "ok")
            return redirect(url_for("appointments.index"))

    return _index_page(form=form, status=400)


@bp.post("/<int:appointment_id>/cancel")
@allow(*CLERKS)
def cancel(appointment_id: int):
    appointment = _appointment_or_404(appointment_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    try:
        with transaction():
            appointments.cancel(
                db(), appointment, actor=current_user.user, address=client_address()
            )
    except appointments.AppointmentError as error:
        flash(str(error), "error")
    else:
        flash(f"Appointment {appointment.reference} cancelled.", "ok")

    return redirect(url_for("appointments.index"))


@bp.route("/<int:appointment_id>/edit", methods=["GET", "POST"])
@allow(*CLERKS)
def edit(appointment_id: int):
    """Change an appointment before its driver comes: a new time, truck or driver.

    The reference stays: it names the shipment. What changed, from what to what,
    goes to the audit trail.
    """
    appointment = _appointment_or_404(appointment_id)
    site = db().get(Site, appointment.site_id)
    if request.method == "GET":
        local = appointment.expected_at.replace(tzinfo=UTC).astimezone(
            ZoneInfo(site.timezone)
        )
        form = AppointmentForm(
            formdata=None,
            carrier=appointment.carrier_name,
            driver_name=appointment.driver_name,
            truck_number=appointment.truck_number,
            expected_at=local.strftime("%Y-%m-%dT%H:%M"),
            seal_number=appointment.seal_number or "",
            consignee_email=appointment.consignee_email,
        )
        return _edit_page(appointment, site, form)

    form = AppointmentForm()
    if form.validate_on_submit():
        row = {name: form[name].data or "" for name in appointments.EDITABLE}
        try:
            with transaction():
                changed = appointments.change(
                    db(),
                    appointment,
                    row,
                    actor=current_user.user,
                    now=utcnow(),
                    address=client_address(),
                )
        except appointments.AppointmentError as error:
            form.form_errors.append(str(error))
        else:
            flash(
                f"Appointment {appointment.reference} changed: "
                f"{', '.join(FIELD_LABELS[name] for name in changed)}.",
                "ok",
            )
            return redirect(url_for("appointments.index"))

    return _edit_page(appointment, site, form, status=400)


FIELD_LABELS = {
    "carrier": "carrier",
    "driver_name": "driver",
    "truck_number": "truck",
    "expected_at": "expected time",
    "seal_number": "seal",
    "consignee_email": "consignee's email",
}


def _edit_page(appointment: Appointment, site: Site, form, status=200):
    return render_template(
        "console/appointments/edit.html",
        appointment=appointment,
        site=site,
        form=form,
    ), status


@bp.post("/upload")
@allow(*CLERKS)
def upload():
    """Import a carrier's CSV: good rows are kept, each bad row is reported."""
    site = current_site()
    form = UploadForm()
    data = None
    if form.validate_on_submit() and form.file.data and form.file.data.filename:
        # One byte past the limit is enough for the reader to call it too large.
        data = form.file.data.stream.read(appointments.MAX_BYTES + 1)

    if data is None:
        form.file.errors.append("Choose the CSV file to upload.")
        return _index_page(upload_form=form, status=400)

    try:
        lines = appointments.read_csv_lines(data)
        with transaction():
            report = appointments.import_rows(
                db(),
                db().get(Site, site.id),
                [row for _line, row in lines],
                actor=current_user.user,
                source="csv",
                now=utcnow(),
                numbers=[line for line, _row in lines],
            )
    except appointments.AppointmentError as error:
        form.file.errors.append(str(error))
        return _index_page(upload_form=form, status=400)

    return render_template(
        "console/appointments/upload_report.html",
        site=site,
        report=report,
        filename=form.file.data.filename,
    ), 200 if report.ok else 422


# Carriers and their API keys


def _carriers_page(form=None, status=200, key=None, keyed=None):
    site = current_site()
    return render_template(
        "console/appointments/carriers.html",
        site=site,
        carriers=appointments.carriers(db(), site.id),
        form=form or CarrierForm(formdata=None),
        action_form=ActionForm(),
        can_manage_keys=current_user.role == MANAGER,
        key=key,
        keyed=keyed,
        endpoint=request.host_url.rstrip("/") + url_for("carrier_api.appointments"),
    ), status


@bp.get("/carriers")
@allow(*CLERKS)
def carriers():
    return _carriers_page()


@bp.post("/carriers")
@allow(*CLERKS)
def add_carrier():
    site = current_site()
    form = CarrierForm()
    if form.validate_on_submit():
        try:
            with transaction():
                carrier = appointments.add_carrier(
                    db(),
                    db().get(Site, site.id),
                    form.name.data,
                    actor=current_user.user,
                )
        except appointments.AppointmentError as error:
            form.name.errors.append(str(error))
        else:
            flash(f"{carrier.name} added.", "ok")
            return redirect(url_for("appointments.carriers"))

    return _carriers_page(form=form, status=400)


@bp.post("/carriers/<int:carrier_id>/key")
@allow(MANAGER)
def issue_key(carrier_id: int):
    """A new API key for the carrier's TMS, shown on this page once and never again."""
    carrier = _carrier_or_404(carrier_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    with transaction():
        key = appointments.issue_key(db(), carrier, actor=current_user.user)

    return _carriers_page(key=key, keyed=carrier)


@bp.post("/carriers/<int:carrier_id>/revoke-key")
@allow(MANAGER)
def revoke_key(carrier_id: int):
    carrier = _carrier_or_404(carrier_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    try:
        with transaction():
            appointments.revoke_key(db(), carrier, actor=current_user.user)
    except appointments.AppointmentError as error:
        flash(str(error), "error")
    else:
        flash(f"The API key of {carrier.name} no longer works.", "ok")

    return redirect(url_for("appointments.carriers"))
