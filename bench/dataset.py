"""Build a realistic database to measure the product on: years of visits and pickups.

Run from the repository root:
    .venv/bin/python -m bench.dataset [--visits 1000000] [--pickups 1000000]
        [--sites 20] [--years 3] [--seed 1] [--database-url URL]

Without --database-url the SQLite file is kept under bench/results/datasets/, named
by the parameters, and a second run with the same ones reuses it. A PostgreSQL URL
names the server: the dataset goes to a database of its own there (`bench_…`),
dropped and built again unless it already holds this very dataset.

The data is what the product itself would have written. Each visit, pickup and case
is planned as the events the app records (arrival, ID check, hold decision,
registration, departure, seal mismatch…); the events up to the dataset's end are
applied to the row, and appended to the site's log in time order with the chain's
own canonical body and hash (gatekeeper.chain), so `kiosk verify-log` finds every
log whole and every row as its entries rebuild it. Most people left long ago; the
last hours leave some on site, some overdue, some held or waiting at the gate.
Rows are written with SQLAlchemy Core executemany on SQLite and psycopg's COPY on
PostgreSQL, a month of the dataset at a time.
"""

import argparse
import hashlib
import heapq
import json
import logging
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
from cryptography.fernet import Fernet
from skimage import data
from sqlalchemy import Connection, Engine, event, func, make_url, select, text, update

from gatekeeper import cases, chain, migrate, photos, pickups, seals, sites, visits
from gatekeeper.db import UTCDateTime, make_engine, make_sessionmaker
from gatekeeper.models import (
    Appointment,
    Carrier,
    Case,
    ChainHead,
    Host,
    Kiosk,
    LogEntry,
    Photo,
    Pickup,
    Visit,
)

logger = logging.getLogger(__name__)

# Bump when the generator changes what it writes, so cached datasets are rebuilt.
GENERATOR_VERSION = 1
CACHE = Path(__file__).resolve().parent / "results" / "datasets"
SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Rows of each table are written per month of the dataset.
CHUNK = timedelta(days=30)
# Visits of the last weeks have their ID and face photos, one in this many of them
# (photos are purged after the site's 30 days, so older visits have none).
PHOTO_SAMPLE = 40
PHOTO_DAYS = 30
HOSTS_PER_SITE = 40
CARRIERS_PER_SITE = 25
BADGE_NUMBERS = 900_000

FIRST_NAMES = (  # noqa: SIM905  (a list of words reads better so)
    "Ana Luis María José Carmen Jorge Rosa Miguel Sofía Pedro Elena Juan Lucía "
    "Carlos Isabel Diego Paula Andrés Laura Javier Marta Raúl Teresa Pablo Ángel "
    "James Mary Robert Patricia John Jennifer Michael Linda David Susan William "
    "Karen Richard Nancy Thomas Lisa Daniel Betty Mark Sandra Steven Ashley Kevin "
    "Emily Brian Donna Jason Michelle Ryan Amanda Gary Melissa Eric Deborah Noah "
    "Wei Priya Arjun Mei Hiroshi Yuki Olga Ivan Fatima Omar Amina Kwame Chloé Zoë"
).split()
LAST_NAMES = (  # noqa: SIM905  (a list of words reads better so)
    "García Martínez López González Rodríguez Hernández Pérez Sánchez Ramírez "
    "Torres Flores Rivera Gómez Díaz Cruz Morales Reyes Gutiérrez Ortiz Núñez Smith "
    "Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
    "Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young "
    "Allen King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell "
    "Roberts Carter Phillips Evans Turner Parker Collins Edwards Stewart Murphy "
    "Nguyen Patel Kim Chen Wang Singh Müller O'Brien Kowalski Novak Dubois Rossi"
).split()
COMPANY_WORDS = (  # noqa: SIM905  (a list of words reads better so)
    "Acme Summit Gulf Lone Star Pioneer Frontier Delta Eagle Apex Harbor Border "
    "Liberty Capital Northern Southern Western Eastern Prairie Coastal Allied "
    "United Premier Global Metro Valley River Pacific Atlantic Central Union"
).split()
COMPANY_KINDS = (
    "Freight",
    "Logistics",
    "Electric",
    "HVAC Services",
    "Packaging",
    "Foods",
    "Industrial Supply",
    "Security",
    "Consulting",
    "Pallets",
    "Forklift Repair",
    "Cleaning",
)
CARRIER_KINDS = ("Transport", "Trucking", "Freight Lines", "Express", "Carriers")
DEPARTMENTS = ("Shipping", "Receiving", "Maintenance", "Quality", "Finance", "HR")
STATES = ("TX", "NM", "AZ", "CA", "NL", "CH", "OK", "LA", "IL", "MO")
SEAL_PREFIXES = ("TAN", "ISO", "HSB", "ES", "TYD", "")
VVTT = sorted(seals.VVTT_STEPS)


