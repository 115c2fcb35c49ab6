"""The kiosk waits with the visitor (CTPAT 10.2): at an attended site until the front
desk has compared the ID with the person, and on a block-list match until the desk
decides. The decisions are made here by the domain calls the console makes."""

import re

import pytest
from playwright.sync_api import expect

from gatekeeper import screening, visits
from gatekeeper.models import Site, User, Visit
from tests.browser import check_in_steps
from tests.browser.check_in_steps import (
    badge_photo_shown,
    enrol,
    long_idle,
    new_screen,
    walk_to_review,
)

pytestmark = pytest.mark.browser
portrait_camera = check_in_steps.portrait_camera
# The waiting screen asks every 3 s; a decision shows within a few asks.
DECISION_SHOWN_MS = 10_000


def _staff(session, people, role: str) -> User:
    return session.get(User, people[role].id)


def _checked_in_and_waiting(page, heading: str) -> None:
    page.locator("#check-in").tap()
    expect(page).to_have_url(re.compile(r"/check-in/wait$"))
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def test_an_attended_check_in_waits_for_the_desk_then_prints_the_badge(
    portrait_camera, kiosk_server, enrolment_code, db_sessions, site, people
):
    long_idle(db_sessions, site)
    context, page = new_screen(portrait_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        walk_to_review(page)
        _checked_in_and_waiting(page, "Please wait — the front desk will check your ID")
        assert page.evaluate("window.__prints") == 0

        with db_sessions.begin() as session:
            visit = session.query(Visit).one()
            assert visit.admission == "awaiting_id"
            desk = _staff(session, people, "front_desk")
            visits.verify_id(session, visit, "passport", actor=desk)

        expect(page).to_have_url(
            re.compile(r"/check-in/badge$"), timeout=DECISION_SHOWN_MS
        )
        expect(page.locator(".badge")).to_contain_text("Zoë Ñúñez")
        page.wait_for_function("() => window.__prints > 0")
        assert badge_photo_shown(page)
    finally:
        context.close()


def _blocked(db_sessions, site, people) -> None:
    with db_sessions.begin() as session:
        screening.add_entry(
            session,
            session.get(Site, site.id),
            kind="person",
            value="Zoe Nunez",
            reason="Trespass notice",
            actor=_staff(session, people, "security_manager"),
        )


def test_a_held_check_in_is_approved_and_the_kiosk_moves_on_to_the_badge(
    portrait_camera, kiosk_server, enrolment_code, db_sessions, site, people
):
    long_idle(db_sessions, site, mode="self_service")
    _blocked(db_sessions, site, people)
    context, page = new_screen(portrait_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        walk_to_review(page)
        _checked_in_and_waiting(page, "Please wait, someone will be with you")
        expect(page.locator("main")).not_to_contain_text("Trespass")

        with db_sessions.begin() as session:
            visit = session.query(Visit).one()
            assert visit.admission == "held"
            manager = _staff(session, people, "security_manager")
            visits.decide_hold(
                session, visit, "approve", reason="Namesake", actor=manager
            )

        expect(page).to_have_url(
            re.compile(r"/check-in/badge$"), timeout=DECISION_SHOWN_MS
        )
        page.wait_for_function("() => window.__prints > 0")
        assert badge_photo_shown(page)
    finally:
        context.close()


def test_a_held_check_in_that_is_denied_sends_the_visitor_to_the_desk(
    portrait_camera, kiosk_server, enrolment_code, db_sessions, site, people
):
    long_idle(db_sessions, site)
    _blocked(db_sessions, site, people)
    context, page = new_screen(portrait_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        walk_to_review(page)
        _checked_in_and_waiting(page, "Please wait, someone will be with you")

        with db_sessions.begin() as session:
            visit = session.query(Visit).one()
            manager = _staff(session, people, "security_manager")
            visits.decide_hold(session, visit, "deny", reason="Banned", actor=manager)

        expect(page).to_have_url(
            re.compile(r"/check-in/see-desk$"), timeout=DECISION_SHOWN_MS
        )
        expect(
            page.get_by_role("heading", name="Please see the front desk")
        ).to_be_visible()
        assert page.evaluate("window.__prints") == 0
    finally:
        context.close()


def test_a_visitor_who_cannot_wait_leaves_and_the_desk_still_decides(
    portrait_camera, kiosk_server, enrolment_code, db_sessions, site, people
):
    long_idle(db_sessions, site)
    _blocked(db_sessions, site, people)
    context, page = new_screen(portrait_camera)
    try:
        enrol(page, kiosk_server, enrolment_code)
        walk_to_review(page)
        _checked_in_and_waiting(page, "Please wait, someone will be with you")

        page.get_by_role("button", name="Leave the kiosk").tap()

        expect(page).to_have_url(re.compile(r"/$"))
        page.goto(f"{kiosk_server.url}/check-in/wait")
        expect(page).not_to_have_url(re.compile(r"/check-in/wait$"))
        with db_sessions() as session:
            visit = session.query(Visit).one()
        assert visit.admission == "held"
        assert visit.departed_at is None
    finally:
        context.close()
