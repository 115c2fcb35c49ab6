"""Time a visitor's whole check-in submit with two photos, as the kiosk's server sees.

Run from the repository root:  .venv/bin/python -m bench.check_in [--runs 40]
                               [--database-url postgresql://postgres@127.0.0.1/test]

Each run walks a new visitor through the kiosk's steps in the app's own test client
(no network), on a fresh SQLite file by default. Timed are the three requests that
carry the check-in's work: the ID photo and the face photo (each a 1280 x 720 JPEG,
judged, re-encoded, sealed and stored) and the review's submit (captures taken,
block list and exemptions checked, visit and log entry written, host notice
queued). Their sum is the "whole check-in submit with two photos".

The target: a median sum of at most 150 ms on the 2-core machine.
"""

import argparse
import io
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from gatekeeper import kiosks, migrate, sites
from gatekeeper.db import make_engine, make_sessionmaker
from kiosk import views
from kiosk.app import create_app
from tests.support.pictures import framed, jpeg, portrait

TARGET_MEDIAN_MS = 150.0
STEPS = ("id photo", "face photo", "submit")


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page
    )
    return found.group(1)


def prepare(database_url: str) -> str:
    """Migrate, and make a self-service site with a host and a kiosk; its code."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with make_sessionmaker(engine).begin() as session:
        site = sites.create_site(
            session,
            code=f"bench-{secrets.token_hex(3)}",
            name="Bench",
            timezone="America/Chicago",
        )
        site.verification_mode = "self_service"
        sites.add_host(session, site, name="Ana López", email="ana@example.com")
        _kiosk, code = kiosks.create_kiosk(session, site, "Lobby", actor="bench")
    engine.dispose()
    return code


def one_check_in(client, photo: bytes, name: str) -> dict[str, float]:
    """Walk one visitor to the review and submit; the timed requests' milliseconds."""

    def post(path, **data):
        token = csrf(client, "/check-in")
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 302, (path, response.status_code)
        return response

    def timed_photo(path):
        token = csrf(client, "/check-in")
        started = time.perf_counter()
        response = client.post(
            path,
            data={"photo": (io.BytesIO(photo), "photo.jpg")},
            headers={"X-CSRFToken": token},
            content_type="multipart/form-data",
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.get_json()
        return elapsed

    post("/check-in", visitor_type="service_provider")
    post("/check-in/identity", visitor_name=name, company="Acme Freight")
    post("/check-in/id-type", id_type="passport")
    times = {"id photo": timed_photo("/check-in/id-photo")}
    times["face photo"] = timed_photo("/check-in/face")
    host = re.search(
        r'<option value="([1-9]\d*)"',
        client.get("/check-in/host").get_data(as_text=True),
    )
    post("/check-in/host", host_id=host.group(1))
    review = client.get("/check-in/review").get_data(as_text=True)
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', review).group(1)
    token = csrf(client, "/check-in")
    started = time.perf_counter()
    response = client.post(
        "/check-in/review", data={"csrf_token": token, "submission_key": key}
    )
    times["submit"] = (time.perf_counter() - started) * 1000
    assert response.status_code == 302 and "done" in response.location, response
    client.post("/reset", data={"csrf_token": csrf(client, "/")})
    return times


def measure(runs: int = 40, database_url: str = "") -> tuple[int, list[dict]]:
    """The photo's size, and each check-in's milliseconds per timed request.

    Without a database URL, on a fresh SQLite file; with one, in that database.
    """
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        code = prepare(url)
        app = create_app(
            {
                "GATEKEEPER_ENV": "testing",
                "INSTANCE_PATH": folder,
                "DATABASE_URL": url,
                "SECRET_KEY": secrets.token_urlsafe(32),
                "PHOTO_KEY": Fernet.generate_key().decode("ascii"),
                "COOKIE_SECURE": False,
                "LOG_LEVEL": "WARNING",
            }
        )
        # The kiosk's limits (30 photos a minute) would stop a benchmark, not a lobby.
        views.limiter.enabled = False
        client = app.test_client()
        client.post("/enrol", data={"code": code, "csrf_token": csrf(client, "/enrol")})
        photo = jpeg(framed(portrait()))
        one_check_in(client, photo, "Warm Up")
        found = [one_check_in(client, photo, f"Visitor {n}") for n in range(runs)]
        app.extensions["gatekeeper.engine"].dispose()

    return len(photo), found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)

    size, runs = measure(args.runs, args.database_url)
    totals = [sum(run.values()) for run in runs]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{args.runs} check-ins on {backend}, two {size:,}-byte 1280 x 720 JPEGs")
    print(f"{'request':<28} {'median ms':>10} {'p95 ms':>8}")
    for step in STEPS:
        samples = [run[step] for run in runs]
        print(f"{step:<28} {statistics.median(samples):>10.1f} {p95(samples):>8.1f}")
    median = statistics.median(totals)
    print(f"{'whole submit, two photos':<28} {median:>10.1f} {p95(totals):>8.1f}")
    met = median <= TARGET_MEDIAN_MS
    print(f"target (median <= {TARGET_MEDIAN_MS:.0f} ms): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
