"""The front desk in Chromium (CTPAT 10.2): a check-in waiting for its ID check is
compared and verified from the queue, a held check-in appears in the queue by
itself and is decided with a reason, and the console's banner says while one waits."""

import re

import pytest
from playwright.sync_api import expect

from gatekeeper import screening
from gatekeeper.models import Site, User, Visit
from tests.functional import rows
from tests.support import checkins

pytestmark = pytest.mark.browser


def _sign_in(page, url: str, person) -> None:
    page.goto(url + "/login")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Front desk")).to_be_visible()


def test_the_desk_verifies_a_waiting_visitor_after_comparing_the_photos(
    desk_page, console_server, people, db_sessions, site
):
    visit = checkins.check_in_with_photos(
        db_sessions, site, "Wanda Waiting", kinds=("face", "id", "id_back")
    )
    page = desk_page
    _sign_in(page, console_server.url, people["front_desk"])

    page.get_by_role("link", name="Front desk").click()
    page.get_by_role("link", name="Wanda Waiting").click()

    expect(
        page.get_by_role("heading", name=re.compile("Wanda Waiting"))
    ).to_be_visible()
    for name in ("Face photo", "Photo ID, front", "Photo ID, back"):
        image = page.get_by_role("img", name=f"{name} of Wanda Waiting")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), name

    page.get_by_label("Photo ID you compared with the person").select_option(
        label="Driver's licence"
    )
    page.get_by_role("button", name="Verified").click()

    expect(page.get_by_text("ID verified for Wanda Waiting.")).to_be_visible()
    expect(page.get_by_role("link", name="Print badge")).to_be_visible()
    row = rows(db_sessions, Visit, id=visit.id)[0]
    assert (row.admission, row.id_status) == ("admitted", "verified")

    page.get_by_role("link", name="Front desk").click()
    expect(page.get_by_text("Nobody is waiting.")).to_be_visible()


def test_a_held_check_in_appears_by_itself_and_is_decided_with_a_reason(
    desk_page, console_server, people, db_sessions, site
):
    page = desk_page
    page.clock.install()
    _sign_in(page, console_server.url, people["front_desk"])
    page.get_by_role("link", name="Front desk").click()
    expect(page.get_by_text("Nobody is waiting.")).to_be_visible()
    expect(page.locator(".held-alert")).to_have_count(0)

    with db_sessions.begin() as session:
        screening.add_entry(
            session,
            session.get(Site, site.id),
            kind="person",
            value="Harold Held",
            actor=session.get(User, people["security_manager"].id),
        )
    held = checkins.check_in_with_photos(db_sessions, site, "held, HAROLD")
    assert held.admission == "held"

    # The queue's next refresh, without reloading the page.
    page.clock.run_for(6000)
    link = page.get_by_role("link", name="held, HAROLD")
    expect(link).to_be_visible()
    expect(page.locator("tr.queue-held")).to_contain_text("hold decision")

    link.click()
    expect(page.locator(".held-alert")).to_contain_text("1 check-in held")
    expect(page.locator(".matches")).to_contain_text("Harold Held")
    page.get_by_label("Reason for the decision").fill("Not the listed man: older")
    page.get_by_role("button", name="Approve check-in").click()

    expect(
        page.get_by_text("The check-in of held, HAROLD is approved.")
    ).to_be_visible()
    expect(page.locator(".held-alert")).to_have_count(0)
    expect(page.locator(".visit-history")).to_contain_text("Not the listed man: older")
    assert rows(db_sessions, Visit, id=held.id)[0].admission == "awaiting_id"
