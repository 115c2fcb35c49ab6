"""A guard's badge check, a revocation and a sign-out by scanned badge, against the
database: each check is kept, and a revocation is in the log like any change."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from gatekeeper import badge_checks, badges, chain, visits
from gatekeeper.db import utcnow
from gatekeeper.models import BadgeCheck, LogEntry, Site, User, Visit

SECRET = "the console's secret key"


@pytest.fixture
def visit(sessions, arrive, guard) -> Visit:
    """A visit admitted at once: an employee compared the ID at check-in."""
    with sessions.begin() as s:
        employee = s.get(User, guard.id)
        return arrive(s, arrival=visits.Arrival(verified_by=employee))


def _token(visit, **overrides) -> str:
    fields = {
        "site_id": visit.site_id,
        "visit_id": visit.id,
        "badge_number": visit.badge_number,
        "valid_until": visit.valid_until,
    }
    secret = overrides.pop("secret", SECRET)
    return badges.make_token(secret, **(fields | overrides))


def _check(sessions, site_id: int, token: str) -> badge_checks.Check:
    with sessions.begin() as s:
        return badge_checks.check(
            s, site_id=site_id, token=token, secret=SECRET, checked_by="gina.guard"
        )


def _checks(sessions) -> list[tuple]:
    with sessions.begin() as s:
        query = select(BadgeCheck).order_by(BadgeCheck.id)
        return [(c.site_id, c.visit_id, c.verdict) for c in s.scalars(query)]


def test_a_genuine_check_is_recorded_with_its_visit(sessions, site, visit):
    result = _check(sessions, site.id, _token(visit))

    assert result.verdict.status is badges.Status.VALID
    assert result.visit.id == visit.id
    assert _checks(sessions) == [(site.id, visit.id, "valid")]


def test_an_expired_badge_is_recorded_as_expired(sessions, site, visit):
    token = _token(visit, valid_until=utcnow() - timedelta(seconds=1))

    result = _check(sessions, site.id, token)

    assert result.verdict.status is badges.Status.EXPIRED
    assert _checks(sessions) == [(site.id, visit.id, "expired")]


@pytest.mark.parametrize(
    "token",
    ["", "not a token", "A" * 58, "Z" * 10_000],
    ids=["empty", "words", "token-shaped", "huge"],
)
def test_whatever_does_not_read_is_recorded_as_forged_naming_no_visit(
    sessions, site, visit, token
):
    result = _check(sessions, site.id, token)

    assert result == badge_checks.Check(badges.Verdict(badges.Status.FORGED), None)
    assert _checks(sessions) == [(site.id, None, "forged")]


def test_a_badge_of_another_site_is_forged_and_its_visit_is_not_loaded(sessions, visit):
    with sessions.begin() as s:
        other = Site(code="dock-b", name="Dock B")
        s.add(other)
        s.flush()
        chain.start_chain(s, other)
        other_id = other.id

    result = _check(sessions, other_id, _token(visit))

    assert result.verdict.status is badges.Status.FORGED
    assert result.visit is None
    assert _checks(sessions) == [(other_id, None, "forged")]


def test_a_badge_is_revoked_once_and_the_log_still_verifies(
    sessions, site, visit, guard
):
    with sessions.begin() as s:
        badge_checks.revoke(s, s.get(Visit, visit.id), actor=s.get(User, guard.id))

    with sessions.begin() as s, pytest.raises(visits.VisitError, match="already"):
        badge_checks.revoke(s, s.get(Visit, visit.id), actor=s.get(User, guard.id))

    with sessions.begin() as s:
        row = s.get(Visit, visit.id)
        entry = s.scalars(select(LogEntry).order_by(LogEntry.seq.desc())).first()
        report = chain.verify_site(s, s.get(Site, site.id))

    assert (entry.kind, entry.actor) == ("visit.badge_revoked", "user:gina.guard")
    assert json.loads(entry.body)["set"] == {
        "badge_revoked_at": chain.to_log_value(row.badge_revoked_at)
    }
    assert report.ok and report.entries == 2
    assert _check(sessions, site.id, _token(visit)).verdict.status is (
        badges.Status.REVOKED
    )


def _sign_out_by_token(sessions, site_id: int, token: str) -> Visit:
    with sessions.begin() as s:
        return badge_checks.sign_out_by_token(
            s, site_id=site_id, token=token, secret=SECRET, actor="kiosk:1"
        )


def test_a_scanned_badge_signs_its_visit_out_even_after_it_expired(
    sessions, site, visit
):
    token = _token(visit, valid_until=utcnow() - timedelta(hours=1))

    departed = _sign_out_by_token(sessions, site.id, token)

    assert departed.id == visit.id
    assert departed.departed_at is not None
    with pytest.raises(visits.VisitError, match="already signed out"):
        _sign_out_by_token(sessions, site.id, token)


@pytest.mark.parametrize(
    "change",
    [
        {"secret": "a guessed secret"},
        {"site_id": 999},
        {"visit_id": 999},
        {"badge_number": "000000"},
    ],
    ids=["forged", "other-site", "no-such-visit", "other-badge-number"],
)
def test_a_badge_that_names_no_visit_here_signs_nobody_out(
    sessions, site, visit, change
):
    with pytest.raises(visits.VisitError, match="No visit has that badge number"):
        _sign_out_by_token(sessions, site.id, _token(visit, **change))

    with sessions.begin() as s:
        assert s.get(Visit, visit.id).departed_at is None
