"""Concurrency drills: many people acting on one record at the same moment, and
writer processes killed in the middle of their transactions. Each action takes
effect exactly once, nothing committed is lost, and the log stays one chain.

Threads here each hold a session and a connection of their own, so on PostgreSQL
the racing transactions really run side by side; on SQLite they queue for the write
lock, which is what keeps the chain whole there. tests/gatekeeper/test_chain.py
appends from several processes that all finish; the drill below kills them.
"""

import itertools
import multiprocessing
import random
import signal
import threading
import time
from collections import Counter
from multiprocessing.connection import wait

import pytest
from sqlalchemy import func, select

from gatekeeper import badge_checks, badges, integrity, pickups, visits
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import LogEntry, OutboxMessage, Pickup, Site, User, Visit
from tests.drills.rig import check_in, seed_site, sizes
from tests.support import pickups as pickup_steps

BADGE_SECRET = "drill-badge-secret-" + "k" * 24


def race(count: int, action) -> Counter:
    """Run action(index) in `count` threads released together; count the outcomes
    each returns, or the class name of what each raised."""
    start = threading.Barrier(count)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(index: int) -> None:
        start.wait(timeout=60)
        try:
            outcome = action(index)
        except Exception as error:  # counted, then asserted on
            outcome = f"{type(error).__name__}: {error}"

        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()

    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def entries_of_kind(sessions, kind: str) -> int:
    with sessions() as session:
        return session.scalar(
            select(func.count()).select_from(LogEntry).where(LogEntry.kind == kind)
        )


def assert_log_verifies(sessions) -> None:
    for report in integrity.verify(sessions):
        assert report.ok, (report.chain_problem, report.state_problems[:3])


@pytest.mark.parametrize("racers", sizes(10, 50))
@pytest.mark.timeout(300)
def test_racing_sign_outs_of_one_badge_record_one_departure(
    drill_database_url, racers, figures
):
    history = seed_site(drill_database_url)
    engine = make_engine(drill_database_url, pool_size=racers, max_overflow=0)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        visit = session.get(Visit, history.visit_ids[0])
        token = badges.token_for(BADGE_SECRET, visit)

    def sign_out(index: int) -> str:
        # Half type the badge number at the kiosk, half scan the badge's code.
        with sessions.begin() as session:
            guard = session.get(User, history.guard_id)
            try:
                if index % 2:
                    visits.sign_out(
                        session,
                        site_id=history.site_id,
                        badge_number=visit.badge_number,
                        actor=guard,
                    )
                else:
                    badge_checks.sign_out_by_token(
                        session,
                        site_id=history.site_id,
                        token=token,
                        secret=BADGE_SECRET,
                        actor=guard,
                    )
            except visits.VisitError as error:
                return str(error)

        return "signed out"

    try:
        outcomes = race(racers, sign_out)
        assert outcomes == {
            "signed out": 1,
            "This badge is already signed out.": racers - 1,
        }
        assert entries_of_kind(sessions, "visit.departed") == 1
        with sessions() as session:
            assert session.get(Visit, visit.id).departed_by == "user:guard-main"

        assert_log_verifies(sessions)
    finally:
        engine.dispose()

    figures.add("sign-outs raced", racers)


@pytest.mark.parametrize("racers", sizes(6, 20))
@pytest.mark.timeout(300)
def test_racing_departures_of_one_driver_record_one_departure(
    drill_database_url, racers, figures
):
    history = seed_site(drill_database_url, visitors=0)
    engine = make_engine(drill_database_url, pool_size=racers, max_overflow=0)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        site = session.get(Site, history.site_id)

    pickup_steps.add_appointment(sessions, site)
    pickup = pickup_steps.on_site(sessions, site, history.guard_id)

    def depart(_index: int) -> str:
        try:
            outcome = pickup_steps.depart(sessions, pickup.id, history.guard_id)
        except pickups.PickupError as error:
            return str(error)

        return "departed" if outcome.departed else "blocked"

    try:
        outcomes = race(racers, depart)
        assert outcomes == {
            "departed": 1,
            "This driver is already logged out.": racers - 1,
        }
        assert entries_of_kind(sessions, "pickup.departed") == 1
        with sessions() as session:
            notices = session.scalar(select(func.count()).select_from(OutboxMessage))
            row = session.get(Pickup, pickup.id)
            assert (row.status, row.seal_number) == ("departed", "UL1234567")

        # One consignee notice (CTPAT 7.29), not one per guard.
        assert notices == 1
        assert_log_verifies(sessions)
    finally:
        engine.dispose()

    figures.add("departures raced", racers)


