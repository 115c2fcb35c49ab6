"""CSV exports of the visitor log (CTPAT 10.2) and the pickup log (10.4).

The database writes the CSV: each row of the query is one whole line, its cells
already in their final text, so that Python only joins lines into chunks. Doing
the cells in Python (times, the csv writer, a row object per row) cost several
times what reading the rows did.

What each cell holds:

- text is always quoted, with its quotes doubled, and a leading quote is added
  when a spreadsheet would run it as a formula (a visitor can type
  "=HYPERLINK(...)" as a company name at the kiosk); NULL is an empty cell;
- codes become the words the console shows, then are treated as text;
- flags are yes or no, numbers their digits;
- times are the site's local time, "YYYY-MM-DD HH:MM": the zone's UTC offsets
  are worked out here, from zoneinfo, and the SQL adds each time's offset.

The rows come through one streaming query in batches (a server-side cursor on
PostgreSQL) and leave in chunks, so memory stays the same for a day or for ten
years. The text opens with a byte-order mark, which spreadsheets need to read
UTF-8 names correctly. Every value in the SQL is a bound parameter: nothing a
person typed becomes SQL text.

csv_text and neutralise do the same in Python for the evidence pack's tables.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Interval, String, and_, case, func, literal, select
from sqlalchemy.orm import Session

from gatekeeper import search
from gatekeeper.models import ID_TYPES, Pickup, Site, Visit
from gatekeeper.pickups import ID_LABELS, local_range

BOM = "\ufeff"
# What a spreadsheet reads as the start of a formula, or strips before one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows fetched from the database at a time, which is also the rows per chunk sent.
FETCH_ROWS = 1000
# Rows written per chunk by csv_text.
CHUNK_ROWS = 200
# How far past the range's end, or past now, the UTC offsets of the site's zone are
# worked out for the times of an export (see _LocalTime).
MARGIN = timedelta(days=60)

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
    """A CSV document made in Python, in chunks: the byte-order mark and header,
    then the rows, every cell neutralised. For the evidence pack's tables; the
    logs, which can hold millions of rows, are exported by document()."""
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


def document(
    session: Session,
    site: Site,
    criteria: search.Criteria,
    *,
    now: datetime,
    type_labels: dict[str, str] | None = None,
) -> Iterator[str]:
    """The CSV of every row the search matches, newest first, in chunks: the
    byte-order mark and header, then whole lines, each ending in CRLF."""
    criteria.check()
    yield from csv_text(header(criteria), ())

    line = _line(session, site, criteria, now=now, type_labels=type_labels or {})
    query = search.matching(session, site, criteria, now=now, columns=[line])
    # yield_per streams: a server-side cursor on PostgreSQL, SQLite's own cursor,
    # fetched in batches. On the session's connection, in its transaction, and in
    # Core: a line is one string, and an ORM row around it would cost more.
    options = {"yield_per": FETCH_ROWS}
    with session.connection().execute(query, execution_options=options) as result:
        # The first batch through the Result, which holds any row it read ahead
        # (it reads one from a server-side cursor); the rest straight from the
        # driver's cursor, as plain tuples: the Result's work per row cost a
        # sixth of the export's time.
        rows = result.fetchmany(FETCH_ROWS)
        cursor = result.cursor if len(rows) == FETCH_ROWS else None
        while rows:
            yield "\r\n".join([line for (line,) in rows]) + "\r\n"
            rows = cursor.fetchmany(FETCH_ROWS) if cursor else []


def _line(
    session: Session,
    site: Site,
    criteria: search.Criteria,
    *,
    now: datetime,
    type_labels: dict[str, str],
):
    """The SQL expression of one row's whole CSV line.

    The line is one call of the database's printf (SQLite) or format()
    (PostgreSQL): a format of the cells' shapes, joined by commas, and each
    cell's values. Both write a NULL given to %s as nothing, which makes a
    missing value an empty cell without a test of its own.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    columns = VISIT_COLUMNS if criteria.log == "visits" else PICKUP_COLUMNS
    labels = {
        "Visitor type": type_labels,
        "Photo ID type": ID_TYPES,
        "Photo ID checked": ID_LABELS,
    }
    local = _LocalTime.covering(session, site, criteria, now=now)
    shapes, values = [], []
    for name, column, widths in _runs(columns):
        kind = _python_type(column)
        if kind is datetime:
            shape, parts = local.cells(column, widths)
        elif labels.get(name):
            # The words are known here: each is made a cell once, in Python.
            cells = {code: _quoted(word) for code, word in labels[name].items()}
            unknown = _text(column, postgres=postgres)
            shape, parts = "%s", [case(cells, value=column, else_=unknown)]
        elif kind is str and not column.expression.nullable:
            shape, parts = _text_in_format(column, postgres=postgres)
        elif kind is str:
            shape, parts = "%s", [_text(column, postgres=postgres)]
        elif kind is bool:
            flag = case((column.is_(True), "yes"), (column.is_(False), "no"))
            shape, parts = "%s", [flag]
        else:
            shape, parts = "%s", [column]

        shapes.append(shape)
        values.extend(parts)

    writer = func.format if postgres else func.printf
    return writer(",".join(shapes), *values, type_=String)


