"""The staff console: front desk, guards, security managers, administrators."""

from collections.abc import Mapping

from flask import Flask

from admin import (
    access,
    appointments,
    audit_trail,
    auth,
    backups,
    badges,
    carrier_api,
    cases,
    console,
    dashboard,
    evidence,
    front_desk,
    gate,
    integrity,
    invitations,
    kiosks,
    log_review,
    outbox,
    photos,
    pickup_log,
    records,
    reviews,
    roster,
    screening,
    site_rules,
    sites_admin,
    users,
    visits,
)
from gatekeeper import web
from gatekeeper.config import load_settings

# The camera is allowed for a guard's phone to scan badges; nothing else is needed.
PERMISSIONS = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"


def create_app(overrides: Mapping[str, object] | None = None) -> Flask:
    """Build the console app: settings, logging, database, security, access, pages."""
    settings = load_settings(overrides)
    app = web.new_app(__name__, settings, surface="console")
    web.configure_logging(app)
    web.configure_database(app)
    web.configure_security(app, permissions=PERMISSIONS, limiter=access.limiter)
    web.configure_i18n(app)
    web.configure_errors(app)
    access.configure(app)
    register_blueprints(app)
    return app


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(console.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(visits.bp, url_prefix="/visits")
    app.register_blueprint(badges.bp, url_prefix="/badges")
    app.register_blueprint(front_desk.bp, url_prefix="/desk")
    app.register_blueprint(photos.bp, url_prefix="/photos")
    app.register_blueprint(screening.bp, url_prefix="/screening")
    app.register_blueprint(site_rules.bp, url_prefix="/site-rules")
    app.register_blueprint(users.bp, url_prefix="/admin/users")
    app.register_blueprint(kiosks.bp, url_prefix="/admin/kiosks")
    app.register_blueprint(sites_admin.bp, url_prefix="/admin/sites")
    app.register_blueprint(backups.bp, url_prefix="/admin/backups")
    app.register_blueprint(evidence.bp, url_prefix="/evidence")
    app.register_blueprint(audit_trail.bp, url_prefix="/audit")
    app.register_blueprint(integrity.bp, url_prefix="/integrity")
    app.register_blueprint(invitations.bp, url_prefix="/invitations")
    app.register_blueprint(outbox.bp, url_prefix="/outbox")
    app.register_blueprint(gate.bp, url_prefix="/gate")
    app.register_blueprint(appointments.bp, url_prefix="/appointments")
    app.register_blueprint(pickup_log.bp, url_prefix="/pickups")
    app.register_blueprint(cases.bp, url_prefix="/cases")
    app.register_blueprint(log_review.bp, url_prefix="/logs")
    app.register_blueprint(records.bp, url_prefix="/records")
    app.register_blueprint(carrier_api.bp, url_prefix="/api/v1")
    app.register_blueprint(roster.bp, url_prefix="/roster")
    app.register_blueprint(dashboard.bp, url_prefix="/dashboard")
    app.register_blueprint(reviews.bp, url_prefix="/reviews")
