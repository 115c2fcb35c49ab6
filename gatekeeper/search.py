"""Searching a site's visitor log (CTPAT 10.2) and cargo pickup log (10.4).

A search names one log, a range of the site's local days and any of the log's
fields; it pages newest first with a keyset on (arrived_at, id), so that a page
deep in a log of millions of rows costs what the first page costs. Every query
is built from bound parameters; nothing a person types becomes SQL.

Text fields match by prefix, regardless of case: "ros" finds "Rosa Díaz". The
comparison is written as a range on lower(column) in byte order, which the
per-site expression indexes named in INDEXES serve on SQLite and PostgreSQL
alike (migrations 0009 and 0011 add them). SQLite's lower() folds
only ASCII letters, so on SQLite a prefix typed in lower case does not find an
accented capital ("ángel" misses "Ángel"); PostgreSQL folds every letter.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from gatekeeper.models import Pickup, Site, Visit
from gatekeeper.pickups import local_range

PAGE_SIZE = 50
LOGS = ("visits", "pickups")
# The fields each log is searched by, and the column each prefix is matched in.
TEXT_FIELDS = {
    "visits": {
        "name": Visit.visitor_name,
        "company": Visit.company,
        "host": Visit.host_name,
    },
    "pickups": {
        "name": Pickup.driver_name,
        "carrier": Pickup.carrier,
        "truck": Pickup.truck_number,
        "trailer": Pickup.trailer_number,
        "seal": Pickup.seal_number,
    },
}
# Fields whose values are nearly unique, so that a prefix of one matches few rows.
IDENTIFIERS = frozenset({"truck", "trailer", "seal"})
# The badge number is matched whole, by the unique (site_id, badge_number) index.
EXACT_FIELDS = {"visits": {"badge": Visit.badge_number}, "pickups": {}}
STATES = {
    "visits": ("on_site", "overdue", "signed_out", "held", "exempt", "unverified"),
    "pickups": ("on_site", "overdue", "signed_out", "unverified"),
}
# The indexes a prefix search wants, one per text field (a migration adds them).
INDEXES = {
    "postgresql": "CREATE INDEX ix_{table}_site_{column}_key ON {table} "
    '(site_id, lower({column}) COLLATE "C") INCLUDE ({column}, arrived_at, id)',
    "sqlite": "CREATE INDEX ix_{table}_site_{column}_key ON {table} "
    "(site_id, lower({column}))",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SearchError(ValueError):
    """A search that cannot be run as asked; the message is for the person."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the arrival time and id of its last row."""

    arrived_at: datetime
    id: int

    def token(self) -> str:
        micros = (self.arrived_at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> "Cursor":
        """Read a token made by `token`; anything else is a SearchError."""
        micros, dot, ident = (token or "").partition(".")
        if not (dot and _digits(micros, 17) and _digits(ident, 12)):
            raise SearchError("That page link is not valid; start the search again.")

        return cls(_EPOCH + timedelta(microseconds=int(micros)), int(ident))


def _digits(text: str, most: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= most


@dataclass(frozen=True)
class Criteria:
    """One search: the log, the site's local days from first to last, the terms
    (field to text) and a state, all optional but the log and the days."""

    log: str
    first: date
    last: date
    terms: dict[str, str] = field(default_factory=dict)
    state: str = ""

    def check(self) -> None:
        """Refuse criteria no form should produce: a programming error or a forgery."""
        if self.log not in LOGS:
            raise SearchError("Choose the visitor log or the pickup log.")

        if self.last < self.first:
            raise SearchError("The range ends before it starts.")

        known = set(TEXT_FIELDS[self.log]) | set(EXACT_FIELDS[self.log])
        if set(self.terms) - known:
            raise SearchError("The search names a field this log does not have.")

        if not all(self.terms.values()):
            raise SearchError("A search term is empty.")

        if self.state and self.state not in STATES[self.log]:
            raise SearchError("Choose one of the states offered.")

    def described(self) -> dict:
        """The criteria as plain values, for the audit trail."""
        return {
            "log": self.log,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "terms": dict(sorted(self.terms.items())),
            "state": self.state,
        }


@dataclass
class Page:
    rows: list
    next_cursor: Cursor | None


def search(
    session: Session,
    site: Site,
    criteria: Criteria,
    *,
    now: datetime,
    after: Cursor | None = None,
    size: int | None = None,
) -> Page:
    """One page of the log's rows that match, newest arrival first."""
    criteria.check()
    size = size or PAGE_SIZE
    model = Visit if criteria.log == "visits" else Pickup
    postgres = session.get_bind().dialect.name == "postgresql"
    # On PostgreSQL the page's keys come first, from the prefix index alone (it
    # carries each row's value, arrival and id), then only the page's rows: a prefix
    # that matches a thousand rows over the years reads a thousand index entries
    # and fifty rows, not a thousand rows scattered over the table.
    columns = [model.id, model.arrived_at] if postgres else [model]
    query = matching(session, site, criteria, now=now, columns=columns)
    if after is not None:
        query = query.where(
            or_(
                model.arrived_at < after.arrived_at,
                and_(model.arrived_at == after.arrived_at, model.id < after.id),
            )
        )

    if postgres:
        ids = list(session.scalars(query.limit(size + 1)))
        found = session.scalars(select(model).where(model.id.in_(ids)))
        by_id = {row.id: row for row in found}
        rows = [by_id[row_id] for row_id in ids]
    else:
        rows = list(session.scalars(query.limit(size + 1)))

    following = None
    if len(rows) > size:
        rows = rows[:size]
        following = Cursor(rows[-1].arrived_at, rows[-1].id)

    return Page(rows, following)


def matching(
    session: Session, site: Site, criteria: Criteria, *, now: datetime, columns
) -> Select:
    """The SELECT of `columns` over the rows that match, newest arrival first."""
    criteria.check()
    model = Visit if criteria.log == "visits" else Pickup
    start, end = local_range(site, criteria.first, criteria.last)
    postgres = session.get_bind().dialect.name == "postgresql"
    arrived = model.arrived_at
    if not postgres and IDENTIFIERS.intersection(criteria.terms):
        # Without statistics SQLite prefers the (site_id, arrived_at) index, and a
        # rare prefix (a seal number) then reads years of rows to fill one page.
        # A unary + keeps the range off that index, so the prefix's own index
        # reads only the rows that match, to be sorted. A name's prefix matches
        # too many rows for that: walking back by arrival fills a page sooner.
        arrived = UnaryExpression(
            arrived.expression, operator=custom_op("+"), type_=arrived.type
        )

    query = select(*columns).where(
        model.site_id == site.id, arrived >= start, arrived < end
    )
    for name, text in criteria.terms.items():
        if name in EXACT_FIELDS[criteria.log]:
            query = query.where(EXACT_FIELDS[criteria.log][name] == text)
        else:
            column = TEXT_FIELDS[criteria.log][name]
            query = query.where(*_prefix(column, text, postgres=postgres))

    if criteria.state:
        query = query.where(_state(model, criteria.state, site, now))

    return query.order_by(model.arrived_at.desc(), model.id.desc())


def _prefix(column, text: str, *, postgres: bool) -> tuple:
    """Conditions true when the column starts with `text`, regardless of case.

    A range [low, high) in byte order holds exactly the strings starting with
    low; "C" makes PostgreSQL compare bytes whatever the database's locale.
    """
    key = func.lower(column)
    if postgres:
        key = key.collate("C")
        low = text.lower()
    else:
        low = _ascii_lower(text)

    high = low[:-1] + chr(ord(low[-1]) + 1)
    return key >= low, key < high


def _ascii_lower(text: str) -> str:
    """Lower case as SQLite's lower() makes it: ASCII letters only."""
    return "".join(c.lower() if c.isascii() else c for c in text)


def _state(model, state: str, site: Site, now: datetime):
    if model is Visit:
        return {
            "on_site": Visit.departed_at.is_(None),
            "overdue": and_(Visit.departed_at.is_(None), Visit.valid_until < now),
            "signed_out": Visit.departed_at.is_not(None),
            "held": Visit.admission == "held",
            "exempt": Visit.id_status == "exempt",
            "unverified": Visit.id_status.in_(("unverified", "captured")),
        }[state]

    late = now - timedelta(hours=site.driver_overdue_hours)
    return {
        "on_site": Pickup.status.in_(("arrived", "registered")),
        "overdue": and_(Pickup.status == "registered", Pickup.arrived_at < late),
        "signed_out": Pickup.departed_at.is_not(None),
        # A driver at the gate has not yet had the photo ID checked (10.3).
        "unverified": Pickup.status == "arrived",
    }[state]


def index_statements(dialect: str) -> Iterator[str]:
    """The CREATE INDEX statements that serve every prefix search on a dialect."""
    for fields in TEXT_FIELDS.values():
        for column in fields.values():
            yield INDEXES[dialect].format(table=column.table.name, column=column.name)
