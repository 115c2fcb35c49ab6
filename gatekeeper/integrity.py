"""Whether each site's log still verifies, kept so the console can warn at once.

Verifying a site's whole chain reads every entry it ever wrote: right for
`kiosk verify-log` (run nightly with the backup) or a security manager's "Verify
now", too slow for every console page. So a full verification stores what it found
per site, in IntegrityCheck: the head it reached when the log was whole, or the
problem when it was not. A console page then looks only at the stored result and at
the entries written since that head, which is a day's entries at most.

A problem found opens the site's integrity incident, and the console shows security
managers and administrators a red banner until it is resolved: a security manager
records what was done about it (CTPAT 7.23, 7.37: an incident is investigated and
the investigation documented) and, at that moment, a full verification finds the
log whole again. Both conditions are needed: a repaired log with nobody's account of
what happened is not a closed incident, nor is an account of a log still broken.

What the quick check cannot see: an entry older than the last full verification
changed, or a visit or pickup row changed behind the log's back. Those wait for the
next full verification, which the nightly backup job runs.
"""

import logging
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

# cases, pickups and visits declare the rows the log rebuilds (chain.SUBJECTS); a
# verification started from anywhere must compare all of them.
from gatekeeper import audit, cases, chain, pickups, visits  # noqa: F401
from gatekeeper.db import make_engine, make_sessionmaker, read_only, utcnow
from gatekeeper.models import ChainHead, IntegrityCheck, LogEntry, Site, User
from gatekeeper.text import TextError, clean_text

logger = logging.getLogger(__name__)

# The most entries a console page checks past the last full verification; a site
# writes far fewer in a day, and the nightly verification covers any beyond.
QUICK_CHECK_LIMIT = 5000
# How many of a verification's problems the incident keeps; the first names where
# the log breaks, and `kiosk verify-log` prints them all.
KEPT_PROBLEMS = 20
NOTE_MIN = 20
NOTE_MAX = 1000


class ResolutionError(ValueError):
    """An incident that cannot be closed yet; the message is for the person."""


@dataclass(frozen=True)
class Alert:
    """A site whose log failed to verify, for the console's banner."""

    site_id: int
    site_name: str
    problem: str
    # False when only the quick check found it and no full verification has yet.
    recorded: bool


def verify(
    sessions: sessionmaker[Session],
    site_ids: Iterable[int] | None = None,
    *,
    processes: int = 1,
) -> list[chain.Report]:
    """Verify sites' logs in full, each site's read from one snapshot.

    Entries, chain heads and rows are read by several queries; without one snapshot
    a writer committing between them would look like an entry removed or a visit
    with no entry. A site's chain covers only its own rows, so sites may be
    verified apart, and with `processes` above one they are, that many at a time,
    each in a process of its own (a full verification is bound by the processor).
    Sites are returned in the order of their codes.
    """
    with sessions() as session:
        _one_snapshot(session)
        query = select(Site).order_by(Site.code)
        if site_ids is not None:
            query = query.where(Site.id.in_(list(site_ids)))

        sites = list(session.scalars(query))
        if processes <= 1 or len(sites) <= 1:
            return [chain.verify_site(session, site) for site in sites]

    engine = sessions.kw["bind"]
    url = engine.url.render_as_string(hide_password=False)
    # Not a fork of this process: a forked child would share its open database
    # connections. A fork server starts clean, imports this module once, and forks
    # each worker from itself, so the workers do not each import it again.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        ids = [site.id for site in sites]
        return list(pool.map(_verify_alone, [url] * len(ids), ids))


def worker_count() -> int:
    """How many processes a full verification of several sites runs at a time.

    Twice the cores: sites are verified whole, one to a process, and their number
    rarely divides by the cores (seven sites on two cores would leave one core
    idle while the last site finishes); with more processes than cores the system
    shares the processor among them, and both cores stay busy to the end.
    """
    return 2 * (os.cpu_count() or 1)


def _verify_alone(url: str, site_id: int) -> chain.Report:
    """One site's full verification, in a process of its own."""
    engine = make_engine(url)
    try:
        return verify(make_sessionmaker(engine), [site_id])[0]
    finally:
        engine.dispose()


