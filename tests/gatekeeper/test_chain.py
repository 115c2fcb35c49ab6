"""The hash-chained log: a clean chain verifies, and each kind of tampering is named.

The tampering tests act as someone with full rights to the database would (CTPAT 4.5,
7.6): they go around the append-only triggers and edit rows with plain SQL, then
expect verification to say what was done and where.
"""

import json
import multiprocessing
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from gatekeeper import chain, sites, visits
from gatekeeper.db import make_engine, make_sessionmaker, utcnow
from gatekeeper.models import AuditEvent, ChainHead, LogEntry, Site, User, Visit

ENTRIES = LogEntry.__table__
HEADS = ChainHead.__table__
VISITS = Visit.__table__
AUDIT = AuditEvent.__table__

# The SQLite triggers of migration 0002, which someone holding the file can drop.
SQLITE_TRIGGERS = (
    "log_entries_no_update",
    "log_entries_no_delete",
    "audit_events_no_update",
    "audit_events_no_delete",
    "chain_heads_no_delete",
)

WRITERS = 4
VISITS_PER_WRITER = 50


@dataclass
class LoggedSite:
    """The ids of a site with a history, and how many entries its log holds."""

    site_id: int
    ada: int
    bob: int
    chen: int
    dana: int
    entries: int


@pytest.fixture
def logged(sessions, site, guard, arrive) -> LoggedSite:
    """A site whose log holds arrivals, an ID check, departures and a correction."""
    with sessions.begin() as s:
        ada = arrive(s, "Ada Lovelace").id

    with sessions.begin() as s:
        bob = arrive(s, "Bob Smyth", visitor_type="vendor").id

    with sessions.begin() as s:
        visit = s.get(Visit, ada)
        visits.verify_id(s, visit, "drivers_licence", actor=s.get(User, guard.id))

    with sessions.begin() as s:
        chen = arrive(s, "Chen Wei", id_type="national_id").id

    sign_out(sessions, ada, actor_id=guard.id)
    with sessions.begin() as s:
        visits.correct(
            s,
            s.get(Visit, bob),
            column="visitor_name",
            value="Bob Smith",
            reason="Misspelt at the kiosk",
            actor=s.get(User, guard.id),
        )

    sign_out(sessions, bob, actor_id=guard.id)
    with sessions.begin() as s:
        dana = arrive(s, "Dana Scully").id

    return LoggedSite(site.id, ada=ada, bob=bob, chen=chen, dana=dana, entries=8)


def sign_out(sessions, visit_id: int, *, actor_id: int) -> None:
    with sessions.begin() as s:
        visit = s.get(Visit, visit_id)
        visits.sign_out(
            s,
            site_id=visit.site_id,
            badge_number=visit.badge_number,
            actor=s.get(User, actor_id),
        )


def verify(sessions, site_id: int) -> chain.Report:
    with sessions.begin() as s:
        return chain.verify_site(s, s.get(Site, site_id))


@contextmanager
def tampering(engine):
    """A transaction that goes around the append-only triggers, as a superuser can."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for trigger in SQLITE_TRIGGERS:
                connection.execute(text(f"DROP TRIGGER {trigger}"))

        yield connection


def at(site_id: int, seq: int):
    """The WHERE clause naming one entry of a site's log."""
    return (ENTRIES.c.site_id == site_id) & (ENTRIES.c.seq == seq)


def read_entry(connection, site_id: int, seq: int):
    return connection.execute(select(ENTRIES).where(at(site_id, seq))).one()


def problem_of(report: chain.Report) -> tuple[str, int | None] | None:
    if report.chain_problem is None:
        return None

    return report.chain_problem.kind, report.chain_problem.seq


def test_verify_passes_a_new_site_with_an_empty_chain(sessions, site):
    report = verify(sessions, site.id)

    assert report.ok
    assert report.entries == 0
    assert report.head_seq == 0
    assert report.head_hash == chain.GENESIS


