"""Periodic reviews in the console: recording one, its errors on the same page,
when the next is due, and the banner of an overdue one."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent, Review
from tests.fixtures.apps import csrf_token


def _text(response) -> str:
    return response.get_data(as_text=True)


def _form(**changes) -> dict:
    today = utcnow().date()
    values = {
        "kind": "guard_audit",
        "period_start": (today - timedelta(days=30)).isoformat(),
        "period_end": today.isoformat(),
        "sampled": "Night shift at gate 2, three visits unannounced",
        "findings": "One guard skipped the trailer re-read.\nOthers kept to the rules.",
        "corrective_action": "Retrained on 6.7 the next evening.",
    }
    return {**values, **changes}


def _post(client, **changes):
    token = csrf_token(client, "/reviews/")
    return client.post("/reviews/", data={"csrf_token": token, **_form(**changes)})


def _count(db_sessions) -> int:
    with db_sessions() as session:
        return session.scalar(select(func.count()).select_from(Review))


def test_a_security_manager_records_a_review_and_sees_when_the_next_is_due(
    signed_in, db_sessions
):
    client = signed_in("security_manager")

    response = _post(client)

    assert response.status_code == 302
    page = _text(client.get(response.location))
    with db_sessions() as session:
        review = session.scalar(select(Review))

    assert (
        review.kind == "guard_audit" and review.recorded_by == "Test Security Manager"
    )
    assert f"the next is due on {review.next_due.isoformat()}" in page
    assert "Guard procedure audit" in page and "CTPAT 10.10" in page
    assert "One guard skipped the trailer re-read.\nOthers kept" in page
    index = _text(client.get("/reviews/"))
    assert review.next_due.isoformat() in index
    assert "up to date" in index and "none recorded yet" in index


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"period_start": "31/03/2026"}, "Write the date like 2026-03-31."),
        ({"period_end": ""}, "Enter the last day of the period reviewed."),
        ({"kind": "coffee"}, "Choose what kind of review this is."),
        ({"findings": ""}, "Findings is required."),
        (
            {"period_end": (date.today() + timedelta(days=3)).isoformat()},
            "The period cannot end after today.",
        ),
    ],
)
def test_a_bad_review_is_refused_on_the_same_page_with_what_was_typed(
    signed_in, db_sessions, changes, message
):
    response = _post(signed_in("security_manager"), **changes)

    assert response.status_code == 400
    page = _text(response)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert "Night shift at gate 2" in page
    assert _count(db_sessions) == 0


def test_a_review_without_its_csrf_token_is_refused(signed_in, db_sessions):
    response = signed_in("security_manager").post("/reviews/", data=_form())

    assert response.status_code == 400
    assert _count(db_sessions) == 0


def test_an_overdue_review_puts_a_banner_on_every_page_of_the_manager(
    signed_in, db_sessions, site
):
    long_ago = utcnow().date() - timedelta(days=200)
    with db_sessions.begin() as session:
        session.add(
            Review(
                site_id=site.id,
                kind="access_review",
                period_start=long_ago - timedelta(days=90),
                period_end=long_ago,
                sampled="All accounts",
                findings="None",
                recorded_by="test",
                next_due=long_ago + timedelta(days=91),
            )
        )

    manager = signed_in("security_manager")
    page = _text(manager.get("/cases/"))

    assert "1 periodic review overdue" in page
    assert "Access review (due " in page
    assert "1 periodic review overdue" not in _text(signed_in("guard").get("/cases/"))


def test_reading_reviews_is_audited(signed_in, db_sessions):
    client = signed_in("security_manager")
    review_url = _post(client).location
    client.get(review_url)

    with db_sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("review%"))
            .order_by(AuditEvent.id)
        ).all()

    # The CSRF token was read from the reviews page before the form was posted.
    assert actions == ["reviews.viewed", "review.recorded", "review.viewed"]


def test_the_history_shows_one_kind_when_asked(signed_in):
    client = signed_in("security_manager")
    _post(client)
    _post(client, kind="camera_footage", sampled="Cameras 1 to 4, random hours")

    page = _text(client.get("/reviews/?kind=camera_footage"))
    history = page.split("Reviews recorded", 1)[1]

    assert "Camera footage review," in history
    assert "Guard procedure audit," not in history


def test_a_review_of_another_site_is_not_found(
    console_app, make_person, other_site, signed_in
):
    from tests.fixtures.apps import sign_in

    review_url = _post(signed_in("security_manager")).location
    stranger = console_app.test_client()
    sign_in(stranger, make_person("security_manager", other_site, username="north"))

    assert stranger.get(review_url).status_code == 404


@pytest.mark.parametrize("role", ["front_desk", "guard", "administrator"])
def test_reviews_are_for_security_managers(signed_in, role):
    assert signed_in(role).get("/reviews/").status_code == 403
