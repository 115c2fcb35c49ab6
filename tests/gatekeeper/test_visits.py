"""Visits: check-in, ID verification, sign-out and corrections (CTPAT 10.2)."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from gatekeeper import accounts, chain, sites, visits
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import Host, LogEntry, Site, User, Visit

# Visits a close and a sign-out race for on PostgreSQL, one race each.
RACES = 5


def count(sessions, model, **where) -> int:
    with sessions.begin() as s:
        query = select(func.count()).select_from(model).filter_by(**where)
        return s.scalar(query)


def log_kinds(sessions, site_id: int) -> list[str]:
    with sessions.begin() as s:
        query = (
            select(LogEntry.kind)
            .where(LogEntry.site_id == site_id)
            .order_by(LogEntry.seq)
        )
        return list(s.scalars(query))


def sign_out(sessions, site_id: int, badge_number: str, actor_id: int) -> Visit:
    with sessions.begin() as s:
        return visits.sign_out(
            s, site_id=site_id, badge_number=badge_number, actor=s.get(User, actor_id)
        )


@pytest.fixture
def visit(sessions, arrive) -> Visit:
    with sessions.begin() as s:
        return arrive(s)


def test_a_check_in_records_the_visit_and_its_arrival_entry(
    sessions, site, host, visit
):
    assert visit.badge_number.isdigit() and len(visit.badge_number) == 6
    assert visit.host_name == host.name
    assert visit.id_status == "unverified"
    assert visit.departed_at is None
    with sessions.begin() as s:
        entry = s.scalar(select(LogEntry).where(LogEntry.site_id == site.id))

    body = json.loads(entry.body)
    assert (entry.kind, entry.subject_id, entry.actor) == (
        "visit.arrived",
        visit.id,
        "console",
    )
    assert body["set"]["visitor_name"] == "Ada Lovelace"
    assert body["set"]["arrived_at"] == chain.to_log_value(visit.arrived_at)


def test_a_repeated_submission_returns_the_visit_already_made(sessions, site, arrive):
    with sessions.begin() as s:
        first = arrive(s, submission_key="form-7f3a")

    with sessions.begin() as s:
        again = arrive(s, "Someone Else", submission_key="form-7f3a")

    assert again.id == first.id
    assert again.visitor_name == "Ada Lovelace"
    assert count(sessions, Visit) == 1
    assert log_kinds(sessions, site.id) == ["visit.arrived"]


def test_visits_without_a_submission_key_are_not_merged(sessions, site, arrive):
    with sessions.begin() as s:
        arrive(s)

    with sessions.begin() as s:
        arrive(s)

    assert count(sessions, Visit) == 2
    assert log_kinds(sessions, site.id) == ["visit.arrived", "visit.arrived"]


def test_a_duplicate_submission_key_is_recognised_in_the_database_error(
    sessions, visit
):
    with sessions.begin() as s:
        s.get(Visit, visit.id).submission_key = "form-7f3a"

    row = {
        "site_id": visit.site_id,
        "badge_number": "999999",
        "visitor_name": "Ada Lovelace",
        "company": "Analytical Engines",
        "visitor_type": "visitor",
        "host_id": visit.host_id,
        "host_name": visit.host_name,
        "id_type": "passport",
        "id_status": "unverified",
        "arrived_at": visit.arrived_at,
    }
    with pytest.raises(IntegrityError) as same_form, sessions.begin() as s:
        s.execute(insert(Visit).values({**row, "submission_key": "form-7f3a"}))

    with pytest.raises(IntegrityError) as same_badge, sessions.begin() as s:
        s.execute(insert(Visit).values({**row, "badge_number": visit.badge_number}))

    assert visits.is_duplicate_submission(same_form.value)
    assert not visits.is_duplicate_submission(same_badge.value)


def test_a_check_in_is_refused_when_no_badge_number_is_free(
    sessions, arrive, monkeypatch
):
    # Every draw gives the same number, as if the site's badges were all taken.
    monkeypatch.setattr(visits.secrets, "randbelow", lambda _: 23456)
    with sessions.begin() as s:
        assert arrive(s).badge_number == "123456"

    refused = pytest.raises(visits.VisitError, match="No badge number")
    with refused, sessions.begin() as s:
        arrive(s)

    assert count(sessions, Visit) == 1


def test_a_host_from_another_site_is_refused(sessions, arrive):
    with sessions.begin() as s:
        other = sites.create_site(s, code="yard-b", name="Yard B", timezone="UTC")
        stranger = sites.add_host(s, other, name="Hal Jordan", email="hal@example.com")

    refused = pytest.raises(visits.VisitError, match="point of contact")
    with refused, sessions.begin() as s:
        arrive(s, host_id=stranger.id)

    assert count(sessions, Visit) == 0


def test_an_inactive_or_unknown_host_is_refused(sessions, host, arrive):
    with sessions.begin() as s:
        s.get(Host, host.id).active = False

    for host_id in (host.id, host.id + 1000):
        with pytest.raises(visits.VisitError), sessions.begin() as s:
            arrive(s, host_id=host_id)

    assert count(sessions, LogEntry) == 0


@pytest.mark.parametrize(
    "field", [{"id_type": "library_card"}, {"visitor_type": "intruder"}]
)
def test_an_unknown_id_type_or_visitor_type_is_refused(sessions, arrive, field):
    with pytest.raises(visits.VisitError), sessions.begin() as s:
        arrive(s, **field)

    assert count(sessions, Visit) == 0


def test_verifying_an_id_records_who_checked_it(sessions, site, guard, visit):
    with sessions.begin() as s:
        visits.verify_id(
            s, s.get(Visit, visit.id), "drivers_licence", actor=s.get(User, guard.id)
        )

    with sessions.begin() as s:
        verified = s.get(Visit, visit.id)

    assert verified.id_status == "verified"
    assert verified.id_type == "drivers_licence"
    assert verified.id_verified_by == "Gina Guard"
    assert verified.id_verified_at is not None
    assert log_kinds(sessions, site.id) == ["visit.arrived", "visit.id_verified"]


def test_an_id_cannot_be_verified_twice(sessions, site, guard, visit):
    with sessions.begin() as s:
        visits.verify_id(
            s, s.get(Visit, visit.id), "passport", actor=s.get(User, guard.id)
        )

    with pytest.raises(visits.VisitError), sessions.begin() as s:
        visits.verify_id(
            s, s.get(Visit, visit.id), "passport", actor=s.get(User, guard.id)
        )

    assert log_kinds(sessions, site.id).count("visit.id_verified") == 1


def test_signing_out_records_the_departure_once(sessions, site, guard, visit):
    departed = sign_out(sessions, site.id, f" {visit.badge_number} ", guard.id)

    assert departed.departed_at is not None
    assert departed.departed_by == "user:gina.guard"
    with pytest.raises(visits.VisitError, match="already signed out"):
        sign_out(sessions, site.id, visit.badge_number, guard.id)

    assert log_kinds(sessions, site.id) == ["visit.arrived", "visit.departed"]
    with sessions.begin() as s:
        assert s.get(Visit, visit.id).departed_at == departed.departed_at
        assert chain.verify_site(s, s.get(Site, site.id)).ok


@pytest.mark.parametrize(
    "badge_number", ["", "12345", "1234567", "12a456", "12 456", "-12345", "١٢٣٤٥٦"]
)
def test_a_malformed_badge_number_is_refused(sessions, site, guard, badge_number):
    with pytest.raises(visits.VisitError):
        sign_out(sessions, site.id, badge_number, guard.id)

    assert count(sessions, LogEntry) == 0


def test_a_badge_of_another_site_is_not_signed_out(sessions, guard, visit):
    with sessions.begin() as s:
        other = sites.create_site(s, code="yard-b", name="Yard B", timezone="UTC")

    with pytest.raises(visits.VisitError, match="No visit"):
        sign_out(sessions, other.id, visit.badge_number, guard.id)

    with sessions.begin() as s:
        assert s.get(Visit, visit.id).departed_at is None


def test_a_correction_changes_the_field_and_logs_the_reason(
    sessions, site, guard, visit
):
    with sessions.begin() as s:
        visits.correct(
            s,
            s.get(Visit, visit.id),
            column="company",
            value="Difference Engines",
            reason="  Typed the wrong company ",
            actor=s.get(User, guard.id),
        )

    with sessions.begin() as s:
        entry = s.scalar(
            select(LogEntry).where(LogEntry.site_id == site.id, LogEntry.seq == 2)
        )
        company = s.get(Visit, visit.id).company

    assert company == "Difference Engines"
    assert entry.kind == "visit.corrected"
    assert json.loads(entry.body)["details"] == {
        "reason": "Typed the wrong company",
        "before": "Analytical Engines",
    }


@pytest.mark.parametrize(
    ("column", "reason"),
    [("badge_number", "why"), ("arrived_at", "why"), ("company", "   ")],
)
def test_a_correction_needs_a_correctable_field_and_a_reason(
    sessions, site, guard, visit, column, reason
):
    with pytest.raises(visits.VisitError), sessions.begin() as s:
        visits.correct(
            s,
            s.get(Visit, visit.id),
            column=column,
            value="x",
            reason=reason,
            actor=s.get(User, guard.id),
        )

    assert log_kinds(sessions, site.id) == ["visit.arrived"]


class Clock:
    """A stand-in for visits.utcnow that a test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(visits, "utcnow", clock)
    return clock


