"""axe-core on every kiosk screen, in both languages and both orientations, and on
the console pages a guard or the front desk uses: no serious or critical violation."""

import re

import pytest
from playwright.sync_api import expect

from gatekeeper import badges, sites, visits
from gatekeeper.models import Site, User, Visit
from tests.browser import check_in_steps
from tests.browser.accessibility import Audit

pytestmark = pytest.mark.browser
portrait_camera = check_in_steps.portrait_camera

# The badge page prints itself on load; a headless browser must print nothing.
NO_PRINT = "window.print = () => {};"


def _kiosk_screens(page, url: str, audit: Audit, where: str, decide) -> None:
    """Every screen a visitor sees, with a check-in and a sign-out on the way.

    decide(visit_id) is called while the visit waits for the front desk, and makes
    the decision the desk would.
    """
    page.goto(url + "/")
    expect(page.locator("h1")).to_be_visible()
    audit(page, f"{where} start")

    page.locator("a[href$='/check-in']").click()
    audit(page, f"{where} who")
    page.locator("button[name=visitor_type][value=visitor]").click()
    audit(page, f"{where} identity")
    page.locator("#next").click()
    expect(page.locator(".alert-error")).to_be_visible()
    audit(page, f"{where} identity with errors")
    page.locator("#code").fill("hello")
    page.locator("#code").press("Enter")
    expect(page.locator("#code-errors")).to_be_visible()
    audit(page, f"{where} invitation with an error")
    page.locator(".scanner-start").click()
    expect(page.locator(".scanner-view")).to_be_visible()
    audit(page, f"{where} invitation scanner")
    page.locator(".scanner-stop").click()

    check_in_steps.fill_identity(page, "Zoë Ñúñez", "Acme Logística")
    audit(page, f"{where} ID type")
    page.locator("button[name=id_type][value=national_id]").click()
    expect(page.locator("#take-photo")).to_be_enabled(timeout=10_000)
    audit(page, f"{where} ID photo")
    check_in_steps.take_photo(page, "/check-in/id-back")
    # The camera shows a face, not a barcode: the judge asks for a retake.
    expect(page.locator("#take-photo")).to_be_enabled(timeout=10_000)
    page.locator("#take-photo").click()
    expect(page.locator("#camera-advice")).to_be_visible()
    audit(page, f"{where} back of the ID with advice")
    page.locator("form[action$='/check-in/id-back/none'] button").click()
    expect(page.locator("#take-photo")).to_be_enabled(timeout=10_000)
    audit(page, f"{where} face")
    check_in_steps.take_photo(page, "/check-in/host")
    page.locator("#next").click()
    expect(page.locator(".alert-error")).to_be_visible()
    audit(page, f"{where} host with an error")
    page.locator("#host-search-input").fill("an")
    expect(page.locator("#host-search-results button").first).to_be_visible()
    audit(page, f"{where} host search")
    page.locator("#host-search-results button", has_text="Ana López").click()
    page.locator("#next").click()
    audit(page, f"{where} review")

    page.locator("#check-in").click()
    expect(page).to_have_url(re.compile(r"/check-in/wait$"))
    audit(page, f"{where} waiting for the desk")
    decide()
    expect(page).to_have_url(re.compile(r"/check-in/badge$"), timeout=10_000)
    expect(page.locator(".badge")).to_contain_text("Zoë Ñúñez")
    audit(page, f"{where} badge")
    page.goto(url + "/check-in/done")
    audit(page, f"{where} check-in done")
    badge = page.locator(".badge-number").inner_text().strip()

    page.goto(url + "/check-in/see-desk?why=camera")
    audit(page, f"{where} see the front desk")

    page.goto(url + "/sign-out")
    audit(page, f"{where} sign-out")
    page.locator(".scanner-start").click()
    expect(page.locator(".scanner-view")).to_be_visible()
    audit(page, f"{where} sign-out scanner")
    page.locator(".scanner-stop").click()
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


@pytest.mark.usefixtures("spanish_mo")
def test_every_kiosk_screen_passes_axe_in_both_languages_and_orientations(
    portrait_camera, kiosk_server, enrolment_code, db_sessions, site, people
):
    """English on a portrait screen, Spanish on a landscape one."""
    check_in_steps.long_idle(db_sessions, site)

    def verify():
        with db_sessions.begin() as session:
            visit = session.query(Visit).filter(Visit.departed_at.is_(None)).one()
            desk = session.get(User, people["front_desk"].id)
            visits.verify_id(session, visit, "national_id", actor=desk)

    audit = Audit()
    url = kiosk_server.url
    screens = (("portrait", "en", 1080, 1920), ("landscape", "es", 1920, 1080))
    storage = None
    for orientation, lang, width, height in screens:
        context = portrait_camera.new_context(
            viewport={"width": width, "height": height},
            has_touch=True,
            locale="en-US",
            storage_state=storage,
        )
        context.add_init_script(NO_PRINT)
        try:
            page = context.new_page()
            if storage is None:
                page.goto(url + "/enrol")
                audit(page, "portrait enrol")
                page.locator("#code").fill(enrolment_code)
                page.locator("#code").press("Enter")
                expect(page.locator("a[href$='/check-in']")).to_be_visible()
                storage = context.storage_state()

            _set_language(page, url, lang)
            _kiosk_screens(page, url, audit, f"{orientation} {lang}", verify)
        finally:
            context.close()

    audit.assert_clean()


def test_the_console_login_visits_and_badge_check_pages_pass_axe(
    browser,
    console_server,
    people,
    db_sessions,
    site,
    app_settings,
):
    audit = Audit()
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    try:
        # A visit the front desk checked in and verified: its badge is good.
        with db_sessions.begin() as session:
            site_row = session.get(Site, site.id)
            visit = visits.check_in(
                session,
                site=site_row,
                kiosk=None,
                visitor_name="Jane Roe",
                company="Acme",
                host_id=sites.active_hosts(session, site.id)[0].id,
                visitor_type="visitor",
                id_type="passport",
                arrival=visits.Arrival(
                    verified_by=session.get(User, people["front_desk"].id)
                ),
            )
            token = badges.token_for(app_settings["SECRET_KEY"], visit)

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
