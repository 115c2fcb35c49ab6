"""The dashboard's figures in the site's days and hours, on both databases, and its
SVG charts."""

from datetime import UTC, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from gatekeeper import dashboard, sites
from gatekeeper.models import Case, Pickup, Site, Visit

CHICAGO = ZoneInfo("America/Chicago")
# Ten days after the United States moved its clocks forward (2026-03-08, 02:00
# local), so the 30-day window holds days of both offsets.
NOW = datetime(2026, 3, 18, 17, 0, tzinfo=UTC)
badges = count(100000)


def at(local: str) -> datetime:
    """A Chicago wall-clock time as the UTC instant the database keeps."""
    return datetime.fromisoformat(local).replace(tzinfo=CHICAGO).astimezone(UTC)


def add_visit(s, site, arrived, *, left=None, status="verified", **fields) -> Visit:
    visit = Visit(
        site_id=site.id,
        badge_number=str(next(badges)),
        visitor_name="Test Visitor",
        company="Acme",
        visitor_type="visitor",
        host_name="Grace Hopper",
        id_type="passport",
        id_status=status,
        arrived_at=arrived,
        departed_at=left,
        **fields,
    )
    s.add(visit)
    return visit


def add_pickup(s, site, arrived, *, left=None, status="departed") -> Pickup:
    pickup = Pickup(
        site_id=site.id,
        status=status,
        driver_name="Test Driver",
        carrier="Swift Lines",
        truck_number=f"T{next(badges)}",
        trailer_number="53889",
        arrived_at=arrived,
        departed_at=left,
        trailer_rechecked=False,
    )
    s.add(pickup)
    return pickup


@pytest.fixture
def figures_of(sessions, site):
    def figures(days: int = 30, now: datetime = NOW) -> dashboard.Figures:
        with sessions.begin() as s:
            return dashboard.figures(s, s.get(Site, site.id), days, now)

    return figures


def test_arrivals_count_on_the_sites_own_day_on_either_side_of_a_clock_change(
    sessions, site, figures_of
):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        # 23:30 on the Saturday before the change is 05:30 UTC on Sunday.
        add_visit(s, row, at("2026-03-07T23:30"))
        # 23:30 on the Sunday of the change is 04:30 UTC on Monday.
        add_visit(s, row, at("2026-03-08T23:30"))
        add_visit(s, row, at("2026-03-09T00:10"))
        add_pickup(s, row, at("2026-03-09T06:00"), left=at("2026-03-09T06:45"))

    figures = figures_of()
    per_day = {
        day.day.isoformat(): (day.visits, day.pickups) for day in figures.per_day
    }

    assert len(figures.per_day) == 30
    assert figures.window.first.isoformat() == "2026-02-17"
    assert figures.window.last.isoformat() == "2026-03-18"
    assert per_day["2026-03-07"] == (1, 0)
    assert per_day["2026-03-08"] == (1, 0)
    assert per_day["2026-03-09"] == (1, 1)
    assert (figures.total_visits, figures.total_pickups) == (3, 1)
    assert sum(visits for visits, _pickups in per_day.values()) == 3


def test_the_busiest_hours_are_the_sites_local_weekday_and_hour(
    sessions, site, figures_of
):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        add_visit(s, row, at("2026-03-07T23:30"))
        add_visit(s, row, at("2026-03-10T09:05"))
        add_visit(s, row, at("2026-03-10T09:55"))
        add_pickup(s, row, at("2026-03-10T09:20"))

    figures = figures_of()

    # SQL numbers weekdays from Sunday = 0: Saturday is 6, Tuesday 2.
    assert figures.hours == {(6, 23): 1, (2, 9): 3}
    assert figures.busiest == (2, 9, 3)
    assert figures.hour_totals()[9] == 3 and sum(figures.hour_totals()) == 4


def test_time_on_site_counts_ended_visits_and_logged_out_drivers(
    sessions, site, figures_of
):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        add_visit(s, row, at("2026-03-10T10:00"), left=at("2026-03-10T10:10"))
        add_visit(s, row, at("2026-03-10T10:00"), left=at("2026-03-10T13:00"))
        add_visit(s, row, at("2026-03-11T10:00"), left=at("2026-03-11T10:00:30"))
        add_visit(s, row, at("2026-03-12T10:00"))
        add_visit(
            s,
            row,
            at("2026-03-12T10:00"),
            left=at("2026-03-12T18:00"),
            admission="denied",
        )
        add_pickup(s, row, at("2026-03-10T06:00"), left=at("2026-03-10T06:45"))
        add_pickup(s, row, at("2026-03-10T06:00"), status="registered")

    dwell = {
        bucket.label: (bucket.visits, bucket.pickups) for bucket in figures_of().dwell
    }

    assert dwell["under 15 min"] == (2, 0)
    assert dwell["2–4 h"] == (1, 0)
    assert dwell["30 min–1 h"] == (0, 1)
    assert dwell["8 h or more"] == (0, 0)
    assert sum(v for v, _p in dwell.values()) == 3