def visit_at(sessions, clock, site_id, host_id, guard_id, name, arrived, departed):
    """A visit that arrived, and perhaps left, at the given UTC times."""
    clock.now = arrived
    with sessions.begin() as s:
        visit = visits.check_in(
            s,
            site=s.get(Site, site_id),
            kiosk=None,
            visitor_name=name,
            company="Timekeepers",
            host_id=host_id,
            visitor_type="visitor",
            id_type="passport",
        )

    if departed is not None:
        clock.now = departed
        sign_out(sessions, site_id, visit.badge_number, guard_id)

    return visit


@pytest.mark.parametrize(
    ("timezone", "expected"),
    [
        # At 16:00 UTC on 10 March it is 11:00 that day in Chicago (CDT, UTC-5)...
        ("America/Chicago", ["early", "late", "lingering"]),
        # ...and already 01:00 on 11 March in Tokyo (UTC+9).
        ("Asia/Tokyo", ["early", "lingering"]),
        ("UTC", ["early", "late", "lingering"]),
    ],
)
def test_todays_visits_follow_the_sites_time_zone(
    sessions, site, host, guard, clock, timezone, expected
):
    with sessions.begin() as s:
        s.get(Site, site.id).timezone = timezone

    def utc(day, hour, minute=0):
        return datetime(2026, 3, day, hour, minute, tzinfo=UTC)

    schedule = {
        "yesterday": (utc(9, 3), utc(9, 4)),
        "late": (utc(10, 14), utc(10, 14, 30)),
        "early": (utc(10, 15, 30), utc(10, 15, 45)),
        "lingering": (utc(8, 12), None),
    }
    for name, (arrived, departed) in schedule.items():
        visit_at(sessions, clock, site.id, host.id, guard.id, name, arrived, departed)

    clock.now = utc(10, 16)
    with sessions.begin() as s:
        today = visits.todays_visits(s, s.get(Site, site.id))

    assert [visit.visitor_name for visit in today] == expected