def test_verify_counts_the_entries_and_ends_at_the_head(sessions, logged):
    report = verify(sessions, logged.site_id)

    assert report.ok, (report.chain_problem, report.state_problems)
    assert report.entries == logged.entries
    assert report.head_seq == logged.entries
    with sessions.begin() as s:
        last = s.scalar(
            select(LogEntry)
            .where(LogEntry.site_id == logged.site_id)
            .order_by(LogEntry.seq.desc())
            .limit(1)
        )
        head = s.get(ChainHead, logged.site_id)

    assert last.seq == logged.entries
    assert report.head_hash == last.entry_hash == head.hash


def test_each_entry_links_to_the_hash_of_the_one_before(sessions, logged):
    with sessions.begin() as s:
        entries = s.scalars(
            select(LogEntry)
            .where(LogEntry.site_id == logged.site_id)
            .order_by(LogEntry.seq)
        ).all()

    assert [entry.seq for entry in entries] == list(range(1, logged.entries + 1))
    assert entries[0].prev_hash == chain.GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.entry_hash
        assert chain.entry_hash(after.prev_hash, after.body) == after.entry_hash


def test_verify_names_an_entry_whose_body_was_edited(engine, sessions, logged):
    with tampering(engine) as db:
        body = json.loads(read_entry(db, logged.site_id, 3).body)
        body["actor"] = "user:someone.else"
        db.execute(
            update(ENTRIES)
            .where(at(logged.site_id, 3))
            .values(body=chain.canonical(body))
        )

    report = verify(sessions, logged.site_id)

    assert not report.ok
    assert problem_of(report) == ("altered", 3)