def test_overdue_people_and_open_cases_are_counted_as_they_stand_now(
    sessions, site, figures_of
):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        add_visit(
            s, row, NOW - timedelta(hours=14), valid_until=NOW - timedelta(hours=2)
        )
        add_visit(
            s, row, NOW - timedelta(hours=1), valid_until=NOW + timedelta(hours=11)
        )
        add_visit(
            s,
            row,
            NOW - timedelta(hours=14),
            left=NOW - timedelta(hours=1),
            valid_until=NOW - timedelta(hours=2),
        )
        add_pickup(s, row, NOW - timedelta(hours=5), status="registered")
        add_pickup(s, row, NOW - timedelta(hours=1), status="registered")
        for kind, status in (
            ("seal_mismatch", "open"),
            ("seal_mismatch", "open"),
            ("other", "open"),
            ("other", "closed"),
        ):
            s.add(
                Case(
                    site_id=row.id,
                    kind=kind,
                    status=status,
                    summary="test",
                    opened_by="test",
                    opened_at=NOW,
                )
            )

    figures = figures_of()

    assert (figures.overdue_visits, figures.overdue_drivers) == (1, 1)
    assert figures.open_cases == {"seal_mismatch": 2, "other": 1}


def test_the_id_rate_is_the_share_verified_exempt_or_not_required(
    sessions, site, figures_of
):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        for status in (
            "verified",
            "verified",
            "exempt",
            "not_required",
            "captured",
            "unverified",
        ):
            add_visit(s, row, at("2026-03-10T10:00"), status=status)

        add_visit(
            s, row, at("2026-03-10T10:00"), status="unverified", admission="denied"
        )

    figures = figures_of()

    assert (figures.id_checked, figures.id_considered) == (4, 6)
    assert figures.id_rate == pytest.approx(4 / 6)
    assert figures.id_statuses["unverified"] == 1


def test_rows_outside_the_window_or_of_another_site_are_left_out(
    sessions, site, figures_of
):
    with sessions.begin() as s:
        other = sites.create_site(s, code="else", name="Elsewhere", timezone="UTC")
        row = s.get(Site, site.id)
        add_visit(s, row, at("2026-02-16T23:59"))
        add_visit(s, row, at("2026-02-17T00:00"))
        add_visit(s, other, at("2026-03-10T10:00"))

    figures = figures_of()
    ninety = figures_of(days=90)

    assert figures.total_visits == 1
    assert figures.per_day[0].visits == 1
    assert ninety.total_visits == 2 and len(ninety.per_day) == 90
    assert figures_of(now=NOW + timedelta(days=400)).total_visits == 0


def test_offset_spans_find_the_clock_change_to_the_second():
    start, end = at("2026-03-01T00:00"), at("2026-03-31T00:00")

    spans = dashboard.offset_spans(CHICAGO, start, end)

    assert spans == [
        (datetime(2026, 3, 8, 8, 0, tzinfo=UTC), -6 * 3600),
        (None, -5 * 3600),
    ]
    assert dashboard.offset_spans(ZoneInfo("UTC"), start, end) == [(None, 0)]


def test_a_bar_chart_is_an_accessible_svg_with_one_bar_a_value():
    svg = dashboard.bar_chart(
        "chart-test",
        title="Per day",
        desc="Three days",
        categories=["Mar 1", "<b>Mar 2</b>", "Mar 3"],
        series=[
            dashboard.Series("check-ins", "series-visits", [1, 0, 7]),
            dashboard.Series("drivers", "series-pickups", [2, 2, 0]),
        ],
    )

    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'role="img" aria-labelledby="chart-test-title chart-test-desc"' in svg
    assert '<title id="chart-test-title">Per day</title>' in svg
    assert svg.count('<rect class="bar') == 6
    assert "<title>Mar 3: 7 check-ins</title>" in svg
    assert "&lt;b&gt;Mar 2&lt;/b&gt;" in svg and "<b>" not in svg
    # The axis runs to a round number above the highest bar.
    assert ">10</text>" in svg and ">5</text>" in svg
    assert [dashboard._nice_top(n) for n in (1, 3, 5, 41)] == [1, 4, 10, 100]


def test_the_heat_map_has_a_cell_an_hour_darkest_at_the_busiest():
    svg = dashboard.heat_map(
        "chart-hours", title="Hours", desc="d", hours={(2, 9): 4, (2, 10): 1}
    )

    assert svg.count('<rect class="heat') == 7 * 24
    assert "heat-5" in svg and "heat-2" in svg
    assert "<title>Tuesday 09:00–10:00: 4 arrivals</title>" in svg
    assert dashboard.heat_level(0, 4) == 0
    assert dashboard.heat_level(1, 100) == 1


def test_the_dashboards_charts_describe_their_numbers(sessions, site, figures_of):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        add_visit(s, row, at("2026-03-10T09:05"), status="captured")
        add_visit(s, row, at("2026-03-10T09:15"))

    charts = dashboard.charts(figures_of())

    assert set(charts) == {"per_day", "dwell", "hours", "id_rate"}
    assert "2 check-ins and 0 driver arrivals" in charts["per_day"]
    assert "The busiest day was 2026-03-10" in charts["per_day"]
    assert "Tuesday 09:00–10:00, with 2 arrivals" in charts["hours"]
    assert "1 of 2 visits (50%)" in charts["id_rate"]
