"""What the record pages of the two logs share, and a security manager's corrections.

A visit's page (admin.visits) and a pickup's page (admin.pickup_log) are the one
page of each record, for every role that may read it. This module adds what a
review needs to both: the corrections with the value before and after, the
discrepancies, and the audit event of the read (every read of a log page is
kept, CTPAT 4.5). It also holds the pages where a security manager corrects a
visit's or a pickup's fields; the log keeps the original of each (7.6), and
nothing here or anywhere in the console deletes a record.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length

from admin.access import allow, require_site
from gatekeeper import audit, log_records, pickups, visitor_types, visits
from gatekeeper.db import utcnow
from gatekeeper.forms import CleanName, CleanText
from gatekeeper.models import ID_TYPES, VISITOR_TYPES, Pickup, Visit
from gatekeeper.web import client_address, db, transaction

bp = Blueprint("records", __name__)

MANAGER = "security_manager"
VISIT_FIELDS = {
    "visitor_name": "Visitor's name",
    "company": "Company",
    "host_name": "Point of contact",
    "id_type": "Photo ID type",
    "visitor_type": "Visitor type",
}
PICKUP_FIELDS = {
    "reference": "Reference",
    "driver_name": "Driver's name",
    "carrier": "Carrier",
    "truck_number": "Truck number",
    "trailer_number": "Trailer number",
    "id_type": "Photo ID checked",
    "seal_number": "Seal number",
}


def record_read(action: str, site_id: int, target: str, **detail: object) -> None:
    """Keep a read of the log in the audit trail, before what was read is sent.

    A GET reads under SQLite's shared lock (gatekeeper.db): that transaction ends
    first, so the event's own takes the write lock at once.
    """
    db().commit()
    with transaction():
        audit.record(
            db(),
            action,
            actor=current_user.user,
            site_id=site_id,
            target=target,
            address=client_address(),
            **detail,
        )


def require_todays(visit: Visit) -> None:
    """Refuse the front desk a visit its today's page does not list.

    The front desk works the day's visitor log: the visits that arrived on the
    site's day and those still open. Reading back other days is a security
    manager's review (CTPAT 4.7, access by job role).
    """
    if current_user.role != "front_desk" or visit.departed_at is None:
        return

    start, end = visits.local_day_bounds(visit.site, utcnow())
    if not start <= visit.arrived_at < end:
        abort(403, "The front desk opens the visits of today's log only.")


def visit_review(visit: Visit) -> dict:
    """What a visit's page shows of the review: corrections and discrepancies."""
    log = log_records.entries(db(), visit)
    return {
        "corrections": log_records.corrections(log),
        "discrepancies": log_records.visit_discrepancies(db(), visit, log, utcnow()),
        "field_labels": VISIT_FIELDS,
        "value_labels": {"id_type": ID_TYPES, "visitor_type": type_labels(visit)},
        "can_correct": current_user.role == MANAGER,
    }


def pickup_review(pickup: Pickup) -> dict:
    """What a pickup's page shows of the review: corrections and discrepancies."""
    log = log_records.entries(db(), pickup)
    return {
        "corrections": log_records.corrections(log),
        "discrepancies": log_records.pickup_discrepancies(db(), pickup, log, utcnow()),
        "field_labels": PICKUP_FIELDS,
        "value_labels": {"id_type": pickups.ID_LABELS},
        "can_correct": current_user.role == MANAGER,
    }


def type_labels(visit: Visit) -> dict[str, str]:
    """The site's own label of each visitor type, the built-in names as fallback."""
    labels = dict(VISITOR_TYPES)
    for kind in visitor_types.for_site(db(), visit.site_id, active_only=False):
        labels[kind.code] = kind.label

    return labels


def _reason_field() -> StringField:
    """The one reason a correction form asks for, whatever fields it changes."""
    return StringField(
        "Reason for the correction",
        validators=[
            CleanText("Reason for the correction", visits.CLOSE_REASON_MAX),
            Length(
                min=visits.CLOSE_REASON_MIN,
                message=f"Say why, in at least {visits.CLOSE_REASON_MIN} characters.",
            ),
        ],
    )


class VisitCorrectionForm(FlaskForm):
    """The correctable fields of a visit, shown with their values; the ones changed
    are corrected, each with the one reason given."""

    visitor_name = StringField(
        VISIT_FIELDS["visitor_name"],
        validators=[CleanName(VISIT_FIELDS["visitor_name"], 120)],
    )
    company = StringField(
        VISIT_FIELDS["company"], validators=[CleanName(VISIT_FIELDS["company"], 120)]
    )
    host_name = StringField(
        VISIT_FIELDS["host_name"],
        validators=[CleanName(VISIT_FIELDS["host_name"], 120)],
    )
    id_type = SelectField(VISIT_FIELDS["id_type"])
    visitor_type = SelectField(VISIT_FIELDS["visitor_type"])
    reason = _reason_field()


def _visit_or_404(visit_id: int) -> Visit:
    visit = db().get(Visit, visit_id)
    if visit is None:
        abort(404)

    require_site(visit.site_id)
    return visit


