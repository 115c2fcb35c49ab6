"""The security manager's dashboard: a site's last 30 or 90 days in pictures.

Check-ins and driver arrivals per day, how long people stay, the busiest hours,
what is overdue now, the open discrepancies, how many visitors' photo IDs were
checked, and which periodic reviews are due. The figures and charts come from
gatekeeper.dashboard; each chart is followed by the same numbers as a table.
"""

from flask import Blueprint, render_template, request

from admin.access import allow, current_site
from admin.roster import record_read
from gatekeeper import cases, dashboard, reviews
from gatekeeper.db import utcnow
from gatekeeper.web import db

bp = Blueprint("dashboard", __name__)

MANAGER = "security_manager"


def _days() -> tuple[int, str | None]:
    """The period asked for, 30 days by default; a message for one not offered."""
    asked = request.args.get("days")
    if asked is None:
        return dashboard.PERIODS[0], None

    if asked.isdigit() and int(asked) in dashboard.PERIODS:
        return int(asked), None

    offered = " or ".join(str(days) for days in dashboard.PERIODS)
    return dashboard.PERIODS[0], f"Choose {offered} days; showing 30."


@bp.get("/")
@allow(MANAGER)
def index():
    """The site's dashboard for the period chosen."""
    site = current_site()
    days, problem = _days()
    record_read("dashboard.viewed", site.id, f"site:{site.code}", days=days)
    now = utcnow()
    figures = dashboard.figures(db(), site, days, now)
    return render_template(
        "console/dashboard/index.html",
        site=site,
        figures=figures,
        charts=dashboard.charts(figures),
        periods=dashboard.PERIODS,
        problem=problem,
        case_kinds=cases.KINDS,
        id_labels=dashboard.ID_STATUS_LABELS,
        weekdays=dashboard.WEEKDAYS,
        day_label=dashboard.day_label,
        standings=reviews.standings(db(), site, now),
    ), 400 if problem else 200