def keep_checking_in(url: str, site_id: int, host_id: int, name: str, report) -> None:
    """A writer process: check visitors in and sign every other one out, until it
    is killed; sends the id of each visit it committed down its own pipe."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    for number in itertools.count():
        with sessions.begin() as session:
            site = session.get(Site, site_id)
            visit = check_in(session, site, host_id, f"{name} visitor {number}")
            if number % 2:
                visits.sign_out(
                    session,
                    site_id=site_id,
                    badge_number=visit.badge_number,
                    actor=name,
                )

        report.send(visit.id)


class Writers:
    """Writer processes appending to one site's log, each reporting on a pipe of its
    own: a shared queue's lock could die with a killed writer and stall the rest."""

    def __init__(self, url: str, history, count: int):
        self.url = url
        self.history = history
        self.context = multiprocessing.get_context("spawn")
        self.processes: list = []
        self.pipes: dict = {}
        self.committed: list[int] = []
        self.started = 0
        for _ in range(count):
            self.start_one()

    def start_one(self) -> None:
        reader, writer = self.context.Pipe(duplex=False)
        self.started += 1
        process = self.context.Process(
            target=keep_checking_in,
            args=(
                self.url,
                self.history.site_id,
                self.history.host_id,
                f"writer {self.started}",
                writer,
            ),
            daemon=True,
        )
        process.start()
        writer.close()
        self.processes.append(process)
        self.pipes[reader] = process

    def collect(self, more: int, *, seconds: float = 120) -> None:
        """Wait until the writers have reported `more` commits."""
        wanted = len(self.committed) + more
        deadline = time.monotonic() + seconds
        while len(self.committed) < wanted:
            assert time.monotonic() < deadline, "the writers stopped committing"
            for reader in wait(list(self.pipes), timeout=1):
                try:
                    self.committed.append(reader.recv())
                except EOFError:
                    del self.pipes[reader]

    def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a live writer wherever it is: in a transaction, most likely."""
        victim = rng.choice([p for p in self.processes if p.is_alive()])
        time.sleep(rng.uniform(0, 0.01))
        victim.kill()
        victim.join(timeout=30)
        assert victim.exitcode == -signal.SIGKILL
        self.processes.remove(victim)

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.join(timeout=30)

        # Every writer ran until it was killed: none stopped on an error of its own.
        assert [p.exitcode for p in self.processes] == [-signal.SIGKILL] * len(
            self.processes
        )

        # Whatever the writers committed and sent before they died.
        for reader in list(self.pipes):
            while reader.poll():
                try:
                    self.committed.append(reader.recv())
                except EOFError:
                    break


WRITERS = 3


@pytest.mark.parametrize("kills", sizes(2, 50))
@pytest.mark.timeout(900)
def test_writers_killed_mid_transaction_leave_one_unbroken_chain(
    drill_database_url, kills, figures
):
    history = seed_site(drill_database_url, visitors=0)
    rng = random.Random(kills)
    writers = Writers(drill_database_url, history, WRITERS)
    try:
        for _ in range(kills):
            # Every writer is busy by now: each committed a few times on average.
            writers.collect(2 * WRITERS)
            writers.kill_one(rng)
            writers.start_one()

        # The chain still takes appends after the last kill.
        writers.collect(2 * WRITERS)
    finally:
        writers.stop()

    engine = make_engine(drill_database_url)
    sessions = make_sessionmaker(engine)
    try:
        [report] = integrity.verify(sessions)
        with sessions() as session:
            seqs = session.scalars(select(LogEntry.seq).order_by(LogEntry.seq)).all()
            kinds = Counter(session.scalars(select(LogEntry.kind)))
            stored = set(session.scalars(select(Visit.id)))
            departed = session.scalar(
                select(func.count(Visit.id)).where(Visit.departed_at.is_not(None))
            )
    finally:
        engine.dispose()

    # The rows and the log agree (report.ok compares every visit with its entries),
    # no sequence number is missing, and no commit a writer saw went missing.
    assert report.ok, (report.chain_problem, report.state_problems[:3])
    assert seqs == list(range(1, report.head_seq + 1))
    assert set(writers.committed) <= stored
    assert kinds["visit.arrived"] == len(stored)
    assert kinds["visit.departed"] == departed
    figures.add("writer processes killed mid-write", kills)
    if drill_database_url.startswith("postgresql"):
        # A PostgreSQL sequence does not roll back: each id skipped is a check-in
        # whose writer was killed after inserting its visit and before committing.
        skipped = max(stored) - min(stored) + 1 - len(stored)
        figures.add("check-ins cut off between insert and commit", skipped)

    figures.add("log entries appended by writers being killed", report.head_seq)
