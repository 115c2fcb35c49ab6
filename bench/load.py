"""Load both apps under gunicorn on loopback with a lobby's mix of work.

Run from the repository root:  .venv/bin/python -m bench.load [--scale small|full]
                               [--seconds N] [--clients N]
                               [--database-url postgresql://postgres@127.0.0.1/test]

A fresh database (a SQLite file, or a new database on the PostgreSQL server the URL
names, dropped afterwards; the URL's own database is never touched) gets a
self-service site with hosts, an enrolled kiosk, a guard, a security manager with a
second factor, and visits to sign out and badges to check. The kiosk and the
console then run under their shipped gunicorn configs (deploy/gunicorn: two sync
workers per core, as deployed), with Redis counting the rate limits when it
answers, and a bare Flask + SQLAlchemy app (bench/bare_app.py) under the same
settings. Three phases follow, each with the same number of concurrent clients
(threads, one HTTP connection a request, as gunicorn's sync workers close each):

1. The mix, for a fixed time: kiosk check-ins (the browser's whole walk: every page,
   both 1280 x 720 photos, the host search, the review, the done page, the badge
   and the Done button), kiosk sign-outs by badge number, guard badge checks, and
   a security manager's log searches. Each kind's requests/s, p50 and p99.
2. Check-in submits: the clients first walk visitors to the review screen (not
   timed), then tap "Check in" for all of them at once. Counted is that one
   request, which records the visit, its photos, its log entry and the host's
   notice in one transaction.
3. The bare app's insert of one row, for a fixed time.

The targets: no request fails; afterwards the log's chain verifies and every
visit and sign-out a client was told of is in the database; and check-in submits
per second at least half the bare app's inserts per second.

Every task comes from an address of its own (X-Forwarded-For, as nginx sends it):
the kiosk's per-address limits exist to stop one script at one screen, and one
client here does a whole lobby's work. The limiter still counts every request.

The clients share the machine's cores with the servers, and so does whatever else
runs; the figures are those of the whole machine.
"""

import argparse
import collections
import contextlib
import dataclasses
import itertools
import json
import logging
import math
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http import client as http
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pyotp
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import bare_app
from gatekeeper import (
    accounts,
    badges,
    integrity,
    kiosks,
    mfa,
    migrate,
    sites,
    visits,
)
from gatekeeper.db import make_engine, make_sessionmaker, utcnow
from gatekeeper.models import Visit
from tests.deploy.processes import free_port, wait_until_answers
from tests.support.pictures import framed, jpeg, portrait

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
TARGET_RATIO = 0.5
REDIS = ("127.0.0.1", 6379)
# How the mix's tasks are drawn: a lobby checks people in and out about as often
# as the guard checks badges, and the log is searched now and then.
MIX = {"check-in": 3, "sign-out": 3, "badge check": 3, "search": 1}
FIRST_NAMES = ("Ana", "Bruno", "Carla", "Diego", "Elena", "Felipe", "Gloria", "Hugo")
LAST_NAMES = ("López", "Stone", "Ramos", "Okafor", "Novak", "Chen", "Silva", "Weber")
COMPANIES = ("Acme Freight", "Borealis Parts", "Cintas", "Delta Pallets", "Evergreen")
TIMEOUT = 60.0


@dataclasses.dataclass(frozen=True)
class Scale:
    clients: int
    seconds: float
    drafts_per_client: int
    bare_seconds: float


SCALES = {
    "small": Scale(clients=10, seconds=10, drafts_per_client=4, bare_seconds=5),
    "full": Scale(clients=50, seconds=60, drafts_per_client=8, bare_seconds=15),
}


class Failure(Exception):
    """A request answered other than a working app answers it."""


# The HTTP side: a browser's cookies, its address, and each request timed.


@dataclasses.dataclass
class Tally:
    """One thread's requests: latencies per kind, failures per kind."""

    latencies: dict[str, list[float]] = dataclasses.field(
        default_factory=lambda: collections.defaultdict(list)
    )
    failures: collections.Counter = dataclasses.field(
        default_factory=collections.Counter
    )
    done: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    examples: list[str] = dataclasses.field(default_factory=list)

    def merge(self, other: "Tally") -> None:
        for kind, samples in other.latencies.items():
            self.latencies[kind].extend(samples)

        self.failures.update(other.failures)
        self.done.update(other.done)
        self.examples.extend(other.examples[: max(0, 5 - len(self.examples))])


