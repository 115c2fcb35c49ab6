"""The security manager's dashboard: the figures, and the charts drawn from them.

Every figure is counted by the database (GROUP BY over the site's arrivals in the
window), so no visit or pickup row is loaded to draw the page. Days and hours are
the site's, not UTC's: a visit at 23:30 in Chicago belongs to that evening, not to
the next day. PostgreSQL converts with its own time-zone database; SQLite has none,
so the query carries the site's UTC offset for each stretch of the window between
daylight-saving changes (found here with zoneinfo) and shifts each timestamp by it.

The charts are SVG drawn on the server, with nothing loaded from elsewhere (the
console's Content-Security-Policy allows no other origin and no inline style):
shapes carry classes, and static/console/dashboard.css colours them. Each chart
has a title and a description a screen reader announces, each bar or cell its own
title, and the page shows the same numbers as a table.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import Date, Integer, case, cast, func, select
from sqlalchemy.orm import Session

from gatekeeper.models import Case, Pickup, Site, Visit
from gatekeeper.pickups import local_range

PERIODS = (30, 90)
# Time on site: upper bounds in seconds, the last bucket open-ended.
DWELL_BUCKETS = (
    (15 * 60, "under 15 min"),
    (30 * 60, "15–30 min"),
    (60 * 60, "30 min–1 h"),
    (2 * 3600, "1–2 h"),
    (4 * 3600, "2–4 h"),
    (8 * 3600, "4–8 h"),
    (None, "8 h or more"),
)
# A visit's photo ID counts as checked when an employee verified it, a security
# manager's exemption covered it, or the visitor type asks for none (CTPAT 10.2);
# as not checked when it was only captured at the kiosk, or never shown.
CHECKED = ("verified", "exempt", "not_required")
NOT_CHECKED = ("captured", "unverified")
ID_STATUS_LABELS = {
    "verified": "verified by an employee",
    "exempt": "exempt (manager's exemption)",
    "not_required": "not required for the visitor type",
    "captured": "captured at the kiosk, not compared",
    "unverified": "not shown",
}
# Monday first, as a week reads on a roster; SQL counts from Sunday = 0.
WEEKDAYS = (
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (0, "Sunday"),
)
HEAT_LEVELS = 5


@dataclass(frozen=True)
class Window:
    """The site's last `days` local days, today included, and their UTC bounds."""

    days: int
    first: date
    last: date
    start: datetime
    end: datetime


def window(site: Site, days: int, now: datetime) -> Window:
    today = now.astimezone(ZoneInfo(site.timezone)).date()
    first = today - timedelta(days=days - 1)
    start, end = local_range(site, first, today)
    return Window(days, first, today, start, end)


@dataclass(frozen=True)
class Day:
    day: date
    visits: int
    pickups: int


@dataclass(frozen=True)
class Bucket:
    label: str
    visits: int
    pickups: int


@dataclass
class Figures:
    """Everything the dashboard shows for one site and window."""

    window: Window
    per_day: list[Day]
    dwell: list[Bucket]
    # (weekday as SQL numbers it, hour) to arrivals of visitors and drivers.
    hours: dict[tuple[int, int], int]
    overdue_visits: int
    overdue_drivers: int
    open_cases: dict[str, int]
    id_statuses: dict[str, int] = field(default_factory=dict)

    @property
    def total_visits(self) -> int:
        return sum(day.visits for day in self.per_day)

    @property
    def total_pickups(self) -> int:
        return sum(day.pickups for day in self.per_day)

    @property
    def id_checked(self) -> int:
        return sum(self.id_statuses.get(status, 0) for status in CHECKED)

    @property
    def id_considered(self) -> int:
        return sum(
            self.id_statuses.get(status, 0) for status in (*CHECKED, *NOT_CHECKED)
        )

    @property
    def id_rate(self) -> float | None:
        """The share of visits whose photo ID was checked; None with no visits."""
        if not self.id_considered:
            return None

        return self.id_checked / self.id_considered

    @property
    def busiest(self) -> tuple[int, int, int] | None:
        """The busiest weekday and hour and its arrivals, or None with none."""
        if not self.hours or max(self.hours.values()) == 0:
            return None

        (weekday, hour), count = max(
            self.hours.items(), key=lambda item: (item[1], -item[0][1])
        )
        return weekday, hour, count

    def hour_totals(self) -> list[int]:
        return [
            sum(self.hours.get((weekday, hour), 0) for weekday, _ in WEEKDAYS)
            for hour in range(24)
        ]


