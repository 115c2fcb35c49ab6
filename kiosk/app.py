"""The touchscreen app that visitors and drivers use. It serves no log back."""

from collections.abc import Mapping

from flask import Flask

from gatekeeper import web
from gatekeeper.config import load_settings
from kiosk import check_in, device, pickup, views

# The kiosk needs the camera for ID photos and badges; nothing else.
PERMISSIONS = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"


def create_app(overrides: Mapping[str, object] | None = None) -> Flask:
    """Build the kiosk app: settings, logging, database, security, language, pages."""
    settings = load_settings(overrides)
    app = web.new_app(__name__, settings, surface="kiosk")
    web.configure_logging(app)
    # Check-ins from several kiosks wait only for each other's writes (SQLite).
    web.configure_database(app, reader_first=True)
    # The device is identified before CSRF and rate limits are checked, so even
    # their error pages know the kiosk's site and idle time and reset themselves.
    device.configure(app)
    web.configure_security(app, permissions=PERMISSIONS, limiter=views.limiter)
    web.configure_i18n(app, offered=views.offered_languages)
    web.configure_errors(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(check_in.bp, url_prefix="/check-in")
    app.register_blueprint(pickup.bp, url_prefix="/pickup")
    return app
