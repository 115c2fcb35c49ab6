"""Periodic reviews: a security manager records one, and sees when each is due.

The log review, the camera-footage review (CTPAT 9.15), the guard-procedure audit
(10.10) and the access review (4.7) share one form: the period, what was sampled,
the findings and the corrective action (gatekeeper.reviews). A review past its due
date puts a banner on every page its site's security managers open.
"""

import logging
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from admin.access import allow, current_site, require_site
from admin.roster import record_read
from gatekeeper import reviews
from gatekeeper.db import utcnow
from gatekeeper.models import Review
from gatekeeper.web import client_address, db, read_beside, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("reviews", __name__)

MANAGER = "security_manager"
STATE_LABELS = {
    "never": "none recorded yet",
    "overdue": "overdue",
    "due_soon": "due soon",
    "ok": "up to date",
}


class ReviewForm(FlaskForm):
    kind = SelectField(
        "Kind of review",
        choices={
            key: f"{kind.label} ({kind.criterion})"
            for key, kind in reviews.KINDS.items()
        },
        validate_choice=False,
    )
    period_start = StringField(
        "First day of the period reviewed", render_kw={"type": "date"}
    )
    period_end = StringField(
        "Last day of the period reviewed", render_kw={"type": "date"}
    )
    sampled = TextAreaField("What was sampled")
    findings = TextAreaField("Findings")
    corrective_action = TextAreaField("Corrective action (optional)")


@bp.app_context_processor
def reviews_alert() -> dict:
    """The reviews past their due date at the account's sites, for the banner."""
    if not current_user.is_authenticated or current_user.role != MANAGER:
        return {"reviews_overdue": []}

    found = read_beside(
        lambda: reviews.overdue(db(), list(current_user.sites), utcnow()),
        [],
        "the overdue reviews",
    )
    return {"reviews_overdue": found}


def _date(field) -> date | None:
    """A field's date, None when empty; a field error for one not written right."""
    text = (field.data or "").strip()
    if not text:
        return None

    try:
        return date.fromisoformat(text)
    except ValueError:
        field.errors.append("Write the date like 2026-03-31.")
        return None


def _page(site, form: ReviewForm, status: int = 200):
    kind = request.args.get("kind")
    kind = kind if kind in reviews.KINDS else None
    return render_template(
        "console/reviews/index.html",
        site=site,
        form=form,
        kinds=reviews.KINDS,
        kind=kind,
        standings=reviews.standings(db(), site, utcnow()),
        history=reviews.history(db(), site.id, kind),
        state_labels=STATE_LABELS,
    ), status


@bp.get("/")
@allow(MANAGER)
def index():
    """Where each kind of review stands, the form for a new one, and the last ones."""
    site = current_site()
    record_read("reviews.viewed", site.id, f"site:{site.code}")
    return _page(site, ReviewForm(formdata=None))


@bp.post("/")
@allow(MANAGER)
def create():
    """Record a review; a field at fault is named on the same page."""
    site = current_site()
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)

    submission = reviews.Submission(
        kind=form.kind.data or "",
        period_start=_date(form.period_start),
        period_end=_date(form.period_end),
        sampled=form.sampled.data or "",
        findings=form.findings.data or "",
        corrective_action=form.corrective_action.data or "",
    )
    if form.period_start.errors or form.period_end.errors:
        return _page(site, form, 400)

    try:
        with transaction():
            review = reviews.record(
                db(),
                site,
                submission,
                actor=current_user.user,
                now=utcnow(),
                address=client_address(),
            )
    except reviews.ReviewError as error:
        getattr(form, error.field or "kind").errors.append(str(error))
        return _page(site, form, 400)

    flash(
        f"{reviews.KINDS[review.kind].label} recorded; the next is due on "
        f"{review.next_due.isoformat()}.",
        "ok",
    )
    return redirect(url_for("reviews.show", review_id=review.id))


@bp.get("/<int:review_id>")
@allow(MANAGER)
def show(review_id: int):
    """One review as it was recorded."""
    review = db().get(Review, review_id)
    if review is None:
        abort(404)

    require_site(review.site_id)
    site = next(s for s in current_user.sites if s.id == review.site_id)
    record_read("review.viewed", site.id, f"review:{review.id}")
    return render_template(
        "console/reviews/show.html",
        site=site,
        review=review,
        kind=reviews.KINDS[review.kind],
    )