@dataclass(frozen=True)
class Scale:
    """What to build: how many visits and pickups, over how many sites and years."""

    visits: int = 1_000_000
    pickups: int = 1_000_000
    sites: int = 20
    years: int = 3
    seed: int = 1

    def check(self) -> None:
        if min(self.visits, self.pickups) < 0 or self.sites < 1 or self.years < 1:
            raise ValueError("visits and pickups >= 0, sites and years >= 1")

        # Badge numbers are 6 digits and unique per site for ever; keep them drawable.
        if self.visits / self.sites > BADGE_NUMBERS / 3:
            raise ValueError("too many visits per site for 6-digit badge numbers")

    def key(self) -> str:
        """The dataset's name: its parameters and the generator's version.

        Not the schema's: a cached dataset is upgraded by the app's own migrations
        when it is used, as a facility's database would be.
        """
        return (
            f"v{self.visits}-p{self.pickups}-s{self.sites}-y{self.years}"
            f"-r{self.seed}-g{GENERATOR_VERSION}"
        )


@dataclass
class Summary:
    """What a build wrote, for the benchmark's report."""

    scale: Scale
    end: datetime
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            **asdict(self.scale),
            "end": self.end.isoformat(),
            "rows": dict(self.rows),
            "seconds": round(self.seconds, 1),
        }


# Where the data goes.


class Sink:
    """One database the dataset is written to, by its driver's own bulk path.

    SQLAlchemy's executemany would run the column types' bind processing for each
    of millions of values; the values are converted here once per row instead, to
    what those types would store: naive UTC, as text in SQLite's format.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.dropped: list[str] = []
        if not self.postgres:
            # A build interrupted is thrown away, so it need not survive a crash.
            event.listen(engine, "connect", _fast_sqlite)

    def write(self, connection: Connection, table, rows: list[dict]) -> None:
        if not rows:
            return

        names = list(rows[0])
        times = [
            index
            for index, name in enumerate(names)
            if isinstance(table.c[name].type, UTCDateTime)
        ]
        convert = _as_copy if self.postgres else _as_sqlite
        values = []
        for row in rows:
            value = [row[name] for name in names]
            for index in times:
                if value[index] is not None:
                    value[index] = convert(value[index])
            values.append(value)

        columns = ", ".join(names)
        raw = connection.connection.driver_connection
        if self.postgres:
            with raw.cursor() as cursor:
                statement = f"COPY {table.name} ({columns}) FROM STDIN"
                with cursor.copy(statement) as copy:
                    for value in values:
                        copy.write_row(value)
        else:
            marks = ", ".join("?" * len(names))
            # The table's and columns' names are the models', never data.
            statement = f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"  # noqa: S608
            raw.executemany(statement, values)

    def drop_indexes(self) -> None:
        """Drop the big tables' plain indexes; building them at the end is faster."""
        tables = [table.name for table in TABLES.values()]
        if self.postgres:
            listing = (
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:t) "
                "AND indexdef NOT LIKE 'CREATE UNIQUE%'"
            )
            parameters = {"t": tables}
        else:
            # Unique constraints' own indexes have no SQL and stay.
            listing = (
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' "
                "AND tbl_name IN (SELECT value FROM json_each(:t))"
            )
            parameters = {"t": json.dumps(tables)}
        with self.engine.begin() as connection:
            found = connection.execute(text(listing), parameters).all()
            for name, _sql in found:
                connection.exec_driver_sql(f"DROP INDEX {name}")

        self.dropped = [sql for _name, sql in found]

    def create_indexes(self) -> None:
        with self.engine.begin() as connection:
            for sql in self.dropped:
                connection.exec_driver_sql(sql)


