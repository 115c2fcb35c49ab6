"""The append-only, hash-chained log of each site, and its verification.

Each entry's hash covers the previous entry's hash and a canonical JSON body, so an
entry altered, removed, inserted or moved breaks the chain from that point on. A
change to a visit or pickup row is written in the same transaction as its entry,
and replaying a site's entries must reproduce those rows (CTPAT 7.6, 4.5).
"""

import hashlib
import json
from collections import defaultdict, namedtuple
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

import orjson
from sqlalchemy import String, func, select, type_coerce, update
from sqlalchemy.orm import Session

from gatekeeper.db import UTCDateTime, utcnow
from gatekeeper.models import ChainHead, LogEntry, Site

GENESIS = "0" * 64

# The current-state tables the log can rebuild, and the columns it covers.
SUBJECTS: dict[str, tuple[type, tuple[str, ...]]] = {}
# For columns added to a subject after entries were written without them: the value
# the migration gave existing rows, which an entry that never set the column implies.
LATER_DEFAULTS: dict[str, dict[str, object]] = {}


def register_subject(
    name: str,
    model: type,
    columns: tuple[str, ...],
    later_defaults: dict[str, object] | None = None,
) -> None:
    """Declare a current-state table whose rows the log's entries must reproduce."""
    SUBJECTS[name] = (model, columns)
    LATER_DEFAULTS[name] = dict(later_defaults or {})


def to_log_value(value: object) -> object:
    """The JSON form of a column value as the log records it."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")

    return value


def stored_time_as_logged(value: datetime | str | None) -> str | None:
    """A timestamp as the database stores it (naive UTC, text on SQLite) in the
    log's form, without making an aware value of it first; an aware value, as the
    ORM gives it, is taken too."""
    if value is None:
        return None

    if isinstance(value, str):
        # SQLite's text always has the microseconds: "2026-06-15 14:03:00.000000".
        return value.replace(" ", "T", 1) + "+00:00"

    if value.tzinfo is None:
        return value.isoformat(timespec="microseconds") + "+00:00"

    return value.isoformat(timespec="microseconds")


def canonical(document: dict) -> str:
    """One stable serialisation: sorted keys, no spaces, UTF-8 text, no NaN."""
    return json.dumps(
        document,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


_sha256 = hashlib.sha256
_loads = orjson.loads


def entry_hash(prev_hash: str, body: str) -> str:
    return _sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def start_chain(session: Session, site: Site) -> None:
    """Create the empty chain of a new site, in the site's own transaction."""
    session.add(ChainHead(site_id=site.id, seq=0, hash=GENESIS))


