"""Periodic reviews: recording one, refusing a bad one whole, and when each is due."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from gatekeeper import reviews, sites
from gatekeeper.models import AuditEvent, Review, Site, User

NOW = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)


def submission(**changes) -> reviews.Submission:
    values = {
        "kind": "camera_footage",
        "period_start": date(2026, 5, 1),
        "period_end": date(2026, 5, 31),
        "sampled": "Dock cameras 1 to 4\nthree random hours a week",
        "findings": "One trailer left open for ten minutes on 2026-05-12.",
        "corrective_action": "Dock lead reminded of the closing check.",
    }
    return reviews.Submission(**{**values, **changes})


def record(sessions, site, manager, now=NOW, **changes) -> Review:
    with sessions.begin() as s:
        return reviews.record(
            s,
            s.get(Site, site.id),
            submission(**changes),
            actor=s.get(User, manager.id),
            now=now,
        )


def test_a_review_is_kept_with_its_next_due_date_and_audited(sessions, site, manager):
    review = record(sessions, site, manager)

    assert review.next_due == date(2026, 6, 30)
    assert review.recorded_by == "Mia Manager"
    assert review.sampled == "Dock cameras 1 to 4\nthree random hours a week"
    with sessions.begin() as s:
        event = s.scalar(
            select(AuditEvent).where(AuditEvent.action == "review.recorded")
        )

    assert event.actor == "mia.manager"
    assert event.target == f"review:{review.id}"
    assert '"kind": "camera_footage"' in event.detail


@pytest.mark.parametrize(
    ("kind", "end", "due"),
    [
        ("log_review", date(2026, 1, 31), date(2026, 2, 28)),
        ("camera_footage", date(2026, 5, 31), date(2026, 6, 30)),
        ("guard_audit", date(2026, 3, 31), date(2026, 6, 30)),
        ("access_review", date(2025, 11, 30), date(2026, 2, 28)),
    ],
)
def test_each_kind_is_next_due_its_interval_after_the_period_ends(kind, end, due):
    assert reviews.next_due(kind, end) == due


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "coffee"}, "kind", "kind of review"),
        ({"period_start": None}, "period_start", "first day"),
        ({"period_end": None}, "period_end", "last day"),
        ({"period_end": date(2026, 4, 30)}, "period_end", "ends before"),
        ({"period_end": date(2026, 6, 16)}, "period_end", "after today"),
        ({"period_start": date(2025, 5, 1)}, "period_start", "at most a year"),
        ({"sampled": "  \n "}, "sampled", "What was sampled is required"),
        ({"findings": "ok\x07"}, "findings", "not allowed"),
        ({"corrective_action": "x" * 4001}, "corrective_action", "at most 4000"),
    ],
)
def test_a_bad_review_names_its_field_and_nothing_is_kept(
    sessions, site, manager, changes, field, message
):
    with pytest.raises(reviews.ReviewError, match=message) as raised:
        record(sessions, site, manager, **changes)

    assert raised.value.field == field
    with sessions.begin() as s:
        assert s.scalar(select(func.count()).select_from(Review)) == 0
        recorded = select(func.count()).where(AuditEvent.action == "review.recorded")
        assert s.scalar(recorded) == 0


def test_a_period_may_end_today_in_the_sites_zone(sessions, site, manager):
    # 02:00 UTC on 2026-06-16 is still the 15th in Chicago.
    late = datetime(2026, 6, 16, 2, 0, tzinfo=UTC)
    record(sessions, site, manager, now=late, period_end=date(2026, 6, 15))

    with pytest.raises(reviews.ReviewError, match="after today"):
        record(sessions, site, manager, now=late, period_end=date(2026, 6, 16))


def test_line_breaks_are_kept_and_blank_runs_cut(sessions, site, manager):
    review = record(
        sessions, site, manager, findings="First\r\n\r\n\r\n\r\n  second   line  \n"
    )

    assert review.findings == "First\n\nsecond line"


def test_standings_say_what_is_never_done_overdue_due_soon_or_up_to_date(
    sessions, site, manager
):
    record(sessions, site, manager, period_end=date(2026, 5, 20))
    record(
        sessions,
        site,
        manager,
        kind="log_review",
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
    )
    record(
        sessions,
        site,
        manager,
        kind="guard_audit",
        period_start=date(2026, 6, 1),
        period_end=date(2026, 6, 10),
    )
    with sessions.begin() as s:
        found = {
            one.kind: (one.state, one.due)
            for one in reviews.standings(s, s.get(Site, site.id), NOW)
        }

    assert found == {
        "log_review": ("overdue", date(2026, 4, 30)),
        "camera_footage": ("due_soon", date(2026, 6, 20)),
        "guard_audit": ("ok", date(2026, 9, 10)),
        "access_review": ("never", None),
    }


def test_the_latest_period_counts_not_the_latest_recorded(sessions, site, manager):
    record(
        sessions,
        site,
        manager,
        kind="log_review",
        period_start=date(2026, 5, 1),
        period_end=date(2026, 5, 31),
    )
    # A late write-up of an older month does not move the due date back.
    record(
        sessions,
        site,
        manager,
        kind="log_review",
        period_start=date(2026, 2, 1),
        period_end=date(2026, 2, 28),
    )
    with sessions.begin() as s:
        standing = reviews.standings(s, s.get(Site, site.id), NOW)[0]
        history = reviews.history(s, site.id, "log_review")

    assert (standing.kind, standing.due) == ("log_review", date(2026, 6, 30))
    assert [review.period_end for review in history] == [
        date(2026, 5, 31),
        date(2026, 2, 28),
    ]


def test_only_reviews_past_due_are_overdue_per_site(sessions, site, manager):
    with sessions.begin() as s:
        other = sites.create_site(s, code="else", name="Elsewhere", timezone="UTC")

    record(
        sessions,
        site,
        manager,
        kind="access_review",
        period_start=date(2025, 12, 1),
        period_end=date(2026, 2, 28),
    )
    record(sessions, site, manager, kind="camera_footage")
    with sessions.begin() as s:
        found = reviews.overdue(s, [s.get(Site, site.id), s.get(Site, other.id)], NOW)

    assert [(one_site.code, one.kind, one.due) for one_site, one in found] == [
        ("dock-a", "access_review", date(2026, 5, 28))
    ]
