"""Periodic reviews a security manager signs off, and when the next of each is due.

One record serves four duties: the review of the visitor and pickup logs, the
random reviews of camera footage (CTPAT 9.15), the audits of the guards' work
against their written instructions (10.10) and the review of who may use this
system (4.7). Each says the period it covers, what was sampled, what was found and
what was done about it. A record is never edited: a mistake is put right by
recording the review again, and both stay.

The criteria ask for these reviews "periodically" or "regularly" without a number,
so the intervals below are this product's, chosen so that each review happens
while its evidence still exists:

- the logs, monthly: a missing departure or an unverified ID is still fresh enough
  to ask the people involved about;
- camera footage, monthly: recorders commonly keep about 30 days, so a review any
  less often would find the footage of part of its period already overwritten;
- guard procedures, quarterly: an audit watches guards at work over several shifts,
  and instructions change about that often;
- access, quarterly: the usual rhythm of account reviews; leavers are handled the
  day they leave (disabling an account ends its sessions at once), so the review
  catches what that missed, such as roles that no longer fit.

The next review is due that interval after the end of the period reviewed.
"""

import calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gatekeeper import audit
from gatekeeper.models import Review, Site, User
from gatekeeper.text import TextError, clean_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    """A kind of review: its name, the criterion it serves, months between two."""

    label: str
    criterion: str
    months: int


KINDS = {
    "log_review": Kind("Visitor and pickup log review", "CTPAT 10.2, 10.4", 1),
    "camera_footage": Kind("Camera footage review", "CTPAT 9.15", 1),
    "guard_audit": Kind("Guard procedure audit", "CTPAT 10.10", 3),
    "access_review": Kind("Access review", "CTPAT 4.7", 3),
}
# How close to its due date a review is flagged as coming up.
DUE_SOON = timedelta(days=14)
# The longest period one review may cover.
MAX_PERIOD = timedelta(days=366)
TEXT_MAX = 4000
MIN_TEXT = 3
RECENT = 50


class ReviewError(ValueError):
    """A review that cannot be recorded; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def next_due(kind: str, period_end: date) -> date:
    """When the review after one ending on `period_end` is due."""
    return add_months(period_end, KINDS[kind].months)


def local_today(site: Site, now: datetime) -> date:
    return now.astimezone(ZoneInfo(site.timezone)).date()


def clean_paragraphs(value: str | None, *, label: str, required: bool) -> str:
    """Several lines of free text: each line cleaned as a one-line field is, the
    line breaks kept, runs of blank lines cut to one."""
    lines = []
    try:
        for line in (value or "").replace("\r\n", "\n").split("\n"):
            lines.append(
                clean_text(line, label=label, max_length=TEXT_MAX, required=False)
            )
    except TextError as error:
        raise ReviewError(str(error)) from error

    text = "\n".join(lines).strip("\n")
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")

    if required and len(text) < MIN_TEXT:
        raise ReviewError(f"{label} is required.")

    if len(text) > TEXT_MAX:
        raise ReviewError(f"{label} must be at most {TEXT_MAX} characters.")

    return text


@dataclass
class Submission:
    """What the security manager entered."""

    kind: str
    period_start: date | None
    period_end: date | None
    sampled: str
    findings: str
    corrective_action: str


def _check(submission: Submission, today: date) -> dict:
    """The cleaned values, or a ReviewError naming the first field at fault."""
    if submission.kind not in KINDS:
        raise ReviewError("Choose what kind of review this is.", "kind")

    start, end = submission.period_start, submission.period_end
    if start is None:
        raise ReviewError("Enter the first day of the period reviewed.", "period_start")

    if end is None:
        raise ReviewError("Enter the last day of the period reviewed.", "period_end")

    if end < start:
        raise ReviewError("The period ends before it starts.", "period_end")

    if end > today:
        raise ReviewError("The period cannot end after today.", "period_end")

    if end - start >= MAX_PERIOD:
        raise ReviewError("One review covers at most a year.", "period_start")

    values = {"kind": submission.kind, "period_start": start, "period_end": end}
    for name, label, required in (
        ("sampled", "What was sampled", True),
        ("findings", "Findings", True),
        ("corrective_action", "Corrective action", False),
    ):
        try:
            values[name] = clean_paragraphs(
                getattr(submission, name), label=label, required=required
            )
        except ReviewError as error:
            raise ReviewError(str(error), name) from error

    return values


def record(
    session: Session,
    site: Site,
    submission: Submission,
    *,
    actor: User,
    now: datetime,
    address: str = "",
) -> Review:
    """Record a review after checking every field; audited."""
    values = _check(submission, local_today(site, now))
    review = Review(
        site_id=site.id,
        recorded_by=actor.display_name,
        recorded_at=now,
        next_due=next_due(values["kind"], values["period_end"]),
        **values,
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        "review.recorded",
        actor=actor,
        site_id=site.id,
        target=f"review:{review.id}",
        address=address,
        kind=review.kind,
        period_start=review.period_start,
        period_end=review.period_end,
    )
    logger.info("review %s (%s) recorded at site %s", review.id, review.kind, site.code)
    return review


@dataclass(frozen=True)
class Standing:
    """Where one kind of review stands at a site."""

    kind: str
    last: Review | None
    due: date | None
    # "never" (none recorded), "overdue", "due_soon" or "ok".
    state: str

    @property
    def label(self) -> str:
        return KINDS[self.kind].label


def _state(due: date | None, today: date) -> str:
    if due is None:
        return "never"

    if due < today:
        return "overdue"

    if due - today <= DUE_SOON:
        return "due_soon"

    return "ok"


def latest_by_kind(session: Session, site_ids: list[int]) -> dict:
    """The review with the latest period end of each (site, kind)."""
    newest = (
        select(
            Review.site_id,
            Review.kind,
            func.max(Review.period_end).label("period_end"),
        )
        .where(Review.site_id.in_(site_ids))
        .group_by(Review.site_id, Review.kind)
        .subquery()
    )
    query = (
        select(Review)
        .join(
            newest,
            (Review.site_id == newest.c.site_id)
            & (Review.kind == newest.c.kind)
            & (Review.period_end == newest.c.period_end),
        )
        .order_by(Review.id)
    )
    # Of two reviews ending on the same day, the one recorded later wins.
    return {(review.site_id, review.kind): review for review in session.scalars(query)}


def standings(session: Session, site: Site, now: datetime) -> list[Standing]:
    """Each kind of review at the site: the last one, when the next is due."""
    today = local_today(site, now)
    latest = latest_by_kind(session, [site.id])
    found = []
    for kind in KINDS:
        last = latest.get((site.id, kind))
        due = last.next_due if last else None
        found.append(Standing(kind, last, due, _state(due, today)))

    return found


def overdue(session: Session, sites: list[Site], now: datetime) -> list[tuple]:
    """(site, standing) of each review recorded before and now past its due date."""
    latest = latest_by_kind(session, [site.id for site in sites])
    found = []
    for site in sites:
        today = local_today(site, now)
        for kind in KINDS:
            last = latest.get((site.id, kind))
            if last and last.next_due and last.next_due < today:
                found.append((site, Standing(kind, last, last.next_due, "overdue")))

    return found


def history(
    session: Session, site_id: int, kind: str | None = None, limit: int = RECENT
) -> list[Review]:
    """The site's reviews, the latest period first."""
    query = select(Review).where(Review.site_id == site_id)
    if kind:
        query = query.where(Review.kind == kind)

    query = query.order_by(Review.period_end.desc(), Review.id.desc()).limit(limit)
    return list(session.scalars(query))
