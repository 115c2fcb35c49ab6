"""The crash drill: gunicorn workers killed with SIGKILL while visitors check in at
the kiosk, served by the shipped gunicorn config with two workers.

Several kiosks, each enrolled with a browser's cookies of its own, walk visitors
through the whole check-in over HTTP as fast as they can: who, name, ID type, the
ID's photo, the face, the host, the review's submit, and the screen with the badge
number. At random moments a killer sends SIGKILL to a worker that is serving one of
those requests, half the time the review's submit, and gunicorn's master starts
another in its place. A kiosk whose request is cut off starts over with the next
visitor on a fresh screen, as the kiosk's idle reset would.

What must hold afterwards. Every check-in answered with its badge number is in the
database. Every visit is whole, whether its kiosk heard back or not: one arrival
entry in the log, its face photo and ID photo attached with their capture keys
spent, and its host notice in the outbox. A picture left by a cut-off check-in is
still an unattached capture, its key unspent, for the hourly purge. The log is one
unbroken chain that verifies against the rows. The apps' log holds no traceback.
"""

import http.client
import io
import itertools
import os
import random
import re
import signal
import socket
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from gatekeeper import integrity, mail
from gatekeeper.config import Settings
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import LogEntry, OutboxMessage, Photo, Site, Visit
from tests.deploy.processes import production_env, unique_addresses
from tests.drills.rig import enrolment_code, gunicorn_master, seed_site, sizes
from tests.support import mail_server
from tests.support.checkins import face_jpeg

KIOSKS = 4
SUBMIT = "POST /check-in/review"
# A request whose worker died under it: the connection reset or closed before a
# whole answer came back.
CUT_OFF = (OSError, http.client.HTTPException)
SESSION_COOKIE = "gk_kiosk_session"


class CutOff(Exception):
    """The server died under a request; the kiosk starts over."""


class WrongAnswer(Exception):
    """The server answered, but not as the check-in expects: a failure of the
    drill, whatever the kills did."""


@dataclass
class Flight:
    """One request on its way, and whether the server died under it."""

    label: str
    ended: threading.Event = field(default_factory=threading.Event)
    cut_off: bool = False


