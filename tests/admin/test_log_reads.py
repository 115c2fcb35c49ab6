"""Every read of a log is kept in the audit trail (CTPAT 4.5): the day's visitor
log, the pickup log, and each view of a face or seal photo one by one. The front
desk opens the visits of today's log only (4.7); other days are a security
manager's review."""

import json
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from gatekeeper import integrity, photos, pickups
from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent, Photo, Pickup, User, Visit
from tests.fixtures.apps import PHOTO_KEY
from tests.functional import rows
from tests.support.pickups import ALL_STEPS, ASSIGNED_SEAL, on_site


def _events(db_sessions, action: str) -> list[tuple[str, str, dict]]:
    return [
        (event.actor, event.target, json.loads(event.detail))
        for event in rows(db_sessions, AuditEvent, action=action)
    ]


def _move_back(db_sessions, visit: Visit, days: int, *, departed: bool) -> None:
    """Make a visit one that arrived `days` ago, and left then if `departed`."""
    with db_sessions.begin() as session:
        row = session.get(Visit, visit.id)
        row.arrived_at = utcnow() - timedelta(days=days)
        row.valid_until = row.arrived_at + timedelta(hours=8)
        row.departed_at = row.arrived_at + timedelta(hours=1) if departed else None


def test_each_read_of_the_days_visitor_log_is_audited(
    signed_in, db_sessions, make_visit, site
):
    make_visit(site, "Jane Roe")
    make_visit(site, "John Poe")

    signed_in("front_desk").get("/visits/today")
    signed_in("guard").get("/visits/today")

    assert _events(db_sessions, "log.viewed") == [
        ("frontdeskmain", "log:visits", {"rows": 2}),
        ("guardmain", "log:visits", {"rows": 2}),
    ]


def test_each_read_of_the_pickup_log_is_audited_with_its_range(
    signed_in, db_sessions, site, people
):
    on_site(db_sessions, site, people["guard"].id)
    today = utcnow().date().isoformat()
    client = signed_in("security_manager")

    client.get("/pickups/")
    shown_anyway = client.get("/pickups/?from=yesterday")

    assert shown_anyway.status_code == 400
    day = {"first": today, "last": today, "rows": 1}
    assert _events(db_sessions, "log.viewed") == [
        ("securitymanagermain", "log:pickups", day),
        ("securitymanagermain", "log:pickups", day),
    ]


def test_each_view_of_a_face_photo_is_audited_one_by_one(
    signed_in, db_sessions, visit_with_photos, site
):
    visit = visit_with_photos(site, kinds=("face",))
    client = signed_in("front_desk")

    page = client.get(f"/visits/{visit.id}")
    for _ in range(2):
        assert client.get(f"/photos/{visit.id}/face.jpg").status_code == 200

    assert f"/photos/{visit.id}/face.jpg" in page.get_data(as_text=True)
    target = f"visit:{visit.id}"
    assert _events(db_sessions, "photo.viewed") == [
        ("frontdeskmain", target, {"kind": "face"}),
        ("frontdeskmain", target, {"kind": "face"}),
    ]
    assert len(_events(db_sessions, "log.record_read")) == 1


def test_each_view_of_a_seal_photo_is_audited(signed_in, db_sessions, site, people):
    pickup = on_site(db_sessions, site, people["guard"].id)
    with db_sessions.begin() as session:
        seal = Photo(site_id=site.id, kind="seal", sealed=photos.seal(PHOTO_KEY, b"j"))
        session.add(seal)
        session.flush()
        departure = pickups.Departure(
            seal_number=ASSIGNED_SEAL,
            seal_confirmation=ASSIGNED_SEAL,
            trailer_number="53889",
            vvtt=ALL_STEPS,
            seal_photo=seal,
        )
        outcome = pickups.depart(
            session,
            session.get(Pickup, pickup.id),
            departure,
            actor=session.get(User, people["guard"].id),
        )
        seal_id = seal.id
    client = signed_in("security_manager")

    page = client.get(f"/pickups/{pickup.id}").get_data(as_text=True)
    image = client.get(f"/gate/photos/{seal_id}.jpg")

    assert outcome.departed
    assert f"/gate/photos/{seal_id}.jpg" in page
    assert image.status_code == 200 and image.data == b"j"
    assert _events(db_sessions, "photo.viewed") == [
        ("securitymanagermain", f"pickup:{pickup.id}", {"kind": "seal"})
    ]


@pytest.mark.parametrize(
    ("days", "departed", "front_desk_status"),
    [
        (0, True, 200),  # signed out today: on today's log
        (3, False, 200),  # still on site from an earlier day: on today's log too
        (3, True, 403),  # another day's visit, over
    ],
)
def test_the_front_desk_opens_only_the_visits_of_todays_log(
    signed_in, db_sessions, visit_with_photos, site, days, departed, front_desk_status
):
    visit = visit_with_photos(site, kinds=("face",))
    _move_back(db_sessions, visit, days, departed=departed)
    desk = signed_in("front_desk")

    page = desk.get(f"/visits/{visit.id}")
    photo = desk.get(f"/photos/{visit.id}/face.jpg")
    today = desk.get("/visits/today").get_data(as_text=True)

    assert (page.status_code, photo.status_code) == (front_desk_status,) * 2
    assert (f"/visits/{visit.id}" in today) == (front_desk_status == 200)
    if front_desk_status == 403:
        assert "The front desk opens the visits of today&#39;s log only." in (
            page.get_data(as_text=True)
        )
        assert _events(db_sessions, "photo.viewed") == []


@pytest.mark.parametrize("role", ["guard", "security_manager"])
def test_guards_and_managers_open_any_days_visit(
    signed_in, db_sessions, visit_with_photos, site, role
):
    visit = visit_with_photos(site, kinds=("face",))
    _move_back(db_sessions, visit, 40, departed=True)
    client = signed_in(role)

    assert client.get(f"/visits/{visit.id}").status_code == 200
    assert client.get(f"/photos/{visit.id}/face.jpg").status_code == 200


def test_a_banner_that_loses_the_database_leaves_the_page_drawn_and_its_read_kept(
    signed_in, db_sessions, make_visit, site, monkeypatch
):
    make_visit(site, "Jane Roe")
    client = signed_in("security_manager")

    def connection_lost(session, site_ids):
        # What a restarting server does to the banner's query mid-page.
        session.connection().invalidate()
        raise OperationalError("SELECT", {}, ConnectionError("server closed"))

    monkeypatch.setattr(integrity, "alerts", connection_lost)
    page = client.get("/visits/today")

    assert page.status_code == 200
    assert b"Jane Roe" in page.data
    assert _events(db_sessions, "log.viewed") == [
        ("securitymanagermain", "log:visits", {"rows": 1})
    ]