def append(
    session: Session,
    *,
    site_id: int,
    kind: str,
    subject_type: str,
    subject_id: int,
    actor: str,
    changes: dict | None = None,
    details: dict | None = None,
) -> LogEntry:
    """Append one entry to a site's chain inside the caller's transaction.

    `changes` are the current-state columns the event sets (replayed by verify);
    `details` is anything else worth keeping. The UPDATE of the head row takes a
    row lock on PostgreSQL, so concurrent writers queue and each sees the last hash.
    """
    heads = ChainHead.__table__
    seq, prev_hash = session.execute(
        update(heads)
        .where(heads.c.site_id == site_id)
        .values(seq=heads.c.seq + 1)
        .returning(heads.c.seq, heads.c.hash)
    ).one()
    recorded_at = utcnow()
    body = canonical(
        {
            "site": site_id,
            "seq": seq,
            "kind": kind,
            "subject": [subject_type, subject_id],
            "actor": actor,
            "at": to_log_value(recorded_at),
            "set": {name: to_log_value(v) for name, v in (changes or {}).items()},
            "details": details or {},
        }
    )
    digest = entry_hash(prev_hash, body)
    session.execute(update(heads).where(heads.c.site_id == site_id).values(hash=digest))
    entry = LogEntry(
        site_id=site_id,
        seq=seq,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        actor=actor,
        recorded_at=recorded_at,
        body=body,
        prev_hash=prev_hash,
        entry_hash=digest,
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass
class Problem:
    """The first break found in a chain, or a row that disagrees with the log."""

    kind: str
    seq: int | None
    message: str


@dataclass
class Report:
    site_id: int
    site_code: str
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    chain_problem: Problem | None = None
    state_problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain_problem is None and not self.state_problems


# What a verification reads of each entry. Plain rows, not LogEntry objects, and
# the time as stored: a full verification walks millions of entries, and building
# an ORM object or an aware time for each would cost more than checking it.
ENTRY_COLUMNS = (
    LogEntry.site_id,
    LogEntry.seq,
    LogEntry.kind,
    LogEntry.subject_type,
    LogEntry.subject_id,
    LogEntry.actor,
    type_coerce(LogEntry.recorded_at, String).label("recorded_at"),
    LogEntry.body,
    LogEntry.prev_hash,
    LogEntry.entry_hash,
)


# An entry as the walker's slow path reads it, by name. The fast path indexes the
# plain row: reading fields by name costs more than the rest of a whole entry's
# check, and a verification checks millions.
EntryRow = namedtuple("EntryRow", [column.key for column in ENTRY_COLUMNS])  # noqa: PYI024
SEQ, SUBJECT_TYPE, SUBJECT_ID, BODY = 1, 3, 4, 7
# Entries read per query: each batch is one round trip, in the caller's snapshot.
ENTRY_BATCH = 10_000


def row_of(entry: LogEntry) -> tuple:
    """A LogEntry as the row a verification reads of it, for ChainWalker.check."""
    return tuple(getattr(entry, column.key) for column in ENTRY_COLUMNS)


def _entries(session: Session, site_id: int) -> Iterator:
    """A site's entries in sequence order, in batches by sequence number.

    Core rows on the session's connection (its snapshot): the ORM's loading would
    add its own cost to each of millions of plain rows. Batches by key rather than
    one streamed cursor, since PostgreSQL's server-side cursor fetches far fewer
    rows a round trip than a verification wants.
    """
    connection = session.connection()
    after = None
    while True:
        query = select(*ENTRY_COLUMNS).where(LogEntry.site_id == site_id)
        if after is not None:
            query = query.where(LogEntry.seq > after)

        rows = list(
            _plain_rows(connection, query.order_by(LogEntry.seq).limit(ENTRY_BATCH))
        )
        yield from rows
        if len(rows) < ENTRY_BATCH:
            return

        after = rows[-1][SEQ]


def _plain_rows(connection, query, *, stream: bool = False) -> Iterator[tuple]:
    """The query's rows as the database driver gives them, in the connection's
    transaction: plain tuples, without SQLAlchemy's processing of each value (a
    verification's queries select no column that needs it: times come as text).

    stream: read a result of any size in batches (PostgreSQL's server-side cursor;
    SQLite's cursor always steps through its result).
    """
    compiled = query.compile(dialect=connection.dialect)
    parameters = compiled.construct_params()
    if compiled.positional:
        parameters = tuple(parameters[name] for name in compiled.positiontup)

    driver = connection.connection.driver_connection
    named = stream and connection.dialect.name == "postgresql"
    cursor = driver.cursor(name="verification_rows") if named else driver.cursor()
    try:
        cursor.execute(str(compiled), parameters)
        while rows := cursor.fetchmany(5000):
            yield from rows
    finally:
        cursor.close()


def verify_site(session: Session, site: Site) -> Report:
    """Walk a site's chain, then compare the rows it rebuilds with the stored rows."""
    report = Report(site_id=site.id, site_code=site.code)
    state: dict[tuple[str, int], dict] = defaultdict(dict)
    walker = ChainWalker()
    check = walker.check
    count = 0
    for entry in _entries(session, site.id):
        count += 1
        problem = check(entry)
        if problem and report.chain_problem is None:
            report.chain_problem = problem

        body = walker.parsed if walker.parsed is not None else _parse(entry[BODY])
        if body is not None:
            state[entry[SUBJECT_TYPE], entry[SUBJECT_ID]].update(body.get("set", {}))

    report.entries = count
    head = session.get(ChainHead, site.id)
    report.head_seq = walker.last_seq
    report.head_hash = walker.last_hash
    if report.chain_problem is None:
        report.chain_problem = check_head(head, walker)

    report.state_problems = _compare_rows(session, site.id, state)
    return report


def verify_all(session: Session) -> list[Report]:
    sites = session.scalars(select(Site).order_by(Site.code)).all()
    return [verify_site(session, site) for site in sites]


def _parse(body: str) -> dict | None:
    # orjson: a full verification parses millions of bodies, and the standard
    # library's parser was the largest part of its time.
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None

    return document if isinstance(document, dict) else None


class ChainWalker:
    """Checks entries one at a time, in sequence order, against the ones before.

    An entry is a row of ENTRY_COLUMNS (row_of() makes one of a LogEntry). The body
    of the entry last checked is kept parsed, so a verification need not parse it
    again.
    """

    def __init__(self) -> None:
        self.last_seq = 0
        self.last_hash = GENESIS
        self.before_last_hash = GENESIS
        self.parsed: dict | None = None

    def check(self, row: tuple) -> Problem | None:
        site_id, seq, kind, subject_type, subject_id, actor, at, body, prev, digest = (
            row
        )
        # The fast path: the entry is next, linked, whole, and its columns are what
        # its body says. Nearly every entry is; _classify names what is wrong with
        # any other, in the same order of questions.
        parsed = None
        if (
            seq == self.last_seq + 1
            and prev == self.last_hash
            and _sha256(f"{prev}\n{body}".encode()).hexdigest() == digest
        ):
            try:
                parsed = _loads(body)
            except orjson.JSONDecodeError:
                parsed = None

        if (
            type(parsed) is dict
            and parsed.get("seq") == seq
            and parsed.get("site") == site_id
            and parsed.get("kind") == kind
            and parsed.get("subject") == [subject_type, subject_id]
            and parsed.get("actor") == actor
            and parsed.get("at") == stored_time_as_logged(at)
        ):
            self.parsed = parsed
            problem = None
        else:
            self.parsed = None
            problem = self._classify(EntryRow._make(row))

        self.before_last_hash = self.last_hash
        self.last_seq = seq
        self.last_hash = digest
        return problem

    def _classify(self, entry: LogEntry) -> Problem | None:
        expected = self.last_seq + 1
        if entry.seq > expected:
            missing = f"{expected}"
            if entry.seq > expected + 1:
                missing = f"{expected} to {entry.seq - 1}"

            return Problem("removed", expected, f"entry {missing} removed")

        # The hash covers the body's text, so a body that hashes right is the one
        # written, in canonical form; one rewritten with its hash recomputed no
        # longer links to the next entry, which names it.
        if entry_hash(entry.prev_hash, entry.body) != entry.entry_hash:
            return Problem("altered", entry.seq, f"entry {entry.seq} altered")

        body = self.parsed = _parse(entry.body)
        if body is None:
            return Problem("altered", entry.seq, f"entry {entry.seq} altered")

        if entry.prev_hash != self.last_hash:
            if entry.prev_hash == self.before_last_hash and entry.seq > 1:
                return Problem(
                    "inserted",
                    entry.seq - 1,
                    f"entry {entry.seq - 1} was inserted: it is not part of the chain",
                )

            if body.get("seq") != entry.seq:
                return Problem(
                    "reordered",
                    entry.seq,
                    f"entry {body.get('seq')} was moved to position {entry.seq}",
                )

            # The entry is whole but does not follow its predecessor: one of the two
            # was replaced, or the predecessor was altered and its hash recomputed.
            return Problem(
                "altered",
                entry.seq,
                f"the chain breaks before entry {entry.seq}: entry {entry.seq - 1} "
                f"or entry {entry.seq} was altered or replaced",
            )

        if body.get("seq") != entry.seq or body.get("site") != entry.site_id:
            return Problem(
                "reordered",
                entry.seq,
                f"entry {body.get('seq')} was moved to position {entry.seq}",
            )

        # The columns are what the log pages show, so each must match the hashed body.
        if (
            body.get("kind") != entry.kind
            or body.get("subject") != [entry.subject_type, entry.subject_id]
            or body.get("actor") != entry.actor
            or body.get("at") != stored_time_as_logged(entry.recorded_at)
        ):
            return Problem("altered", entry.seq, f"entry {entry.seq} altered")

        return None


def check_head(head: ChainHead | None, walker: ChainWalker) -> Problem | None:
    if head is None:
        return Problem("removed", None, "the chain head of this site is missing")

    if head.seq > walker.last_seq:
        return Problem(
            "removed",
            walker.last_seq + 1,
            f"entries {walker.last_seq + 1} to {head.seq} removed from the end",
        )

    if head.seq < walker.last_seq:
        return Problem(
            "inserted",
            head.seq + 1,
            f"entry {head.seq + 1} was inserted after the last recorded entry",
        )

    if head.hash != walker.last_hash:
        return Problem("altered", head.seq, f"entry {head.seq} altered")

    return None


def _compare_rows(
    session: Session, site_id: int, state: dict[tuple[str, int], dict]
) -> list[Problem]:
    problems = []
    postgres = session.get_bind().dialect.name == "postgresql"
    for name, (model, columns) in SUBJECTS.items():
        defaults = LATER_DEFAULTS.get(name, {})
        # Rows of the logged columns only, each time already in the log's form, so
        # a row compares with what its entries set as one list with another.
        selected = [model.id]
        for column in columns:
            attribute = getattr(model, column)
            if isinstance(attribute.type, UTCDateTime):
                attribute = _as_logged(attribute, postgres=postgres).label(column)

            selected.append(attribute)

        rows = _plain_rows(
            session.connection(),
            select(*selected).where(model.site_id == site_id),
            stream=True,
        )
        keys = [(column, defaults.get(column)) for column in columns]
        # The logged values of a row whose entries set every column, in one call.
        every = itemgetter(*columns) if len(columns) > 1 else _one(columns[0])
        seen = set()
        for row in rows:
            seen.add(row[0])
            logged = state.get((name, row[0]))
            if logged is None:
                problems.append(
                    Problem("state", None, f"{name} {row[0]} has no entry in the log")
                )
                continue

            try:
                expected = (row[0], *every(logged))
            except KeyError:
                expected = (row[0], *(logged.get(column, d) for column, d in keys))

            if row != expected:
                problems.extend(_differences(name, keys, row, logged))

        for subject_type, subject_id in state:
            if subject_type == name and subject_id not in seen:
                problems.append(
                    Problem("state", None, f"{name} {subject_id} is in the log only")
                )

    return problems


def _one(column: str):
    return lambda logged: (logged[column],)


def _as_logged(column, *, postgres: bool):
    """A stored naive UTC time as the text the log records for it, in SQL: what
    stored_time_as_logged() makes in Python, for millions of rows at once."""
    if postgres:
        return func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')

    # SQLite's text always has the microseconds: "2026-06-15 14:03:00.000000".
    text = type_coerce(column, String)
    return func.replace(text, " ", "T") + "+00:00"


def _differences(name: str, keys: list, stored: tuple, logged: dict) -> list[Problem]:
    """Each column of a row that is not what its log entries set."""
    return [
        Problem(
            "state",
            None,
            f"{name} {stored[0]}: {column} is {stored[place]!r} in the table "
            f"but {logged.get(column)!r} in the log",
        )
        for place, (column, default) in enumerate(keys, start=1)
        if logged.get(column, default) != stored[place]
    ]
