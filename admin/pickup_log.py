"""The cargo pickup log (CTPAT 10.4): one row per pickup, for guards and managers.

Each row holds the eight fields 10.4 names (driver's name, date, time of arrival,
employer, truck, trailer, time of departure, seal number at departure) and who
registered the driver, which photo ID they checked, who logged the driver out,
the appointment and any discrepancy. Drivers on site past the site's set time are
flagged. A pickup's page adds its log entries, its cases and whether the
consignee's notice went out.

The log is kept from drivers (10.4): a kiosk's credential opens no console page.
Among staff it is for guards, who keep it, and security managers, who audit it.
The front desk registers drivers and logs them out at the gate pages, which show
each driver's own pickup; reading back every driver's history is not its work
(CTPAT 4.7, access by job role).
"""

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from admin import records
from admin.access import allow, current_site, require_site
from gatekeeper import cases, mail, pickups
from gatekeeper.db import utcnow
from gatekeeper.models import Pickup
from gatekeeper.web import db, transaction

bp = Blueprint("pickup_log", __name__)

READERS = ("guard", "security_manager")
MANAGER = "security_manager"
MAX_DAYS = 31
STATUS_LABELS = {
    "arrived": "waiting at the gate",
    "registered": "on site",
    "departed": "departed",
    "refused": "refused",
    "left": "left without logout",
}
EVENT_LABELS = {
    "pickup.arrived": "Arrived",
    "pickup.registered": "Registered",
    "pickup.departed": "Logged out",
    "pickup.refused": "Refused",
    "pickup.left": "Left without logout",
    "pickup.corrected": "Corrected",
}
FIELD_LABELS = {
    "reference": "Reference",
    "driver_name": "Driver's name",
    "carrier": "Carrier",
    "truck_number": "Truck number",
    "trailer_number": "Trailer number",
}


class CorrectionForm(FlaskForm):
    column = SelectField("Field", choices=dict(FIELD_LABELS))
    value = StringField("Correct value")
    reason = StringField("Reason for the correction")


def _pickup_or_404(pickup_id: int) -> Pickup:
    pickup = db().get(Pickup, pickup_id)
    if pickup is None:
        abort(404)

    require_site(pickup.site_id)
    return pickup


def _days(site) -> tuple[date, date, str | None]:
    """The range of local days asked for, today by default; an error for a bad one."""
    today = utcnow().astimezone(ZoneInfo(site.timezone)).date()
    try:
        first = date.fromisoformat(request.args.get("from") or today.isoformat())
        last = date.fromisoformat(request.args.get("to") or first.isoformat())
    except ValueError:
        return today, today, "Dates are written like 2026-03-31; showing today."

    if last < first:
        return today, today, "The range ends before it starts; showing today."

    if last - first >= timedelta(days=MAX_DAYS):
        return today, today, f"Show at most {MAX_DAYS} days at once; showing today."

    return first, last, None


@bp.get("/")
@allow(*READERS)
def index():
    """The pickups of a range of days, with those still at the gate or on site."""
    site = current_site()
    first, last, problem = _days(site)
    start, end = pickups.local_range(site, first, last)
    rows = pickups.log_between(db(), site.id, start, end)
    now = utcnow()
    return render_template(
        "console/pickups/log.html",
        site=site,
        rows=rows,
        first=first,
        last=last,
        problem=problem,
        cases=cases.cases_of_pickups(db(), [row.id for row in rows]),
        overdue={row.id for row in rows if pickups.is_overdue(row, now)},
        id_labels=pickups.ID_LABELS,
        status_labels=STATUS_LABELS,
        case_kinds=cases.KINDS,
    ), 400 if problem else 200


@bp.get("/<int:pickup_id>")
@allow(*READERS)
def show(pickup_id: int):
    """One pickup: its fields, log entries, cases, consignee notice and photos."""
    pickup = _pickup_or_404(pickup_id)
    kept = pickups.photos_of(db(), pickup.id)
    page = render_template(
        "console/pickups/show.html",
        pickup=pickup,
        site=pickup.site,
        history=_history(pickup),
        cases=cases.cases_of_pickup(db(), pickup.id),
        case_kinds=cases.KINDS,
        notices=pickups.notices(db(), pickup.id),
        mail_state=mail.state,
        photos=kept,
        overdue=pickups.is_overdue(pickup, utcnow()),
        id_labels=pickups.ID_LABELS,
        status_labels=STATUS_LABELS,
        form=CorrectionForm(formdata=None),
        can_correct=current_user.role == MANAGER,
        review=records.pickup_review(pickup),
    )
    records.record_read(
        "log.record_read", pickup.site_id, f"pickup:{pickup.id}", photos=sorted(kept)
    )
    return page


def _history(pickup: Pickup) -> list[dict]:
    events = []
    for entry in pickups.history(db(), pickup):
        body = json.loads(entry.body)
        events.append(
            {
                "label": EVENT_LABELS.get(entry.kind, entry.kind),
                "actor": entry.actor.removeprefix("user:"),
                "at": entry.recorded_at,
                "details": body.get("details") or {},
            }
        )

    return events


@bp.post("/<int:pickup_id>/correct")
@allow(MANAGER)
def correct(pickup_id: int):
    """Correct one field of a pickup with a reason; the log keeps the value before."""
    pickup = _pickup_or_404(pickup_id)
    form = CorrectionForm()
    if not form.validate_on_submit():
        flash("Choose the field to correct.", "error")
        return redirect(url_for("pickup_log.show", pickup_id=pickup.id))

    try:
        with transaction():
            pickups.correct(
                db(),
                pickup,
                column=form.column.data,
                value=form.value.data or "",
                reason=form.reason.data or "",
                actor=current_user.user,
            )
    except pickups.PickupError as error:
        flash(f"Nothing was corrected. {error}", "error")
    else:
        flash(f"{FIELD_LABELS[form.column.data]} corrected.", "ok")

    return redirect(url_for("pickup_log.show", pickup_id=pickup.id))
