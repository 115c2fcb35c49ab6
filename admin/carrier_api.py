"""The JSON endpoint a carrier's TMS posts its pickup pre-notifications to (10.7).

POST /api/v1/appointments with `Authorization: Bearer <key>` and a body of
{"appointments": [{...}, ...]}, each object holding the fields of a CSV row. The
answer is {"imported": n, "refused": [{"row": i, "errors": [...]}]}: each row is
checked on its own and a bad row imports nothing of itself. Rows are counted from 1.

The key is the credential, so this one endpoint is open to the console's access
guard (no staff session) and takes no CSRF token: a browser cannot send the
header by itself, and a session cookie, staff's or a kiosk's, opens nothing here.
The carrier's name on every row is the key's carrier, whatever the row says.
"""

import json
import logging

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from admin.access import PUBLIC, allow, limiter
from gatekeeper import appointments
from gatekeeper.db import utcnow
from gatekeeper.models import Site
from gatekeeper.web import csrf, db, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("carrier_api", __name__)

RATE = "60 per minute"


def _error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gatekeeper"'

    return response


@bp.errorhandler(TooManyRequests)
def _too_many(error: TooManyRequests):
    """A TMS reads JSON, not the console's error page."""
    return _error(429, "Too many requests; wait a minute and send again.")


def _bearer_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer":
        return None

    return key.strip() or None


def _read_body() -> bytes:
    """The request body, refused past the import size limit before it is all read."""
    if (request.content_length or 0) > appointments.MAX_BYTES:
        raise RequestEntityTooLarge()

    data = request.stream.read(appointments.MAX_BYTES + 1)
    if len(data) > appointments.MAX_BYTES:
        raise RequestEntityTooLarge()

    return data


def _rows(data: bytes) -> list:
    """The appointments of the body; ValueError names what is wrong with its shape."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"The body is not valid JSON: {error}.") from error

    if not isinstance(document, dict) or set(document) != {"appointments"}:
        raise ValueError('The body must be an object with one key, "appointments".')

    rows = document["appointments"]
    if not isinstance(rows, list) or not rows:
        raise ValueError('"appointments" must be a list of at least one object.')

    if len(rows) > appointments.MAX_ROWS:
        raise ValueError(f"At most {appointments.MAX_ROWS} appointments at a time.")

    return rows


@bp.post("/appointments", endpoint="appointments")
@allow(PUBLIC)
@csrf.exempt
@limiter.limit(RATE)
def post_appointments():
    """Import a carrier's appointments; a report of each row comes back."""
    carrier = appointments.carrier_for_key(db(), _bearer_key())
    if carrier is None:
        return _error(401, "A valid carrier API key is required.")

    try:
        data = _read_body()
    except RequestEntityTooLarge:
        return _error(413, f"The body is larger than {appointments.MAX_BYTES} bytes.")

    if request.mimetype != "application/json":
        return _error(415, "Send the body as application/json.")

    try:
        rows = _rows(data)
    except ValueError as error:
        return _error(400, str(error))

    with transaction():
        report = appointments.import_rows(
            db(),
            db().get(Site, carrier.site_id),
            rows,
            actor=f"carrier:{carrier.name}",
            source="api",
            carrier=carrier,
            now=utcnow(),
        )

    logger.info(
        "carrier %s posted %s appointments, %s refused",
        carrier.id,
        len(rows),
        len(report.refused),
    )
    return jsonify(
        imported=report.imported,
        refused=[
            {"row": number, "errors": errors} for number, errors in report.refused
        ],
    )