class Flights:
    """The requests in flight by the client port each leaves from, so the killer
    can tell which request a worker is serving."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_port: dict[int, Flight] = {}

    def begin(self, port: int, label: str) -> Flight:
        flight = Flight(label)
        with self.lock:
            self.by_port[port] = flight

        return flight

    def end(self, port: int, flight: Flight, *, cut_off: bool) -> None:
        with self.lock:
            self.by_port.pop(port, None)

        flight.cut_off = cut_off
        flight.ended.set()

    def at(self, port: int) -> Flight | None:
        with self.lock:
            return self.by_port.get(port)


@dataclass
class Answer:
    status: int
    location: str
    page: str


class Screen:
    """One kiosk's browser: its cookies, and the address its requests come from
    (in X-Forwarded-For, as nginx sends it), a new one for each visitor so that
    the photo rate limit meant for one person does not stop a drill of hundreds."""

    def __init__(self, port: int, flights: Flights, address: str):
        self.port = port
        self.flights = flights
        self.address = address
        self.cookies: dict[str, str] = {}

    def start_over(self, address: str) -> None:
        """A fresh screen for the next visitor: the kiosk stays enrolled."""
        self.cookies.pop(SESSION_COOKIE, None)
        self.address = address

    def request(
        self, method: str, path: str, body: bytes = b"", headers=None
    ) -> Answer:
        headers = {
            "X-Forwarded-For": self.address,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            **(headers or {}),
        }
        # The request is known by its port before the server can accept it, so
        # that no kill can cut it off unseen.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(120)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        flight = self.flights.begin(port, f"{method} {path}")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        connection.sock = sock
        try:
            try:
                sock.connect(("127.0.0.1", self.port))
                connection.request(method, path, body=body or None, headers=headers)
                response = connection.getresponse()
                page = response.read()
            except CUT_OFF:
                self.flights.end(port, flight, cut_off=True)
                raise

            self.flights.end(port, flight, cut_off=False)
        except CUT_OFF as error:
            raise CutOff(f"{method} {path}: {error!r}") from error
        finally:
            connection.close()

        self._keep_cookies(response.msg.get_all("Set-Cookie") or [])
        return Answer(
            response.status,
            response.getheader("Location", ""),
            page.decode("utf-8", errors="replace"),
        )

    def _keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)

    def expect(self, status: int, method: str, path: str, **send) -> Answer:
        """A request that must be answered with `status`."""
        if "form" in send:
            body = urllib.parse.urlencode(send["form"]).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        elif "photo" in send:
            boundary, body = encode_multipart(
                {"photo": FileStorage(io.BytesIO(send["photo"]), "photo.jpg")}
            )
            headers = {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-CSRFToken": send["token"],
            }
        else:
            body, headers = b"", {}

        answer = self.request(method, path, body, headers)
        if answer.status != status:
            raise WrongAnswer(f"{method} {path}: {answer.status} {answer.page[:300]}")

        return answer


@dataclass(frozen=True)
class Confirmed:
    """A check-in the kiosk answered with its badge number."""

    badge: str
    submission_key: str
    name: str


def found(pattern: str, page: str, what: str) -> str:
    match = re.search(pattern, page)
    if match is None:
        raise WrongAnswer(f"no {what} on the page: {page[:300]}")

    return match.group(1)


def check_in(screen: Screen, photo: bytes, name: str, host_id: int) -> Confirmed:
    """Walk one visitor with a passport through every step, as the kiosk's pages
    would; the badge number the last screen shows."""
    page = screen.expect(200, "GET", "/check-in").page
    token = found(r'name="csrf-token" content="([^"]+)"', page, "CSRF token")
    answers = [
        ("/check-in", {"visitor_type": "visitor"}),
        ("/check-in/identity", {"visitor_name": name, "company": "Acme Freight"}),
        ("/check-in/id-type", {"id_type": "passport"}),
    ]
    for path, fields in answers:
        screen.expect(302, "POST", path, form={**fields, "csrf_token": token})

    for path in ("/check-in/id-photo", "/check-in/face"):
        screen.expect(200, "POST", path, photo=photo, token=token)

    form = {"host_id": str(host_id), "csrf_token": token}
    screen.expect(302, "POST", "/check-in/host", form=form)
    page = screen.expect(200, "GET", "/check-in/review").page
    key = found(r'name="submission_key"[^>]*value="([^"]+)"', page, "submission key")
    form = {"submission_key": key, "csrf_token": token}
    answer = screen.expect(302, "POST", "/check-in/review", form=form)
    if not answer.location.endswith("/check-in/done"):
        raise WrongAnswer(f"the review went to {answer.location}")

    page = screen.expect(200, "GET", "/check-in/done").page
    badge = found(r'class="badge-number">\s*(\d+)\s*<', page, "badge number")
    return Confirmed(badge, key, name)


class Kiosks:
    """Kiosk screens checking visitors in, each in a thread of its own, until
    stopped; what each was told is kept."""

    def __init__(self, screens: list[Screen], host_id: int):
        self.screens = screens
        self.host_id = host_id
        self.photo = face_jpeg()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.confirmed: list[Confirmed] = []
        self.cut_off = 0
        self.wrong: list[str] = []
        self.threads = [
            threading.Thread(target=self._run, args=(number, screen))
            for number, screen in enumerate(screens)
        ]

    def _run(self, number: int, screen: Screen) -> None:
        # An address comes round again minutes later; the photo limit is a minute's.
        addresses = itertools.cycle(unique_addresses(250))
        for attempt in itertools.count():
            if self.stop.is_set():
                return

            screen.start_over(next(addresses))
            name = f"Visitor {number}-{attempt}"
            try:
                confirmed = check_in(screen, self.photo, name, self.host_id)
            except CutOff:
                with self.lock:
                    self.cut_off += 1
                continue
            except WrongAnswer as error:
                with self.lock:
                    self.wrong.append(str(error))
                continue

            with self.lock:
                self.confirmed.append(confirmed)

    def count(self) -> int:
        with self.lock:
            return len(self.confirmed)

    def wait_for(self, more: int, seconds: float = 120) -> None:
        """Wait until `more` check-ins beyond those so far are confirmed."""
        wanted = self.count() + more
        deadline = time.monotonic() + seconds
        while self.count() < wanted:
            assert not self.wrong, self.wrong[:3]
            assert time.monotonic() < deadline, "the kiosks stopped checking in"
            time.sleep(0.05)

    def __enter__(self):
        for thread in self.threads:
            thread.start()

        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=180)

        assert not any(thread.is_alive() for thread in self.threads)


def workers_of(master: int) -> list[int]:
    """The gunicorn master's children: its workers, booting or serving."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []

    return [int(pid) for pid in children.split()]