def _correction_form(visit: Visit) -> VisitCorrectionForm:
    values = {name: getattr(visit, name) for name in VISIT_FIELDS}
    form = VisitCorrectionForm(data=values)
    form.id_type.choices = {"": "None recorded", **ID_TYPES}
    types = {
        kind.code: kind.label for kind in visitor_types.for_site(db(), visit.site_id)
    }
    if visit.visitor_type not in types:
        # A type the site has since retired stays choosable as the current value.
        types[visit.visitor_type] = type_labels(visit).get(
            visit.visitor_type, visit.visitor_type
        )

    form.visitor_type.choices = types
    return form


@bp.route("/visits/<int:visit_id>/correct", methods=["GET", "POST"])
@allow(MANAGER)
def correct_visit(visit_id: int):
    """Correct fields of a visit with a reason; the log keeps each value before."""
    visit = _visit_or_404(visit_id)
    form = _correction_form(visit)

    def correct_one(name: str) -> None:
        visits.correct(
            db(),
            visit,
            column=name,
            value=form[name].data,
            reason=form.reason.data,
            actor=current_user.user,
        )

    return _correction_page(
        visit,
        form,
        Correcting(VISIT_FIELDS, correct_one, visits.VisitError),
        target=f"visit:{visit.id}",
        shown=url_for("visits.show", visit_id=visit.id),
        template="console/logs/correct_visit.html",
        visit=visit,
    )


class PickupCorrectionForm(FlaskForm):
    """The correctable fields of a pickup, shown with their values; the ones changed
    are corrected, each with the one reason given. The kiosk's and the gate's rules
    check each value again in gatekeeper.pickups."""

    reference = StringField(PICKUP_FIELDS["reference"])
    driver_name = StringField(
        PICKUP_FIELDS["driver_name"],
        validators=[CleanName(PICKUP_FIELDS["driver_name"], 120)],
    )
    carrier = StringField(
        PICKUP_FIELDS["carrier"],
        validators=[CleanName(PICKUP_FIELDS["carrier"], 120)],
    )
    truck_number = StringField(PICKUP_FIELDS["truck_number"])
    trailer_number = StringField(PICKUP_FIELDS["trailer_number"])
    id_type = SelectField(PICKUP_FIELDS["id_type"], choices=pickups.ID_LABELS)
    seal_number = StringField(PICKUP_FIELDS["seal_number"])
    seal_confirmation = StringField("Seal number again, to confirm a new one")
    reason = _reason_field()


def pickup_or_404(pickup_id: int) -> Pickup:
    """The pickup, if it is of one of the account's sites; 404 otherwise."""
    pickup = db().get(Pickup, pickup_id)
    if pickup is None:
        abort(404)

    require_site(pickup.site_id)
    return pickup


def _pickup_form(pickup: Pickup) -> tuple[PickupCorrectionForm, dict[str, str]]:
    """The form with the fields this pickup may have corrected, and their labels."""
    fields = {name: PICKUP_FIELDS[name] for name in pickups.correctable(pickup)}
    form = PickupCorrectionForm(data={name: getattr(pickup, name) for name in fields})
    for name in ("id_type", "seal_number"):
        if name not in fields:
            del form[name]

    if "seal_number" not in fields:
        del form["seal_confirmation"]

    return form, fields


@bp.route("/pickups/<int:pickup_id>/correct", methods=["GET", "POST"])
@allow(MANAGER)
def correct_pickup(pickup_id: int):
    """Correct fields of a pickup with a reason; the log keeps each value before."""
    pickup = pickup_or_404(pickup_id)
    form, fields = _pickup_form(pickup)

    def correct_one(name: str) -> None:
        pickups.correct(
            db(),
            pickup,
            column=name,
            value=form[name].data or "",
            reason=form.reason.data,
            actor=current_user.user,
            confirmation=form.data.get("seal_confirmation") or "",
        )

    return _correction_page(
        pickup,
        form,
        Correcting(fields, correct_one, pickups.PickupError),
        target=f"pickup:{pickup.id}",
        shown=url_for("pickup_log.show", pickup_id=pickup.id),
        template="console/logs/correct_pickup.html",
        pickup=pickup,
    )


@dataclass(frozen=True)
class Correcting:
    """What a correction page needs of its kind of record: the fields it offers,
    how one field is corrected, and the error the rules raise."""

    fields: dict[str, str]
    correct_one: Callable[[str], None]
    error: type[ValueError]


def _correction_page(
    record: Visit | Pickup,
    form: FlaskForm,
    correcting: Correcting,
    *,
    target: str,
    shown: str,
    template: str,
    **context,
):
    """Show a record's correction form, or correct the fields changed in it and
    return to the record's page; a form shown is a read of the record."""
    if form.validate_on_submit():
        changed = [
            name
            for name in correcting.fields
            if (form[name].data or "") != (getattr(record, name) or "")
        ]
        if not changed:
            form.form_errors.append("Nothing was changed: change a field first.")
        elif _apply(form, changed, correcting):
            names = ", ".join(correcting.fields[name] for name in changed)
            flash(f"Corrected: {names}. The log keeps the values before.", "ok")
            return redirect(shown)

    status = 400 if form.errors or form.form_errors else 200
    page = render_template(template, site=record.site, form=form, **context)
    if status == 200:
        record_read("log.record_read", record.site_id, target)

    return page, status


def _apply(form: FlaskForm, changed: list[str], correcting: Correcting) -> bool:
    """Correct every changed field in one transaction, or none of them."""
    try:
        with transaction():
            for name in changed:
                correcting.correct_one(name)
    except correcting.error as error:
        form.form_errors.append(f"Nothing was corrected. {error}")
        return False

    return True
