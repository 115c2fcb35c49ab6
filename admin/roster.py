"""Who is on site now, the evacuation muster list, and roll calls on guards' phones.

The roster lists every visitor and driver on the premises (gatekeeper.roster) with
their host or carrier and escort, and prints as a muster list to carry to the
assembly point. A roll call snapshots the roster; guards mark people accounted for
from their phones, and each guard's page picks up the others' marks by itself.

For guards and security managers (CTPAT 4.7: the people who run an evacuation).
Every page that shows who is on site is recorded in the audit trail. The page's
refresh of the marks is not: it holds no visitor's name, only which lines are
marked and by which guard, and recording it every few seconds would bury the
trail under one page read.
"""

import logging
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from admin.access import allow, current_site, require_site
from gatekeeper import audit, roll_calls, roster
from gatekeeper.db import read_only, utcnow
from gatekeeper.models import RollCall, RollCallMark, Site
from gatekeeper.web import client_address, db, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("roster", __name__)

ROSTER_ROLES = ("guard", "security_manager")
KIND_LABELS = {"visit": "Visitor", "pickup": "Driver"}


class StartForm(FlaskForm):
    note = StringField("Why (optional): fire alarm, drill…")


class CloseForm(FlaskForm):
    note = StringField("Note for the record (optional)")


class MarkForm(FlaskForm):
    """A mark or its undo: a form only for its CSRF token."""


def record_read(action: str, site_id: int, target: str, **detail) -> None:
    """Keep a page's reading of personal data in the audit trail, then read on."""
    # A GET reads under SQLite's shared lock (gatekeeper.db): that transaction ends
    # first so the event's own takes the write lock at once, and the page's reads
    # that follow start a reader's transaction again.
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

    read_only(db())


def _roll_call_or_404(roll_call_id: int) -> RollCall:
    roll_call = db().get(RollCall, roll_call_id)
    if roll_call is None:
        abort(404)

    require_site(roll_call.site_id)
    return roll_call


def _site_of(roll_call: RollCall) -> Site:
    """The roll call's site, one of the account's own (require_site checked it)."""
    return next(site for site in current_user.sites if site.id == roll_call.site_id)


def _mark_or_404(roll_call: RollCall, mark_id: int) -> RollCallMark:
    mark = db().get(RollCallMark, mark_id)
    if mark is None or mark.roll_call_id != roll_call.id:
        abort(404)

    return mark


@bp.get("/")
@allow(*ROSTER_ROLES)
def index():
    """Everyone on site now, flagged where not yet let in; prints as a muster list."""
    site = current_site()
    record_read("roster.viewed", site.id, f"site:{site.code}")
    now = utcnow()
    people = roster.on_site(db(), site, now)
    return render_template(
        "console/roster/index.html",
        site=site,
        people=people,
        counts=roster.counts(people),
        now=now,
        kinds=KIND_LABELS,
        open_roll_call=roll_calls.open_roll_call(db(), site.id),
        start_form=StartForm(formdata=None),
    )


@bp.post("/roll-calls")
@allow(*ROSTER_ROLES)
def start_roll_call():
    """Start the site's roll call, or join the one already open."""
    form = StartForm()
    site = current_site()
    if not form.validate_on_submit():
        abort(400)

    try:
        with transaction():
            roll_call, started = roll_calls.start(
                db(),
                site,
                actor=current_user.user,
                note=form.note.data,
                address=client_address(),
            )
    except roll_calls.RollCallError as error:
        flash(f"No roll call was started. {error}", "error")
        return redirect(url_for("roster.index"))

    if started:
        flash("Roll call started: mark each person as you find them.", "ok")
    else:
        flash(
            f"A roll call was already open, started by {roll_call.started_by}; "
            "you joined it.",
            "ok",
        )

    return redirect(url_for("roster.roll_call", roll_call_id=roll_call.id))


@bp.get("/roll-calls")
@allow(*ROSTER_ROLES)
def roll_calls_index():
    """The site's roll calls, the latest first, with how many were accounted for."""
    site = current_site()
    record_read("roll_calls.viewed", site.id, f"site:{site.code}")
    found = roll_calls.recent(db(), site.id)
    return render_template(
        "console/roster/roll_calls.html",
        site=site,
        roll_calls=found,
        tallies=roll_calls.tallies(db(), [rc.id for rc in found]),
    )


