"""Time the console's log searches, roster, CSV export and full log verification.

Run from the repository root, on a dataset bench/dataset.py built:
    .venv/bin/python -m bench.console --database-url URL [--runs 30]
        [--export-rows 1000000] [--chain-entries 2000000]

Searches and the roster are timed as the console's views run them: one
gatekeeper.search.search or gatekeeper.roster.on_site call in a fresh reader's
session, as each request gets one, on the site with the most visits. What is
timed is the server's database work and the building of the page's rows, not the
HTML around them nor the audit event the view records. A search covers the whole
dataset's range of days, as a manager going back years would ask.

The export streams the visitor logs of the largest sites, one after another, until
the rows asked for are written, through gatekeeper.exports as the /logs/visits.csv
view streams them; it runs in a child process, whose peak resident memory before
and after gives the memory the export itself needed. The verification is
gatekeeper.integrity.verify, what `kiosk verify-log` runs, over the sites whose
logs together hold the entries asked for.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.dataset import FIRST_NAMES, STATES
from gatekeeper import exports, integrity, roster, search
from gatekeeper.db import make_engine, make_sessionmaker, read_only, utcnow
from gatekeeper.models import LogEntry, Pickup, Site, Visit

TARGET_SEARCH_MS = 50.0
TARGET_EXPORT_ROWS_PER_S = 100_000
TARGET_EXPORT_GROWTH_MB = 50.0
TARGET_CHAIN_S = 20.0
CHAIN_ENTRIES = 2_000_000
SEARCHES = ("name prefix", "truck number", "seal", "date range", "on-site roster")


def _sizes(session, model) -> list[tuple[int, int]]:
    """(site id, rows) of a table, the largest site first."""
    query = (
        select(model.site_id, func.count())
        .group_by(model.site_id)
        .order_by(func.count().desc(), model.site_id)
    )
    return [(site_id, count) for site_id, count in session.execute(query)]


def _today(site: Site) -> date:
    return utcnow().astimezone(ZoneInfo(site.timezone)).date()


def search_plan(session, site: Site, runs: int) -> dict[str, list]:
    """Per measure, one call's arguments per run, varied as people's searches are."""
    today = _today(site)
    first = session.scalar(
        select(func.min(Visit.arrived_at)).where(Visit.site_id == site.id)
    )
    first = first.astimezone(ZoneInfo(site.timezone)).date() if first else today
    seals = list(
        session.scalars(
            select(Pickup.seal_number)
            .where(Pickup.site_id == site.id, Pickup.seal_number.is_not(None))
            .order_by(Pickup.id)
            .limit(runs * 97)
        )
    )[::97] or ["TAN1"]

    def criteria(log, terms=None, start=first, end=today):
        return search.Criteria(log=log, first=start, last=end, terms=terms or {})

    plan = {name: [] for name in SEARCHES}
    for run in range(runs):
        name = FIRST_NAMES[run % len(FIRST_NAMES)][:3]
        truck = f"{STATES[run % len(STATES)]}-{run % 9 + 1}"
        month_end = today - timedelta(days=11 * run)
        plan["name prefix"].append(criteria("visits", {"name": name}))
        plan["truck number"].append(criteria("pickups", {"truck": truck}))
        plan["seal"].append(criteria("pickups", {"seal": seals[run % len(seals)][:6]}))
        plan["date range"].append(
            criteria("visits", start=month_end - timedelta(days=29), end=month_end)
        )
        plan["on-site roster"].append(None)

    return plan


def time_searches(database_url: str, runs: int = 30) -> dict[str, dict]:
    """Per search, its milliseconds per run and the rows its first page held."""
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        site_id = _sizes(session, Visit)[0][0]
        plan = search_plan(session, session.get(Site, site_id), runs)

    found = {}
    for name, calls in plan.items():
        samples, shown = [], []
        for criteria in calls:
            with sessions() as session:
                read_only(session)
                site = session.get(Site, site_id)
                now = utcnow()
                started = time.perf_counter()
                if criteria is None:
                    rows = roster.on_site(session, site, now)
                else:
                    rows = search.search(session, site, criteria, now=now).rows

                samples.append((time.perf_counter() - started) * 1000)
                shown.append(len(rows))

        found[name] = {"ms": samples, "rows": statistics.median(shown)}

    engine.dispose()
    return found


def export_in_child(database_url: str, rows: int) -> dict:
    """Run the export in a child process: its rows/s and memory growth."""
    output = subprocess.run(  # noqa: S603  (this module, this interpreter)
        [
            sys.executable,
            "-m",
            "bench.console",
            "--database-url",
            database_url,
            "--export-only",
            str(rows),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.splitlines()[-1])


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_export(database_url: str, wanted: int) -> dict:
    """Stream the largest sites' visitor logs as CSV until `wanted` rows are out."""
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        chosen, total = [], 0
        for site_id, count in _sizes(session, Visit):
            if total >= wanted:
                break
            chosen.append(site_id)
            total += count

    def export(site_id: int, limit: int | None = None) -> tuple[int, int]:
        """Stream one site's visitor log; (rows, characters) written. A chunk is
        whole lines each ending in CRLF; the first holds the header alone."""
        with sessions() as session:
            read_only(session)
            site = session.get(Site, site_id)
            criteria = search.Criteria("visits", date(2000, 1, 1), _today(site))
            chunks = exports.document(session, site, criteria, now=utcnow())
            lines = chars = 0
            for chunk in chunks:
                # A line per row: the dataset's cells hold no line breaks.
                lines += chunk.count("\r\n")
                chars += len(chunk)
                if limit and lines > limit:
                    break

            chunks.close()
            return lines - 1, chars

    # Libraries loaded and the first queries compiled before the baseline.
    export(chosen[0], limit=2000)
    before = _peak_mb()
    started = time.perf_counter()
    rows, size = 0, 0
    for site_id in chosen:
        written, chars = export(site_id)
        rows += written
        size += chars

    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "rows": rows,
        "sites": len(chosen),
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "characters": size,
        "growth_mb": _peak_mb() - before,
    }