def _fast_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-400000")
    cursor.close()


def _as_copy(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _as_sqlite(value: datetime) -> str:
    """SQLAlchemy's storage format for a DateTime on SQLite."""
    return _as_copy(value).isoformat(" ", "microseconds")


# The plan of one month: rows and the events that changed them.


@dataclass(slots=True)
class Event:
    """One log entry to be: its time orders the site's chain."""

    at: datetime
    site_id: int
    kind: str
    subject_type: str
    subject_id: int
    actor: str
    changes: dict
    details: dict | None = None


@dataclass
class SiteData:
    id: int
    kiosk_lobby: int
    kiosk_gate: int
    weight: float
    hosts: list[tuple[int, str]]
    carriers: list[tuple[int, str]]
    badges: set[str] = field(default_factory=set)
    references: int = 0
    seq: int = 0
    hash: str = chain.GENESIS


class Generator:
    """Plans rows and events month by month, and chains the events per site."""

    def __init__(self, scale: Scale, end: datetime) -> None:
        self.scale = scale
        self.rng = random.Random(scale.seed)  # noqa: S311  (made-up data, repeatable)
        self.end = end
        self.start = end - timedelta(days=365 * scale.years)
        self.ids = {"visit": 0, "pickup": 0, "case": 0, "appointment": 0}
        self.entry_id = 0
        self.order = 0
        self.pending: list[Event] = []
        self.sites: list[SiteData] = []
        self.photo = _portrait_jpeg()
        self.photo_key = Fernet.generate_key().decode("ascii")

    def people(self) -> str:
        rng = self.rng
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"

    def company(self) -> str:
        rng = self.rng
        return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"

    def event(
        self,
        at: datetime,
        site: SiteData,
        kind: str,
        subject,
        actor,
        changes,
        details=None,
    ) -> None:
        """Plan an entry; one after the dataset's end never happened."""
        if at > self.end:
            return

        self.order += 1
        subject_type, subject_id = subject
        planned = Event(
            at, site.id, kind, subject_type, subject_id, actor, changes, details
        )
        # The sequence breaks ties of time in the order the events were planned.
        heapq.heappush(self.pending, (at, self.order, planned))

    def arrivals(self, start: datetime, stop: datetime, total: int) -> list[tuple]:
        """(time, site) of the arrivals of a period: days by share, hours by habit."""
        span = (stop - start).total_seconds()
        count = _share(total, span / (self.end - self.start).total_seconds(), self.rng)
        weights = [site.weight for site in self.sites]
        chosen = self.rng.choices(self.sites, weights=weights, k=count)
        found = []
        for site in chosen:
            at = self.working_hours(start, span)
            while not (start <= at < stop and at <= self.end):
                at = self.working_hours(start, span)

            found.append((at, site))

        found.sort(key=lambda pair: pair[0])
        return found

    def working_hours(self, start: datetime, span: float) -> datetime:
        """A moment on a day of the period, mostly 6:00 to 20:00 Central."""
        day = start + timedelta(seconds=self.rng.random() * span)
        hour = 11 + min(self.rng.expovariate(1 / 4.5), 13.9)
        midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + timedelta(hours=hour, microseconds=self.rng.randrange(10**6))

    # Visits.

    def visit(self, at: datetime, site: SiteData, rows: dict) -> None:
        rng = self.rng
        self.ids["visit"] += 1
        visit_id = self.ids["visit"]
        subject = ("visit", visit_id)
        kind = rng.choices(("visitor", "vendor", "service_provider"), (5, 3, 2))[0]
        host_id, host_name = rng.choice(site.hosts)
        desk = f"Desk {site.id}-{rng.randrange(1, 4)}"
        kiosk = f"kiosk:{site.kiosk_lobby}"
        row = {
            "badge_number": self.badge(site),
            "visitor_name": self.people(),
            "company": self.company(),
            "visitor_type": kind,
            "host_id": host_id,
            "host_name": host_name,
            "id_type": rng.choices(tuple(visits.ID_TYPES), (6, 2, 1, 1))[0],
            "id_status": "verified",
            "id_verified_by": desk,
            "id_verified_at": at,
            "arrived_at": at,
            "departed_at": None,
            "departed_by": None,
            "valid_until": at + timedelta(hours=12),
            "badge_revoked_at": None,
            "admission": "admitted",
            "escort_required": kind != "service_provider",
            "escort_name": None,
            "id_exemption_by": None,
            "id_document_expired": rng.random() < 0.01 or None,
        }
        roll = rng.random()
        actor = f"user:desk{site.id}"
        if roll >= 0.75:
            row.update(id_status="captured", id_verified_by=None, id_verified_at=None)
            row["admission"] = "awaiting_id"
            actor = kiosk

        if 0.95 <= roll < 0.985:
            row.update(id_status="exempt", admission="admitted")
            row["id_exemption_by"] = f"Manager {site.id}"

        if roll >= 0.985:
            row["admission"] = "held"

        arrival = dict(row)
        self.event(
            at,
            site,
            "visit.arrived",
            subject,
            actor,
            {name: arrival[name] for name in visits.LOGGED_COLUMNS},
            {"block_list": [{"kind": "person", "rule": "name"}]}
            if roll >= 0.985
            else None,
        )
        moment = at
        if roll >= 0.995:
            moment += timedelta(minutes=rng.uniform(3, 20))
            self.depart(
                row,
                site,
                subject,
                moment,
                "visit.hold_denied",
                f"user:manager{site.id}",
                {"admission": "denied"},
                {"reason": "Matched the block list; not admitted."},
            )
            self.finish_visit(row, visit_id, site, rows)
            return

        if roll >= 0.985:
            moment += timedelta(minutes=rng.uniform(3, 20))
            if moment <= self.end:
                row["admission"] = "awaiting_id"
            self.event(
                moment,
                site,
                "visit.hold_approved",
                subject,
                f"user:manager{site.id}",
                {"admission": "awaiting_id"},
                {"reason": "Known vendor; a different person."},
            )

        if row["id_status"] == "captured":
            moment += timedelta(minutes=rng.uniform(1, 12))
            changes = {
                "id_type": row["id_type"],
                "id_status": "verified",
                "id_verified_by": desk,
                "id_verified_at": moment,
                "admission": "admitted",
            }
            if moment <= self.end:
                row.update(changes)
            self.event(
                moment,
                site,
                "visit.id_verified",
                subject,
                f"user:desk{site.id}",
                changes,
            )

        stay = timedelta(minutes=rng.lognormvariate(4.4, 0.6))
        # A few of the last two days' visitors were never signed out: overdue.
        recent = self.end - at < timedelta(days=2)
        if not (recent and rng.random() < 0.04):
            closed = rng.random() < 0.03
            self.depart(
                row,
                site,
                subject,
                moment + stay,
                "visit.closed" if closed else "visit.departed",
                f"user:guard{site.id}" if closed else kiosk,
                {},
                {
                    "reason": "Left without signing out at the kiosk.",
                    "overdue": stay > timedelta(hours=12),
                }
                if closed
                else None,
            )

        self.finish_visit(row, visit_id, site, rows)

    def depart(self, row, site, subject, at, kind, actor, extra, details) -> None:
        changes = {**extra, "departed_at": at, "departed_by": actor}
        if at <= self.end:
            row.update(changes)
        self.event(at, site, kind, subject, actor, changes, details)

    def finish_visit(self, row: dict, visit_id: int, site: SiteData, rows) -> None:
        row.update(id=visit_id, site_id=site.id, kiosk_id=site.kiosk_lobby)
        rows["visits"].append(row)
        recent = self.end - row["arrived_at"] < timedelta(days=PHOTO_DAYS)
        if recent and visit_id % PHOTO_SAMPLE == 0:
            for kind in ("id", "face"):
                rows["photos"].append(
                    {
                        "site_id": site.id,
                        "visit_id": visit_id,
                        "kind": kind,
                        "kiosk_id": site.kiosk_lobby,
                        "sealed": photos.seal(self.photo_key, self.photo),
                        "details": "{}",
                        "created_at": row["arrived_at"],
                    }
                )

    def badge(self, site: SiteData) -> str:
        while True:
            number = f"{self.rng.randrange(100000, 1000000)}"
            if number not in site.badges:
                site.badges.add(number)
                return number

    # Pickups, their appointments and cases.

    def pickup(self, at: datetime, site: SiteData, rows: dict) -> None:
        rng = self.rng
        self.ids["pickup"] += 1
        pickup_id = self.ids["pickup"]
        subject = ("pickup", pickup_id)
        carrier_id, carrier = rng.choice(site.carriers)
        seal = f"{rng.choice(SEAL_PREFIXES)}{rng.randrange(10**6, 10**9)}"
        row = {
            "status": "arrived",
            "appointment_id": None,
            "reference": "",
            "driver_name": self.people(),
            "carrier": carrier,
            "truck_number": f"{rng.choice(STATES)}-{rng.randrange(1000, 99999)}",
            "trailer_number": f"{rng.choice('RTUV')}{rng.randrange(10000, 999999)}",
            "arrived_at": at,
            "id_type": rng.choices(("drivers_licence", "passport"), (9, 1))[0],
            "id_fallback_reason": None,
            "id_document_expired": None,
            "registered_by": None,
            "registered_at": None,
            "departed_at": None,
            "departed_by": None,
            "seal_number": None,
            "vvtt_checked_by": None,
            "trailer_rechecked": False,
        }
        if rng.random() < 0.6:
            site.references += 1
            row["reference"] = f"PU{site.id:02d}{site.references:07d}"
            row["appointment_id"] = self.appointment(
                at, site, row, carrier_id, seal, rows
            )

        self.event(
            at,
            site,
            "pickup.arrived",
            subject,
            f"kiosk:{site.kiosk_gate}",
            {name: row[name] for name in pickups.LOGGED_COLUMNS},
        )
        guard = f"Guard {site.id}-{rng.randrange(1, 4)}"
        moment = at + timedelta(minutes=rng.uniform(2, 20))
        roll = rng.random()
        if roll < 0.004:
            changes = {"status": "refused", "departed_at": moment, "departed_by": guard}
            self.pickup_event(
                row,
                site,
                subject,
                moment,
                "pickup.refused",
                changes,
                {"reason": "The licence had expired."},
            )
            self.case(
                site,
                moment,
                "id_refused",
                pickup_id,
                None,
                guard,
                rows,
                "The driver's licence had expired.",
            )
            self.finish_pickup(row, pickup_id, site, rows)
            return

        changes = {
            "status": "registered",
            "appointment_id": row["appointment_id"],
            "id_type": row["id_type"],
            "id_fallback_reason": None,
            "registered_by": guard,
            "registered_at": moment,
        }
        self.pickup_event(row, site, subject, moment, "pickup.registered", changes)
        stay = timedelta(minutes=rng.lognormvariate(4.2, 0.5))
        if self.end - at < timedelta(hours=16) and rng.random() < 0.1:
            stay = timedelta(hours=30)
        moment += stay
        if roll < 0.014:
            self.case(
                site,
                moment,
                "seal_mismatch",
                pickup_id,
                seal,
                guard,
                rows,
                f"Seal {seal} at departure; the shipment was assigned another.",
            )
            moment += timedelta(minutes=rng.uniform(5, 40))

        changes = {
            "status": "departed",
            "departed_at": moment,
            "departed_by": guard,
            "seal_number": seal,
            "vvtt_checked_by": guard,
            "trailer_rechecked": True,
        }
        self.pickup_event(
            row, site, subject, moment, "pickup.departed", changes, {"vvtt": VVTT}
        )
        self.finish_pickup(row, pickup_id, site, rows)

    def pickup_event(self, row, site, subject, at, kind, changes, details=None):
        if at <= self.end:
            row.update(changes)

        self.event(at, site, kind, subject, f"user:guard{site.id}", changes, details)

    def finish_pickup(self, row: dict, pickup_id: int, site: SiteData, rows) -> None:
        row.update(id=pickup_id, site_id=site.id, kiosk_id=site.kiosk_gate)
        rows["pickups"].append(row)

    def appointment(self, at, site, row, carrier_id, seal, rows) -> int:
        rng = self.rng
        self.ids["appointment"] += 1
        expected = at + timedelta(minutes=rng.uniform(-60, 60))
        rows["appointments"].append(
            {
                "id": self.ids["appointment"],
                "site_id": site.id,
                "reference": row["reference"],
                "carrier_id": carrier_id,
                "carrier_name": row["carrier"],
                "driver_name": row["driver_name"],
                "truck_number": row["truck_number"],
                "expected_at": expected,
                "seal_number": seal,
                "consignee_email": f"receiving{site.id}@example.com",
                "source": rng.choice(("console", "api")),
                "created_by": f"user:planner{site.id}",
                "created_at": expected - timedelta(days=rng.uniform(0.5, 5)),
                "cancelled_at": None,
            }
        )
        return self.ids["appointment"]

    def case(self, site, at, kind, pickup_id, seal, who, rows, summary) -> None:
        """A discrepancy opened at `at` and, an hour or a day later, closed."""
        self.ids["case"] += 1
        case_id = self.ids["case"]
        subject = ("case", case_id)
        row = {
            "kind": kind,
            "status": "open",
            "pickup_id": pickup_id,
            "visit_id": None,
            "summary": summary,
            "seal_number": None,
            "decision": None,
            "notified": "",
            "resolution": None,
            "opened_by": who,
            "opened_at": at,
            "closed_by": None,
            "closed_at": None,
        }
        self.event(
            at,
            site,
            "case.opened",
            subject,
            f"user:{who}",
            {name: row[name] for name in cases.LOGGED_COLUMNS},
        )
        steps = []
        if kind == "seal_mismatch":
            steps.append(("case.updated", {"seal_number": seal}, None))
            steps.append(
                (
                    "case.updated",
                    {"decision": "release"},
                    {"note": "Shipper confirmed the replacement seal."},
                )
            )

        manager = f"Manager {site.id}"
        steps.append(
            (
                "case.closed",
                {
                    "status": "closed",
                    "resolution": "Resolved with the carrier and the shipper.",
                    "closed_by": manager,
                    "closed_at": None,
                },
                None,
            )
        )
        moment = at
        for kind_, changes, details in steps:
            moment += timedelta(minutes=self.rng.uniform(1, 30))
            if "closed_at" in changes:
                moment += timedelta(hours=self.rng.uniform(1, 30))
                changes["closed_at"] = moment
            if moment <= self.end:
                row.update(changes)
            self.event(
                moment, site, kind_, subject, f"user:manager{site.id}", changes, details
            )

        row.update(id=case_id, site_id=site.id)
        rows["cases"].append(row)

    # The chain.

    def entries(self, until: datetime) -> list[dict]:
        """The planned events before `until`, chained in time order per site."""
        found = []
        by_id = {site.id: site for site in self.sites}
        while self.pending and self.pending[0][0] < until:
            _at, _order, event = heapq.heappop(self.pending)
            site = by_id[event.site_id]
            site.seq += 1
            body = chain.canonical(
                {
                    "site": site.id,
                    "seq": site.seq,
                    "kind": event.kind,
                    "subject": [event.subject_type, event.subject_id],
                    "actor": event.actor,
                    "at": chain.to_log_value(event.at),
                    "set": {
                        name: chain.to_log_value(value)
                        for name, value in event.changes.items()
                    },
                    "details": event.details or {},
                }
            )
            digest = chain.entry_hash(site.hash, body)
            self.entry_id += 1
            found.append(
                {
                    "id": self.entry_id,
                    "site_id": site.id,
                    "seq": site.seq,
                    "kind": event.kind,
                    "subject_type": event.subject_type,
                    "subject_id": event.subject_id,
                    "actor": event.actor,
                    "recorded_at": event.at,
                    "body": body,
                    "prev_hash": site.hash,
                    "entry_hash": digest,
                }
            )
            site.hash = digest

        return found

    def months(self) -> Iterator[dict[str, list[dict]]]:
        """Each month's rows, in the order their foreign keys need."""
        start = self.start
        while start <= self.end:
            stop = min(start + CHUNK, self.end + timedelta(microseconds=1))
            rows = {name: [] for name in TABLES}
            arrivals = [
                (at, site, "v")
                for at, site in self.arrivals(start, stop, self.scale.visits)
            ]
            arrivals += [
                (at, site, "p")
                for at, site in self.arrivals(start, stop, self.scale.pickups)
            ]
            arrivals.sort(key=lambda item: item[0])
            for at, site, what in arrivals:
                if what == "v":
                    self.visit(at, site, rows)
                else:
                    self.pickup(at, site, rows)

            last = stop >= self.end
            rows["log_entries"] = self.entries(
                datetime.max.replace(tzinfo=UTC) if last else stop
            )
            yield rows
            start = stop


TABLES = {
    "appointments": Appointment.__table__,
    "visits": Visit.__table__,
    "pickups": Pickup.__table__,
    "cases": Case.__table__,
    "photos": Photo.__table__,
    "log_entries": LogEntry.__table__,
}


def _share(total: int, fraction: float, rng: random.Random) -> int:
    """A whole number of arrivals whose mean over the periods is exact."""
    exact = total * fraction
    return int(exact) + (rng.random() < exact - int(exact))


def _portrait_jpeg() -> bytes:
    """A small real face, as a kiosk's capture would be stored, but lighter."""
    portrait = data.astronaut()[:, :, ::-1]
    small = cv2.resize(portrait, (240, 240), interpolation=cv2.INTER_AREA)
    return cv2.imencode(".jpg", small)[1].tobytes()


# Building.


def _setup_sites(engine: Engine, generator: Generator) -> None:
    """Sites with their chains, visitor types, kiosks, hosts and carriers."""
    rng = random.Random(generator.scale.seed + 1)  # noqa: S311  (made-up data)
    enrolled = generator.start - timedelta(days=1)
    with make_sessionmaker(engine).begin() as session:
        for number in range(1, generator.scale.sites + 1):
            site = sites.create_site(
                session,
                code=f"site-{number:02d}",
                name=f"Plant {number:02d}",
                timezone="America/Chicago",
            )
            kiosk_ids = []
            for name in ("Lobby", "Gate"):
                kiosk = Kiosk(
                    site_id=site.id,
                    name=name,
                    enrolled_at=enrolled,
                    created_at=enrolled,
                )
                session.add(kiosk)
                session.flush()
                kiosk_ids.append(kiosk.id)

            host_rows = []
            for index in range(HOSTS_PER_SITE):
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                host_rows.append(
                    Host(
                        site_id=site.id,
                        name=name,
                        email=f"host{index}@example.com",
                        department=rng.choice(DEPARTMENTS),
                    )
                )
            carrier_rows = [
                Carrier(
                    site_id=site.id,
                    created_at=enrolled,
                    name=f"{rng.choice(COMPANY_WORDS)} {rng.choice(CARRIER_KINDS)}"
                    f" {index}",
                )
                for index in range(CARRIERS_PER_SITE)
            ]
            session.add_all(host_rows + carrier_rows)
            session.flush()
            generator.sites.append(
                SiteData(
                    id=site.id,
                    kiosk_lobby=kiosk_ids[0],
                    kiosk_gate=kiosk_ids[1],
                    weight=rng.uniform(0.5, 1.5),
                    hosts=[(host.id, host.name) for host in host_rows],
                    carriers=[(carrier.id, carrier.name) for carrier in carrier_rows],
                )
            )


def build(scale: Scale, engines: list[Engine], *, end: datetime | None = None):
    """Write one dataset into freshly migrated, empty databases; what was written.

    The same rows go to every engine: they are planned once.
    """
    scale.check()
    started = time.perf_counter()
    end = end or datetime.now(UTC).replace(microsecond=0)
    generator = Generator(scale, end)
    sinks = [Sink(engine) for engine in engines]
    for index, sink in enumerate(sinks):
        migrate.upgrade(sink.engine)
        generator.sites = []
        _setup_sites(sink.engine, generator)
        if index == 0:
            first = [site.id for site in generator.sites]
        elif [site.id for site in generator.sites] != first:
            raise RuntimeError("the databases gave the sites different ids")

        sink.drop_indexes()

    summary = Summary(scale, end, {name: 0 for name in TABLES})

    for month in generator.months():
        for sink in sinks:
            with sink.engine.begin() as connection:
                for name, table in TABLES.items():
                    sink.write(connection, table, month[name])

        for name in TABLES:
            summary.rows[name] += len(month[name])

        logger.info(
            "written up to %s: %s",
            month["log_entries"][-1]["recorded_at"] if month["log_entries"] else "-",
            summary.rows,
        )

    for sink in sinks:
        sink.create_indexes()
        _finish(sink, generator)

    summary.seconds = time.perf_counter() - started
    return summary


def _finish(sink: Sink, generator: Generator) -> None:
    """Chain heads at the last entries; PostgreSQL's sequences and statistics."""
    heads = ChainHead.__table__
    with sink.engine.begin() as connection:
        for site in generator.sites:
            connection.execute(
                update(heads)
                .where(heads.c.site_id == site.id)
                .values(seq=site.seq, hash=site.hash)
            )

        if sink.postgres:
            for table in TABLES.values():
                highest = connection.execute(select(func.max(table.c.id))).scalar()
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :n)"),
                    {"t": table.name, "n": highest or 1},
                )

    if sink.postgres:
        # What autovacuum would have done by the time a site had years of data.
        with sink.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("VACUUM ANALYZE")


