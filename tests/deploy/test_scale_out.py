"""Two app servers on one PostgreSQL database serve one site, as "Two app servers"
in deploy/README.md sets them up, and the site's log stays one unbroken chain."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from gatekeeper import kiosks, sites, visits
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import LogEntry, Visit
from tests.deploy.processes import (
    VENV_BIN,
    Browser,
    free_port,
    gunicorns,
    production_env,
    run_script,
    unique_addresses,
)

pytestmark = pytest.mark.postgres

VISITS = 40
BROWSERS_PER_SERVER = 4


def _seed(url: str) -> tuple[list[str], list[str]]:
    """A site with VISITS visitors on site and two kiosks; badges, enrolment codes."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            site = sites.create_site(
                session, code="main", name="Main Warehouse", timezone="UTC"
            )
            host = sites.add_host(session, site, name="Ana López", email="a@x.example")
            session.flush()
            badges = [
                visits.check_in(
                    session,
                    site=site,
                    kiosk=None,
                    visitor_name=f"Visitor {number}",
                    company="Acme Freight",
                    host_id=host.id,
                    visitor_type="visitor",
                    id_type="passport",
                ).badge_number
                for number in range(VISITS)
            ]
            codes = [
                kiosks.create_kiosk(session, site, name, actor="test")[1]
                for name in ("Lobby", "Gate")
            ]
            return badges, codes
    finally:
        engine.dispose()


def _kiosk_browsers(server: str, code: str, addresses: list[str]) -> list[Browser]:
    """Browsers of one kiosk, enrolled through the server, one per address."""
    enrolling = Browser(server, addresses[0])
    status, _ = enrolling.submit("/enrol", {"code": code})
    assert status == 200

    browsers = []
    for address in addresses:
        browser = Browser(server, address)
        for cookie in enrolling.cookies:
            if cookie.name == "gk_kiosk_device":
                browser.cookies.set_cookie(cookie)

        browsers.append(browser)

    return browsers


def test_two_app_servers_on_one_database_keep_one_unbroken_chain(
    installation, tmp_path, redis_url
):
    badges, codes = _seed(installation.app_url)
    env = production_env(
        tmp_path / "instance",
        installation.app_url,
        AUTO_MIGRATE="false",
        RATELIMIT_STORAGE_URI=redis_url,
        TRUST_PROXY="true",
        COOKIE_SECURE="false",
    )
    addresses = unique_addresses(2 * BROWSERS_PER_SERVER)

    with gunicorns([("kiosk", free_port()), ("kiosk", free_port())], env) as [
        first,
        second,
    ]:
        browsers = _kiosk_browsers(
            first, codes[0], addresses[:BROWSERS_PER_SERVER]
        ) + _kiosk_browsers(second, codes[1], addresses[BROWSERS_PER_SERVER:])
        # Every browser waits for the others before its first sign-out, so the two
        # servers append to the chain at the same moments.
        start = threading.Barrier(len(browsers))

        def sign_out_share(index: int) -> None:
            start.wait(timeout=30)
            for badge in badges[index :: len(browsers)]:
                status, _ = browsers[index].submit("/sign-out", {"badge_number": badge})
                assert status == 200

        with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
            list(pool.map(sign_out_share, range(len(browsers))))

    verified = run_script([str(VENV_BIN / "kiosk"), "verify-log"], env).stdout
    assert "Site main: OK" in verified
    assert re.search(rf"entries:\s+{2 * VISITS}\n", verified), verified
    _assert_every_visit_ended_through_both_servers(installation.app_url)


def _assert_every_visit_ended_through_both_servers(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            still_here = session.scalars(
                select(Visit.badge_number).where(Visit.departed_at.is_(None))
            ).all()
            entries = session.scalars(select(LogEntry).order_by(LogEntry.seq)).all()
    finally:
        engine.dispose()

    assert still_here == []
    assert [entry.seq for entry in entries] == list(range(1, 2 * VISITS + 1))
    # Each server's browsers belong to one kiosk, so both kiosks in the log means
    # both servers wrote to the one chain.
    kiosks_that_wrote = {e.actor for e in entries if e.actor.startswith("kiosk:")}
    assert len(kiosks_that_wrote) == 2
