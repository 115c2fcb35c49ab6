"""The staff console: front desk, guards, security managers, administrators."""

from collections.abc import Mapping

from flask import Flask

from admin import access, audit_trail, auth, badges, console, kiosks, users, visits
from gatekeeper import web
from gatekeeper.config import load_settings

# The camera stays allowed for scanning badges with a guard's phone, which is not
# built yet (a USB scanner types the code today); nothing else is needed.
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
    app.register_blueprint(users.bp, url_prefix="/admin/users")
    app.register_blueprint(kiosks.bp, url_prefix="/admin/kiosks")
    app.register_blueprint(audit_trail.bp, url_prefix="/audit")
