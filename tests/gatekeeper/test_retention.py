"""Retention: images past the site's setting go; records and the log stay whole."""

import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from gatekeeper import chain, photos, pickups, retention, visits
from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent, LogEntry, Photo, Site, User, Visit
from tests.support import pickups as support
from tests.support import pictures


@pytest.fixture
def photo_key() -> str:
    return Fernet.generate_key().decode("ascii")


def visit_with_photos(sessions, site, arrive, photo_key, guard, *, age_days: int):
    """A desk check-in with an ID image and a face photo taken age_days ago."""
    data = pictures.jpeg(pictures.framed(pictures.portrait()))
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        taken = {}
        for kind in ("id", "face"):
            capture = photos.judge_and_keep(
                s, site=row, kind=kind, data=data, photo_key=photo_key
            )
            taken[kind] = photos.take_capture(
                s, site_id=site.id, kind=kind, capture_key=capture.capture_key
            )
        visit = arrive(
            s,
            arrival=visits.Arrival(photos=taken, verified_by=s.get(User, guard.id)),
        )
        for photo in taken.values():
            photo.created_at = utcnow() - timedelta(days=age_days)

        return visit


def count_photos(sessions) -> int:
    with sessions.begin() as s:
        return s.scalar(select(func.count()).select_from(Photo))


def test_old_images_are_purged_and_the_record_and_chain_stay(
    sessions, site, guard, arrive, photo_key
):
    old = visit_with_photos(sessions, site, arrive, photo_key, guard, age_days=31)
    new = visit_with_photos(sessions, site, arrive, photo_key, guard, age_days=29)

    with sessions.begin() as s:
        [result] = retention.purge_all(s)

    assert (result.images, result.records) == ({"face": 1, "id": 1}, 1)
    with sessions.begin() as s:
        assert photos.photo_of(s, old.id, "id") is None
        assert photos.photo_of(s, new.id, "id") is not None
        kept = s.get(Visit, old.id)
        assert (kept.id_status, kept.id_verified_by) == ("verified", "Gina Guard")
        entry = s.scalar(select(LogEntry).where(LogEntry.kind == "visit.photos_purged"))
        assert entry.subject_id == old.id and entry.actor == "retention"
        assert json.loads(entry.body)["details"]["purged"] == ["face", "id"]
        assert chain.verify_site(s, s.get(Site, site.id)).ok
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "photos.purged"))


def test_a_dry_run_deletes_nothing_and_a_second_run_finds_nothing(
    sessions, site, guard, arrive, photo_key
):
    visit_with_photos(sessions, site, arrive, photo_key, guard, age_days=40)

    with sessions.begin() as s:
        [dry] = retention.purge_all(s, dry_run=True)
    assert dry.total == 2 and count_photos(sessions) == 2

    with sessions.begin() as s:
        retention.purge_all(s)
    with sessions.begin() as s:
        [again] = retention.purge_all(s)

    assert again.total == 0 and count_photos(sessions) == 0


def test_each_site_keeps_images_for_its_own_number_of_days(
    sessions, site, guard, arrive, photo_key
):
    with sessions.begin() as s:
        s.get(Site, site.id).photo_retention_days = 90

    visit_with_photos(sessions, site, arrive, photo_key, guard, age_days=60)
    with sessions.begin() as s:
        retention.purge_all(s)

    assert count_photos(sessions) == 2


@pytest.mark.parametrize(("days", "years"), [(0, 3), (3651, 3), (30, 0)])
def test_retention_settings_out_of_range_are_refused(days, years):
    with pytest.raises(ValueError):
        retention.check_settings(days, years)


def test_a_seal_photo_is_evidence_and_outlives_the_photo_retention(
    sessions, site, photo_key
):
    with sessions.begin() as s:
        capture = photos.judge_and_keep(
            s,
            site=s.get(Site, site.id),
            kind="seal",
            data=pictures.jpeg(pictures.framed(pictures.portrait())),
            photo_key=photo_key,
        )
        seal = photos.take_capture(
            s, site_id=site.id, kind="seal", capture_key=capture.capture_key
        )
        pickup = pickups.arrive(
            s, site=s.get(Site, site.id), kiosk=None, driver=support.driver()
        )
        seal.pickup_id = pickup.id
        seal.capture_key_hash = None
        seal.created_at = utcnow() - timedelta(days=400)

    with sessions.begin() as s:
        [result] = retention.purge_all(s)

    assert result.total == 0 and count_photos(sessions) == 1