# Cached datasets: a SQLite file, a PostgreSQL database, named by the parameters.


def sqlite_path(scale: Scale) -> Path:
    return CACHE / f"{scale.key()}.sqlite3"


def postgres_name(scale: Scale) -> str:
    return "bench_" + hashlib.sha256(scale.key().encode()).hexdigest()[:12]


def on_server(server_url: str, database: str) -> str:
    """The URL of another database on the server a URL names."""
    url = make_url(server_url).set(database=database)
    return url.render_as_string(hide_password=False)


def postgres_url(scale: Scale, server_url: str = SERVER_URL) -> str:
    return on_server(server_url, postgres_name(scale))


def _postgres_has(scale: Scale, server_url: str) -> bool:
    engine = make_engine(server_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :name"
                ),
                {"name": postgres_name(scale)},
            ).scalar()
    finally:
        engine.dispose()

    return found == scale.key()


def _postgres_fresh(scale: Scale, server_url: str) -> str:
    """An empty database for the dataset, dropped first if it was there."""
    name = postgres_name(scale)
    engine = make_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    finally:
        engine.dispose()

    return postgres_url(scale, server_url)


def _postgres_done(scale: Scale, server_url: str) -> None:
    engine = make_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(
                f"COMMENT ON DATABASE {postgres_name(scale)} IS '{scale.key()}'"
            )
    finally:
        engine.dispose()


