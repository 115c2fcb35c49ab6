"""Time a guard's scan: badges.read_token then badges.verdict, per scanned token.

Run from the repository root:  .venv/bin/python -m bench.badge_token [--runs 2000]

The target: a median of at most 10 ms for a genuine badge. A scan with one character
altered and a 10 kB string are timed as well, to show that refusing a bad token
costs no more than accepting a good one.
"""

import argparse
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from gatekeeper import badges

TARGET_MEDIAN_MS = 10.0
# A fresh secret each run: the timing does not depend on its value.
SECRET = secrets.token_urlsafe(32)
SITE_ID = 3


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def measure(runs: int = 2000) -> tuple[str, dict[str, tuple[str, list[float]]]]:
    """The genuine token, and per scan its verdict and milliseconds per run."""
    now = datetime.now(UTC)
    visit = SimpleNamespace(
        id=48213, site_id=SITE_ID, badge_number="305117", departed_at=None
    )
    token = badges.make_token(
        SECRET,
        site_id=SITE_ID,
        visit_id=visit.id,
        badge_number=visit.badge_number,
        valid_until=now + timedelta(hours=8),
    )
    altered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    scans = {"genuine": token, "one character altered": altered, "10 kB": "A" * 10_000}

    def scan(value: str) -> badges.Verdict:
        claim = badges.read_token(SECRET, value)
        return badges.verdict(claim, visit, now=now, site_id=SITE_ID)

    timings = {name: [] for name in scans}
    for _ in range(runs):
        for name, value in scans.items():
            started = time.perf_counter()
            scan(value)
            timings[name].append((time.perf_counter() - started) * 1000)

    found = {
        name: (scan(value).status.name, timings[name]) for name, value in scans.items()
    }
    return token, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    runs = parser.parse_args(argv).runs

    token, found = measure(runs)
    print(f"{len(token)}-character token, {runs} runs of read_token + verdict")
    print(f"{'scan':<24} {'verdict':<10} {'median ms':>10} {'p95 ms':>8}")
    for name, (status, samples) in found.items():
        median = statistics.median(samples)
        print(f"{name:<24} {status:<10} {median:>10.4f} {p95(samples):>8.4f}")

    met = statistics.median(found["genuine"][1]) <= TARGET_MEDIAN_MS
    print(f"target (median <= {TARGET_MEDIAN_MS:.0f} ms): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
