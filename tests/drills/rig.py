"""The reliability drills' rig: their two sizes, the figures they report, a
PostgreSQL server that a drill may stop, a site with a history, and app servers
whose output a drill can read.

Each drill runs at a quick size in the everyday suite and at its full size behind
the `drill` marker (`make drills`).
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from gatekeeper import accounts, kiosks, sites, visits
from gatekeeper.config import PROJECT_ROOT
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import Site, User, Visit
from tests.deploy.processes import (
    DEPLOY,
    ROOT,
    VENV_BIN,
    free_port,
    wait_until_answers,
)

FIGURES = PROJECT_ROOT / "test-artifacts" / "drill-figures.json"
BACKENDS = ["sqlite", "postgresql"]


def sizes(quick: int, drill: int) -> list:
    """Parameters for a drill: a quick size for every run, the full one marked."""
    return [
        pytest.param(quick, id="quick"),
        pytest.param(drill, id="drill", marks=pytest.mark.drill),
    ]


class Figures:
    """Counts the drills report, written to test-artifacts/ when the run ends, for
    README.md's figures."""

    def __init__(self):
        self.counts: Counter[str] = Counter()

    def add(self, name: str, count: int = 1) -> None:
        self.counts[name] += count

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        summary = {
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "figures": dict(sorted(self.counts.items())),
        }
        path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def _postgres_bin() -> Path:
    """The newest installed PostgreSQL server binaries; absent, skip (fail on CI)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parts[-3]),
    )
    if not found:
        message = "PostgreSQL server binaries are not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message)

        pytest.skip(message)

    return Path(found[-1]).parent


class Cluster:
    """A PostgreSQL server in a folder of its own on a free port; the drill may stop
    it and start it again. As root the server runs as the postgres user, which
    refuses to run as root."""

    def __init__(self):
        self.bin = _postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="gk-drill-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, "postgres")

    def create(self) -> None:
        self._run(
            "initdb",
            "--auth=trust",
            "--username=postgres",
            "--no-sync",
            f"--pgdata={self.data}",
        )

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.bin / program), *arguments]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]

        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        # fsync off: the drills test the product's behaviour, not the disk's.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=150"
        )
        self._run(
            "pg_ctl",
            "start",
            "--wait",
            f"--pgdata={self.data}",
            f"--log={self.root / 'server.log'}",
            f"--options={options}",
        )

    def stop(self) -> None:
        """Stop at once, as a crash or an operator would: sessions are cut off."""
        self._run("pg_ctl", "stop", "--wait", "--mode=fast", f"--pgdata={self.data}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new database, copied from a template when given; returns its URL."""
        name = f"gk_drill_{uuid.uuid4().hex[:10]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"{copy}')

        return self.url(name)

    def remove(self) -> None:
        # A drill may have left it stopped.
        with suppress(subprocess.CalledProcessError):
            self.stop()

        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def cluster() -> Iterator[Cluster]:
    """A new PostgreSQL server, running; removed with its files afterwards."""
    server = Cluster()
    try:
        server.create()
        server.start()
        yield server
    finally:
        server.remove()


@dataclass
class History:
    """A site with a host, a guard, and visitors on site; ids only."""

    site_id: int
    host_id: int
    guard_id: int
    visit_ids: list[int]


def seed_site(url: str, *, visitors: int = 1, code: str = "main") -> History:
    """A site with a host and a guard, and visitors checked in at the front desk."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            site = sites.create_site(
                session, code=code, name="Main Warehouse", timezone="UTC"
            )
            host = sites.add_host(
                session, site, name="Ana López", email=f"ana@{code}.example"
            )
            guard, _ = accounts.create_user(
                session,
                username=f"guard-{code}",
                display_name="Gina Guard",
                role="guard",
                sites=[site],
                actor="drill",
            )
            session.flush()
            arrived = [
                check_in(session, site, host.id, f"Visitor {number}")
                for number in range(visitors)
            ]
            return History(site.id, host.id, guard.id, [v.id for v in arrived])
    finally:
        engine.dispose()


def check_in(session, site: Site, host_id: int, name: str) -> Visit:
    """A vendor's arrival recorded at the front desk."""
    return visits.check_in(
        session,
        site=site,
        kiosk=None,
        visitor_name=name,
        company="Acme Freight",
        host_id=host_id,
        visitor_type="vendor",
        id_type="drivers_licence",
    )


def enrolment_code(url: str, site_id: int, name: str = "Lobby") -> str:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            site = session.get(Site, site_id)
            return kiosks.create_kiosk(session, site, name, actor="drill")[1]
    finally:
        engine.dispose()


def staff_account(url: str, site_id: int, username: str, password: str) -> User:
    """A front-desk account with its own password set, ready to sign in."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            user, _ = accounts.create_user(
                session,
                username=username,
                display_name="Frank Desk",
                role="front_desk",
                sites=[session.get(Site, site_id)],
                password=password,
                actor="drill",
            )
            user.must_change_password = False
            return user
    finally:
        engine.dispose()


@contextmanager
def served(app: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """One app under its shipped gunicorn config, its output kept in `log` for the
    drill to read (tests.deploy.processes discards it); yields the app's URL."""
    with gunicorn_master(app, env, log) as (url, _master):
        yield url


@contextmanager
def gunicorn_master(
    app: str, env: dict[str, str], log: Path
) -> Iterator[tuple[str, subprocess.Popen]]:
    """As served(), yielding the gunicorn master's process too: a drill may kill
    its workers, which the master replaces."""
    port = free_port()
    bind = {"kiosk": "KIOSK_BIND", "console": "CONSOLE_BIND"}[app]
    config = DEPLOY / "gunicorn" / f"{app}.conf.py"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", str(config)],
            cwd=ROOT,
            env={**env, bind: f"127.0.0.1:{port}"},
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_answers(f"{url}/healthz", process)
            yield url, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
