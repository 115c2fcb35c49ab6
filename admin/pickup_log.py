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

from flask import Blueprint, render_template, request

from admin import records
from admin.access import allow, current_site
from gatekeeper import cases, mail, pickups
from gatekeeper.db import utcnow
from gatekeeper.models import Pickup
from gatekeeper.web import db

bp = Blueprint("pickup_log", __name__)

READERS = ("guard", "security_manager")
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
    page = render_template(
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
    )
    records.record_read(
        "log.viewed",
        site.id,
        "log:pickups",
        first=first.isoformat(),
        last=last.isoformat(),
        rows=len(rows),
    )
    return page, 400 if problem else 200


@bp.get("/<int:pickup_id>")
@allow(*READERS)
def show(pickup_id: int):
    """One pickup: its fields, log entries, cases, consignee notice and photos."""
    pickup = records.pickup_or_404(pickup_id)
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
