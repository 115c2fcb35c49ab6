"""axe-core on every kiosk screen, in both languages and both orientations, and on
the console pages a guard or the front desk uses: no serious or critical violation."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from gatekeeper import badges
from gatekeeper.models import Site, Visit

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}
# The badge page prints itself on load; a headless browser must print nothing.
NO_PRINT = "window.print = () => {};"
axe = Axe()


class Audit:
    """Runs axe on pages and collects the blocking violations of all of them."""

    def __init__(self):
        self.found = []

    def __call__(self, page, screen: str) -> None:
        page.wait_for_load_state("load")
        result = axe.run(page)
        assert result.response["passes"], f"axe checked nothing on {screen}"
        for violation in result.response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [node["target"] for node in violation["nodes"]]
                self.found.append(
                    f"{screen}: {violation['id']} ({violation['impact']}) {targets}"
                )

    def assert_clean(self) -> None:
        assert not self.found, "axe violations:\n" + "\n".join(self.found)


def _kiosk_screens(page, url: str, audit: Audit, where: str) -> None:
    """Every screen a visitor sees, with a check-in and a sign-out on the way."""
    page.goto(url + "/")
    expect(page.locator("h1")).to_be_visible()
    audit(page, f"{where} start")

    page.goto(url + "/check-in")
    audit(page, f"{where} check-in")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator(".alert-error")).to_be_visible()
    audit(page, f"{where} check-in with errors")

    page.locator("input[name=visitor_type]").first.check()
    page.locator("#visitor_name").fill("Zoë Ñúñez")
    page.locator("#company").fill("Acme Logística")
    page.locator("#host_id").select_option(label="Ana López")
    page.locator("input[name=id_type]").nth(1).check()
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/check-in/done$"))
    audit(page, f"{where} check-in done")
    badge = page.locator(".badge-number").inner_text().strip()

    page.goto(url + "/check-in/badge")
    expect(page.locator(".badge")).to_contain_text("Zoë Ñúñez")
    audit(page, f"{where} badge")

    page.goto(url + "/sign-out")
    audit(page, f"{where} sign-out")
    page.locator("#badge_number").fill("12")
    page.locator("#badge_number").press("Enter")
    expect(page.locator(".field-errors")).to_be_visible()
    audit(page, f"{where} sign-out with an error")

    page.locator("#badge_number").fill(badge)
    page.locator("#badge_number").press("Enter")
    expect(page.locator(".done")).to_be_visible()
    audit(page, f"{where} signed out")


def _set_language(page, url: str, code: str) -> None:
    page.goto(url + "/")
    page.locator(f"button[lang={code}]").click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def test_every_kiosk_screen_passes_axe_in_both_languages_and_orientations(
    browser, kiosk_server, enrolment_code, db_sessions, site
):
    with db_sessions.begin() as session:
        # No idle reset while axe reads a screen.
        session.get(Site, site.id).idle_seconds = 600

    audit = Audit()
    url = kiosk_server.url
    portrait = browser.new_context(
        viewport={"width": 1080, "height": 1920}, has_touch=True, locale="en-US"
    )
    portrait.add_init_script(NO_PRINT)
    page = portrait.new_page()
    page.goto(url + "/enrol")
    audit(page, "portrait enrol")
    page.locator("#code").fill(enrolment_code)
    page.locator("#code").press("Enter")
    expect(page.locator("h1")).to_have_text("Welcome")

    landscape = browser.new_context(
        viewport={"width": 1920, "height": 1080},
        has_touch=True,
        locale="en-US",
        storage_state=portrait.storage_state(),
    )
    landscape.add_init_script(NO_PRINT)
    try:
        for orientation, context in (("portrait", portrait), ("landscape", landscape)):
            page = context.pages[0] if context.pages else context.new_page()
            for lang in ("en", "es"):
                _set_language(page, url, lang)
                _kiosk_screens(page, url, audit, f"{orientation} {lang}")
    finally:
        landscape.close()
        portrait.close()

    audit.assert_clean()


def test_the_console_login_visits_and_badge_check_pages_pass_axe(
    browser,
    console_server,
    kiosk_server,
    enrolment_code,
    people,
    db_sessions,
    app_settings,
):
    audit = Audit()
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    try:
        kiosk = phone.new_page()
        kiosk.goto(kiosk_server.url + "/enrol")
        kiosk.locator("#code").fill(enrolment_code)
        kiosk.locator("#code").press("Enter")
        kiosk.goto(kiosk_server.url + "/check-in")
        kiosk.locator("input[name=visitor_type]").first.check()
        kiosk.locator("#visitor_name").fill("Jane Roe")
        kiosk.locator("#company").fill("Acme")
        kiosk.locator("#host_id").select_option(label="Ana López")
        kiosk.locator("input[name=id_type]").first.check()
        kiosk.locator("main form button[type=submit]").last.click()
        expect(kiosk).to_have_url(re.compile(r"/check-in/done$"))
        kiosk.close()
        with db_sessions() as session:
            token = badges.token_for(
                app_settings["SECRET_KEY"], session.query(Visit).one()
            )

        page = phone.new_page()
        page.goto(console_server.url + "/login")
        audit(page, "console login")
        page.get_by_label("Username").fill(people["guard"].username)
        page.get_by_label("Password").fill(people["guard"].password)
        page.get_by_role("button", name="Sign in").tap()
        expect(
            page.get_by_role("heading", name=re.compile("Today's visits"))
        ).to_be_visible()
        audit(page, "console today's visits")

        page.get_by_role("link", name="Check a badge").tap()
        field = page.get_by_label("Badge code")
        expect(field).to_be_focused()
        audit(page, "badge check")
        field.fill("123456")
        field.press("Enter")
        expect(page.locator(".alert-warn")).to_be_visible()
        audit(page, "badge check with a message")
        page.get_by_label("Badge code").fill(token)
        page.get_by_label("Badge code").press("Enter")
        expect(page.locator(".verdict-headline")).to_have_text("VALID")
        audit(page, "badge check verdict VALID")
        page.get_by_label("Badge code").fill("A" * 40)
        page.get_by_label("Badge code").press("Enter")
        expect(page.locator(".verdict")).to_be_visible()
        audit(page, "badge check verdict for a bad code")
    finally:
        phone.close()

    audit.assert_clean()