def connections_to(port: int) -> dict[int, int]:
    """Established connections to the server's port: socket inode -> client port."""
    found_here = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
            found_here[int(inode)] = int(remote.rsplit(":", 1)[1], 16)

    return found_here


def sockets_of(pid: int) -> set[int]:
    inodes = set()
    folder = f"/proc/{pid}/fd"
    try:
        descriptors = os.listdir(folder)
    except OSError:
        return inodes

    for descriptor in descriptors:
        try:
            target = os.readlink(f"{folder}/{descriptor}")
        except OSError:
            continue

        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))

    return inodes


def is_gone(pid: int) -> bool:
    """True once the process has died (a zombie counts: the master reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True

    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


class Killer:
    """SIGKILL for gunicorn workers, only ever one serving a request: the request
    is found by the connection the worker holds and the client port it comes from."""

    def __init__(self, master: int, port: int, flights: Flights, rng: random.Random):
        self.master = master
        self.port = port
        self.flights = flights
        self.rng = rng
        self.kills = 0
        self.cut_off: Counter[str] = Counter()

    def busy(self) -> list[tuple[int, Flight]]:
        """The workers serving a request now, each with that request."""
        connections = connections_to(self.port)
        return [
            (pid, flight)
            for pid in workers_of(self.master)
            for flight in self._served_by(pid, connections)
        ]

    def _served_by(self, pid: int, connections: dict[int, int]) -> list[Flight]:
        """The requests whose connections the worker holds."""
        flights = []
        for inode in sockets_of(pid) & connections.keys():
            flight = self.flights.at(connections[inode])
            if flight is not None:
                flights.append(flight)

        return flights

    def kill_one(self, wanted: str | None, patience: float = 3.0) -> None:
        """Kill a worker serving a request, preferring one serving `wanted` for up
        to `patience` seconds; a random instant later, so that the kill falls
        anywhere in the request, and only if it is still serving one."""
        deadline = time.monotonic() + patience
        while True:
            busy = self.busy()
            choice = [item for item in busy if item[1].label == wanted]
            if not choice and (wanted is None or time.monotonic() > deadline):
                choice = busy

            if choice:
                pid, _flight = self.rng.choice(choice)
                time.sleep(self.rng.uniform(0, 0.02))
                if self._kill(pid):
                    return

            time.sleep(0.002)
            assert time.monotonic() < deadline + 120, "no worker served a request"

    def _kill(self, pid: int) -> bool:
        """Kill the worker if it is serving a request; whether it was killed.

        The worker is stopped first: it may have answered the request it was
        chosen for and taken another since, and what it holds when it dies is
        what the kill cuts off.
        """
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:
            return False

        held = self._served_by(pid, connections_to(self.port))
        if not held:
            os.kill(pid, signal.SIGCONT)
            return False

        os.kill(pid, signal.SIGKILL)
        self.kills += 1
        deadline = time.monotonic() + 30
        while not is_gone(pid):
            assert time.monotonic() < deadline, f"worker {pid} outlived SIGKILL"
            time.sleep(0.01)

        # The kiosks hear of it: each request fails, unless its whole answer had
        # been sent already (a kill, then, but not a cut-off).
        for flight in held:
            assert flight.ended.wait(timeout=130), "the kiosk never heard back"
            if flight.cut_off:
                self.cut_off[flight.label] += 1

        return True


def enrol(screen: Screen, code: str) -> None:
    page = screen.expect(200, "GET", "/enrol").page
    token = found(r'name="csrf_token"[^>]*value="([^"]+)"', page, "CSRF token")
    answer = screen.expect(
        302, "POST", "/enrol", form={"code": code, "csrf_token": token}
    )
    assert answer.location.endswith("/"), answer.location
    assert "gk_kiosk_device" in screen.cookies


@pytest.mark.parametrize("kills", sizes(5, 200))
@pytest.mark.timeout(1800)
def test_workers_killed_mid_check_in_lose_nothing_confirmed_and_leave_no_half_visit(
    drill_database_url, tmp_path, kills, figures
):
    history = seed_site(drill_database_url, visitors=0)
    self_service(drill_database_url, history.site_id)
    codes = [
        enrolment_code(drill_database_url, history.site_id, f"Lobby {number}")
        for number in range(KIOSKS)
    ]
    log = tmp_path / "kiosk.log"
    rng = random.Random(kills)
    flights = Flights()
    with mail_server.running() as smtp:
        env = production_env(
            tmp_path / "instance",
            drill_database_url,
            AUTO_MIGRATE="false",
            COOKIE_SECURE="false",
            TRUST_PROXY="true",
            GUNICORN_WORKERS="2",
            # The app is loaded once and each worker forked from it, so a
            # replacement serves at once instead of importing OpenCV for seconds;
            # what a kill can leave in the database is the same either way.
            GUNICORN_CMD_ARGS="--preload",
            # Host notices are sent as the visits commit, by the workers' couriers.
            SMTP_HOST=mail_server.HOST,
            SMTP_PORT=str(smtp.port),
        )
        with gunicorn_master("kiosk", env, log) as (url, master):
            port = int(url.rsplit(":", 1)[1])
            screens = [Screen(port, flights, a) for a in unique_addresses(KIOSKS)]
            for screen, code in zip(screens, codes, strict=True):
                enrol(screen, code)

            killer = Killer(master.pid, port, flights, rng)
            with Kiosks(screens, history.host_id) as kiosks:
                kiosks.wait_for(KIOSKS)
                while sum(killer.cut_off.values()) < kills:
                    # About one check-in confirmed between kills, so that the
                    # drill proves as many kept as it cuts off.
                    kiosks.wait_for(rng.choice([0, 1, 1, 2]))
                    time.sleep(rng.uniform(0, 0.3))
                    killer.kill_one(SUBMIT if rng.random() < 0.5 else None)

                # The master replaced every worker killed, and check-ins go on.
                kiosks.wait_for(KIOSKS)

        assert not kiosks.wrong, kiosks.wrong[:5]
        # No request failed but those a kill cut off.
        assert kiosks.cut_off == sum(killer.cut_off.values())
        assert master.returncode in (0, -signal.SIGTERM)
        output = log.read_text(errors="replace")
        assert "Traceback" not in output, output[-3000:]
        assert output.count("was sent SIGKILL") == killer.kills
        stored = assert_nothing_lost_nothing_half_written(
            drill_database_url, kiosks.confirmed
        )
        sent = assert_every_notice_sent_once(drill_database_url, smtp)

    figures.add("gunicorn workers killed serving a check-in", killer.kills)
    figures.add(
        "gunicorn workers killed during a check-in's submit", killer.cut_off[SUBMIT]
    )
    figures.add("check-ins confirmed while workers were killed", len(kiosks.confirmed))
    figures.add("visits found whole after worker kills", len(stored))
    figures.add("host notices sent while workers were killed", sent)
    if drill_database_url.startswith("postgresql"):
        # A PostgreSQL sequence does not roll back: each id skipped is a submit
        # whose worker was killed after inserting its visit and before committing.
        skipped = max(stored) - min(stored) + 1 - len(stored)
        figures.add("submits killed between the visit's insert and commit", skipped)


def self_service(url: str, site_id: int) -> None:
    """Self-service verification: the kiosk admits the visit and shows its badge."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            session.get(Site, site_id).verification_mode = "self_service"
    finally:
        engine.dispose()