@dataclasses.dataclass
class Answer:
    status: int
    location: str
    body: str


class Browser:
    """One browser talking to one app server; every request is timed under a kind."""

    def __init__(self, server: str, tally: Tally, cookies: dict | None = None):
        parts = urlsplit(server)
        self.host, self.port = parts.hostname, parts.port
        self.tally = tally
        self.cookies = dict(cookies or {})
        self.kind = "setup"
        self.address = "127.0.0.1"
        self.token = ""

    def get(self, path: str, *, expect: tuple[int, ...] = (200,)) -> Answer:
        return self.request("GET", path, expect=expect)

    def post(
        self, path: str, fields: dict, *, expect: tuple[int, ...] = (302,)
    ) -> Answer:
        """Post a form with the CSRF token of the last page."""
        body = urlencode({"csrf_token": self.token, **fields}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, body=body, headers=headers, expect=expect)

    def upload(self, path: str, name: str, data: bytes) -> dict:
        """Post a photo as the camera page's script does; its JSON answer."""
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f"--{boundary}\r\n".encode(),
                f'Content-Disposition: form-data; name="{name}"; '
                'filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode(),
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-CSRFToken": self.token,
        }
        answer = self.request("POST", path, body=body, headers=headers)
        return json.loads(answer.body)

    def request(self, method, path, *, body=None, headers=None, expect=(200,)):
        headers = {
            **(headers or {}),
            "X-Forwarded-For": self.address,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        connection = http.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()

        self.tally.latencies[self.kind].append(time.perf_counter() - started)
        self._keep_cookies(response.headers.get_all("Set-Cookie") or [])
        if response.status not in expect:
            raise Failure(f"{method} {path}: {response.status} {_gist(text)}")

        token = re.search(r'name="csrf-token" content="([^"]+)"', text) or re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', text
        )
        if token:
            self.token = token.group(1)

        location = urlsplit(response.headers.get("Location", ""))
        where = location.path + (f"?{location.query}" if location.query else "")
        return Answer(response.status, where, text)

    def follow(self, path: str, fields: dict) -> Answer:
        """Post a step's form and open the page it redirects to, as a browser does."""
        return self.get(self.post(path, fields).location)

    def _keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


def _gist(text: str) -> str:
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    return (title.group(1) if title else text[:120]).strip()


# The database and the servers.


@dataclasses.dataclass
class Lobby:
    """What the load needs from the prepared database."""

    site_id: int
    kiosk_id: int
    kiosk_code: str
    guard: tuple[str, str]
    manager: tuple[str, str, str]
    to_sign_out: collections.deque
    tokens: list[str]
    badge_numbers: list[str]
    visits_before: int