def test_todays_visits_leave_out_other_sites(sessions, site, host, guard, arrive):
    with sessions.begin() as s:
        other = sites.create_site(s, code="yard-b", name="Yard B", timezone="UTC")
        other_host = sites.add_host(
            s, other, name="Hal Jordan", email="hal@example.com"
        )
        arrive(s, "Elsewhere Person", site=other, host_id=other_host.id)
        arrive(s, "Here Person")

    with sessions.begin() as s:
        today = visits.todays_visits(s, s.get(Site, site.id))

    assert [visit.visitor_name for visit in today] == ["Here Person"]


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (datetime(2026, 3, 8, 18, tzinfo=UTC), 23),
        (datetime(2026, 11, 1, 18, tzinfo=UTC), 25),
    ],
)
def test_a_day_of_a_clock_change_is_as_long_as_it_really_is(day, hours):
    site = Site(code="dock-a", name="Dock A", timezone="America/Chicago")

    start, end = visits.local_day_bounds(site, day)

    assert start.astimezone(UTC) == datetime(
        day.year, day.month, day.day, 6 if day.month == 3 else 5, tzinfo=UTC
    )
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)


def test_a_badge_is_valid_for_the_hours_the_site_sets(sessions, site, host):
    with sessions.begin() as session:
        session.get(Site, site.id).badge_valid_hours = 4
        visit = visits.check_in(
            session,
            site=session.get(Site, site.id),
            kiosk=None,
            visitor_name="Ada Byron",
            company="Engines Ltd",
            host_id=host.id,
            visitor_type="visitor",
            id_type="passport",
        )

    assert visit.valid_until - visit.arrived_at == timedelta(hours=4)
    with sessions() as session:
        assert chain.verify_site(session, session.get(Site, site.id)).ok


def close_visit(sessions, visit_id: int, actor_id: int, reason: str) -> Visit:
    with sessions.begin() as s:
        return visits.close_visit(
            s, s.get(Visit, visit_id), reason=reason, actor=s.get(User, actor_id)
        )


