"""The kiosk's device credential: a signed, long-lived, revocable cookie.

Enrolment binds one browser to one kiosk row; the cookie names the kiosk and
carries a random token whose hash the row keeps. Revoking the kiosk clears that
hash, so the device is turned away at its very next request.
"""

import logging

from flask import Flask, Response, current_app, g, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from gatekeeper import kiosks
from gatekeeper.web import db

logger = logging.getLogger(__name__)

COOKIE = "gk_kiosk_device"
SALT = "kiosk-device-credential"
TEN_YEARS = 10 * 365 * 24 * 3600
# What a browser that is not an enrolled kiosk may reach.
OPEN_ENDPOINTS = {"kiosk.enrol", "kiosk.healthz", "static"}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def configure(app: Flask) -> None:
    """Guard every kiosk route but enrolment behind the device credential."""

    @app.before_request
    def _require_enrolled_kiosk():
        g.kiosk = current_kiosk()
        if g.kiosk is None and request.endpoint not in OPEN_ENDPOINTS:
            return redirect(url_for("kiosk.enrol"))

        return None


def current_kiosk():
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None

    try:
        kiosk_id, token = _serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        logger.warning(
            "kiosk credential with a bad signature from %s", request.remote_addr
        )
        return None

    if not isinstance(kiosk_id, int) or not isinstance(token, str):
        return None

    return kiosks.authenticate(db(), kiosk_id, token)


def bind(response: Response, kiosk_id: int, token: str) -> None:
    """Store the device credential in the kiosk's browser."""
    settings = current_app.config["SETTINGS"]
    response.set_cookie(
        COOKIE,
        _serializer().dumps([kiosk_id, token]),
        max_age=TEN_YEARS,
        secure=settings.COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