# Local time in SQL


def offset_spans(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple]:
    """The zone's UTC offset (seconds) over [start, end), as (until, offset) spans;
    the last span's `until` is None. A change is found to the second."""

    def offset(moment: int) -> int:
        local = datetime.fromtimestamp(moment, zone)
        return int(local.utcoffset().total_seconds())

    first, last = int(start.timestamp()), int(end.timestamp())
    spans = []
    current = offset(first)
    moment = first
    while moment < last:
        step = min(moment + 3600, last)
        if offset(step) != current:
            low, high = moment, step
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == current:
                    low = middle
                else:
                    high = middle

            spans.append((datetime.fromtimestamp(high, start.tzinfo), current))
            current = offset(high)

        moment = step

    spans.append((None, current))
    return spans


class LocalTime:
    """SQL for the site's local date, hour and weekday of a UTC timestamp column."""

    def __init__(self, session: Session, site: Site, span: Window):
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.zone = site.timezone
        self.spans = offset_spans(ZoneInfo(site.timezone), span.start, span.end)

    def _local(self, column):
        return func.timezone(self.zone, func.timezone("UTC", column))

    def _modifier(self, column):
        """SQLite's date modifier shifting the column by the offset of its span."""
        if len(self.spans) == 1:
            seconds = self.spans[0][1]
        else:
            whens = [(column < until, off) for until, off in self.spans[:-1]]
            seconds = case(*whens, else_=self.spans[-1][1])

        return func.printf("%+d seconds", seconds)

    def date(self, column):
        if self.postgres:
            return cast(self._local(column), Date)

        return func.date(column, self._modifier(column))

    def hour(self, column):
        if self.postgres:
            return cast(func.extract("hour", self._local(column)), Integer)

        return cast(func.strftime("%H", column, self._modifier(column)), Integer)

    def weekday(self, column):
        """0 for Sunday to 6 for Saturday, on both databases."""
        if self.postgres:
            return cast(func.extract("dow", self._local(column)), Integer)

        return cast(func.strftime("%w", column, self._modifier(column)), Integer)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _count_by(session: Session, *keys, where) -> dict:
    """Rows counted by the values of key expressions, computed once per row.

    The keys are worked out in a subquery and grouped outside it: PostgreSQL would
    not match a GROUP BY to the SELECT list when each holds its own copy of the
    bound time-zone name.
    """
    inner = (
        select(*(key.label(f"k{index}") for index, key in enumerate(keys)))
        .where(*where)
        .subquery()
    )
    columns = [inner.c[f"k{index}"] for index in range(len(keys))]
    query = select(*columns, func.count()).group_by(*columns)
    found = {}
    for row in session.execute(query):
        *values, count = row
        found[values[0] if len(values) == 1 else tuple(values)] = count

    return found


def _seconds_between(session: Session, earlier, later):
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)

    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _bucket_of(seconds):
    whens = [
        (seconds < bound, index)
        for index, (bound, _label) in enumerate(DWELL_BUCKETS)
        if bound is not None
    ]
    return case(*whens, else_=len(DWELL_BUCKETS) - 1)


# The figures


def figures(session: Session, site: Site, days: int, now: datetime) -> Figures:
    """The dashboard's figures for a site over its last `days` local days."""
    span = window(site, days, now)
    local = LocalTime(session, site, span)
    return Figures(
        window=span,
        per_day=per_day(session, site, span, local),
        dwell=dwell(session, site, span),
        hours=busiest_hours(session, site, span, local),
        overdue_visits=overdue_visits(session, site, now),
        overdue_drivers=overdue_drivers(session, site, now),
        open_cases=open_cases(session, site),
        id_statuses=id_statuses(session, site, span),
    )


def _visits_in(site: Site, span: Window) -> list:
    return [
        Visit.site_id == site.id,
        Visit.arrived_at >= span.start,
        Visit.arrived_at < span.end,
    ]


def _pickups_in(site: Site, span: Window) -> list:
    return [
        Pickup.site_id == site.id,
        Pickup.arrived_at >= span.start,
        Pickup.arrived_at < span.end,
    ]