def _runs(columns) -> Iterator[tuple[str, object, list[int]]]:
    """(name, column, widths) for each cell, but cells side by side from one time
    (the date, then the time of arrival) come as one, to be made together; a
    time's width is 10 for its date alone, 16 with hours and minutes."""
    n = 0
    while n < len(columns):
        name, column = columns[n]
        widths = [10 if name == "Date" else 16]
        while n + 1 < len(columns) and columns[n + 1][1] is column:
            n += 1
            widths.append(10 if columns[n][0] == "Date" else 16)
        yield name, column, widths
        n += 1


def _python_type(column) -> type:
    # A TypeDecorator (the UTC timestamps) names its stored type's Python type.
    return getattr(column.type, "impl_instance", column.type).python_type


def _quoted(text: str) -> str:
    """A text cell made in Python as _text() makes it in SQL."""
    return '"' + neutralise(text).replace('"', '""') + '"'


def _formula_start(value, *, postgres: bool):
    """A leading quote for text a spreadsheet would run, as neutralise() adds."""
    # Every formula start sorts before "A", so text starting with a letter is
    # settled by one comparison; "C" compares bytes, whatever the locale.
    below = value.collate("C") < "A" if postgres else value < "A"
    first = func.substr(value, 1, 1)
    return case((and_(below, first.in_(FORMULA_STARTS)), "'"), else_="")


def _text(value, *, postgres: bool):
    """A text cell: quoted, quotes doubled, a leading quote when a spreadsheet
    would run it; NULL stays NULL, so the cell is empty."""
    doubled = func.replace(value, '"', '""', type_=String)
    return (
        literal('"', String) + _formula_start(value, postgres=postgres) + doubled + '"'
    )


def _text_in_format(value, *, postgres: bool) -> tuple[str, list]:
    """A text cell for a column that is never NULL, its quotes in the format:
    fewer strings made per row. SQLite's %w doubles the quotes as it writes
    them (it would write NULL as "(NULL)", hence only such columns)."""
    if postgres:
        start = _formula_start(value, postgres=True)
        return '"%s%s"', [start, func.replace(value, '"', '""', type_=String)]

    return '"%s%w"', [_formula_start(value, postgres=False), value]


