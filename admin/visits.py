"""Today's visitor log, and one visit's page, for the front desk and guards (10.2).

Visits still open after their expected end are shown as overdue and first; they
stay open until someone signs the visitor out or closes the visit with a reason.
A visit's page shows its photos beside what the kiosk recorded, so the front desk
can compare them with the person, and holds its decisions: the ID verified, a
block-list hold approved or denied, the escort changed.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from admin import records
from admin.access import allow, current_site, require_site
from admin.forms import (
    ActionForm,
    CloseVisitForm,
    EscortForm,
    HoldDecisionForm,
    VerifyIdForm,
)
from admin.photos import photo_key
from gatekeeper import photos, visitor_types, visits
from gatekeeper.db import utcnow
from gatekeeper.models import ID_TYPES, VISITOR_TYPES, LogEntry, Visit
from gatekeeper.web import db, transaction

bp = Blueprint("visits", __name__)

DESK = ("front_desk", "security_manager")
# What each admission is called on the console's pages.
ADMISSION_LABELS = {
    "admitted": "admitted",
    "awaiting_id": "awaiting ID check",
    "held": "held: block list",
    "denied": "denied",
}
# How each log entry of a visit reads on its page.
EVENT_LABELS = {
    "visit.arrived": "Checked in",
    "visit.id_verified": "Photo ID verified",
    "visit.hold_approved": "Hold approved",
    "visit.hold_denied": "Hold denied",
    "visit.escort_changed": "Escort changed",
    "visit.departed": "Signed out",
    "visit.closed": "Visit closed",
    "visit.badge_revoked": "Badge revoked",
    "visit.corrected": "Corrected",
}
# The pages a form on several of them returns to.
BACK_TO = {"today": "visits.today", "queue": "front_desk.queue"}


@bp.get("/today")
@allow("front_desk", "guard", "security_manager")
def today():
    """The visits of the site's day with the six fields 10.2 asks the log to hold,
    the overdue ones first, from whatever day they began."""
    site = current_site()
    now = utcnow()
    overdue = visits.overdue_visits(db(), site, now)
    flagged = {visit.id for visit in overdue}
    others = [v for v in visits.todays_visits(db(), site) if v.id not in flagged]
    shown = overdue + others
    page = render_template(
        "console/visits/today.html",
        site=site,
        visits=shown,
        overdue_ids=flagged,
        closings=visits.closings(db(), site.id, [visit.id for visit in shown]),
        verify_form=VerifyIdForm(),
        action_form=ActionForm(),
        close_form=CloseVisitForm(),
        id_types=ID_TYPES,
        visitor_types=_type_labels(site.id),
        admissions=ADMISSION_LABELS,
    )
    records.record_read("log.viewed", site.id, "log:visits", rows=len(shown))
    return page


def _type_labels(site_id: int) -> dict[str, str]:
    """The site's own label of each visitor type, the built-in names as fallback."""
    labels = dict(VISITOR_TYPES)
    for kind in visitor_types.for_site(db(), site_id, active_only=False):
        labels[kind.code] = kind.label

    return labels


def _visit_or_404(visit_id: int) -> Visit:
    visit = db().get(Visit, visit_id)
    if visit is None:
        abort(404)

    require_site(visit.site_id)
    records.require_todays(visit)
    return visit


@dataclass(frozen=True)
class Event:
    """One entry of a visit's log, as its page lists it."""

    label: str
    actor: str
    at: datetime
    reason: str
    details: dict


def _history(visit: Visit) -> list[Event]:
    """The visit's log entries, oldest first: what happened, who did it, and why."""
    query = (
        select(LogEntry)
        .where(
            LogEntry.site_id == visit.site_id,
            LogEntry.subject_type == "visit",
            LogEntry.subject_id == visit.id,
        )
        .order_by(LogEntry.seq)
    )
    events = []
    for entry in db().scalars(query):
        details = json.loads(entry.body).get("details") or {}
        events.append(
            Event(
                label=EVENT_LABELS.get(entry.kind, entry.kind),
                actor=entry.actor.removeprefix("user:"),
                at=entry.recorded_at,
                reason=str(details.get("reason", "")),
                details=details,
            )
        )

    return events


def _block_matches(history: list[Event]) -> list[dict]:
    """The block-list matches the check-in found, as its log entry keeps them."""
    for event in history:
        if event.label == EVENT_LABELS["visit.arrived"]:
            return list(event.details.get("block_list", []))

    return []


@bp.get("/<int:visit_id>")
@allow("front_desk", "guard", "security_manager")
def show(visit_id: int):
    """One visit: its photos to compare with the person, its state and its log."""
    visit = _visit_or_404(visit_id)
    history = _history(visit)
    kinds = {kind for kind in ("face", "id", "id_back") if _has_photo(visit, kind)}
    verify_form = VerifyIdForm(formdata=None, id_type=visit.id_type, back="visit")
    escort_form = EscortForm(formdata=None, escort_name=visit.escort_name or "")
    page = render_template(
        "console/visits/show.html",
        visit=visit,
        site=visit.site,
        photo_kinds=kinds,
        licence=_licence(visit) if "id_back" in kinds else None,
        matches=_block_matches(history),
        history=history,
        id_types=ID_TYPES,
        visitor_types=_type_labels(visit.site_id),
        admissions=ADMISSION_LABELS,
        verify_form=verify_form,
        hold_form=HoldDecisionForm(formdata=None),
        escort_form=escort_form,
        can_decide=current_user.role in DESK,
        can_verify=current_user.role in DESK and _awaits_verification(visit),
        review=records.visit_review(visit),
    )
    records.record_read(
        "log.record_read", visit.site_id, f"visit:{visit.id}", photos=sorted(kinds)
    )
    return page


