"""axe-core on the console pages of check-in: the front desk's queue, a visit's page
(held, with its photos), check-in at the desk with its errors, and the security
manager's lists and rules: no serious or critical violation."""

import pytest
from playwright.sync_api import expect

from gatekeeper import screening
from gatekeeper.models import Site, User
from tests.browser.accessibility import blocking_violations
from tests.support import checkins

pytestmark = pytest.mark.browser


def _sign_in(page, url: str, person) -> None:
    page.goto(url + "/login")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    if person.totp_secret:
        page.get_by_label("Code from your authenticator app").fill(person.totp())
        page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("link", name="Today's visits")).to_be_visible()


def test_the_check_in_pages_of_the_console_pass_axe(
    browser, console_server, people, db_sessions, site
):
    with db_sessions.begin() as session:
        screening.add_entry(
            session,
            session.get(Site, site.id),
            kind="person",
            value="Harold Held",
            aliases="Hal Held",
            actor=session.get(User, people["security_manager"].id),
        )
    held = checkins.check_in_with_photos(
        db_sessions, site, "Harold Held", kinds=("face", "id", "id_back")
    )
    url = console_server.url
    found = []
    for role, paths in (
        ("front_desk", ["/desk/", f"/visits/{held.id}", "/visits/today"]),
        (
            "security_manager",
            ["/screening/block-list", "/screening/exemptions", "/site-rules/"],
        ),
    ):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        _sign_in(page, url, people[role])
        for path in paths:
            page.goto(url + path)
            found += blocking_violations(page, f"{role} {path}")

        if role == "front_desk":
            page.goto(url + "/desk/check-in")
            found += blocking_violations(page, "desk check-in")
            page.get_by_role("button", name="Check in").click()
            expect(page.locator(".field-errors").first).to_be_visible()
            found += blocking_violations(page, "desk check-in with errors")

        context.close()

    assert not found, "axe violations:\n" + "\n".join(found)
