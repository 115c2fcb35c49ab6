"""Each site's stored verification, the quick check of the newest entries, and
the incident a failed verification opens until a security manager resolves it."""

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, select, text, update

from gatekeeper import chain, integrity, sites, visits
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import (
    AuditEvent,
    ChainHead,
    IntegrityCheck,
    LogEntry,
    Site,
    User,
    Visit,
)

ENTRIES = LogEntry.__table__
HEADS = ChainHead.__table__
NOTE = "Visitor rows restored from last night's backup; DBA access removed."


@contextmanager
def as_database_owner(engine):
    """A transaction past the append-only triggers, as the database's owner."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for trigger in ("log_entries_no_update", "log_entries_no_delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))

        yield connection


@pytest.fixture
def logged(sessions, site, arrive):
    """Three arrivals at the site; returns their visit ids."""
    ids = []
    for name in ("Ada Lovelace", "Bob Smith", "Chen Wei"):
        with sessions.begin() as s:
            ids.append(arrive(s, name).id)

    return ids


def stored(sessions, site_id: int) -> IntegrityCheck | None:
    with sessions() as s:
        return s.get(IntegrityCheck, site_id)


def quick(sessions, site_id: int) -> str | None:
    with sessions() as s:
        return integrity.quick_check(s, site_id, s.get(IntegrityCheck, site_id))


def resolve(sessions, report, note: str, user_id: int, address: str = "") -> None:
    with sessions.begin() as s:
        integrity.resolve(
            s, report, note=note, actor=s.get(User, user_id), address=address
        )


def rename(engine, visit_id: int, name: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Visit).where(Visit.id == visit_id).values(visitor_name=name)
        )


def test_a_clean_verification_keeps_the_head_it_reached(sessions, site, logged):
    [report] = integrity.verify_and_record(sessions)

    check = stored(sessions, site.id)
    assert report.ok
    assert (check.verified_seq, check.verified_hash) == (3, report.head_hash)
    assert check.problem is None


def test_a_failed_verification_opens_an_incident_a_clean_one_does_not_close(
    engine, sessions, site, logged
):
    integrity.verify_and_record(sessions)
    rename(engine, logged[1], "Eve Intruder")

    [failed] = integrity.verify_and_record(sessions)
    opened = stored(sessions, site.id)
    rename(engine, logged[1], "Bob Smith")
    with sessions.begin() as s:
        arrival = s.get(Site, site.id)
        visits.check_in(
            s,
            site=arrival,
            kiosk=None,
            visitor_name="Dana Scully",
            company="FBI",
            host_id=sites.active_hosts(s, site.id)[0].id,
            visitor_type="visitor",
            id_type="passport",
        )

    [clean] = integrity.verify_and_record(sessions)
    still = stored(sessions, site.id)

    assert not failed.ok and clean.ok
    assert opened.problem.startswith(f"visit {logged[1]}: visitor_name is ")
    assert opened.problem_found_at is not None
    assert still.problem == opened.problem
    assert still.problem_found_at == opened.problem_found_at
    # The clean verification still moved the verified head on.
    assert still.verified_seq == 4


def test_the_quick_check_names_a_change_to_an_entry_written_since(
    engine, sessions, site, logged, arrive
):
    integrity.verify_and_record(sessions)
    for name in ("Dana Scully", "Fox Mulder"):
        with sessions.begin() as s:
            arrive(s, name)

    assert quick(sessions, site.id) is None
    with as_database_owner(engine) as db:
        db.execute(delete(ENTRIES).where(ENTRIES.c.seq == 4))

    assert quick(sessions, site.id) == "entry 4 removed"


def test_the_quick_check_leaves_older_entries_to_the_full_verification(
    engine, sessions, site, logged
):
    integrity.verify_and_record(sessions)
    with as_database_owner(engine) as db:
        db.execute(update(ENTRIES).where(ENTRIES.c.seq == 2).values(actor="user:x"))

    assert quick(sessions, site.id) is None
    [report] = integrity.verify_and_record(sessions)
    assert report.chain_problem.message == "entry 2 altered"


def test_the_quick_check_notices_the_verified_entry_hashed_again(
    engine, sessions, site, logged
):
    integrity.verify_and_record(sessions)
    with as_database_owner(engine) as db:
        db.execute(
            update(ENTRIES).where(ENTRIES.c.seq == 3).values(entry_hash="f" * 64)
        )

    assert quick(sessions, site.id) == "entry 3 was altered since it was last verified"


def test_the_quick_check_notices_the_end_cut_off_with_its_head(
    engine, sessions, site, logged
):
    integrity.verify_and_record(sessions)
    with as_database_owner(engine) as db:
        second = db.execute(select(ENTRIES).where(ENTRIES.c.seq == 2)).one()
        db.execute(delete(ENTRIES).where(ENTRIES.c.seq == 3))
        db.execute(update(HEADS).values(seq=2, hash=second.entry_hash))

    assert "entries were removed from the end" in quick(sessions, site.id)


def test_the_quick_check_walks_the_whole_log_of_a_site_never_verified(
    engine, sessions, site, logged
):
    assert quick(sessions, site.id) is None
    with as_database_owner(engine) as db:
        db.execute(update(ENTRIES).where(ENTRIES.c.seq == 1).values(kind="x"))

    assert quick(sessions, site.id) == "entry 1 altered"


def test_alerts_name_the_given_sites_whose_log_is_broken(
    engine, sessions, site, logged
):
    with sessions.begin() as s:
        other = sites.create_site(s, code="dock-b", name="Dock B", timezone="UTC")

    integrity.verify_and_record(sessions)
    rename(engine, logged[0], "Eve Intruder")
    integrity.verify_and_record(sessions)

    with sessions() as s:
        found = integrity.alerts(s, [site.id, other.id])
        elsewhere = integrity.alerts(s, [other.id])

    assert [(a.site_name, a.recorded) for a in found] == [("Dock A", True)]
    assert elsewhere == []


@pytest.mark.parametrize(
    ("note", "refusal"),
    [
        ("", "What was done is required."),
        ("Fixed.", "at least 20 characters"),
        ("Fixed\x00 it, restored from the backup", "not allowed"),
    ],
)
def test_a_resolution_needs_a_proper_note(
    engine, sessions, site, logged, guard, note, refusal
):
    integrity.verify_and_record(sessions)
    rename(engine, logged[0], "Eve Intruder")
    integrity.verify_and_record(sessions)
    rename(engine, logged[0], "Ada Lovelace")
    [report] = integrity.verify(sessions)

    with pytest.raises(integrity.ResolutionError, match=refusal):
        resolve(sessions, report, note, guard.id)

    assert stored(sessions, site.id).problem is not None


def test_a_resolution_needs_an_open_incident_and_a_log_that_verifies(
    engine, sessions, site, logged, guard
):
    integrity.verify_and_record(sessions)
    [clean] = integrity.verify(sessions)
    with pytest.raises(integrity.ResolutionError, match="No integrity problem"):
        resolve(sessions, clean, NOTE, guard.id)

    rename(engine, logged[0], "Eve Intruder")
    [broken] = integrity.verify_and_record(sessions)
    with pytest.raises(integrity.ResolutionError, match="still fails verification"):
        resolve(sessions, broken, NOTE, guard.id)

    rename(engine, logged[0], "Ada Lovelace")
    [repaired] = integrity.verify(sessions)
    resolve(sessions, repaired, NOTE, guard.id, address="10.0.0.9")

    with sessions() as s:
        event = s.scalars(select(AuditEvent)).all()[-1]

    assert stored(sessions, site.id).problem is None
    assert (event.action, event.address, event.site_id) == (
        "integrity.resolved",
        "10.0.0.9",
        site.id,
    )
    assert NOTE in event.detail and "Eve Intruder" in event.detail


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(120)
def test_a_verification_during_check_ins_reads_one_moment(
    database_url, sessions, site, host
):
    """Entries, heads and rows are read by separate queries; without one snapshot a
    check-in committed between them would look like tampering."""
    stop = threading.Event()
    failures = []

    def keep_checking_in():
        writer = make_engine(database_url)
        try:
            writer_sessions = make_sessionmaker(writer)
            while not stop.is_set():
                with writer_sessions.begin() as s:
                    visits.check_in(
                        s,
                        site=s.get(Site, site.id),
                        kiosk=None,
                        visitor_name="Ada Lovelace",
                        company="Analytical Engines",
                        host_id=host.id,
                        visitor_type="visitor",
                        id_type="passport",
                    )
        except Exception as error:  # reported by the test, not lost in the thread
            failures.append(error)
        finally:
            writer.dispose()

    thread = threading.Thread(target=keep_checking_in)
    thread.start()
    try:
        reports = [integrity.verify(sessions)[0] for _ in range(30)]
    finally:
        stop.set()
        thread.join(timeout=60)

    assert not failures
    assert all(report.ok for report in reports), [
        (r.chain_problem, r.state_problems[:2]) for r in reports if not r.ok
    ]
    assert reports[-1].entries > reports[0].entries
    assert isinstance(reports[0], chain.Report)


def test_sites_verified_each_in_a_process_of_its_own_report_as_in_one(
    engine, sessions, site, logged
):
    with sessions.begin() as s:
        sites.create_site(s, code="dock-b", name="Dock B", timezone="America/Chicago")
        sites.create_site(s, code="dock-c", name="Dock C", timezone="Europe/Madrid")

    rename(engine, logged[1], "Eve Intruder")

    def found(reports):
        return [
            (r.site_code, r.entries, r.head_hash, r.chain_problem, r.state_problems)
            for r in reports
        ]

    in_one = integrity.verify(sessions)
    apart = integrity.verify(sessions, processes=2)

    assert found(apart) == found(in_one)
    assert [r.site_code for r in apart] == ["dock-a", "dock-b", "dock-c"]
    assert [r.ok for r in apart] == [False, True, True]