def time_chain(database_url: str, wanted: int = CHAIN_ENTRIES) -> dict:
    """Verify in full the sites whose logs hold at least `wanted` entries."""
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        chosen, total = [], 0
        for site_id, count in sorted(_sizes(session, LogEntry)):
            if total >= wanted:
                break
            chosen.append(site_id)
            total += count

    started = time.perf_counter()
    # As `kiosk verify-log` runs it.
    reports = integrity.verify(sessions, chosen, processes=integrity.worker_count())
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "entries": sum(report.entries for report in reports),
        "sites": len(reports),
        "seconds": seconds,
        "whole": all(report.ok for report in reports),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--chain-entries", type=int, default=CHAIN_ENTRIES)
    # The child process of export_in_child: print its figures as JSON.
    parser.add_argument("--export-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.export_only:
        print(json.dumps(time_export(args.database_url, args.export_only)))
        return 0

    print(f"{'search':<18} {'rows':>5} {'median ms':>10} {'max ms':>8}")
    for name, figures in time_searches(args.database_url, args.runs).items():
        samples = figures["ms"]
        print(
            f"{name:<18} {figures['rows']:>5.0f} {statistics.median(samples):>10.1f}"
            f" {max(samples):>8.1f}"
        )

    export = export_in_child(args.database_url, args.export_rows)
    print(
        f"export: {export['rows']:,} rows from {export['sites']} sites in "
        f"{export['seconds']:.1f} s, {export['rows_per_s']:,.0f} rows/s, peak memory "
        f"+{export['growth_mb']:.1f} MB"
    )
    verified = time_chain(args.database_url, args.chain_entries)
    print(
        f"verification: {verified['entries']:,} entries of {verified['sites']} sites "
        f"in {verified['seconds']:.1f} s, {'whole' if verified['whole'] else 'BROKEN'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