def per_day(session: Session, site: Site, span: Window, local: LocalTime) -> list[Day]:
    """Check-ins and driver arrivals per local day, every day of the window."""
    visits = _count_by(
        session, local.date(Visit.arrived_at), where=_visits_in(site, span)
    )
    pickups = _count_by(
        session, local.date(Pickup.arrived_at), where=_pickups_in(site, span)
    )
    visits = {_as_date(day): count for day, count in visits.items()}
    pickups = {_as_date(day): count for day, count in pickups.items()}
    return [
        Day(day, visits.get(day, 0), pickups.get(day, 0))
        for day in (span.first + timedelta(days=n) for n in range(span.days))
    ]


def dwell(session: Session, site: Site, span: Window) -> list[Bucket]:
    """How long people stayed: visits that ended (a denied check-in never began)
    and pickups logged out, of those that arrived in the window."""
    visit_seconds = _seconds_between(session, Visit.arrived_at, Visit.departed_at)
    visits = _count_by(
        session,
        _bucket_of(visit_seconds),
        where=[
            *_visits_in(site, span),
            Visit.departed_at.is_not(None),
            Visit.admission != "denied",
        ],
    )
    pickup_seconds = _seconds_between(session, Pickup.arrived_at, Pickup.departed_at)
    pickups = _count_by(
        session,
        _bucket_of(pickup_seconds),
        where=[*_pickups_in(site, span), Pickup.status == "departed"],
    )
    return [
        Bucket(label, visits.get(index, 0), pickups.get(index, 0))
        for index, (_bound, label) in enumerate(DWELL_BUCKETS)
    ]


def busiest_hours(
    session: Session, site: Site, span: Window, local: LocalTime
) -> dict[tuple[int, int], int]:
    """Arrivals of visitors and drivers by local weekday and hour."""
    found: dict[tuple[int, int], int] = {}
    for model, criteria in (
        (Visit, _visits_in(site, span)),
        (Pickup, _pickups_in(site, span)),
    ):
        counted = _count_by(
            session,
            local.weekday(model.arrived_at),
            local.hour(model.arrived_at),
            where=criteria,
        )
        for (weekday, hour), count in counted.items():
            key = (int(weekday), int(hour))
            found[key] = found.get(key, 0) + count

    return found


def overdue_visits(session: Session, site: Site, now: datetime) -> int:
    """Open visits past the end their badge was issued for."""
    query = select(func.count(Visit.id)).where(
        Visit.site_id == site.id,
        Visit.departed_at.is_(None),
        Visit.valid_until < now,
    )
    return session.scalar(query) or 0


def overdue_drivers(session: Session, site: Site, now: datetime) -> int:
    """Registered drivers on site longer than the site's set time."""
    query = select(func.count(Pickup.id)).where(
        Pickup.site_id == site.id,
        Pickup.status == "registered",
        Pickup.arrived_at < now - timedelta(hours=site.driver_overdue_hours),
    )
    return session.scalar(query) or 0


def open_cases(session: Session, site: Site) -> dict[str, int]:
    """Open discrepancy and incident cases by kind (7.27)."""
    query = (
        select(Case.kind, func.count(Case.id))
        .where(Case.site_id == site.id, Case.status == "open")
        .group_by(Case.kind)
    )
    return dict(session.execute(query).all())


def id_statuses(session: Session, site: Site, span: Window) -> dict[str, int]:
    """Visits of the window by what is known of their photo ID; a denied
    check-in is left out, as its ID was never to be checked."""
    query = (
        select(Visit.id_status, func.count(Visit.id))
        .where(*_visits_in(site, span), Visit.admission != "denied")
        .group_by(Visit.id_status)
    )
    return dict(session.execute(query).all())


# The charts


@dataclass(frozen=True)
class Series:
    """One set of bars: its name in titles, its CSS class, a value per category."""

    name: str
    css: str
    values: Sequence[int]


def _nice_top(value: int) -> int:
    """A round axis maximum at or above the value whose half is a whole number
    too (for the middle gridline): 1, 2, 4, 10, 20, 40, 100..."""
    top = 1
    while True:
        for factor in (1, 2, 4):
            if top * factor >= value:
                return top * factor

        top *= 10


