"""axe-core on every console page of the route table, on the seeded site whose
stored text is markup: no serious or critical violation, at a desk's screen size,
and for the pages a guard reaches, on a phone too. The sign-in pages and the
guard's badge check verdict are scanned on the way."""

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import Audit
from tests.browser.console_pages import (
    DESKTOP,
    PHONE,
    console_pages,
    guard_pages,
    seeded_console,
    walk,
)
from tests.browser.test_console_xss import check_badge

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def console(sqlite_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("axe")
    with seeded_console(sqlite_template, folder) as served:
        yield served


@pytest.fixture(scope="module")
def pages(console):
    found, unknown = console_pages(console.console_app, console.seeded)
    assert not unknown, "console pages the walk has no address for: " + ", ".join(
        unknown
    )
    return found


def test_every_console_page_passes_axe_on_a_desk_screen(browser, console, pages):
    audit = Audit()
    problems = walk(
        browser,
        console,
        pages,
        lambda page, each: audit(page, f"{each.role} {each.path}"),
        viewport=DESKTOP,
    )
    assert not problems, "\n".join(problems)
    assert len(pages) >= 60
    audit.assert_clean()


def test_every_guard_page_passes_axe_on_a_phone(browser, console, pages):
    audit = Audit()
    walked = guard_pages(console.console_app, pages)
    problems = walk(
        browser,
        console,
        walked,
        lambda page, each: audit(page, f"phone {each.path}"),
        viewport=PHONE,
    )
    context = console.context(browser, "guard", viewport=PHONE)
    page = context.new_page()
    check_badge(page, console.console_url, console.seeded.badge_tokens["on_site"])
    audit(page, "phone badge check verdict")
    context.close()

    assert not problems, "\n".join(problems)
    assert len(walked) >= 20
    audit.assert_clean()


def test_the_sign_in_pages_pass_axe(browser, console):
    """The sign-in, the second factor and the enrolment of a new second factor."""
    audit = Audit()
    for person, step in (
        (console.people["security_manager"], "/login/second-factor"),
        (console.newcomer, "/mfa/enrol"),
    ):
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        page.goto(console.console_url + "/login")
        audit(page, "/login")
        page.get_by_label("Username").fill(person.username)
        page.get_by_label("Password").fill(person.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(console.console_url + step)
        audit(page, step)
        context.close()

    audit.assert_clean()
