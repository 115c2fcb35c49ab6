"""What is done with a printed badge: a guard's check, revocation, sign-out by scan.

A guard's check is kept as a BadgeCheck row whatever it found, forged badges
included, so a security manager can see who was stopped and when (CTPAT 10.2). A
revocation changes the visit row, so it is written to the site's chained log in the
same transaction, like every other change to a visit.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gatekeeper import badges, chain, visits
from gatekeeper.db import utcnow
from gatekeeper.models import BadgeCheck, Kiosk, User, Visit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """A guard's check: the verdict, and the visit when the badge is genuine."""

    verdict: badges.Verdict
    visit: Visit | None


def check(
    session: Session,
    *,
    site_id: int,
    token: str,
    secret: str,
    checked_by: str,
    now: datetime | None = None,
) -> Check:
    """Judge a scanned token at the guard's site and record the check.

    The visit is loaded only when a genuine token names this site, and handed back
    only when the badge is not forged: a forged or foreign badge shows nothing of
    any visit, and its check row names none.
    """
    now = now or utcnow()
    claim, visit = _claimed_visit(session, site_id, token, secret)
    verdict = badges.verdict(claim, visit, now=now, site_id=site_id)
    if verdict.status is badges.Status.FORGED:
        visit = None
        logger.warning("forged or unknown badge checked at site %s", site_id)

    session.add(
        BadgeCheck(
            site_id=site_id,
            visit_id=visit.id if visit else None,
            verdict=verdict.status.value,
            checked_by=checked_by,
            checked_at=now,
        )
    )
    session.flush()
    return Check(verdict, visit)


def visit_by_badge_number(
    session: Session, site_id: int, badge_number: str
) -> Visit | None:
    """The visit of a site that was given this badge number; numbers are not reused."""
    return session.scalar(
        select(Visit).where(
            Visit.site_id == site_id, Visit.badge_number == badge_number
        )
    )


def revoke(session: Session, visit: Visit, *, actor: User) -> None:
    """Revoke a visit's badge, once: from now on every check of it says REVOKED."""
    now = utcnow()
    # As with a sign-out, the conditional UPDATE makes the revocation happen once
    # even when two people press the button at the same moment.
    result = session.execute(
        update(Visit)
        .where(Visit.id == visit.id, Visit.badge_revoked_at.is_(None))
        .values(badge_revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise visits.VisitError(_("This badge is already revoked."))

    session.refresh(visit)
    chain.append(
        session,
        site_id=visit.site_id,
        kind="visit.badge_revoked",
        subject_type="visit",
        subject_id=visit.id,
        actor=f"user:{actor.username}",
        changes={"badge_revoked_at": now},
    )
    logger.info("badge of visit %s revoked by %s", visit.id, actor.username)


def sign_out_by_token(
    session: Session, *, site_id: int, token: str, secret: str, actor: User | Kiosk
) -> Visit:
    """Sign out the visit whose badge was scanned, as visits.sign_out does by number.

    Only the token's authenticity matters here: an expired or revoked badge still
    records its holder's departure. A forged token, or one of another site, gets
    the same answer as a badge number nobody holds.
    """
    claim, visit = _claimed_visit(session, site_id, token, secret)
    verdict = badges.verdict(claim, visit, now=utcnow(), site_id=site_id)
    if verdict.status is badges.Status.FORGED:
        raise visits.VisitError(
            _("No visit has that badge number. Please see the front desk.")
        )

    return visits.sign_out(
        session, site_id=site_id, badge_number=visit.badge_number, actor=actor
    )


def _claimed_visit(
    session: Session, site_id: int, token: str, secret: str
) -> tuple[badges.BadgeClaim | None, Visit | None]:
    """The token's claim and the visit it names, looked up only at this site."""
    claim = badges.read_token(secret, token)
    if claim is None or claim.site_id != site_id:
        return claim, None

    return claim, session.get(Visit, claim.visit_id)