@contextlib.contextmanager
def fresh_database(folder: Path, server_url: str | None) -> Iterator[str]:
    """A new SQLite file, or a new database beside the URL's, dropped afterwards."""
    if not server_url:
        yield f"sqlite:///{folder / 'load.sqlite3'}"
        return

    name = f"bench_load_{secrets.token_hex(4)}"
    admin_url = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin_url.render_as_string(False), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    try:
        yield admin_url.set(database=name).render_as_string(False)
    finally:
        with psycopg.connect(
            admin_url.render_as_string(False), autocommit=True
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str, photo_key: str, secret: str, to_sign_out: int) -> Lobby:
    """Migrate, then make the site, its people and its visits through the domain."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    bare_app.create_table(url)
    sessions = make_sessionmaker(engine)
    password = f"river-{secrets.token_hex(8)}-stone"
    totp_secret = mfa.new_secret()
    with sessions.begin() as session:
        site = sites.create_site(
            session, code="load", name="Load Test", timezone="America/Chicago"
        )
        site.verification_mode = "self_service"
        hosts = [
            sites.add_host(session, site, name=f"{first} {last}", email=f"{n}@ex.com")
            for n, (first, last) in enumerate(zip(FIRST_NAMES, LAST_NAMES, strict=True))
        ]
        kiosk, code = kiosks.create_kiosk(session, site, "Lobby", actor="bench")
        guard = _person(session, site, "guard", password)
        manager = _person(session, site, "security_manager", password)
        manager.totp_secret = mfa.seal_secret(photo_key, totp_secret)
        manager.mfa_enrolled_at = utcnow()
        ids = (site.id, kiosk.id, [host.id for host in hosts])

    site_id, kiosk_id, host_ids = ids
    badge_visits = 50
    made = []
    for start in range(0, to_sign_out + badge_visits, 200):
        with sessions.begin() as session:
            site = session.get(type(site), site_id)
            verifier = session.get(type(guard), guard.id)
            made += [
                _desk_visit(session, site, verifier, host_ids, n)
                for n in range(start, min(start + 200, to_sign_out + badge_visits))
            ]

    tokens = [
        badges.make_token(
            secret,
            site_id=site_id,
            visit_id=visit_id,
            badge_number=number,
            valid_until=until,
        )
        for visit_id, number, until in made[:badge_visits]
    ]
    # The nightly verification has run: the console's banner check then reads
    # only what was written since, as it would on a working day.
    integrity.verify_and_record(sessions)
    engine.dispose()
    return Lobby(
        site_id=site_id,
        kiosk_id=kiosk_id,
        kiosk_code=code,
        guard=("guard", password),
        manager=("securitymanager", password, totp_secret),
        to_sign_out=collections.deque(number for _, number, _ in made[badge_visits:]),
        tokens=tokens,
        badge_numbers=[number for _, number, _ in made],
        visits_before=len(made),
    )


def _person(session, site, role: str, password: str):
    user, _ = accounts.create_user(
        session,
        username=role.replace("_", ""),
        display_name=f"Load {role.replace('_', ' ').title()}",
        role=role,
        sites=[site],
        password=password,
        actor="bench",
    )
    user.must_change_password = False
    return user


def _desk_visit(session, site, verifier, host_ids: list[int], n: int):
    """A visit checked in at the desk, ID verified: a badge that checks as valid."""
    visit = visits.check_in(
        session,
        site=site,
        kiosk=None,
        visitor_name=_name(n),
        company=COMPANIES[n % len(COMPANIES)],
        host_id=host_ids[n % len(host_ids)],
        visitor_type="service_provider",
        id_type="passport",
        arrival=visits.Arrival(verified_by=verifier),
    )
    return visit.id, visit.badge_number, visit.valid_until


def _name(n: int) -> str:
    first = FIRST_NAMES[n % len(FIRST_NAMES)]
    last = LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return f"{first} {last}"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def servers(folder: Path, url: str, secret: str, photo_key: str) -> Iterator[dict]:
    """The kiosk, the console and the bare app under gunicorn; their URLs by name."""
    ports = {name: free_port() for name in ("kiosk", "console", "bare")}
    limits = "redis://127.0.0.1:6379" if _redis_answers() else "memory://"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GATEKEEPER_ENV": "production",
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        "PHOTO_KEY": photo_key,
        "COOKIE_SECURE": "false",
        "TRUST_PROXY": "true",
        "RATELIMIT_STORAGE_URI": limits,
        "LOG_LEVEL": "WARNING",
        "GUNICORN_LOG_LEVEL": "warning",
        "KIOSK_BIND": f"127.0.0.1:{ports['kiosk']}",
        "CONSOLE_BIND": f"127.0.0.1:{ports['console']}",
        "BARE_DATABASE_URL": url,
    }
    config = ROOT / "deploy" / "gunicorn"
    commands = {
        "kiosk": ["-c", str(config / "kiosk.conf.py")],
        "console": ["-c", str(config / "console.conf.py")],
        "bare": [
            "-c",
            str(config / "gunicorn_common.py"),
            "-b",
            f"127.0.0.1:{ports['bare']}",
            "bench.bare_app:from_environment()",
        ],
    }
    processes = {}
    try:
        for name, arguments in commands.items():
            log = (folder / f"{name}.log").open("wb")
            processes[name] = subprocess.Popen(  # noqa: S603 (our own gunicorn)
                [str(GUNICORN), *arguments],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, process in processes.items():
            # Eight workers importing OpenCV on a busy 2-core machine take a while.
            try:
                wait_until_answers(f"{urls[name]}/healthz", process, seconds=180)
            except AssertionError as error:
                log = (folder / f"{name}.log").read_text(errors="replace")
                raise RuntimeError(f"{name}: {error}\n{log[-2000:]}") from error

        yield urls
    finally:
        _stop(processes.values())


def _stop(processes) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()

    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_errors(folder: Path) -> list[str]:
    """Lines the servers logged at ERROR or worse, or tracebacks."""
    found = []
    for log in sorted(folder.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if " ERROR " in line or " CRITICAL " in line or "Traceback" in line:
                found.append(f"{log.stem}: {line}")

    return found


# The tasks: what a visitor, a guard and a security manager do.


@dataclasses.dataclass
class Review:
    cookies: dict
    token: str
    key: str


class Lobbyists:
    """Starts each kind of task with its own browser, address and signed-in session."""

    def __init__(self, urls: dict, lobby: Lobby, photo: bytes):
        self.urls = urls
        self.lobby = lobby
        self.photo = photo
        self.addresses = itertools.count()
        self.tag = secrets.randbelow(200) + 20
        self.made = collections.deque()
        self.device = {}
        self.guard = {}
        self.manager = {}

    def sign_in_everyone(self) -> None:
        """Enrol the kiosk and sign the guard and the manager in, once each."""
        tally = Tally()
        kiosk = Browser(self.urls["kiosk"], tally)
        kiosk.get(f"/enrol?code={self.lobby.kiosk_code}")
        kiosk.post("/enrol", {"code": self.lobby.kiosk_code})
        self.device = dict(kiosk.cookies)
        self.guard = self._console_session(*self.lobby.guard)
        self.manager = self._console_session(*self.lobby.manager)

    def _console_session(self, username, password, totp_secret=None) -> dict:
        console = Browser(self.urls["console"], Tally())
        console.get("/login")
        console.post("/login", {"username": username, "password": password})
        if totp_secret:
            console.get("/login/second-factor")
            code = pyotp.TOTP(totp_secret).now()
            console.post("/login/second-factor", {"code": code})

        console.get("/", expect=(200, 302))
        return dict(console.cookies)

    def browser(self, app: str, kind: str, tally: Tally, cookies: dict) -> Browser:
        browser = Browser(self.urls[app], tally, cookies)
        browser.kind = kind
        n = next(self.addresses)
        browser.address = f"10.{self.tag}.{n // 250 % 250}.{n % 250 + 1}"
        return browser

    def walk_to_review(self, tally: Tally, kind: str, n: int) -> Browser:
        """A visitor's steps from the start screen to the review, photos included."""
        kiosk = self.browser("kiosk", kind, tally, self.device)
        kiosk.get("/")
        kiosk.get("/check-in")
        kiosk.follow("/check-in", {"visitor_type": "service_provider"})
        name = f"{_name(n)} {secrets.token_hex(2)}"
        identity = {"visitor_name": name, "company": COMPANIES[n % len(COMPANIES)]}
        kiosk.follow("/check-in/identity", identity)
        kiosk.follow("/check-in/id-type", {"id_type": "passport"})
        for step in ("id-photo", "face"):
            answer = kiosk.upload(f"/check-in/{step}", "photo", self.photo)
            kiosk.get(answer["next"])

        host = re.search(
            r'<option value="([1-9]\d*)"', kiosk.get("/check-in/host").body
        )
        if host is None:
            raise Failure("the host step lists no host")

        kiosk.get(f"/hosts?q={FIRST_NAMES[n % len(FIRST_NAMES)][:2]}")
        kiosk.follow("/check-in/host", {"host_id": host.group(1)})
        return kiosk

    def check_in(self, tally: Tally, rng: random.Random) -> None:
        kiosk = self.walk_to_review(tally, "check-in", rng.randrange(10_000))
        submitted = kiosk.post("/check-in/review", _review_fields(kiosk))
        if submitted.location != "/check-in/done":
            raise Failure(f"the review went to {submitted.location}")

        done = kiosk.get("/check-in/done").body
        number = re.search(r'class="badge-number">(\d{6})<', done)
        if number is None:
            raise Failure("the done screen shows no badge number")

        kiosk.get("/check-in/badge")
        kiosk.post("/reset", {})
        tally.done["check-in"] += 1
        self.made.append(number.group(1))

    def sign_out(self, tally: Tally, rng: random.Random) -> None:
        pool = self.made if len(self.made) > len(self.lobby.to_sign_out) else None
        try:
            number = (pool or self.lobby.to_sign_out).popleft()
        except IndexError:
            return

        kiosk = self.browser("kiosk", "sign-out", tally, self.device)
        kiosk.get("/")
        kiosk.get("/sign-out")
        page = kiosk.post("/sign-out", {"badge_number": number}, expect=(200,))
        if "You are signed out" not in page.body:
            raise Failure(f"badge {number} was not signed out: {_form_error(page)}")

        tally.done["sign-out"] += 1

    def badge_check(self, tally: Tally, rng: random.Random) -> None:
        guard = self.browser("console", "badge check", tally, self.guard)
        guard.get("/badges/check")
        code = rng.choice(self.lobby.tokens)
        page = guard.post("/badges/check", {"code": code}, expect=(200,))
        if 'class="verdict-headline">VALID<' not in page.body:
            raise Failure(f"a valid badge was not shown valid: {_form_error(page)}")

        tally.done["badge check"] += 1

    def search(self, tally: Tally, rng: random.Random) -> None:
        manager = self.browser("console", "search", tally, self.manager)
        terms = rng.choice(
            [
                {"name": rng.choice(FIRST_NAMES)[:3]},
                {"company": rng.choice(COMPANIES)[:4]},
                {"badge": rng.choice(self.lobby.badge_numbers)},
                {"host": rng.choice(LAST_NAMES)[:2], "state": "on_site"},
            ]
        )
        manager.get(f"/logs/visits?{urlencode(terms)}")
        tally.done["search"] += 1


