"""Discrepancy and incident cases (CTPAT 7.27, 7.37, 6.1).

A seal mismatch, a broken or tampered seal, a driver or truck that differs from
the appointment, an ID refused, a driver who left without being logged out: each
is a case with a status, notes, who was told and a resolution, all kept in the
log. Guards read cases and add notes; a security manager decides on a seal
mismatch (release the trailer with that seal, or hold it) and closes cases.
"""

import logging

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from admin.access import allow, current_site, require_site
from gatekeeper import cases, pickups
from gatekeeper.models import Case, Pickup, Site
from gatekeeper.web import db, read_beside, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("cases", __name__)

READERS = ("guard", "security_manager")
MANAGER = "security_manager"
DECISION_LABELS = {"release": "released", "hold": "held"}


class NoteForm(FlaskForm):
    note = TextAreaField("Note")
    notified = StringField("Who was told (optional)")


class CloseForm(FlaskForm):
    resolution = TextAreaField("Resolution")


class SealDecisionForm(FlaskForm):
    """Release or hold; the button pressed says which."""

    decision = HiddenField()
    note = StringField("Why")


@bp.app_context_processor
def seal_decisions_alert() -> dict:
    """How many seal mismatches wait for a security manager, for the console banner."""
    if not current_user.is_authenticated or current_user.role != MANAGER:
        return {"seal_decisions": 0}

    waiting = read_beside(
        lambda: cases.decisions_waiting(db(), current_user.site_ids),
        0,
        "the seal decisions waiting",
    )
    return {"seal_decisions": waiting}


def _case_or_404(case_id: int) -> Case:
    case = db().get(Case, case_id)
    if case is None:
        abort(404)

    require_site(case.site_id)
    return case


@bp.get("/")
@allow(*READERS)
def index():
    """The site's open cases, then the latest closed ones."""
    site = current_site()
    return render_template(
        "console/cases/index.html",
        site=site,
        open_cases=cases.recent(db(), site.id, status="open"),
        closed_cases=cases.recent(db(), site.id, status="closed", limit=50),
        kinds=cases.KINDS,
        decisions=DECISION_LABELS,
    )


@bp.get("/<int:case_id>")
@allow(*READERS)
def show(case_id: int):
    case = _case_or_404(case_id)
    return _case_page(case)


def _case_page(case: Case, *, note_form=None, close_form=None, status=200):
    waiting = case.kind == "seal_mismatch" and case.decision is None
    return render_template(
        "console/cases/show.html",
        case=case,
        site=db().get(Site, case.site_id),
        pickup=db().get(Pickup, case.pickup_id) if case.pickup_id else None,
        history=cases.history(db(), case),
        kinds=cases.KINDS,
        decisions=DECISION_LABELS,
        note_form=note_form or NoteForm(formdata=None, notified=case.notified),
        close_form=close_form or CloseForm(formdata=None),
        decision_form=SealDecisionForm(formdata=None),
        is_manager=current_user.role == MANAGER,
        waiting_decision=waiting,
    ), status


@bp.post("/<int:case_id>/notes")
@allow(*READERS)
def add_note(case_id: int):
    """Add a note, and who was told; notes are log entries and never change."""
    case = _case_or_404(case_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            with transaction():
                cases.add_note(
                    db(),
                    case,
                    form.note.data,
                    notified=form.notified.data or "",
                    actor=current_user.user,
                )
        except cases.CaseError as error:
            form.note.errors.append(str(error))
        else:
            flash("Note added.", "ok")
            return redirect(url_for("cases.show", case_id=case.id))

    return _case_page(case, note_form=form, status=400)


@bp.post("/<int:case_id>/close")
@allow(MANAGER)
def close(case_id: int):
    case = _case_or_404(case_id)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            with transaction():
                cases.close(db(), case, form.resolution.data, actor=current_user.user)
        except cases.CaseError as error:
            form.resolution.errors.append(str(error))
        else:
            flash(f"Case {case.id} is closed.", "ok")
            return redirect(url_for("cases.show", case_id=case.id))

    return _case_page(case, close_form=form, status=400)


@bp.post("/<int:case_id>/seal-decision")
@allow(MANAGER)
def decide_seal(case_id: int):
    """Release the trailer with the seal the guard found, or hold it (6.1)."""
    case = _case_or_404(case_id)
    form = SealDecisionForm()
    if not form.validate_on_submit():
        abort(400)

    try:
        with transaction():
            pickups.decide_seal(
                db(),
                case,
                form.decision.data or "",
                note=form.note.data or "",
                actor=current_user.user,
            )
    except pickups.PickupError as error:
        flash(f"Nothing was decided. {error}", "error")
    else:
        flash(
            f"Seal {case.seal_number} {DECISION_LABELS[case.decision]}. "
            + (
                "The guard can now log the driver out with it."
                if case.decision == "release"
                else "The trailer stays until it is resealed with the assigned seal."
            ),
            "ok",
        )

    return redirect(url_for("cases.show", case_id=case.id))