def log_entries(sessions, site_id: int, kind: str) -> list[LogEntry]:
    with sessions.begin() as s:
        query = (
            select(LogEntry)
            .where(LogEntry.site_id == site_id, LogEntry.kind == kind)
            .order_by(LogEntry.seq)
        )
        return list(s.scalars(query))


def verify(sessions, site_id: int) -> chain.Report:
    with sessions.begin() as s:
        return chain.verify_site(s, s.get(Site, site_id))


END = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (END - timedelta(minutes=1), False),
        (END, False),
        (END + timedelta(microseconds=1), True),
        (END + timedelta(days=3), True),
    ],
)
def test_an_open_visit_is_overdue_only_after_its_expected_end(now, overdue):
    visit = Visit(valid_until=END, departed_at=None)

    assert visits.is_overdue(visit, now) is overdue


def test_a_departed_visit_or_one_without_an_end_is_never_overdue():
    later = END + timedelta(days=3)

    assert not visits.is_overdue(Visit(valid_until=END, departed_at=later), later)
    assert not visits.is_overdue(Visit(valid_until=None, departed_at=None), later)


def test_overdue_visits_are_the_sites_open_ones_past_their_end_oldest_first(
    sessions, site, host, guard, clock
):
    # Dock A gives badges 12 hours; the clock stands at 16:00 UTC on 10 March.
    def utc(day, hour):
        return datetime(2026, 3, day, hour, tzinfo=UTC)

    schedule = {
        "recent": (utc(9, 1), None),
        "oldest": (utc(8, 9), None),
        "left": (utc(8, 10), utc(8, 18)),
        "on time": (utc(10, 9), None),
        "ends now": (utc(10, 4), None),
    }
    for name, (arrived, departed) in schedule.items():
        visit_at(sessions, clock, site.id, host.id, guard.id, name, arrived, departed)

    with sessions.begin() as s:
        other = sites.create_site(s, code="yard-b", name="Yard B", timezone="UTC")
        other_host = sites.add_host(s, other, name="Hal Jordan", email="h@example.com")

    clock.now = utc(8, 0)
    with sessions.begin() as s:
        visits.check_in(
            s,
            site=s.get(Site, other.id),
            kiosk=None,
            visitor_name="elsewhere",
            company="Timekeepers",
            host_id=other_host.id,
            visitor_type="visitor",
            id_type="passport",
        )

    clock.now = utc(10, 16)
    with sessions.begin() as s:
        overdue = visits.overdue_visits(s, s.get(Site, site.id), clock.now)

    assert [visit.visitor_name for visit in overdue] == ["oldest", "recent"]


def test_a_visit_without_an_end_is_not_listed_as_overdue(sessions, site, visit):
    # Edits a logged column directly, as rows made before badges had an end look.
    with sessions.begin() as s:
        s.get(Visit, visit.id).valid_until = None

    later = visit.arrived_at + timedelta(days=30)
    with sessions.begin() as s:
        assert visits.overdue_visits(s, s.get(Site, site.id), later) == []


def test_closing_a_visit_records_who_closed_it_and_why(
    sessions, site, guard, visit, clock
):
    clock.now = visit.valid_until + timedelta(hours=2)

    closed = close_visit(
        sessions, visit.id, guard.id, "  Left by the  yard gate; host confirmed "
    )

    assert closed.departed_at == clock.now
    assert closed.departed_by == "user:gina.guard"
    [entry] = log_entries(sessions, site.id, "visit.closed")
    body = json.loads(entry.body)
    assert (entry.subject_id, entry.actor) == (visit.id, "user:gina.guard")
    assert body["set"] == {
        "departed_at": chain.to_log_value(clock.now),
        "departed_by": "user:gina.guard",
    }
    assert body["details"] == {
        "reason": "Left by the yard gate; host confirmed",
        "overdue": True,
    }
    with sessions.begin() as s:
        assert visits.closings(s, site.id, [visit.id]) == {
            visit.id: visits.Closing("gina.guard", body["details"]["reason"])
        }

    assert verify(sessions, site.id).ok


def test_a_visit_closed_before_its_end_is_logged_as_not_overdue(
    sessions, site, guard, visit
):
    close_visit(sessions, visit.id, guard.id, "Host walked them out")

    [entry] = log_entries(sessions, site.id, "visit.closed")
    assert json.loads(entry.body)["details"]["overdue"] is False


