"""Stored script and markup stay text on every page that shows them: each console
page of the route table, the printed badge, the gate pass, the guard's badge check
and the kiosk's screens that echo the site's hosts and visitor types.

A payload that ran would call window.__xss; the CSP would stop most of them before
that, so the walk also refuses any element the payloads would have made (they all
carry data-xss), any javascript: address, and any CSP violation, and it checks that
each payload is shown, letter for letter, as text.
"""

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from gatekeeper.config import PROJECT_ROOT
from tests.browser import check_in_steps
from tests.browser.check_in_steps import enrol, fill_identity, new_screen, take_photo
from tests.browser.console_pages import (
    DESKTOP,
    PHONE,
    SHAPES,
    SHORT_SHAPES,
    TOKEN_PREFIX,
    console_pages,
    guard_pages,
    seeded_console,
    walk,
)
from tests.drills.rig import Figures

pytestmark = pytest.mark.browser
portrait_camera = check_in_steps.portrait_camera

FIGURES = PROJECT_ROOT / "test-artifacts" / "xss-figures.json"
TOKEN = re.compile(TOKEN_PREFIX + r"\d{2,}")
# Recorded before any page script runs: a CSP violation means markup reached the
# page and the browser had to refuse it.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__csp.push(event.violatedDirective + " " + (event.sample || ""));
});
"""
INSPECT = """() => ({
    injected: Array.from(document.querySelectorAll("[data-xss]"), (e) => e.outerHTML),
    urls: Array.from(
        document.querySelectorAll("[href], [src], [action], [formaction]"),
        (e) => e.getAttribute("href") || e.getAttribute("src")
            || e.getAttribute("action") || e.getAttribute("formaction") || "",
    ).filter((url) => /^\\s*javascript:/i.test(url)),
    csp: window.__csp || [],
    text: [
        document.body.innerText,
        ...Array.from(document.querySelectorAll("input, textarea"), (e) => e.value),
    ].join(" ").replace(/\\s+/g, " "),
})"""
# Console pages that show no stored free text of the site's records.
NO_RECORDS = {
    "/account",
    "/account/password",
    "/admin/backups/",
    "/badges/check",
    "/desk/check-in",
    "/evidence/",
    "/gate/settings",
    "/gate/walk-up",
    "/invitations/new",
    "/admin/users/new",
}


class Findings:
    """What the walk saw: script that ran, markup in the DOM, payloads as text."""

    def __init__(self, payloads, own_tokens=()):
        self.payloads = payloads
        self.own = set(own_tokens)
        self.ran: list[str] = []
        self.problems: list[str] = []
        self.shown: set[str] = set()
        self.literal: set[str] = set()
        self.views = 0

    def look(self, page, where: str, *, records_expected: bool = True) -> None:
        page.wait_for_load_state("load")
        seen = page.evaluate(INSPECT)
        self.views += 1
        for kind in ("injected", "urls", "csp"):
            if seen[kind]:
                self.problems.append(f"{where}: {kind} {seen[kind]}")

        tokens = set(TOKEN.findall(seen["text"])) & set(self.payloads.by_token)
        if records_expected and not tokens - self.own:
            self.problems.append(f"{where}: no stored value shown")

        self.shown |= tokens
        for token in tokens:
            if self.payloads.by_token[token][1] in seen["text"]:
                self.literal.add(token)


@pytest.fixture(scope="module")
def console(sqlite_template, tmp_path_factory):
    with seeded_console(sqlite_template, tmp_path_factory.mktemp("xss")) as served:
        yield served


@pytest.fixture(scope="module")
def findings(console):
    admin_token = [
        token
        for token, (name, _) in console.payloads.by_token.items()
        if name.startswith("User.display_name (signed in)")
    ]
    found = Findings(console.payloads, admin_token)
    yield found

    figures = Figures()
    figures.add("payloads stored", len(console.payloads.by_token))
    figures.add("payloads shown as text", len(found.shown))
    figures.add("page views checked", found.views)
    figures.add("scripts run", len(found.ran))
    figures.write(FIGURES)


def hooked(found: Findings, where: list[str]):
    """Set a context up to report any payload that runs and any CSP violation."""

    def prepare(context):
        context.expose_function(
            "__xss", lambda token: found.ran.append(f"{where[0]}: {token}")
        )
        context.add_init_script(WATCH_CSP)

    return prepare


def test_every_console_page_shows_stored_markup_as_text(
    portrait_camera, console, findings
):
    pages, unknown = console_pages(console.console_app, console.seeded)
    assert not unknown, "console pages the walk has no address for: " + ", ".join(
        unknown
    )
    where = [""]

    def look(page, each):
        where[0] = f"{each.role} {each.path}"
        findings.look(page, where[0], records_expected=each.path not in NO_RECORDS)

    problems = []
    for viewport, walked in (
        (DESKTOP, pages),
        (PHONE, guard_pages(console.console_app, pages)),
    ):
        problems += walk(
            portrait_camera,
            console,
            walked,
            look,
            viewport=viewport,
            prepare=hooked(findings, where),
        )

    assert not problems, "\n".join(problems)
    assert not findings.ran, findings.ran
    assert not findings.problems, "\n".join(findings.problems)
    shown = shapes_shown(findings)
    assert shown == set(SHAPES + SHORT_SHAPES), shown


def shapes_shown(findings: Findings) -> set[str]:
    """The payload shapes some page showed letter for letter as text."""
    shown = set()
    for token in findings.literal:
        text = findings.payloads.by_token[token][1]
        for shape in SHAPES + SHORT_SHAPES:
            if shape.format(t=token) in text:
                shown.add(shape)

    return shown


def check_badge(page, url: str, token: str) -> None:
    """Enter a badge's code on the guard's check page and wait for the verdict."""
    page.goto(url + "/badges/check")
    page.get_by_label("Badge code").fill(token)
    page.get_by_role("button", name="Check").click()
    expect(page.locator(".verdict-label")).to_be_visible()


def test_the_guards_badge_check_shows_stored_markup_as_text(
    portrait_camera, console, findings
):
    where = [""]
    context = console.context(portrait_camera, "guard", viewport=PHONE)
    hooked(findings, where)(context)
    page = context.new_page()
    for visit, token in console.seeded.badge_tokens.items():
        where[0] = f"badge check of the {visit} visit"
        check_badge(page, console.console_url, token)
        findings.look(page, where[0])

    context.close()
    assert len(console.seeded.badge_tokens) >= 8
    assert not findings.ran, findings.ran
    assert not findings.problems, "\n".join(findings.problems)


def test_the_kiosk_shows_hosts_and_visitor_types_as_text(
    portrait_camera, console, findings
):
    """The kiosk's type choice, host search, review and badge, with the site's
    own type and a host whose names are markup."""
    where = ["kiosk"]
    context, page = new_screen(portrait_camera)
    hooked(findings, where)(context)
    enrol(page, SimpleNamespace(url=console.kiosk_url), console.enrolment_code)
    page.locator("a[href$='/check-in']").tap()
    expect(page).to_have_url(re.compile(r"/check-in$"))
    findings.look(page, "kiosk: who are you")
    page.locator("button[name=visitor_type][value=contractor]").tap()
    fill_identity(page, "Cora Kiosk", "Acme Freight")
    take_photo(page, "/check-in/host")
    findings.look(page, "kiosk: host step")
    page.locator("#host-search-input").fill("quill")
    matches = page.locator("#host-search-results button")
    expect(matches).to_have_count(1)
    findings.look(page, "kiosk: host search results")
    matches.tap()
    page.locator("#next").tap()
    expect(page).to_have_url(re.compile(r"/check-in/review$"))
    findings.look(page, "kiosk: review")
    page.get_by_role("button", name="Check in").tap()
    expect(page).to_have_url(re.compile(r"/check-in/done$"))
    page.locator("a[href$='/check-in/badge']").tap()
    expect(page.locator(".badge")).to_be_visible()
    findings.look(page, "kiosk: badge")
    context.close()

    assert not findings.ran, findings.ran
    assert not findings.problems, "\n".join(findings.problems)


@pytest.mark.parametrize(
    "endpoint", ["front_desk.queue_data", "roster.roll_call_marks"]
)
def test_pages_that_redraw_from_json_write_stored_markup_as_text(
    portrait_camera, console, findings, endpoint
):
    """The front desk's queue and an open roll call redraw themselves from JSON; the
    clock is run forward until they have."""
    page_of = {
        "front_desk.queue_data": ("/desk/", "/desk/queue.json"),
        "roster.roll_call_marks": (
            f"/roster/roll-calls/{console.seeded.roll_calls[-1]}",
            "/marks.json",
        ),
    }
    path, source = page_of[endpoint]
    where = [f"{path} redrawn"]
    context = console.context(portrait_camera, "security_manager", viewport=DESKTOP)
    hooked(findings, where)(context)
    page = context.new_page()
    page.clock.install()
    page.goto(console.console_url + path)
    with page.expect_response(lambda response: response.url.endswith(source)) as data:
        page.clock.run_for(6000)

    assert data.value.ok
    page.wait_for_load_state("networkidle")
    findings.look(page, where[0])
    context.close()

    assert not findings.ran, findings.ran
    assert not findings.problems, "\n".join(findings.problems)
