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
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, case, func, literal, type_coerce
from sqlalchemy.orm import Session

from gatekeeper import search
from gatekeeper.models import ID_TYPES, Pickup, Site, Visit
from gatekeeper.pickups import ID_LABELS

BOM = "\ufeff"
MISSING = object()
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


def csv_text(
    header: Sequence[str], rows: Iterable[Sequence], *, neutralised: bool = False
) -> Iterator[str]:
    """The CSV document in chunks: the byte-order mark and header, then the rows.

    Every cell is neutralised unless the rows say they are already (`rows()`
    makes its cells so, column by column, which is what makes it fast).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(name) for name in header])
    yield BOM + _drain(buffer)

    if not neutralised:
        rows = ([neutralise(value) for value in row] for row in rows)

    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
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
    labels = {
        "Visitor type": type_labels or {},
        "Photo ID type": ID_TYPES,
        "Photo ID checked": ID_LABELS,
    }
    selected = [
        _cell(name, column, labels.get(name)).label(f"cell_{n}")
        for n, (name, column) in enumerate(columns)
    ]
    query = search.matching(session, site, criteria, now=now, columns=selected)
    # yield_per streams: a server-side cursor on PostgreSQL, and SQLite's own
    # cursor, fetched in batches; the ORM keeps nothing of rows already written.
    result = session.execute(query.execution_options(yield_per=FETCH_ROWS))
    local = LocalTime(ZoneInfo(site.timezone))
    # Only the times are left to make here; a million rows make twenty million
    # cells, and a Python call for each would cost more than reading them.
    times = [
        (n, 10 if name == "Date" else 16)
        for n, (name, column) in enumerate(columns)
        if _is_time(column)
    ]
    for values in result:
        row = list(values)
        for n, width in times:
            if row[n] is not None:
                row[n] = local.text(row[n])[:width]

        yield row


def _is_time(column) -> bool:
    # A TypeDecorator (the UTC timestamps) names its stored type's Python type.
    return getattr(column.type, "impl_instance", column.type).python_type is datetime


def _cell(name: str, column, words: dict | None):
    """The column as the database can already give its cell: codes as words,
    yes or no, text neutralised as neutralise() does it; a time as stored (naive
    UTC, text on SQLite), for LocalTime."""
    if _is_time(column):
        return type_coerce(column, String)

    if words:
        return case(words, value=column, else_=column)

    kind = column.type.python_type
    if kind is bool:
        return case((column.is_(True), "yes"), (column.is_(False), "no"))

    if kind is str:
        starts = func.substr(column, 1, 1).in_(FORMULA_STARTS)
        return case((starts, literal("'", String) + column), else_=column)

    return column


class LocalTime:
    """Stored UTC times as the site's local time, by the UTC offset of each day.

    A zone's offset changes on a few days a year: on every other day the offset
    at its first and last instant agree, and holds all day, so converting a
    million timestamps costs a look-up and an addition each, not a time-zone
    calculation.
    """

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        # UTC day (ISO text from SQLite, a date from PostgreSQL) to its offset, or
        # None on a day the offset changes.
        self.offsets: dict[str | date, timedelta | None] = {}

    def text(self, stored: datetime | str) -> str:
        """The ISO text of a stored naive UTC time (text on SQLite), local."""
        if isinstance(stored, str):
            day, value = stored[:10], datetime.fromisoformat(stored)
        else:
            day, value = stored.date(), stored

        offset = self.offsets.get(day, MISSING)
        if offset is MISSING:
            offset = self.offsets[day] = self._offset_of(value)

        if offset is None:
            aware = value.replace(tzinfo=UTC).astimezone(self.zone)
            return aware.replace(tzinfo=None).isoformat(" ")

        return (value + offset).isoformat(" ")

    def _offset_of(self, value: datetime) -> timedelta | None:
        """The offset that holds all through value's UTC day, if one does."""
        start = value.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=UTC)
        last = start + timedelta(days=1, microseconds=-1)
        first = start.astimezone(self.zone).utcoffset()
        return first if first == last.astimezone(self.zone).utcoffset() else None
