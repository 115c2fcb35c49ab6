"""A genuine badge of a visit that was never admitted is not a valid badge (10.2):
held and denied check-ins read as revoked, a visit still awaiting its ID check as
expired, each with a note saying why; forgery still outranks everything."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from gatekeeper import badge_checks, badges, screening, visits
from gatekeeper.badges import Status
from gatekeeper.models import Site, User, Visit

SECRET = "correct horse battery staple"
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
UNTIL = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
SITE = 7


def _scan(visit, *, token=None, now=NOW) -> badges.Verdict:
    token = token or badges.make_token(
        SECRET, site_id=SITE, visit_id=41, badge_number="305117", valid_until=UNTIL
    )
    claim = badges.read_token(SECRET, token)
    return badges.verdict(claim, visit, now=now, site_id=SITE)


def _visit(**overrides) -> SimpleNamespace:
    fields = {
        "id": 41,
        "site_id": SITE,
        "badge_number": "305117",
        "departed_at": None,
        "badge_revoked_at": None,
        "valid_until": UNTIL,
        "admission": "admitted",
    }
    return SimpleNamespace(**(fields | overrides))


@pytest.mark.parametrize(
    ("admission", "departed", "status", "note"),
    [
        ("admitted", None, Status.VALID, None),
        ("awaiting_id", None, Status.EXPIRED, "Not valid yet"),
        ("held", None, Status.REVOKED, "Check-in held"),
        ("denied", NOW - timedelta(minutes=5), Status.REVOKED, "Check-in denied"),
    ],
)
def test_each_admission_gives_its_verdict_and_says_why(
    admission, departed, status, note
):
    verdict = _scan(_visit(admission=admission, departed_at=departed))

    assert verdict.status is status
    if note is None:
        assert verdict.note is None
        assert verdict.time_left == UNTIL - NOW
    else:
        assert str(verdict.note).startswith(note)
        assert verdict.time_left is None


def test_a_visit_without_an_admission_is_taken_as_admitted():
    visit = _visit()
    del visit.admission

    assert _scan(visit).status is Status.VALID


def test_a_denied_visit_is_revoked_not_merely_signed_out():
    verdict = _scan(_visit(admission="denied", departed_at=NOW))

    assert verdict.status is Status.REVOKED


def test_a_held_visit_after_its_time_is_still_revoked():
    verdict = _scan(_visit(admission="held"), now=UNTIL + timedelta(hours=1))

    assert verdict.status is Status.REVOKED


def test_forgery_outranks_any_admission():
    forged = badges.make_token(
        "another secret",
        site_id=SITE,
        visit_id=41,
        badge_number="305117",
        valid_until=UNTIL,
    )

    for admission in ("held", "denied", "awaiting_id"):
        assert _scan(_visit(admission=admission), token=forged).status is Status.FORGED


def test_an_awaiting_visit_signed_out_reads_signed_out():
    verdict = _scan(_visit(admission="awaiting_id", departed_at=NOW))

    assert verdict.status is Status.SIGNED_OUT


def test_a_check_of_a_held_visits_badge_is_kept_as_revoked(
    sessions, site, arrive, guard
):
    with sessions.begin() as s:
        screening.add_entry(
            s,
            s.get(Site, site.id),
            kind="person",
            value="Ada Lovelace",
            actor=s.get(User, guard.id),
        )
        visit = arrive(s)
        assert visit.admission == "held"
        token = badges.token_for(SECRET, visit)

    with sessions.begin() as s:
        result = badge_checks.check(
            s, site_id=site.id, token=token, secret=SECRET, checked_by="gina.guard"
        )

    assert result.verdict.status is Status.REVOKED
    assert result.visit.id == visit.id


def test_verifying_the_id_makes_an_awaiting_badge_valid(sessions, site, arrive, guard):
    with sessions.begin() as s:
        visit = arrive(s)
        token = badges.token_for(SECRET, visit)

    def check() -> Status:
        with sessions.begin() as s:
            return badge_checks.check(
                s, site_id=site.id, token=token, secret=SECRET, checked_by="g"
            ).verdict.status

    assert check() is Status.EXPIRED
    with sessions.begin() as s:
        visits.verify_id(
            s, s.get(Visit, visit.id), "passport", actor=s.get(User, guard.id)
        )
    assert check() is Status.VALID


def test_the_badge_face_carries_the_escort_flag_and_the_sites_own_type_label():
    site = SimpleNamespace(timezone="UTC", badge_size="62x100mm", badge_valid_hours=12)
    visit = SimpleNamespace(
        id=41,
        site_id=SITE,
        site=site,
        badge_number="305117",
        visitor_name="Ada",
        company="AE",
        host_name="Grace",
        visitor_type="auditor",
        arrived_at=NOW,
        valid_until=UNTIL,
        escort_required=True,
    )

    face = badges.face(SECRET, visit, type_label="Auditor")

    assert face.escort_required
    assert face.visitor_type == "Auditor"
    assert badges.read_token(SECRET, face.token).visit_id == 41
    assert badges.face(SECRET, visit).visitor_type == "auditor"
