"""What the record pages of the two logs share, and a security manager's corrections.

A visit's page (admin.visits) and a pickup's page (admin.pickup_log) are the one
page of each record, for every role that may read it. This module adds what a
review needs to both: the corrections with the value before and after, the
discrepancies, and the audit event of the read (every read of a log page is
kept, CTPAT 4.5). It also holds the page where a security manager corrects a
visit's fields; the log keeps the original of each (7.6), and nothing here or
anywhere in the console deletes a record.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length

from admin.access import allow, require_site
from gatekeeper import audit, log_records, visitor_types, visits
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
        "value_labels": {},
    }


def type_labels(visit: Visit) -> dict[str, str]:
    """The site's own label of each visitor type, the built-in names as fallback."""
    labels = dict(VISITOR_TYPES)
    for kind in visitor_types.for_site(db(), visit.site_id, active_only=False):
        labels[kind.code] = kind.label

    return labels


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
    reason = StringField(
        "Reason for the correction",
        validators=[
            CleanText("Reason for the correction", visits.CLOSE_REASON_MAX),
            Length(
                min=visits.CLOSE_REASON_MIN,
                message=f"Say why, in at least {visits.CLOSE_REASON_MIN} characters.",
            ),
        ],
    )


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
    if form.validate_on_submit():
        changed = [
            name
            for name in VISIT_FIELDS
            if (form[name].data or "") != (getattr(visit, name) or "")
        ]
        if not changed:
            form.form_errors.append("Nothing was changed: change a field first.")
        elif _apply(visit, form, changed):
            names = ", ".join(VISIT_FIELDS[name] for name in changed)
            flash(f"Corrected: {names}. The log keeps the values before.", "ok")
            return redirect(url_for("visits.show", visit_id=visit.id))

    status = 400 if form.errors or form.form_errors else 200
    page = render_template(
        "console/logs/correct_visit.html",
        visit=visit,
        site=visit.site,
        form=form,
    )
    if status == 200:
        record_read("log.record_read", visit.site_id, f"visit:{visit.id}")

    return page, status


def _apply(visit: Visit, form: VisitCorrectionForm, changed: list[str]) -> bool:
    """Correct every changed field in one transaction, or none of them."""
    try:
        with transaction():
            for name in changed:
                visits.correct(
                    db(),
                    visit,
                    column=name,
                    value=form[name].data,
                    reason=form.reason.data,
                    actor=current_user.user,
                )
    except visits.VisitError as error:
        form.form_errors.append(f"Nothing was corrected. {error}")
        return False

    return True
