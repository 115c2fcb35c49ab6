"""Retention by class of data: personal images go, the record of them stays.

ID images and face photos are kept for a site's photo_retention_days after they
were taken, then deleted by `kiosk retention` (run daily by a timer). Deleting an
image never touches the log: the visit or pickup keeps its verification record
(who compared which ID type, when), and a new log entry says which images were
purged and when, so the chain still verifies and an auditor can tell an image
purged by policy from one never taken. Log entries themselves are never deleted;
a site's log_retention_years is the least time they must be kept.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gatekeeper import audit, chain, photos
from gatekeeper.db import utcnow
from gatekeeper.models import Photo, Site

logger = logging.getLogger(__name__)

# Images of people, kept only as long as the site says. A photo of an affixed seal
# (CTPAT 7.5) is evidence about cargo, not about a person, and stays with the log.
PERSONAL_KINDS = ("id", "id_back", "face")
MIN_PHOTO_DAYS = 1
MAX_PHOTO_DAYS = 3650
MIN_LOG_YEARS = 1
ACTOR = "retention"


@dataclass
class Purge:
    """What one site's purge removed: images by kind, and records it touched."""

    site_code: str
    cutoff: datetime
    images: dict[str, int] = field(default_factory=dict)
    records: int = 0

    @property
    def total(self) -> int:
        return sum(self.images.values())


def check_settings(photo_days: int, log_years: int) -> None:
    if not MIN_PHOTO_DAYS <= photo_days <= MAX_PHOTO_DAYS:
        raise ValueError(f"Photos are kept {MIN_PHOTO_DAYS} to {MAX_PHOTO_DAYS} days.")

    if log_years < MIN_LOG_YEARS:
        raise ValueError(f"Logs are kept at least {MIN_LOG_YEARS} year.")


def purge_site(
    session: Session, site: Site, *, now: datetime | None = None, dry_run=False
) -> Purge:
    """Delete the site's attached images older than its retention, logging each record.

    Unattached kiosk captures are not here: they go after an hour
    (photos.purge_stale_captures), which this also runs.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=site.photo_retention_days)
    result = Purge(site_code=site.code, cutoff=cutoff)
    query = select(Photo.id, Photo.kind, Photo.visit_id, Photo.pickup_id).where(
        Photo.site_id == site.id,
        Photo.kind.in_(PERSONAL_KINDS),
        Photo.created_at < cutoff,
        (Photo.visit_id.is_not(None)) | (Photo.pickup_id.is_not(None)),
    )
    by_record: dict[tuple[str, int], list[str]] = defaultdict(list)
    ids = []
    for photo_id, kind, visit_id, pickup_id in session.execute(query):
        ids.append(photo_id)
        subject = ("visit", visit_id) if visit_id is not None else ("pickup", pickup_id)
        by_record[subject].append(kind)
        result.images[kind] = result.images.get(kind, 0) + 1

    result.records = len(by_record)
    if dry_run or not ids:
        return result

    session.execute(delete(Photo).where(Photo.id.in_(ids)))
    for (subject_type, subject_id), kinds in sorted(by_record.items()):
        chain.append(
            session,
            site_id=site.id,
            kind=f"{subject_type}.photos_purged",
            subject_type=subject_type,
            subject_id=subject_id,
            actor=ACTOR,
            details={
                "purged": sorted(kinds),
                "retention_days": site.photo_retention_days,
            },
        )

    audit.record(
        session,
        "photos.purged",
        actor=ACTOR,
        site_id=site.id,
        target=f"site:{site.code}",
        images=result.total,
        records=result.records,
    )
    logger.info(
        "purged %s images of %s records at %s", result.total, result.records, site.code
    )
    return result


def purge_all(session: Session, *, now=None, dry_run=False) -> list[Purge]:
    results = [
        purge_site(session, site, now=now, dry_run=dry_run)
        for site in session.scalars(select(Site).order_by(Site.code))
    ]
    if not dry_run:
        photos.purge_stale_captures(session, now)

    return results