@bp.get("/roll-calls/<int:roll_call_id>")
@allow(*ROSTER_ROLES)
def roll_call(roll_call_id: int):
    """One roll call: everyone it listed, marked or not, and who marked them."""
    found = _roll_call_or_404(roll_call_id)
    site = _site_of(found)
    record_read("roll_call.viewed", site.id, f"roll_call:{found.id}")
    entries = roll_calls.entries(db(), found)
    return render_template(
        "console/roster/roll_call.html",
        site=site,
        roll_call=found,
        entries=entries,
        marked=sum(1 for entry in entries if entry.marked),
        kinds=KIND_LABELS,
        mark_form=MarkForm(formdata=None),
        close_form=CloseForm(formdata=None),
    )


@bp.get("/roll-calls/<int:roll_call_id>/marks.json")
@allow(*ROSTER_ROLES)
def roll_call_marks(roll_call_id: int):
    """The roll call's marks for the guards' pages, which redraw from them."""
    found = _roll_call_or_404(roll_call_id)
    return jsonify(roll_calls.state(db(), found, _site_of(found).timezone))


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _answer(roll_call: RollCall, mark: RollCallMark, message: str, *, ok: bool):
    """The script's JSON, or back to the roll call at the person's line."""
    if _wants_json():
        state = roll_calls.state(db(), roll_call, _site_of(roll_call).timezone)
        return jsonify(ok=ok, message=message, **state), 200 if ok else 409

    flash(message, "ok" if ok else "error")
    return redirect(
        url_for("roster.roll_call", roll_call_id=roll_call.id, _anchor=f"m{mark.id}")
    )


@bp.post("/roll-calls/<int:roll_call_id>/marks/<int:mark_id>")
@allow(*ROSTER_ROLES)
def mark(roll_call_id: int, mark_id: int):
    """Mark one person accounted for; a person already marked stays as marked."""
    found = _roll_call_or_404(roll_call_id)
    row = _mark_or_404(found, mark_id)
    if not MarkForm().validate_on_submit():
        abort(400)

    try:
        with transaction():
            outcome = roll_calls.mark(
                db(), found, row.id, actor=current_user.user, address=client_address()
            )
    except roll_calls.RollCallError as error:
        return _answer(found, row, str(error), ok=False)

    if outcome.recorded:
        return _answer(found, row, f"{row.person} is accounted for.", ok=True)

    at = outcome.mark.marked_at.astimezone(ZoneInfo(_site_of(found).timezone))
    return _answer(
        found,
        row,
        f"{row.person} was already accounted for by {outcome.mark.marked_by} "
        f"at {at:%H:%M}.",
        ok=True,
    )


@bp.post("/roll-calls/<int:roll_call_id>/marks/<int:mark_id>/undo")
@allow(*ROSTER_ROLES)
def unmark(roll_call_id: int, mark_id: int):
    """Undo a mark made by mistake while the roll call is open."""
    found = _roll_call_or_404(roll_call_id)
    row = _mark_or_404(found, mark_id)
    if not MarkForm().validate_on_submit():
        abort(400)

    try:
        with transaction():
            roll_calls.unmark(
                db(), found, row.id, actor=current_user.user, address=client_address()
            )
    except roll_calls.RollCallError as error:
        return _answer(found, row, str(error), ok=False)

    return _answer(found, row, f"{row.person} is no longer marked.", ok=True)


@bp.post("/roll-calls/<int:roll_call_id>/close")
@allow(*ROSTER_ROLES)
def close_roll_call(roll_call_id: int):
    """Close the roll call; it stays readable with every mark."""
    found = _roll_call_or_404(roll_call_id)
    form = CloseForm()
    if not form.validate_on_submit():
        abort(400)

    try:
        with transaction():
            roll_calls.close(
                db(),
                found,
                actor=current_user.user,
                note=form.note.data,
                address=client_address(),
            )
    except roll_calls.RollCallError as error:
        flash(f"Nothing changed. {error}", "error")
    else:
        tally = roll_calls.tallies(db(), [found.id])[found.id]
        missing = f"{tally.missing} not accounted for" if tally.missing else "none"
        flash(
            f"Roll call closed: {tally.marked} of {tally.total} accounted for, "
            f"{missing}.",
            "ok" if not tally.missing else "error",
        )

    return redirect(url_for("roster.roll_call", roll_call_id=found.id))