class _LocalTime:
    """Stored times (naive UTC) as the site's local time, made by the database.

    The zone's UTC offsets over the span the rows' times can fall in are worked
    out here, from zoneinfo, and a CASE picks each time's offset: it tests the
    instants the offset changes at by halves, so a time takes a comparison or
    two however many years the span covers. That is cheaper than PostgreSQL's
    own time-zone functions, and SQLite has none.
    """

    SHAPES = {
        "postgresql": {10: "YYYY-MM-DD", 16: "YYYY-MM-DD HH24:MI"},
        "sqlite": {10: "%Y-%m-%d", 16: "%Y-%m-%d %H:%M"},
    }

    def __init__(self, zone: ZoneInfo, start: datetime, end: datetime, dialect: str):
        # (since, offset) for each period an offset holds; the first has no start.
        self.periods = [(None, _offset(zone, start)), *_changes(zone, start, end)]
        self.dialect = dialect
        # SQLite reads a zone suffix ("+06:00") faster than a modifier ("-21600
        # seconds"), but a suffix has whole minutes; so had every offset since
        # 1972.
        minute = timedelta(minutes=1)
        self.suffixes = all(
            offset % minute == timedelta(0) for _, offset in self.periods
        )

    @classmethod
    def covering(
        cls, session: Session, site: Site, criteria: search.Criteria, *, now: datetime
    ) -> "_LocalTime":
        """The offsets from a day before the first arrival in the range to well
        after its end, or after now: a badge is valid 72 hours at most, and a
        departure is not in the future. (The first arrival is read from an
        index: a range back to 2000 would make a deeper CASE.) A time outside
        the span would get the offset of its nearer end."""
        start, end = local_range(site, criteria.first, criteria.last)
        model = Visit if criteria.log == "visits" else Pickup
        first = session.scalar(
            select(func.min(model.arrived_at)).where(
                model.site_id == site.id,
                model.arrived_at >= start,
                model.arrived_at < end,
            )
        )
        start = max(start, first or start) - timedelta(days=1)
        dialect = session.get_bind().dialect.name
        return cls(ZoneInfo(site.timezone), start, max(end, now) + MARGIN, dialect)

    def cells(self, column, widths: list[int]) -> tuple[str, list]:
        """One time's cells, of the widths given, as a shape and its values."""
        shapes = self.SHAPES[self.dialect]
        shape = ",".join(shapes[width] for width in widths)
        utc = len(self.periods) == 1 and not self.periods[0][1]
        if self.dialect == "postgresql":
            local = column if utc else column + self._offsets(column, self.periods)
            return "%s", [func.to_char(local, shape, type_=String)]

        # SQLite keeps a time as text, "YYYY-MM-DD HH:MM:SS.ffffff"; printf cuts
        # each cell to its width from it, or from datetime()'s local time.
        cut = ",".join(f"%.{width}s" for width in widths)
        if utc:
            return cut, [column] * len(widths)

        # Whole seconds first: SQLite rounds a fraction to the millisecond, and
        # 59.9996 seconds would show as the next minute. The UTC time is then
        # given as the local time of the opposite offset ("+06:00" for UTC-6),
        # or moved by a modifier.
        whole = func.substr(column, 1, 19, type_=String)
        shift = self._offsets(column, self.periods)
        local = [whole + shift] if self.suffixes else [whole, shift]
        if len(widths) == 1:
            return cut, [func.datetime(*local, type_=String)]

        # Several cells of one time: one strftime() instead of a datetime() each.
        return "%s", [func.strftime(shape, *local, type_=String)]

    def _offsets(self, column, periods):
        """The column's offset: an interval on PostgreSQL; on SQLite, the zone
        suffix that undoes it ("+06:00") or the modifier that adds it."""
        if len(periods) == 1:
            offset = periods[0][1]
            if self.dialect == "postgresql":
                return literal(offset, Interval)

            if self.suffixes:
                minutes = -offset // timedelta(minutes=1)
                sign = "-" if minutes < 0 else "+"
                return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

            return f"{offset // timedelta(seconds=1):+d} seconds"

        middle = len(periods) // 2
        return case(
            (column < periods[middle][0], self._offsets(column, periods[:middle])),
            else_=self._offsets(column, periods[middle:]),
        )


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset()


def _changes(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, timedelta]]:
    """Each instant from start to end the zone's UTC offset changes, with the new
    offset: found day by day, then to the second (zones change on whole seconds).
    A change undone within the same day would be missed; no zone has one."""
    changes = []
    at = start.astimezone(UTC).replace(microsecond=0)
    offset = _offset(zone, at)
    day = timedelta(days=1)
    while at < end:
        after = at + day
        if _offset(zone, after) == offset:
            at = after
            continue

        low, high = int(at.timestamp()), int(after.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if _offset(zone, datetime.fromtimestamp(middle, UTC)) == offset:
                low = middle
            else:
                high = middle

        at = datetime.fromtimestamp(high, UTC)
        offset = _offset(zone, at)
        changes.append((at, offset))

    return changes
