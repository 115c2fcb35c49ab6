"""The database outage drill: PostgreSQL stops while a kiosk and a console are in
use, under gunicorn as a facility runs them, and starts again.

While it is down the kiosk says, in the visitor's language, to see the front desk,
and the console says plainly that it cannot reach its database; every answer is
the product's own page with status 503, and no traceback reaches a browser or the
apps' logs. When the database is back both apps serve again by themselves: no
restart, the kiosk still enrolled, the staff member still signed in.

The server stopped here is the drill's own throwaway cluster, never the shared one.
"""

import re
import threading
import time

import pytest
from sqlalchemy import select

from gatekeeper import integrity, migrate
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import Visit
from tests.deploy.processes import Browser, production_env
from tests.drills.rig import (
    cluster,
    enrolment_code,
    seed_site,
    served,
    sizes,
    staff_account,
)

PASSWORD = "a long and unguessable drill password"
KIOSK_DOWN = {
    "en": "The system is unavailable. Please see the front desk.",
    "es": "El sistema no está disponible. Por favor, acuda a recepción.",
}
CONSOLE_DOWN = "The console cannot reach its database"
LEAKS = ("Traceback", 'File "', "sqlalchemy", "psycopg", "Internal Server Error")


def token(page: bytes) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1).decode()


def assert_down_page(status: int, page: bytes, message: str, retry: str) -> None:
    text = page.decode()
    assert status == 503, text[:300]
    assert message in text
    assert f'data-retry-url="{retry}"' in text
    assert not any(leak in text for leak in LEAKS), text


# What the pages show when served to an enrolled kiosk and a signed-in person: a
# lost credential or session would be sent on to enrolment or the sign-in page.
SERVED = {"/": b"<title>Welcome", "/visits/today": b"<title>Today's visits"}


def wait_until_served(browser: Browser, path: str, seconds: float = 30) -> int:
    """Poll a page until it is served as before; returns how many tries it took."""
    deadline = time.monotonic() + seconds
    tries = 0
    while True:
        tries += 1
        status, page = browser.request(path)
        if status == 200:
            assert SERVED[path] in page, page[:300]
            return tries

        assert status == 503, status
        assert time.monotonic() < deadline, f"{path} did not come back"
        time.sleep(0.25)


class Traffic:
    """Browsers that keep loading pages while the database goes away and returns;
    every answer must be the page itself or the 503 page, never anything else."""

    def __init__(self, pages: list[tuple[Browser, str]]):
        self.pages = pages
        self.stop = threading.Event()
        self.answers: list[tuple[int, bytes]] = []
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self.stop.is_set():
            for browser, path in self.pages:
                self.answers.append(browser.request(path))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=60)


@pytest.mark.parametrize("outages", sizes(1, 10))
@pytest.mark.timeout(600)
def test_both_apps_say_so_while_the_database_is_down_and_come_back_alone(
    tmp_path, outages, figures
):
    with cluster() as server:
        url = server.create_database()
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        history = seed_site(url, visitors=outages)
        staff_account(url, history.site_id, "frank", PASSWORD)
        code = enrolment_code(url, history.site_id)
        env = production_env(
            tmp_path / "instance",
            url,
            AUTO_MIGRATE="false",
            COOKIE_SECURE="false",
            GUNICORN_WORKERS="2",
        )
        logs = [tmp_path / "kiosk.log", tmp_path / "console.log"]
        with (
            served("kiosk", env, logs[0]) as kiosk_url,
            served("console", env, logs[1]) as console_url,
        ):
            answers = run_outages(server, kiosk_url, console_url, code, url, outages)

        for log in logs:
            text = log.read_text(errors="replace")
            assert "Traceback" not in text, text[-3000:]
            assert "database unavailable" in text

        engine = make_engine(url)
        try:
            [report] = integrity.verify(make_sessionmaker(engine))
            with make_sessionmaker(engine)() as session:
                departed = session.scalars(
                    select(Visit.id).where(Visit.departed_at.is_not(None))
                ).all()
        finally:
            engine.dispose()

    # Each sign-out made after an outage was recorded once, and logged.
    assert report.ok, (report.chain_problem, report.state_problems[:3])
    assert sorted(departed) == sorted(history.visit_ids)
    figures.add("database outages survived", outages)
    figures.add("requests answered during the outages", answers)


def run_outages(server, kiosk_url, console_url, code, url, outages) -> int:
    """Stop and start the database `outages` times; returns how many answers were
    given while it was down or coming back."""
    visitor = Browser(kiosk_url)
    status, _ = visitor.submit("/enrol", {"code": code})
    assert status == 200
    spanish = Browser(kiosk_url)
    for cookie in visitor.cookies:
        spanish.cookies.set_cookie(cookie)

    status, start = spanish.request("/")
    status, _ = spanish.request("/language", {"lang": "es", "csrf_token": token(start)})
    assert status == 200
    staff = Browser(console_url)
    status, _ = staff.submit("/login", {"username": "frank", "password": PASSWORD})
    assert status == 200
    badges = badge_numbers(url)
    answered = 0

    for outage in range(outages):
        assert wait_until_served(staff, "/visits/today") == 1
        assert wait_until_served(visitor, "/") == 1
        _, form = visitor.request("/sign-out")
        traffic = Traffic([(visitor, "/"), (staff, "/visits/today")])
        with traffic:
            server.stop()
            time.sleep(0.5)
            answered += check_while_down(visitor, spanish, staff, console_url, form)
            server.start()
            answered += wait_until_served(visitor, "/")
            answered += wait_until_served(staff, "/visits/today")

        for status, page in traffic.answers:
            assert status in (200, 503), status
            if status == 200:
                assert any(marker in page for marker in SERVED.values())

            assert not any(leak.encode() in page for leak in LEAKS)

        answered += len(traffic.answers)
        # Back by itself, and writing: the next visitor signs out.
        status, page = visitor.request(
            "/sign-out", {"badge_number": badges[outage], "csrf_token": token(form)}
        )
        assert status == 200 and b"You are signed out" in page, page[:500]

    return answered


def check_while_down(visitor, spanish, staff, console_url, form: bytes) -> int:
    """Every kind of request while the database is stopped; returns their number."""
    status, page = visitor.request("/")
    assert_down_page(status, page, KIOSK_DOWN["en"], "/")
    status, page = spanish.request("/sign-out")
    assert_down_page(status, page, KIOSK_DOWN["es"], "/sign-out")
    # A form sent during the outage is not repeated by the retry: it goes home.
    status, page = visitor.request(
        "/sign-out", {"badge_number": "123456", "csrf_token": token(form)}
    )
    assert_down_page(status, page, KIOSK_DOWN["en"], "/")
    assert visitor.request("/healthz")[0] == 503

    status, page = staff.request("/visits/today")
    assert_down_page(status, page, CONSOLE_DOWN, "/visits/today")
    stranger = Browser(console_url)
    status, page = stranger.request("/login")
    # The sign-in form needs no database to be drawn; sending it does.
    assert status == 200
    # Another name each time: the attempts must not meet frank's sign-in limit.
    attempt = {
        "username": f"someone{time.monotonic_ns()}",
        "password": PASSWORD,
        "csrf_token": token(page),
    }
    status, page = stranger.request("/login", attempt)
    assert_down_page(status, page, CONSOLE_DOWN, "/")
    assert staff.request("/healthz")[0] == 503
    return 8


def badge_numbers(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(Visit.badge_number).order_by(Visit.id)))
    finally:
        engine.dispose()
