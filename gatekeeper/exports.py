"""CSV exports of the visitor log (CTPAT 10.2) and the pickup log (10.4).

An export is produced as it is read: the rows come from the database in batches
through one streaming query and leave as text in chunks, so its memory stays the
same for a day or for ten years. The text opens with a byte-order mark, which
spreadsheets need to read UTF-8 names correctly, and any cell a spreadsheet could
take for a formula is made plain text first (a visitor can type "=HYPERLINK(...)"
as a company name at the kiosk).
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from gatekeeper import search
from gatekeeper.models import ID_TYPES, Pickup, Site, Visit
from gatekeeper.pickups import ID_LABELS

BOM = "\ufeff"
# What a spreadsheet reads as the start of a formula, or strips before one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows fetched from the database at a time, and rows written per chunk sent.
FETCH_ROWS = 1000
CHUNK_ROWS = 200

VISIT_COLUMNS = (
    ("Record", Visit.id),
    ("Date", Visit.arrived_at),
    ("Arrived", Visit.arrived_at),
    ("Visitor's name", Visit.visitor_name),
    ("Company", Visit.company),
    ("Visitor type", Visit.visitor_type),
    ("Point of contact", Visit.host_name),
    ("Photo ID type", Visit.id_type),
    ("Photo ID status", Visit.id_status),
    ("ID verified by", Visit.id_verified_by),
    ("ID verified at", Visit.id_verified_at),
    ("ID exemption granted by", Visit.id_exemption_by),
    ("Departed", Visit.departed_at),
    ("Departed by", Visit.departed_by),
    ("Badge number", Visit.badge_number),
    ("Badge valid until", Visit.valid_until),
    ("Admission", Visit.admission),
    ("Escort required", Visit.escort_required),
    ("Escort", Visit.escort_name),
    ("ID document expired", Visit.id_document_expired),
)
PICKUP_COLUMNS = (
    ("Record", Pickup.id),
    ("Date", Pickup.arrived_at),
    ("Arrived", Pickup.arrived_at),
    ("Driver's name", Pickup.driver_name),
    ("Employer", Pickup.carrier),
    ("Truck number", Pickup.truck_number),
    ("Trailer number", Pickup.trailer_number),
    ("Departed", Pickup.departed_at),
    ("Seal number at departure", Pickup.seal_number),
    ("Reference", Pickup.reference),
    ("Status", Pickup.status),
    ("Photo ID checked", Pickup.id_type),
    ("Why not a government ID", Pickup.id_fallback_reason),
    ("Registered by", Pickup.registered_by),
    ("Registered at", Pickup.registered_at),
    ("Departed by", Pickup.departed_by),
    ("VVTT checked by", Pickup.vvtt_checked_by),
    ("ID document expired", Pickup.id_document_expired),
)


def neutralise(value: object) -> str:
    """The cell's text, with a leading quote when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text

    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """The CSV document in chunks: the byte-order mark and header, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(name) for name in header])
    yield BOM + _drain(buffer)

    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(value) for value in row])
        if count % CHUNK_ROWS == 0:
            yield _drain(buffer)

    rest = _drain(buffer)
    if rest:
        yield rest


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def filename(site: Site, criteria: search.Criteria) -> str:
    kind = "visitor-log" if criteria.log == "visits" else "pickup-log"
    return f"{kind}-{site.code}-{criteria.first}-to-{criteria.last}.csv"


def header(criteria: search.Criteria) -> list[str]:
    columns = VISIT_COLUMNS if criteria.log == "visits" else PICKUP_COLUMNS
    return [name for name, _column in columns]


def rows(
    session: Session,
    site: Site,
    criteria: search.Criteria,
    *,
    now: datetime,
    type_labels: dict[str, str] | None = None,
) -> Iterator[list]:
    """Every row the search matches, newest first, as the export's cells.

    Times are in the site's zone; codes become the words the console shows.
    """
    columns = VISIT_COLUMNS if criteria.log == "visits" else PICKUP_COLUMNS
    query = search.matching(
        session, site, criteria, now=now, columns=[column for _, column in columns]
    )
    # yield_per streams: a server-side cursor on PostgreSQL, and SQLite's own
    # cursor, fetched in batches; the ORM keeps nothing of rows already written.
    result = session.execute(query.execution_options(yield_per=FETCH_ROWS))
    zone = ZoneInfo(site.timezone)
    labels = {
        "Visitor type": type_labels or {},
        "Photo ID type": ID_TYPES,
        "Photo ID checked": ID_LABELS,
    }
    names = [name for name, _column in columns]
    for values in result:
        yield [
            _cell(name, value, zone, labels)
            for name, value in zip(names, values, strict=True)
        ]


def _cell(name: str, value: object, zone: ZoneInfo, labels: dict) -> object:
    if value is None:
        return ""

    if isinstance(value, bool):
        return "yes" if value else "no"

    if isinstance(value, datetime):
        local = value.astimezone(zone)
        return f"{local:%Y-%m-%d}" if name == "Date" else f"{local:%Y-%m-%d %H:%M}"

    if name in labels:
        return labels[name].get(value, value)

    return value