# Each piece of SVG is a literal template; Markup.format escapes every value put
# into it, so a label with markup in it is drawn as text.
SVG_OPEN = Markup(
    '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" '
    'viewBox="0 0 {width} {height}" role="img" '
    'aria-labelledby="{id}-title {id}-desc">'
    '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
)
SVG_CLOSE = Markup("</svg>")
GRID_LINE = Markup(
    '<line class="grid" x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}"/>'
    '<text class="axis" x="{text_x}" y="{text_y:.1f}" text-anchor="end">{tick}</text>'
)
BASELINE = Markup('<line class="baseline" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>')
BAR = Markup(
    '<rect class="bar {css}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
    'height="{height:.1f}"><title>{label}</title></rect>'
)
AXIS_LABEL = Markup(
    '<text class="axis" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{text}</text>'
)
HEAT_CELL = Markup(
    '<rect class="heat heat-{level}" x="{x}" y="{y}" width="{width}" '
    'height="{height}"><title>{label}</title></rect>'
)
SHARE = Markup(
    '<rect class="share {css}" x="{x:.1f}" y="4" width="{width:.1f}" '
    'height="{height}"><title>{label}</title></rect>'
)


def _svg_open(chart_id: str, width: int, height: int, title: str, desc: str):
    return SVG_OPEN.format(
        id=chart_id, width=width, height=height, title=title, desc=desc
    )