def badge_in(text: str) -> str:
    """The badge number a host notice gives."""
    match = re.search(r"Badge number: (\d+)", text)
    assert match, text
    return match.group(1)


def assert_nothing_lost_nothing_half_written(url: str, confirmed) -> set[int]:
    """Every confirmed check-in stored, every visit whole, the chain verified;
    returns the ids of the visits stored."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        [report] = integrity.verify(sessions)
        with sessions() as session:
            stored = {v.badge_number: v for v in session.scalars(select(Visit))}
            seqs = session.scalars(select(LogEntry.seq).order_by(LogEntry.seq)).all()
            arrivals = Counter(
                session.scalars(
                    select(LogEntry.subject_id).where(LogEntry.kind == "visit.arrived")
                )
            )
            photos = session.scalars(select(Photo)).all()
            notices = session.scalars(select(OutboxMessage.body)).all()
    finally:
        engine.dispose()

    # The log is one chain, no sequence number missing, and every row agrees with
    # its entries (report.ok replays them).
    assert report.ok, (report.chain_problem, report.state_problems[:3])
    assert seqs == list(range(1, report.head_seq + 1))

    # Nothing the kiosks were told is lost, and no badge was given twice.
    assert len({c.badge for c in confirmed}) == len(confirmed)
    for told in confirmed:
        visit = stored.get(told.badge)
        assert visit is not None, f"confirmed badge {told.badge} is lost"
        assert (visit.submission_key, visit.visitor_name) == (
            told.submission_key,
            told.name,
        )

    # Every visit whole, confirmed or not: its arrival entry, its two photos with
    # their capture keys spent, and its host notice.
    attached: dict[int, list[str]] = {}
    for photo in photos:
        if photo.visit_id is None:
            # A capture a cut-off check-in left: still only a capture.
            assert photo.capture_key_hash is not None, photo.id
        else:
            assert photo.capture_key_hash is None, photo.id
            attached.setdefault(photo.visit_id, []).append(photo.kind)

    notice_badges = Counter(badge_in(body) for body in notices)
    for visit in stored.values():
        assert arrivals[visit.id] == 1, f"visit {visit.id}: {arrivals[visit.id]}"
        assert sorted(attached.get(visit.id, [])) == ["face", "id"], visit.id
        assert (visit.admission, visit.id_status) == ("admitted", "captured")
        assert notice_badges[visit.badge_number] == 1, visit.badge_number

    # Nothing belongs to a visit that is not there.
    assert arrivals.total() == len(stored)
    assert set(attached) <= {visit.id for visit in stored.values()}
    assert notice_badges.total() == len(stored)
    return {visit.id for visit in stored.values()}


def assert_every_notice_sent_once(url: str, smtp) -> int:
    """Each host notice sent once, or claimed by a courier that was killed, or
    waiting and then sent by the timer's run (`kiosk send-mail`); returns how many
    the workers sent."""
    settings = Settings(
        GATEKEEPER_ENV="testing", SMTP_HOST=mail_server.HOST, SMTP_PORT=smtp.port
    )
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as session:
            sent_by_workers = session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.sent_at.is_not(None)
                )
            )

        mail.deliver_pending(sessions, settings, limit=10_000)
        with sessions() as session:
            notices = session.scalars(select(OutboxMessage)).all()
    finally:
        engine.dispose()

    received = Counter(
        badge_in(message.email.get_content()) for message in smtp.inbox.messages
    )
    for notice in notices:
        badge = badge_in(notice.body)
        if notice.sent_at is not None:
            assert received[badge] == 1, (badge, received[badge])
        else:
            # Its courier was killed while sending: the claim waits for its lease
            # to run out, and the message may or may not have reached the server.
            assert notice.last_error.startswith(mail.CLAIM_MARK), notice.last_error
            assert received[badge] <= 1, (badge, received[badge])

    assert received.keys() <= {badge_in(notice.body) for notice in notices}
    return sent_by_workers