def _has_photo(visit: Visit, kind: str) -> bool:
    return photos.photo_of(db(), visit.id, kind) is not None


def _licence(visit: Visit) -> dict | None:
    """What the barcode on the back of the ID said, kept sealed with the image."""
    photo = photos.photo_of(db(), visit.id, "id_back")
    try:
        return photos.licence_details(photo, photo_key())
    except photos.PhotoError:
        return None


def _awaits_verification(visit: Visit) -> bool:
    return (
        visit.departed_at is None
        and visit.admission in ("awaiting_id", "admitted")
        and visit.id_status in ("unverified", "captured")
    )


def _back(visit: Visit, where: str | None):
    """Where a form returns to: the page it was on, among those that have one."""
    if where == "visit":
        return redirect(url_for("visits.show", visit_id=visit.id))

    return redirect(url_for(BACK_TO.get(where or "", "visits.today")))


@bp.post("/<int:visit_id>/verify-id")
@allow(*DESK)
def verify_id(visit_id: int):
    """Record that this employee compared the visitor with their photo ID."""
    visit = _visit_or_404(visit_id)
    form = VerifyIdForm()
    back = request.form.get("back")
    if not form.validate_on_submit():
        flash("Choose the type of photo ID you checked.", "error")
        return _back(visit, back)

    try:
        with transaction():
            visits.verify_id(db(), visit, form.id_type.data, actor=current_user.user)
    except visits.VisitError as error:
        flash(str(error), "error")
    else:
        flash(f"ID verified for {visit.visitor_name}.", "ok")

    return _back(visit, back)


@bp.post("/<int:visit_id>/hold")
@allow(*DESK)
def decide_hold(visit_id: int):
    """Approve or deny a check-in the block list held, with the reason."""
    visit = _visit_or_404(visit_id)
    form = HoldDecisionForm()
    if not form.validate_on_submit():
        flash("Choose approve or deny.", "error")
        return _back(visit, "visit")

    # The domain's own message for a missing reason speaks of closing a visit.
    if not (form.reason.data or "").strip():
        flash("Nothing was decided. Say why you approve or deny.", "error")
        return _back(visit, "visit")

    try:
        with transaction():
            visits.decide_hold(
                db(),
                visit,
                form.decision.data,
                reason=form.reason.data,
                actor=current_user.user,
            )
    except visits.VisitError as error:
        flash(f"Nothing was decided. {error}", "error")
    else:
        done = "approved" if form.decision.data == "approve" else "denied"
        flash(f"The check-in of {visit.visitor_name} is {done}.", "ok")

    return _back(visit, "visit")


@bp.post("/<int:visit_id>/escort")
@allow(*DESK)
def set_escort(visit_id: int):
    """Record who escorts the visitor, when it is not the host."""
    visit = _visit_or_404(visit_id)
    form = EscortForm()
    if not form.validate_on_submit():
        abort(400)

    try:
        with transaction():
            visits.set_escort(
                db(), visit, form.escort_name.data, actor=current_user.user
            )
    except visits.VisitError as error:
        flash(f"The escort was not changed. {error}", "error")
    else:
        flash(f"{visit.visitor_name} is escorted by {visit.escort_name}.", "ok")

    return _back(visit, "visit")


@bp.post("/<int:visit_id>/sign-out")
@allow("front_desk", "guard", "security_manager")
def sign_out(visit_id: int):
    """Sign a visitor out from the console, e.g. one who left without the kiosk."""
    visit = _visit_or_404(visit_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)

    try:
        with transaction():
            visits.sign_out(
                db(),
                site_id=visit.site_id,
                badge_number=visit.badge_number,
                actor=current_user.user,
            )
    except visits.VisitError as error:
        flash(str(error), "error")
    else:
        flash(f"{visit.visitor_name} signed out.", "ok")

    return redirect(url_for("visits.today"))


@bp.post("/<int:visit_id>/close")
@allow("front_desk", "guard", "security_manager")
def close(visit_id: int):
    """Close the visit of someone who left without signing out, with the reason."""
    visit = _visit_or_404(visit_id)
    form = CloseVisitForm()
    if not form.validate_on_submit():
        abort(400)

    try:
        with transaction():
            visits.close_visit(
                db(), visit, reason=form.reason.data, actor=current_user.user
            )
    except visits.VisitError as error:
        flash(f"The visit of {visit.visitor_name} was not closed. {error}", "error")
    else:
        flash(f"The visit of {visit.visitor_name} is closed.", "ok")

    return redirect(url_for("visits.today"))