def test_verify_names_an_entry_whose_body_is_no_longer_canonical(
    engine, sessions, logged
):
    with tampering(engine) as db:
        body = read_entry(db, logged.site_id, 5).body
        db.execute(update(ENTRIES).where(at(logged.site_id, 5)).values(body=body + " "))

    assert problem_of(verify(sessions, logged.site_id)) == ("altered", 5)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "user:someone.else"),
        ("kind", "visit.departed"),
        ("recorded_at", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
def test_verify_names_an_entry_whose_columns_disagree_with_its_body(
    engine, sessions, logged, column, value
):
    with tampering(engine) as db:
        db.execute(update(ENTRIES).where(at(logged.site_id, 4)).values({column: value}))

    assert problem_of(verify(sessions, logged.site_id)) == ("altered", 4)


def test_verify_breaks_at_an_entry_altered_and_hashed_again(engine, sessions, logged):
    with tampering(engine) as db:
        entry = read_entry(db, logged.site_id, 4)
        body = json.loads(entry.body)
        body["set"]["visitor_name"] = "Someone Else"
        forged = chain.canonical(body)
        db.execute(
            update(ENTRIES)
            .where(at(logged.site_id, 4))
            .values(body=forged, entry_hash=chain.entry_hash(entry.prev_hash, forged))
        )

    report = verify(sessions, logged.site_id)

    # Entry 4 is consistent with itself now; the chain breaks where entry 5 still
    # links to the hash entry 4 had, so the break is reported at the seam.
    assert not report.ok
    assert report.chain_problem.seq in (4, 5)


@pytest.mark.parametrize("seq", [1, 4])
def test_verify_names_an_entry_removed_from_the_chain(engine, sessions, logged, seq):
    with tampering(engine) as db:
        db.execute(delete(ENTRIES).where(at(logged.site_id, seq)))

    report = verify(sessions, logged.site_id)

    assert report.entries == logged.entries - 1
    assert problem_of(report) == ("removed", seq)


def test_verify_names_the_last_entry_removed(engine, sessions, logged):
    with tampering(engine) as db:
        db.execute(delete(ENTRIES).where(at(logged.site_id, logged.entries)))

    report = verify(sessions, logged.site_id)

    assert report.entries == logged.entries - 1
    assert problem_of(report) == ("removed", logged.entries)


def test_verify_names_the_first_of_several_entries_removed(engine, sessions, logged):
    with tampering(engine) as db:
        gone = (ENTRIES.c.site_id == logged.site_id) & ENTRIES.c.seq.in_([4, 5])
        db.execute(delete(ENTRIES).where(gone))

    report = verify(sessions, logged.site_id)

    assert problem_of(report) == ("removed", 4)
    assert report.chain_problem.message == "entry 4 to 5 removed"


def test_verify_notices_a_missing_chain_head(engine, sessions, logged):
    with tampering(engine) as db:
        db.execute(delete(HEADS).where(HEADS.c.site_id == logged.site_id))

    assert problem_of(verify(sessions, logged.site_id)) == ("removed", None)


def test_a_tail_cut_off_with_its_chain_head_is_caught_by_the_visit_rows(
    engine, sessions, logged
):
    site_id, last = logged.site_id, logged.entries
    with tampering(engine) as db:
        before_last = read_entry(db, site_id, last - 1)
        db.execute(delete(ENTRIES).where(at(site_id, last)))
        db.execute(
            update(HEADS)
            .where(HEADS.c.site_id == site_id)
            .values(seq=last - 1, hash=before_last.entry_hash)
        )

    report = verify(sessions, site_id)

    # The chain alone is consistent again; the arrival it lost still has its row.
    assert report.chain_problem is None
    assert [problem.message for problem in report.state_problems] == [
        f"visit {logged.dana} has no entry in the log"
    ]


def test_verify_names_a_forged_entry_inserted_into_the_chain(engine, sessions, logged):
    site_id, seq = logged.site_id, 4
    with tampering(engine) as db:
        # Make room at `seq` in two steps, so no row ever collides with another on
        # the unique (site_id, seq) constraint while the UPDATE runs.
        later = (ENTRIES.c.site_id == site_id) & (ENTRIES.c.seq >= seq)
        db.execute(update(ENTRIES).where(later).values(seq=-ENTRIES.c.seq))
        moved = (ENTRIES.c.site_id == site_id) & (ENTRIES.c.seq < 0)
        db.execute(update(ENTRIES).where(moved).values(seq=1 - ENTRIES.c.seq))

        predecessor = read_entry(db, site_id, seq - 1)
        recorded_at = utcnow()
        body = chain.canonical(
            {
                "site": site_id,
                "seq": seq,
                "kind": "visit.id_verified",
                "subject": ["visit", logged.chen],
                "actor": "user:gina.guard",
                "at": chain.to_log_value(recorded_at),
                "set": {},
                "details": {},
            }
        )
        db.execute(
            insert(ENTRIES).values(
                site_id=site_id,
                seq=seq,
                kind="visit.id_verified",
                subject_type="visit",
                subject_id=logged.chen,
                actor="user:gina.guard",
                recorded_at=recorded_at,
                body=body,
                prev_hash=predecessor.entry_hash,
                entry_hash=chain.entry_hash(predecessor.entry_hash, body),
            )
        )
        db.execute(
            update(HEADS).where(HEADS.c.site_id == site_id).values(seq=HEADS.c.seq + 1)
        )

    report = verify(sessions, site_id)

    assert report.entries == logged.entries + 1
    assert problem_of(report) == ("inserted", seq)


@pytest.mark.parametrize(("first", "second"), [(1, 2), (4, 5), (3, 6)])
def test_verify_names_two_entries_that_swapped_places(
    engine, sessions, logged, first, second
):
    site_id = logged.site_id
    with tampering(engine) as db:
        db.execute(update(ENTRIES).where(at(site_id, first)).values(seq=-1))
        db.execute(update(ENTRIES).where(at(site_id, second)).values(seq=first))
        db.execute(update(ENTRIES).where(at(site_id, -1)).values(seq=second))

    report = verify(sessions, site_id)

    assert report.entries == logged.entries
    assert problem_of(report) == ("reordered", first)


@pytest.mark.parametrize(
    ("visitor", "column", "value"),
    [
        ("ada", "departed_at", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("chen", "departed_at", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("chen", "visitor_name", "Someone Else"),
        ("chen", "id_status", "verified"),
        ("bob", "host_name", "Nobody"),
    ],
)
def test_verify_names_a_visit_row_that_disagrees_with_the_log(
    engine, sessions, logged, visitor, column, value
):
    visit_id = getattr(logged, visitor)
    with engine.begin() as db:
        db.execute(
            update(VISITS).where(VISITS.c.id == visit_id).values({column: value})
        )

    report = verify(sessions, logged.site_id)

    assert report.chain_problem is None
    assert [problem.kind for problem in report.state_problems] == ["state"]
    assert report.state_problems[0].message.startswith(f"visit {visit_id}: {column} ")


def test_verify_names_a_visit_row_deleted_from_the_table(engine, sessions, logged):
    with engine.begin() as db:
        db.execute(delete(VISITS).where(VISITS.c.id == logged.dana))

    report = verify(sessions, logged.site_id)

    assert report.chain_problem is None
    assert [problem.message for problem in report.state_problems] == [
        f"visit {logged.dana} is in the log only"
    ]


def test_verify_names_a_visit_row_added_behind_the_logs_back(
    engine, sessions, logged, host
):
    with engine.begin() as db:
        visit_id = db.execute(
            insert(VISITS)
            .values(
                site_id=logged.site_id,
                badge_number="999999",
                visitor_name="Eve Mallory",
                company="Nowhere",
                visitor_type="visitor",
                host_id=host.id,
                host_name=host.name,
                id_type="passport",
                id_status="verified",
                arrived_at=utcnow(),
            )
            .returning(VISITS.c.id)
        ).scalar_one()

    report = verify(sessions, logged.site_id)

    assert report.chain_problem is None
    assert [problem.message for problem in report.state_problems] == [
        f"visit {visit_id} has no entry in the log"
    ]


def test_a_correction_keeps_the_chain_and_the_visit_row_in_agreement(
    sessions, logged, guard
):
    with sessions.begin() as s:
        visits.correct(
            s,
            s.get(Visit, logged.chen),
            column="company",
            value="Difference Engines",
            reason="Wrong company typed",
            actor=s.get(User, guard.id),
        )

    report = verify(sessions, logged.site_id)

    assert report.ok, (report.chain_problem, report.state_problems)
    assert report.entries == logged.entries + 1
    with sessions.begin() as s:
        entry = s.scalar(
            select(LogEntry).where(
                LogEntry.site_id == logged.site_id,
                LogEntry.seq == logged.entries + 1,
            )
        )
        company = s.get(Visit, logged.chen).company

    body = json.loads(entry.body)
    assert entry.kind == "visit.corrected"
    assert body["set"] == {"company": "Difference Engines"}
    assert body["details"] == {
        "reason": "Wrong company typed",
        "before": "Analytical Engines",
    }
    assert company == "Difference Engines"


def test_verify_all_reports_each_site_on_its_own(engine, sessions, logged, host):
    with sessions.begin() as s:
        other = sites.create_site(s, code="yard-b", name="Yard B", timezone="UTC")
        other_host = sites.add_host(
            s, other, name="Hal Jordan", email="hal@example.com"
        )
        visits.check_in(
            s,
            site=other,
            kiosk=None,
            visitor_name="Ivy Green",
            company="Greenhouse",
            host_id=other_host.id,
            visitor_type="service_provider",
            id_type="passport",
        )

    with tampering(engine) as db:
        db.execute(delete(ENTRIES).where(at(logged.site_id, 2)))

    with sessions.begin() as s:
        reports = {report.site_code: report for report in chain.verify_all(s)}

    assert sorted(reports) == ["dock-a", "yard-b"]
    assert problem_of(reports["dock-a"]) == ("removed", 2)
    assert reports["yard-b"].ok
    assert reports["yard-b"].entries == 1


def test_a_log_entry_cannot_be_updated(sessions, logged):
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as s:
        s.execute(update(ENTRIES).where(at(logged.site_id, 2)).values(actor="x"))

    assert verify(sessions, logged.site_id).ok


def test_a_log_entry_cannot_be_deleted(sessions, logged):
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as s:
        s.execute(delete(ENTRIES).where(at(logged.site_id, 2)))

    assert verify(sessions, logged.site_id).entries == logged.entries


def test_an_audit_event_cannot_be_updated_or_deleted(sessions, logged):
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as s:
        s.execute(update(AUDIT).values(actor="nobody"))

    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as s:
        s.execute(delete(AUDIT))

    with sessions.begin() as s:
        assert s.scalar(select(func.count()).select_from(AUDIT)) >= 1


def test_a_chain_head_cannot_be_deleted(sessions, logged):
    with pytest.raises(DBAPIError, match="chain_heads"), sessions.begin() as s:
        s.execute(delete(HEADS).where(HEADS.c.site_id == logged.site_id))

    assert verify(sessions, logged.site_id).ok


@pytest.mark.postgres
def test_the_log_cannot_be_truncated_on_postgresql(pg_url):
    engine = make_engine(pg_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as db:
            db.execute(text("TRUNCATE log_entries"))
    finally:
        engine.dispose()


def check_in_many(url: str, site_id: int, host_id: int, writer: int, barrier) -> None:
    """Check visitors in one transaction at a time; the body of a writer process."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    barrier.wait(timeout=60)
    for number in range(VISITS_PER_WRITER):
        with sessions.begin() as s:
            visits.check_in(
                s,
                site=s.get(Site, site_id),
                kiosk=None,
                visitor_name=f"Visitor {number}",
                company=f"Carrier {writer}",
                host_id=host_id,
                visitor_type="vendor",
                id_type="drivers_licence",
            )

        # A pause between visitors, as between real ones, lets the other writers
        # take the lock; without it one writer can keep it for its whole run.
        time.sleep(0.002)

    engine.dispose()


def write_concurrently_and_verify(url: str) -> None:
    """Several processes append to one site's log at once; the chain stays whole."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        site = sites.create_site(s, code="dock-a", name="Dock A", timezone="UTC")
        host = sites.add_host(s, site, name="Grace Hopper", email="grace@example.com")

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    writers = [
        context.Process(
            target=check_in_many,
            args=(url, site.id, host.id, writer, barrier),
        )
        for writer in range(WRITERS)
    ]
    for writer in writers:
        writer.start()

    try:
        for writer in writers:
            writer.join(timeout=60)
    finally:
        for writer in writers:
            if writer.is_alive():
                writer.kill()
                writer.join()

    assert [writer.exitcode for writer in writers] == [0] * WRITERS
    total = WRITERS * VISITS_PER_WRITER
    with sessions.begin() as s:
        report = chain.verify_site(s, s.get(Site, site.id))
        seqs = s.scalars(
            select(LogEntry.seq).where(LogEntry.site_id == site.id).order_by("seq")
        ).all()
        companies = s.scalars(
            select(Visit.company).where(Visit.site_id == site.id).order_by(Visit.id)
        ).all()

    engine.dispose()
    # The writers took turns many times rather than running one after another (three
    # turns), or this test would prove nothing about concurrent appends.
    turns = sum(a != b for a, b in zip(companies, companies[1:], strict=False))
    assert turns >= 2 * WRITERS
    assert report.ok, (report.chain_problem, report.state_problems[:3])
    assert report.entries == total
    assert report.head_seq == total
    assert seqs == list(range(1, total + 1))


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_concurrent_writers_keep_one_unbroken_chain_on_postgresql(pg_url):
    write_concurrently_and_verify(pg_url)


@pytest.mark.timeout(60)
def test_concurrent_writers_keep_one_unbroken_chain_on_sqlite(sqlite_url):
    write_concurrently_and_verify(sqlite_url)


def test_recorded_times_read_back_as_they_were_hashed(sessions, logged):
    with sessions.begin() as s:
        entries = s.scalars(
            select(LogEntry).where(LogEntry.site_id == logged.site_id)
        ).all()

    for entry in entries:
        assert json.loads(entry.body)["at"] == chain.to_log_value(entry.recorded_at)
        assert abs(utcnow() - entry.recorded_at) < timedelta(minutes=5)


@pytest.mark.parametrize("removed", [None, 2, 3, 4])
def test_verify_reads_a_long_chain_in_batches_and_misses_nothing_between_them(
    engine, sessions, logged, monkeypatch, removed
):
    # Batches of two: every boundary falls somewhere among the entries.
    monkeypatch.setattr(chain, "ENTRY_BATCH", 2)
    if removed is not None:
        with tampering(engine) as db:
            db.execute(delete(ENTRIES).where(at(logged.site_id, removed)))

    report = verify(sessions, logged.site_id)

    if removed is None:
        assert report.ok and report.entries == logged.entries
    else:
        assert report.entries == logged.entries - 1
        assert problem_of(report) == ("removed", removed)