def _review_fields(kiosk: Browser) -> dict:
    review = kiosk.get("/check-in/review").body
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', review)
    if key is None:
        raise Failure("the review screen has no submission key")

    return {"submission_key": key.group(1)}


def _form_error(answer: Answer) -> str:
    found = re.search(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', answer.body, re.S)
    return found.group(1).strip() if found else _gist(answer.body)


# The phases.


def run_threads(count: int, work: Callable[[int, Tally], None]) -> tuple[Tally, float]:
    """Run work(n, tally) on count threads at once; their tallies and the wall time."""
    tallies = [Tally() for _ in range(count)]
    threads = [
        threading.Thread(target=work, args=(n, tallies[n]), daemon=True)
        for n in range(count)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()

    for thread in threads:
        thread.join()

    elapsed = time.perf_counter() - started
    total = Tally()
    for tally in tallies:
        total.merge(tally)

    return total, elapsed


def attempt(tally: Tally, kind: str, task: Callable, *args) -> None:
    """Run one task; a failure is counted against its kind, and the client goes on."""
    try:
        task(*args)
    except (Failure, OSError, http.HTTPException, ValueError, KeyError) as error:
        tally.failures[kind] += 1
        if len(tally.examples) < 5:
            tally.examples.append(f"{kind}: {type(error).__name__}: {error}")


def run_mix(people: Lobbyists, clients: int, seconds: float) -> tuple[Tally, float]:
    """Each client draws tasks from the mix until the time is up."""
    tasks = {
        "check-in": people.check_in,
        "sign-out": people.sign_out,
        "badge check": people.badge_check,
        "search": people.search,
    }
    kinds, weights = list(MIX), list(MIX.values())
    deadline = time.monotonic() + seconds

    def client(n: int, tally: Tally) -> None:
        # A seeded draw makes each client's mix repeatable; nothing here is secret.
        rng = random.Random(n)  # noqa: S311
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            attempt(tally, kind, tasks[kind], tally, rng)

    return run_threads(clients, client)


def run_submits(people: Lobbyists, clients: int, per_client: int):
    """Walk visitors to the review (not timed), then submit every review at once."""
    reviews = collections.deque()
    numbers = itertools.count()

    def walk(n: int, tally: Tally) -> None:
        for _ in range(per_client):
            visitor = next(numbers)
            attempt(
                tally, "walk to review", _ready_review, people, tally, reviews, visitor
            )

    walked, _ = run_threads(clients, walk)

    def submit(n: int, tally: Tally) -> None:
        while reviews:
            attempt(tally, "check-in submit", _submit_review, people, tally, reviews)

    submitted, elapsed = run_threads(clients, submit)
    submitted.failures.update(walked.failures)
    submitted.examples.extend(walked.examples)
    return submitted, elapsed


def _ready_review(people: Lobbyists, tally: Tally, reviews, n: int) -> None:
    kiosk = people.walk_to_review(tally, "walk to review", n)
    key = _review_fields(kiosk)["submission_key"]
    reviews.append(Review(kiosk.cookies, kiosk.token, key))


def _submit_review(people: Lobbyists, tally: Tally, reviews) -> None:
    try:
        review = reviews.popleft()
    except IndexError:
        return

    kiosk = people.browser("kiosk", "check-in submit", tally, review.cookies)
    kiosk.token = review.token
    answer = kiosk.post("/check-in/review", {"submission_key": review.key})
    if answer.location != "/check-in/done":
        raise Failure(f"the review went to {answer.location}")

    tally.done["check-in submit"] += 1


def run_bare(url: str, clients: int, seconds: float) -> tuple[Tally, float]:
    """Each client inserts one row after another until the time is up."""
    deadline = time.monotonic() + seconds

    def client(n: int, tally: Tally) -> None:
        browser = Browser(url, tally)
        browser.kind = "bare insert"
        while time.monotonic() < deadline:
            attempt(tally, "bare insert", _bare_insert, browser, tally)

    return run_threads(clients, client)


def _bare_insert(browser: Browser, tally: Tally) -> None:
    browser.request("POST", "/insert", body=b"", expect=(201,))
    tally.done["bare insert"] += 1


# Afterwards: the log, the records, and the figures.


def check_records(url: str, lobby: Lobby, done: collections.Counter) -> tuple:
    """Verify the chain, and count the visits and sign-outs a client saw but the
    database lacks (or has too many of); the first problem's description."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    reports = integrity.verify(sessions)
    broken = [report for report in reports if not report.ok]
    with sessions() as session:
        made = session.scalar(
            select(func.count()).where(Visit.kiosk_id == lobby.kiosk_id)
        )
        departed = session.scalar(
            select(func.count()).where(Visit.departed_at.is_not(None))
        )

    engine.dispose()
    checked_in = done["check-in"] + done["check-in submit"]
    lost = abs(made - checked_in) + abs(departed - done["sign-out"])
    problem = integrity.describe(broken[0]) if broken else ""
    return len(broken), lost, problem


def percentile(samples: list[float], point: int) -> float:
    """The point-th percentile in milliseconds (nan without samples)."""
    if not samples:
        return math.nan

    if len(samples) == 1:
        return samples[0] * 1000

    return statistics.quantiles(samples, n=100, method="inclusive")[point - 1] * 1000


def row(measure: str, backend: str, value, unit: str, target="", ok=True) -> dict:
    return {
        "measure": measure,
        "backend": backend,
        "value": value,
        "unit": unit,
        "target": target,
        "ok": ok,
    }


def speed_rows(backend: str, label: str, samples: list[float], elapsed: float):
    return [
        row(f"{label}: requests/s", backend, round(len(samples) / elapsed, 1), "req/s"),
        row(f"{label}: p50", backend, round(percentile(samples, 50), 1), "ms"),
        row(f"{label}: p99", backend, round(percentile(samples, 99), 1), "ms"),
    ]


@dataclasses.dataclass
class Outcome:
    """What the three phases and the checks afterwards found."""

    backend: str
    clients: int
    mix: Tally
    mix_seconds: float
    submits: Tally
    submit_seconds: float
    bare: Tally
    bare_seconds: float
    chain_breaks: int = 0
    lost: int = 0
    logged: list[str] = dataclasses.field(default_factory=list)
    problem: str = ""

    def rows(self) -> list[dict]:
        backend, mix = self.backend, self.mix
        rows = []
        for kind in MIX:
            rows += speed_rows(
                backend, f"mix, {kind}", mix.latencies[kind], self.mix_seconds
            )

        everything = [s for kind in MIX for s in mix.latencies[kind]]
        rows += speed_rows(backend, "mix, all requests", everything, self.mix_seconds)
        rows.append(
            row(
                "mix: check-ins completed/s",
                backend,
                round(mix.done["check-in"] / self.mix_seconds, 2),
                "1/s",
            )
        )
        submit = self.submits.latencies["check-in submit"]
        insert = self.bare.latencies["bare insert"]
        rows += speed_rows(backend, "check-in submit", submit, self.submit_seconds)
        rows += speed_rows(backend, "bare insert", insert, self.bare_seconds)
        ratio = (self.submits.done["check-in submit"] / self.submit_seconds) / max(
            self.bare.done["bare insert"] / self.bare_seconds, 1e-9
        )
        failures = sum(
            tally.failures.total() for tally in (mix, self.submits, self.bare)
        )
        return rows + [
            row(
                f"check-in submits/s ÷ bare inserts/s, {self.clients} clients",
                backend,
                round(ratio, 2),
                "x",
                f">= {TARGET_RATIO}",
                ratio >= TARGET_RATIO,
            ),
            row("requests failed", backend, failures, "count", "0", failures == 0),
            row(
                "server log errors",
                backend,
                len(self.logged),
                "lines",
                "0",
                not self.logged,
            ),
            row(
                "log chain breaks after the load",
                backend,
                self.chain_breaks,
                "sites",
                "0",
                self.chain_breaks == 0,
            ),
            row(
                "visits or sign-outs lost",
                backend,
                self.lost,
                "count",
                "0",
                self.lost == 0,
            ),
        ]

    def examples(self) -> list[str]:
        found = self.mix.examples + self.submits.examples + self.bare.examples
        return found + self.logged[:5] + ([self.problem] if self.problem else [])


def run(plan: Scale, database_url: str | None) -> Outcome:
    """Prepare, serve, load, check; every server stopped and the database gone."""
    backend = "PostgreSQL" if database_url else "SQLite"
    secret = secrets.token_urlsafe(36)
    photo_key = Fernet.generate_key().decode("ascii")
    with (
        tempfile.TemporaryDirectory() as temporary,
        fresh_database(Path(temporary), database_url) as url,
    ):
        folder = Path(temporary)
        to_sign_out = int(plan.seconds * plan.clients) + 100
        lobby = prepare(url, photo_key, secret, to_sign_out)
        photo = jpeg(framed(portrait()))
        with servers(folder, url, secret, photo_key) as urls:
            people = Lobbyists(urls, lobby, photo)
            people.sign_in_everyone()
            mix, mix_seconds = run_mix(people, plan.clients, plan.seconds)
            submits, submit_seconds = run_submits(
                people, plan.clients, plan.drafts_per_client
            )
            bare, bare_seconds = run_bare(urls["bare"], plan.clients, plan.bare_seconds)

        outcome = Outcome(
            backend,
            plan.clients,
            mix,
            mix_seconds,
            submits,
            submit_seconds,
            bare,
            bare_seconds,
        )
        done = mix.done + submits.done
        breaks, lost, problem = check_records(url, lobby, done)
        outcome.chain_breaks, outcome.lost, outcome.problem = breaks, lost, problem
        outcome.logged = server_errors(folder)

    return outcome


def measure(scale: str, database_url: str | None) -> list[dict]:
    """The figures for bench/run.py: "small" for CI's smoke run, else the full run."""
    plan = SCALES["small"] if scale == "small" else SCALES["full"]
    outcome = run(plan, database_url or None)
    for example in outcome.examples():
        logger.warning("%s", example)

    return outcome.rows()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--clients", type=int)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)

    plan = SCALES[args.scale]
    plan = dataclasses.replace(
        plan,
        seconds=args.seconds or plan.seconds,
        clients=args.clients or plan.clients,
    )
    outcome = run(plan, args.database_url or None)
    rows = outcome.rows()
    print(
        f"{plan.clients} clients on {outcome.backend}: the mix for "
        f"{outcome.mix_seconds:.0f} s, {outcome.submits.done['check-in submit']} "
        f"check-in submits, bare inserts for {outcome.bare_seconds:.0f} s"
    )
    print(f"{'measure':<52} {'value':>9} {'unit':<6} {'target':<7} result")
    for each in rows:
        verdict = "" if not each["target"] else ("met" if each["ok"] else "MISSED")
        print(
            f"{each['measure']:<52} {each['value']:>9} {each['unit']:<6} "
            f"{each['target']:<7} {verdict}"
        )

    for example in outcome.examples():
        print(f"  {example}")

    return 0 if all(each["ok"] for each in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
