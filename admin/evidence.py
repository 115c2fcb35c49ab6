"""The evidence pack in the console: a security manager picks a range of days and
downloads the ZIP to hand a CTPAT validator (see gatekeeper.evidence).

The pack is read from one snapshot of the database by a session of its own, after
the request's own transaction has ended, so that on SQLite a long pack never holds
the write lock the kiosks need. Each export is recorded in the audit trail with the
range, what each part held, the log's head hash and the ZIP's SHA-256, so a pack
handed over can later be matched to the moment it was made.
"""

import json
import logging
import tempfile
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, send_file
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField
from wtforms.validators import InputRequired

from admin.access import allow, current_site
from gatekeeper import audit, evidence
from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent, Site
from gatekeeper.web import client_address, db, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("evidence", __name__)

MANAGER = "security_manager"
ACTION = "evidence.exported"
# A pack up to this size is built in memory; a larger one spills to a temporary
# file that only this process can read, deleted once it has been sent.
SPOOL_BYTES = 16 * 1024 * 1024
RECENT_EXPORTS = 10


class RangeForm(FlaskForm):
    first = DateField(
        "First day", validators=[InputRequired("Enter the first day, e.g. 2026-01-01.")]
    )
    last = DateField(
        "Last day", validators=[InputRequired("Enter the last day, e.g. 2026-03-31.")]
    )


def _today(site: Site) -> date:
    return utcnow().astimezone(ZoneInfo(site.timezone)).date()


def _page(site: Site, form: RangeForm, status: int = 200):
    query = (
        select(AuditEvent)
        .where(AuditEvent.action == ACTION, AuditEvent.site_id == site.id)
        .order_by(AuditEvent.id.desc())
        .limit(RECENT_EXPORTS)
    )
    return render_template(
        "console/evidence/index.html",
        site=site,
        form=form,
        exports=[_export(event) for event in db().scalars(query)],
        max_days=evidence.MAX_DAYS,
    ), status


def _export(event: AuditEvent) -> dict:
    detail = _detail(event)
    return {
        "at": event.at,
        "actor": event.actor,
        "first": detail.get("first", ""),
        "last": detail.get("last", ""),
        "sha256": detail.get("sha256", ""),
        "verified": detail.get("verified"),
    }


def _detail(event: AuditEvent) -> dict:
    try:
        found = json.loads(event.detail)
    except ValueError:
        return {}

    return found if isinstance(found, dict) else {}


@bp.get("/")
@allow(MANAGER)
def index():
    site = current_site()
    today = _today(site)
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    form = RangeForm(formdata=None, first=start, last=today)
    return _page(site, form)


@bp.post("/")
@allow(MANAGER)
def download():
    """Build the pack of the chosen days, record the export, and send the ZIP."""
    site = current_site()
    form = RangeForm()
    if not form.validate_on_submit():
        return _page(site, form, 400)

    first, last = form.first.data, form.last.data
    try:
        evidence.check_range(first, last)
    except evidence.RangeError as error:
        form.last.errors.append(str(error))
        return _page(site, form, 400)

    # End the request's transaction first: on SQLite a form's POST holds the
    # write lock from its first query, and the kiosks must not wait for the pack.
    db().commit()
    # The response closes the file once sent, so no context manager here.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        pack = _build(site.id, first, last, spool)
        _record(site, pack)
    except BaseException:
        spool.close()
        raise

    logger.info("evidence pack of %s, %s to %s, sent", site.code, first, last)
    return send_file(
        spool,
        mimetype="application/zip",
        as_attachment=True,
        download_name=evidence.file_name(site, first, last),
    )


def _build(site_id: int, first: date, last: date, spool) -> evidence.Pack:
    sessions = current_app.extensions["gatekeeper.sessions"]
    with sessions() as reader:
        evidence.snapshot(reader)
        site = reader.get(Site, site_id)
        pack = evidence.build(
            reader,
            site,
            first,
            last,
            spool,
            generated_by=f"{current_user.display_name} ({current_user.username})",
        )

    pack.sha256, pack.size = evidence.digest(spool)
    return pack


def _record(site: Site, pack: evidence.Pack) -> None:
    with transaction():
        audit.record(
            db(),
            ACTION,
            actor=current_user.user,
            site_id=site.id,
            target=f"site:{site.code}",
            address=client_address(),
            first=pack.first.isoformat(),
            last=pack.last.isoformat(),
            sha256=pack.sha256,
            bytes=pack.size,
            verified=pack.report.ok,
            head_hash=pack.report.head_hash,
            rows=pack.counts,
        )