def ensure(
    scale: Scale, *, sqlite: bool = True, server_url: str | None = SERVER_URL
) -> dict[str, str]:
    """The URLs of the dataset on SQLite and on PostgreSQL, built where missing.

    Both are built in one pass when both are missing. Keys: "SQLite", "PostgreSQL".
    """
    urls, missing = {}, {}
    if sqlite:
        path = sqlite_path(scale)
        urls["SQLite"] = f"sqlite:///{path}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            for leftover in path.parent.glob(partial.name + "*"):
                leftover.unlink()
            missing["SQLite"] = f"sqlite:///{partial}"

    if server_url:
        urls["PostgreSQL"] = postgres_url(scale, server_url)
        if not _postgres_has(scale, server_url):
            missing["PostgreSQL"] = _postgres_fresh(scale, server_url)

    if missing:
        logger.info("building the dataset %s on %s", scale.key(), ", ".join(missing))
        engines = {name: make_engine(url) for name, url in missing.items()}
        try:
            summary = build(scale, list(engines.values()))
        finally:
            for engine in engines.values():
                engine.dispose()

        logger.info("built in %.0f s: %s", summary.seconds, summary.rows)
        # The finished file takes its name only now, so a build cut short is
        # never taken for a dataset.
        if "SQLite" in missing:
            Path(make_url(missing["SQLite"]).database).replace(sqlite_path(scale))

        if "PostgreSQL" in missing:
            _postgres_done(scale, server_url)

    for url in urls.values():
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()

    return urls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Scale()
    parser.add_argument("--visits", type=int, default=defaults.visits)
    parser.add_argument("--pickups", type=int, default=defaults.pickups)
    parser.add_argument("--sites", type=int, default=defaults.sites)
    parser.add_argument("--years", type=int, default=defaults.years)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server (the dataset gets a database of its own there); "
        "without it, the cached SQLite file",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    scale = Scale(args.visits, args.pickups, args.sites, args.years, args.seed)
    if args.database_url:
        urls = ensure(scale, sqlite=False, server_url=args.database_url)
    else:
        urls = ensure(scale, server_url=None)

    for backend, url in urls.items():
        print(f"{backend}: {url}")

    return 0


if __name__ == "__main__":
    sys.exit(main())
