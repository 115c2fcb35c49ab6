"""The audit trail of staff access, read by security managers and administrators."""

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import or_, select

from admin.access import allow
from gatekeeper.models import AuditEvent
from gatekeeper.web import db

bp = Blueprint("audit", __name__)
PAGE = 100


@bp.get("/")
@allow("security_manager", "administrator")
def index():
    """Newest first, keyset-paged by id so a long trail pages at the same speed."""
    before = request.args.get("before", type=int)
    query = (
        select(AuditEvent)
        .where(
            or_(
                AuditEvent.site_id.in_(current_user.site_ids),
                AuditEvent.site_id.is_(None),
            )
        )
        .order_by(AuditEvent.id.desc())
        .limit(PAGE)
    )
    if before:
        query = query.where(AuditEvent.id < before)

    events = db().scalars(query).all()
    older = events[-1].id if len(events) == PAGE else None
    return render_template("console/audit/index.html", events=events, older=older)