def bar_chart(
    chart_id: str,
    *,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    label_every: int = 1,
    width: int = 720,
    height: int = 240,
) -> Markup:
    """Vertical bars, one group per category, with a value axis and gridlines."""
    left, right, top, bottom = 44, 8, 12, 44
    plot_width, plot_height = width - left - right, height - top - bottom
    highest = max((max(s.values, default=0) for s in series), default=0)
    axis_top = _nice_top(max(highest, 1))
    band = plot_width / max(len(categories), 1)
    bar_width = band * 0.8 / max(len(series), 1)
    parts = [_svg_open(chart_id, width, height, title, desc)]
    for tick in sorted({0, axis_top // 2, axis_top}):
        y = top + plot_height - plot_height * tick / axis_top
        parts.append(
            GRID_LINE.format(
                x1=left, x2=width - right, y=y, text_x=left - 6, text_y=y + 4, tick=tick
            )
        )

    for index, category in enumerate(categories):
        x0 = left + band * index + band * 0.1
        for number, one in enumerate(series):
            value = one.values[index]
            bar_height = plot_height * value / axis_top
            parts.append(
                BAR.format(
                    css=one.css,
                    x=x0 + bar_width * number,
                    y=top + plot_height - bar_height,
                    width=max(bar_width - 1, 1),
                    height=bar_height,
                    label=f"{category}: {value} {one.name}",
                )
            )

        if index % label_every == 0:
            parts.append(
                AXIS_LABEL.format(
                    x=left + band * index + band / 2,
                    y=height - bottom + 16,
                    anchor="middle",
                    text=category,
                )
            )

    y = top + plot_height
    parts += [BASELINE.format(x1=left, x2=width - right, y=y), SVG_CLOSE]
    return Markup("").join(parts)


def heat_level(count: int, highest: int) -> int:
    """0 for no arrivals, else 1 to HEAT_LEVELS by the share of the busiest cell."""
    if count <= 0 or highest <= 0:
        return 0

    return max(1, -(-count * HEAT_LEVELS // highest))


def heat_map(
    chart_id: str, *, title: str, desc: str, hours: dict[tuple[int, int], int]
) -> Markup:
    """A weekday by hour grid, darker where more people arrived."""
    cell_width, cell_height, left, top = 28, 24, 92, 22
    width, height = left + 24 * cell_width + 4, top + 7 * cell_height + 4
    highest = max(hours.values(), default=0)
    parts = [_svg_open(chart_id, width, height, title, desc)]
    for hour in range(0, 24, 3):
        parts.append(
            AXIS_LABEL.format(
                x=left + hour * cell_width + cell_width / 2,
                y=top - 7,
                anchor="middle",
                text=f"{hour:02d}:00",
            )
        )

    for row, (weekday, name) in enumerate(WEEKDAYS):
        y = top + row * cell_height
        parts.append(
            AXIS_LABEL.format(
                x=left - 6, y=y + cell_height / 2 + 4, anchor="end", text=name
            )
        )
        for hour in range(24):
            count = hours.get((weekday, hour), 0)
            noun = "arrival" if count == 1 else "arrivals"
            parts.append(
                HEAT_CELL.format(
                    level=heat_level(count, highest),
                    x=left + hour * cell_width,
                    y=y,
                    width=cell_width - 2,
                    height=cell_height - 2,
                    label=f"{hour_label(weekday, hour)}: {count} {noun}",
                )
            )

    parts.append(SVG_CLOSE)
    return Markup("").join(parts)


def share_bar(
    chart_id: str,
    *,
    title: str,
    desc: str,
    parts_of: Sequence[tuple[str, int, str]],
    width: int = 720,
    height: int = 40,
) -> Markup:
    """One horizontal bar split into the shares of its parts (label, count, class)."""
    total = sum(count for _label, count, _css in parts_of)
    parts = [_svg_open(chart_id, width, height, title, desc)]
    if total == 0:
        parts.append(
            SHARE.format(
                css="share-empty",
                x=0,
                width=width,
                height=height - 8,
                label="No visits",
            )
        )

    x = 0.0
    for label, count, css in parts_of:
        if not total or not count:
            continue

        part_width = width * count / total
        parts.append(
            SHARE.format(
                css=css,
                x=x,
                width=part_width,
                height=height - 8,
                label=f"{label}: {count} ({count / total:.0%})",
            )
        )
        x += part_width

    parts.append(SVG_CLOSE)
    return Markup("").join(parts)


def day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def hour_label(weekday: int, hour: int) -> str:
    name = dict(WEEKDAYS)[weekday]
    return f"{name} {hour:02d}:00–{(hour + 1) % 24:02d}:00"


def _most(buckets: list[Bucket], attribute: str) -> str | None:
    counts = [getattr(bucket, attribute) for bucket in buckets]
    if not any(counts):
        return None

    return buckets[counts.index(max(counts))].label


def charts(figures: Figures) -> dict[str, Markup]:
    """The dashboard's four charts, each with its title and description."""
    span = figures.window
    days = figures.per_day
    busiest_day = max(days, key=lambda day: (day.visits + day.pickups, day.day))
    per_day_desc = (
        f"{figures.total_visits} check-ins and {figures.total_pickups} driver "
        f"arrivals from {span.first.isoformat()} to {span.last.isoformat()}."
    )
    if busiest_day.visits + busiest_day.pickups:
        per_day_desc += (
            f" The busiest day was {busiest_day.day.isoformat()}, with "
            f"{busiest_day.visits} check-ins and {busiest_day.pickups} drivers."
        )

    visits_ended = sum(bucket.visits for bucket in figures.dwell)
    pickups_ended = sum(bucket.pickups for bucket in figures.dwell)
    dwell_desc = (
        f"{visits_ended} visits ended, most often after "
        f"{_most(figures.dwell, 'visits') or 'no time recorded'}; "
        f"{pickups_ended} drivers were logged out, most often after "
        f"{_most(figures.dwell, 'pickups') or 'no time recorded'}."
    )
    busiest = figures.busiest
    hours_desc = (
        f"The busiest hour was {hour_label(busiest[0], busiest[1])}, with "
        f"{busiest[2]} arrivals in the period."
        if busiest
        else "No one arrived in the period."
    )
    rate = figures.id_rate
    id_desc = (
        f"{figures.id_checked} of {figures.id_considered} visits ({rate:.0%}) had "
        "their photo ID verified, exempted or not required."
        if rate is not None
        else "No visits in the period."
    )
    both = [
        Series("check-ins", "series-visits", [day.visits for day in days]),
        Series("drivers", "series-pickups", [day.pickups for day in days]),
    ]
    return {
        "per_day": bar_chart(
            "chart-per-day",
            title=f"Check-ins and driver arrivals per day, last {span.days} days",
            desc=per_day_desc,
            categories=[day_label(day.day) for day in days],
            series=both,
            label_every=5 if span.days <= 31 else 14,
        ),
        "dwell": bar_chart(
            "chart-dwell",
            title="Time on site",
            desc=dwell_desc,
            categories=[bucket.label for bucket in figures.dwell],
            series=[
                Series("visits", "series-visits", [b.visits for b in figures.dwell]),
                Series("drivers", "series-pickups", [b.pickups for b in figures.dwell]),
            ],
        ),
        "hours": heat_map(
            "chart-hours",
            title="Arrivals by weekday and hour",
            desc=hours_desc,
            hours=figures.hours,
        ),
        "id_rate": share_bar(
            "chart-id-rate",
            title="Photo ID checks of visits",
            desc=id_desc,
            parts_of=[
                (ID_STATUS_LABELS[status], figures.id_statuses.get(status, 0), css)
                for status, css in (
                    ("verified", "share-verified"),
                    ("exempt", "share-exempt"),
                    ("not_required", "share-not-required"),
                    ("captured", "share-captured"),
                    ("unverified", "share-unverified"),
                )
            ],
        ),
    }