def _one_snapshot(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.connection(
            execution_options={
                "isolation_level": "REPEATABLE READ",
                "postgresql_readonly": True,
            }
        )
    else:
        # A SQLite read transaction sees one snapshot until it ends.
        read_only(session)


def record(session: Session, report: chain.Report) -> IntegrityCheck:
    """Keep what a full verification found; a problem opens the site's incident.

    A clean result moves the verified head on but closes nothing: only resolve()
    closes an incident.
    """
    now = utcnow()
    check = _check_row(session, report.site_id)
    check.checked_at = now
    if report.ok:
        check.verified_seq = report.head_seq
        check.verified_hash = report.head_hash
        return check

    if check.problem is None:
        check.problem_found_at = now
        logger.error(
            "the log of site %s failed verification: %s",
            report.site_code,
            describe(report).splitlines()[0],
        )

    check.problem = describe(report)
    return check


def verify_and_record(
    sessions: sessionmaker[Session],
    site_ids: Iterable[int] | None = None,
    *,
    processes: int = 1,
) -> list[chain.Report]:
    """Verify sites in full and keep each result; what `kiosk verify-log` runs."""
    reports = verify(sessions, site_ids, processes=processes)
    with sessions.begin() as session:
        for report in reports:
            record(session, report)

    return reports


def describe(report: chain.Report) -> str:
    """The problems of a failed verification, one a line, where the chain breaks
    first."""
    problems = [report.chain_problem] if report.chain_problem else []
    problems += report.state_problems
    lines = [problem.message for problem in problems[:KEPT_PROBLEMS]]
    if len(problems) > KEPT_PROBLEMS:
        lines.append(f"and {len(problems) - KEPT_PROBLEMS} more problems")

    return "\n".join(lines)


def _check_row(session: Session, site_id: int) -> IntegrityCheck:
    """The site's row, locked; created first if absent, so that two verifications
    finishing together cannot both insert it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(IntegrityCheck)
        .values(
            site_id=site_id,
            checked_at=utcnow(),
            verified_seq=0,
            verified_hash=chain.GENESIS,
        )
        .on_conflict_do_nothing()
    )
    query = (
        select(IntegrityCheck)
        .where(IntegrityCheck.site_id == site_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one()


def alerts(session: Session, site_ids: Iterable[int]) -> list[Alert]:
    """The sites, of those given, whose log is known or found to be broken.

    An open incident is reported as recorded; otherwise the entries written since
    the last clean verification are checked (see quick_check).
    """
    sites = session.scalars(
        select(Site).where(Site.id.in_(list(site_ids))).order_by(Site.code)
    ).all()
    checks = {
        check.site_id: check
        for check in session.scalars(
            select(IntegrityCheck).where(
                IntegrityCheck.site_id.in_([site.id for site in sites])
            )
        )
    }
    found = []
    for site in sites:
        check = checks.get(site.id)
        if check is not None and check.problem is not None:
            found.append(Alert(site.id, site.name, check.problem, recorded=True))
            continue

        problem = quick_check(session, site.id, check)
        if problem is not None:
            found.append(Alert(site.id, site.name, problem, recorded=False))

    return found


def quick_check(
    session: Session, site_id: int, check: IntegrityCheck | None = None
) -> str | None:
    """What is wrong with the entries written since the last clean verification.

    The entry that verification ended on must still carry the hash it had then, so
    a chain rewritten from an older entry onwards is caught too. The head is read
    before the entries: every entry up to it is committed by then, and entries
    committed later are left for the next check rather than taken for insertions.
    """
    anchor_seq = check.verified_seq if check else 0
    anchor_hash = check.verified_hash if check else chain.GENESIS
    head = session.get(ChainHead, site_id)
    if head is None:
        return "the chain head of this site is missing"

    if head.seq < anchor_seq:
        return (
            f"the chain ends at entry {head.seq}, but entries up to {anchor_seq} "
            "were verified before: entries were removed from the end"
        )

    last = min(head.seq, anchor_seq + QUICK_CHECK_LIMIT)
    entries = list(
        session.scalars(
            select(LogEntry)
            .where(
                LogEntry.site_id == site_id,
                LogEntry.seq >= max(anchor_seq, 1),
                LogEntry.seq <= last,
            )
            .order_by(LogEntry.seq)
        )
    )
    # The chain module's own walker, started at the verified entry, so the quick
    # check names a problem in the same words as a full verification.
    walker = chain.ChainWalker()
    if anchor_seq > 0:
        if not entries or entries[0].seq != anchor_seq:
            return f"entry {anchor_seq}, whole when last verified, was removed"

        anchor = entries.pop(0)
        if anchor.entry_hash != anchor_hash:
            return f"entry {anchor_seq} was altered since it was last verified"

        walker.last_seq = anchor_seq
        walker.last_hash = anchor_hash
        walker.before_last_hash = anchor.prev_hash

    for entry in entries:
        problem = walker.check(chain.row_of(entry))
        if problem is not None:
            return problem.message

    if last == head.seq:
        problem = chain.check_head(head, walker)
        return problem.message if problem else None

    if walker.last_seq < last:
        return f"entries {walker.last_seq + 1} to {last} removed"

    return None


def incident(session: Session, site_id: int) -> IntegrityCheck | None:
    """The site's stored verification result, whether or not an incident is open."""
    return session.get(IntegrityCheck, site_id)


def resolve(
    session: Session, report: chain.Report, *, note: str, actor: User, address: str
) -> None:
    """Close a site's open incident with a person's account of what was done.

    `report` is a full verification made just before; the incident closes only when
    it found the log whole. The note and the problem it closes go to the audit
    trail, which keeps every incident after the row has moved on.
    """
    try:
        note = clean_text(note, label="What was done", max_length=NOTE_MAX)
    except TextError as error:
        raise ResolutionError(str(error)) from error

    if len(note) < NOTE_MIN:
        raise ResolutionError(
            f"Say what was found and done, in at least {NOTE_MIN} characters."
        )

    check = _check_row(session, report.site_id)
    if check.problem is None:
        raise ResolutionError("No integrity problem is open at this site.")

    if not report.ok:
        raise ResolutionError(
            "The log still fails verification, so the problem stays open: "
            + describe(report).splitlines()[0]
        )

    audit.record(
        session,
        "integrity.resolved",
        actor=actor,
        site_id=report.site_id,
        target=f"site {report.site_code}",
        address=address,
        problem=check.problem,
        found_at=check.problem_found_at,
        note=note,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
    )
    record(session, report)
    check.problem = None
    check.problem_found_at = None
    logger.info("integrity incident of site %s resolved", report.site_code)