def test_a_visit_is_closed_once(sessions, site, guard, visit):
    first = close_visit(sessions, visit.id, guard.id, "Left by the yard gate")

    with pytest.raises(visits.VisitError, match="already has a time of departure"):
        close_visit(sessions, visit.id, guard.id, "Closing it again")

    with pytest.raises(visits.VisitError, match="already signed out"):
        sign_out(sessions, site.id, visit.badge_number, guard.id)

    assert log_kinds(sessions, site.id) == ["visit.arrived", "visit.closed"]
    with sessions.begin() as s:
        assert s.get(Visit, visit.id).departed_at == first.departed_at

    assert verify(sessions, site.id).ok


def test_a_signed_out_visit_cannot_be_closed(sessions, site, guard, visit):
    sign_out(sessions, site.id, visit.badge_number, guard.id)

    with pytest.raises(visits.VisitError, match="already has a time of departure"):
        close_visit(sessions, visit.id, guard.id, "Left by the yard gate")

    assert log_kinds(sessions, site.id) == ["visit.arrived", "visit.departed"]
    assert verify(sessions, site.id).ok


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Say why"),
        ("   ", "Say why"),
        (None, "Say why"),
        ("ok", "at least 3 characters"),
        ("  ok  ", "at least 3 characters"),
        ("x" * 501, "at most 500 characters"),
        ("Left by\nthe gate", "not allowed"),
        ("Left\x00 early", "not allowed"),
        ("Left\u202e early", "not allowed"),
    ],
)
def test_a_visit_is_not_closed_without_a_proper_reason(
    sessions, site, guard, visit, reason, message
):
    with pytest.raises(visits.VisitError, match=message):
        close_visit(sessions, visit.id, guard.id, reason)

    with sessions.begin() as s:
        assert s.get(Visit, visit.id).departed_at is None

    assert log_kinds(sessions, site.id) == ["visit.arrived"]


def test_a_reason_of_500_characters_is_kept_whole(sessions, site, guard, visit):
    close_visit(sessions, visit.id, guard.id, "x" * 500)

    [entry] = log_entries(sessions, site.id, "visit.closed")
    assert json.loads(entry.body)["details"]["reason"] == "x" * 500


def depart_at_once(url: str, site_id: int, visit_id: int, badge: str, actor_id: int):
    """Close and sign out one visit from two threads released together; returns
    what each thread ended with: "departed" or the VisitError's message."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    start = threading.Barrier(2)

    def close():
        with sessions.begin() as s:
            visit = s.get(Visit, visit_id)
            actor = s.get(User, actor_id)
            start.wait(timeout=10)
            visits.close_visit(s, visit, reason="Left by the gate", actor=actor)

    def leave():
        with sessions.begin() as s:
            actor = s.get(User, actor_id)
            start.wait(timeout=10)
            visits.sign_out(s, site_id=site_id, badge_number=badge, actor=actor)

    outcomes = {}

    def run(name, action):
        try:
            action()
        except visits.VisitError as error:
            outcomes[name] = str(error)
        else:
            outcomes[name] = "departed"

    threads = [
        threading.Thread(target=run, args=(name, action))
        for name, action in (("close", close), ("sign out", leave))
    ]
    for thread in threads:
        thread.start()

    for thread in threads:
        thread.join(timeout=30)

    engine.dispose()
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_a_close_racing_a_sign_out_departs_once_on_postgresql(pg_url):
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        dock = sites.create_site(s, code="dock-a", name="Dock A", timezone="UTC")
        host = sites.add_host(s, dock, name="Grace Hopper", email="g@example.com")
        guard, _ = accounts.create_user(
            s,
            username="gina.guard",
            display_name="Gina Guard",
            role="guard",
            sites=[dock],
            actor="setup",
        )
        racing = [
            visits.check_in(
                s,
                site=dock,
                kiosk=None,
                visitor_name=f"Visitor {number}",
                company="Analytical Engines",
                host_id=host.id,
                visitor_type="visitor",
                id_type="passport",
            )
            for number in range(RACES)
        ]

    for visit in racing:
        outcomes = depart_at_once(
            pg_url, dock.id, visit.id, visit.badge_number, guard.id
        )
        assert len(outcomes) == 2, outcomes
        assert list(outcomes.values()).count("departed") == 1, outcomes

    departures = log_entries(sessions, dock.id, "visit.closed") + log_entries(
        sessions, dock.id, "visit.departed"
    )
    report = verify(sessions, dock.id)
    engine.dispose()
    assert sorted(entry.subject_id for entry in departures) == sorted(
        visit.id for visit in racing
    )
    assert report.ok, (report.chain_problem, report.state_problems[:3])
