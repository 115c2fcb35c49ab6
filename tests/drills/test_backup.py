"""The backup drill: backups taken while several writers check visitors in and out
are each restored into a fresh database, where the log verifies, every row has its
entries, the chain is the live chain up to the moment of the backup, and both apps
serve (CTPAT 4.12, 4.2).

A backup is one consistent snapshot taken at some moment while `kiosk backup` runs,
so what it must hold is everything committed before it began, nothing that is not in
the live database, and nothing half-written: rows and entries of the same moment.
"""

import threading
import time

import pytest
from sqlalchemy import func, select

from admin.app import create_app as create_console
from gatekeeper import backup, integrity, visits
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import LogEntry, Site, Visit
from kiosk.app import create_app as create_kiosk
from tests.drills.rig import (
    check_in,
    enrolment_code,
    seed_site,
    sizes,
    staff_account,
)
from tests.fixtures.apps import Person, close, csrf_token, sign_in

WRITERS = 2
PASSWORD = "a long and unguessable drill password"


class Load:
    """Writer threads checking visitors in, and every third one out, until stopped."""

    def __init__(self, url: str, history):
        self.url = url
        self.history = history
        self.stop = threading.Event()
        self.commits = 0
        self.failures: list[Exception] = []
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._write, args=(n,)) for n in range(WRITERS)
        ]

    def __enter__(self):
        for thread in self.threads:
            thread.start()

        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _write(self, writer: int) -> None:
        engine = make_engine(self.url)
        sessions = make_sessionmaker(engine)
        try:
            for number in range(100_000):
                if self.stop.is_set():
                    break

                with sessions.begin() as session:
                    site = session.get(Site, self.history.site_id)
                    name = f"Writer {writer} visitor {number}"
                    visit = check_in(session, site, self.history.host_id, name)
                    if number % 3 == 2:
                        visits.sign_out(
                            session,
                            site_id=site.id,
                            badge_number=visit.badge_number,
                            actor=f"writer {writer}",
                        )

                with self.lock:
                    self.commits += 1
        except Exception as error:  # reported by the test, not lost in the thread
            self.failures.append(error)
        finally:
            engine.dispose()

    def wait_for(self, more: int, seconds: float = 60) -> None:
        wanted = self.commits + more
        deadline = time.monotonic() + seconds
        while self.commits < wanted:
            assert not self.failures, self.failures
            assert time.monotonic() < deadline, "the writers stopped"
            time.sleep(0.02)


def counts(url: str) -> tuple[int, list[tuple[int, str]]]:
    """How many visits a database holds, and its chain as (seq, hash) pairs."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            visit_count = session.scalar(select(func.count(Visit.id)))
            chain = session.execute(
                select(LogEntry.seq, LogEntry.entry_hash).order_by(LogEntry.seq)
            ).all()
    finally:
        engine.dispose()

    return visit_count, [tuple(link) for link in chain]


def fresh_database(request, source_url: str, tmp_path, number: int) -> str:
    """An empty database to restore into, of the same kind as the source."""
    if source_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'restored-{number}.sqlite3'}"

    server, _template = request.getfixturevalue("drill_postgres")
    return server.create_database()


@pytest.mark.parametrize("backups", sizes(1, 10))
@pytest.mark.timeout(600)
def test_backups_taken_under_write_load_restore_whole_elsewhere(
    request, drill_database_url, app_settings, tmp_path, backups, figures
):
    url = drill_database_url
    history = seed_site(url, visitors=3)
    desk = staff_account(url, history.site_id, "frank", PASSWORD)
    taken = []
    with Load(url, history) as load:
        for number in range(backups):
            load.wait_for(10)
            visits_before, _ = counts(url)
            path = backup.backup(url, tmp_path / f"drill-{number}.backup")
            visits_after, _ = counts(url)
            taken.append((path, visits_before, visits_after))

        load.wait_for(10)

    assert not load.failures, load.failures
    _, live_chain = counts(url)
    for number, (path, visits_before, visits_after) in enumerate(taken):
        restored = fresh_database(request, url, tmp_path, number)
        backup.restore(restored, path)
        restored_visits, restored_chain = counts(restored)
        engine = make_engine(restored)
        try:
            [report] = integrity.verify(make_sessionmaker(engine))
        finally:
            engine.dispose()

        # Whole: the chain verifies and every visit matches its entries; of its
        # moment: all that was committed before the backup began, no more than after
        # it ended, and the chain is the live one up to its head.
        assert report.ok, (report.chain_problem, report.state_problems[:3])
        assert visits_before <= restored_visits <= visits_after
        assert restored_chain == live_chain[: len(restored_chain)]
        assert (report.head_seq, report.head_hash) == restored_chain[-1]
        figures.add("backups taken under write load and restored", 1)
        figures.add("log entries verified in the restored copies", report.entries)

    desk_person = Person(desk.id, "frank", "front_desk", PASSWORD)
    assert_the_apps_serve_from(restored, app_settings, history.site_id, desk_person)


def assert_the_apps_serve_from(
    url: str, app_settings: dict, site_id: int, desk: Person
) -> None:
    """Both apps run on the restored copy: staff sign in and read today's visits,
    and a kiosk enrols and shows its start screen."""
    settings = {**app_settings, "DATABASE_URL": url}
    console = create_console(settings)
    try:
        client = console.test_client()
        assert sign_in(client, desk).status_code == 302
        page = client.get("/visits/today")
        assert page.status_code == 200
        assert "Visitor 0" in page.get_data(as_text=True)
    finally:
        close(console)

    code = enrolment_code(url, site_id)
    kiosk = create_kiosk(settings)
    try:
        client = kiosk.test_client()
        token = csrf_token(client, "/enrol")
        enrolled = client.post("/enrol", data={"code": code, "csrf_token": token})
        assert enrolled.status_code == 302
        assert client.get("/").status_code == 200
    finally:
        close(kiosk)
