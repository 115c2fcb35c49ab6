"""The roster printed as a muster list, and a roll call marked by two guards on
their phones, in Debian's Chromium; axe-core on every screen of both."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import blocking_violations
from tests.support import checkins
from tests.support.pickups import arrive, on_site, sign_in_page

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
}


@pytest.fixture
def crowd(db_sessions, site, people, make_visit):
    """Two visitors (one still awaiting the ID check), a driver on site and one
    waiting at the gate."""
    checkins.admit(db_sessions, make_visit(site, "Ada Lovelace"), people["guard"].id)
    make_visit(site, "Blaise Pascal", company="Calculators Ltd")
    on_site(db_sessions, site, people["guard"].id, driver_name="Eve Driver")
    arrive(
        db_sessions,
        site,
        driver_name="Fay Waiting",
        reference="BOL-2",
        truck_number="T9",
    )
    return ["Ada Lovelace", "Blaise Pascal", "Eve Driver", "Fay Waiting"]


def test_the_roster_prints_as_a_muster_list(desk_page, console_server, people, crowd):
    page = desk_page
    sign_in_page(page, console_server.url, people["guard"])
    page.goto(console_server.url + "/roster/")
    expect(page.get_by_role("button", name="Print muster list")).to_be_visible()
    expect(page.locator(".muster-heading")).to_be_hidden()
    found = blocking_violations(page, "roster")

    page.emulate_media(media="print")

    expect(page.locator(".muster-heading")).to_be_visible()
    expect(page.locator(".muster-heading")).to_contain_text(
        "Evacuation muster list: Main Warehouse"
    )
    expect(page.locator(".console-header")).to_be_hidden()
    expect(page.locator(".roster-actions")).to_be_hidden()
    expect(page.locator(".muster-footer")).to_be_visible()
    rows = page.locator(".muster-list tbody tr")
    expect(rows).to_have_count(len(crowd))
    assert rows.locator("th").all_inner_texts() == crowd
    expect(rows.locator(".tick-box")).to_have_count(len(crowd))
    assert all(box.is_visible() for box in rows.locator(".tick-box").all())
    expect(page.locator(".muster-list")).to_contain_text(
        "at the gate: not yet registered"
    )
    pdf = page.pdf(print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    assert not found, "axe violations:\n" + "\n".join(found)


def _card(page, name: str):
    return page.locator(".roll-card").filter(
        has=page.get_by_role("heading", name=name, exact=True)
    )


def test_two_guards_mark_a_roll_call_on_their_phones(
    browser, console_server, people, make_person, site, crowd
):
    url = console_server.url
    second = make_person("guard", site, username="gus", display_name="Gus Guard")
    contexts = [browser.new_context(**PHONE) for _ in range(2)]
    found: list[str] = []
    try:
        gina, gus = (context.new_page() for context in contexts)
        sign_in_page(gina, url, people["guard"])
        sign_in_page(gus, url, second)

        gina.goto(url + "/roster/")
        found += blocking_violations(gina, "roster on a phone")
        gina.get_by_label("Why (optional): fire alarm, drill…").fill("Drill")
        gina.get_by_role("button", name="Start roll call").tap()
        expect(gina.locator("#rc-total")).to_have_text(str(len(crowd)))
        found += blocking_violations(gina, "roll call on a phone")

        gus.goto(url + "/roster/")
        gus.get_by_role("link", name="Open the roll call in progress").tap()
        expect(gus.locator(".roll-card")).to_have_count(len(crowd))
        assert gus.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"
        ), "the roll call scrolls sideways on a 390 px phone"

        _card(gina, "Ada Lovelace").get_by_role("button", name="Found").tap()
        _card(gus, "Eve Driver").get_by_role("button", name="Found").tap()
        expect(_card(gina, "Ada Lovelace")).to_have_class(re.compile(r"\bis-marked\b"))
        expect(gina.locator("#rc-message")).to_have_text(
            "Ada Lovelace is accounted for."
        )
        # Each page learns of the other guard's mark by itself, without a reload.
        expect(_card(gus, "Ada Lovelace").locator(".marked-by")).to_have_text(
            "Test Guard", timeout=8000
        )
        expect(_card(gina, "Eve Driver").locator(".marked-by")).to_have_text(
            "Gus Guard", timeout=8000
        )
        expect(gus.locator("#rc-marked")).to_have_text("2")

        # Both guards reach Blaise: Gina first; Gus's page sends its mark as his
        # tap would, whether or not it has redrawn yet, and is told who was first.
        _card(gina, "Blaise Pascal").get_by_role("button", name="Found").tap()
        expect(gina.locator("#rc-marked")).to_have_text("3")
        _card(gus, "Blaise Pascal").locator(".mark-form").evaluate(
            "form => form.requestSubmit()"
        )
        expect(gus.locator("#rc-message")).to_contain_text(
            "Blaise Pascal was already accounted for by Test Guard at"
        )
        expect(gus.locator("#rc-marked")).to_have_text("3")

        gus.get_by_label("Hide people already found").check()
        expect(gus.locator(".roll-card:visible")).to_have_count(1)
        expect(gus.locator(".roll-card:visible h2")).to_have_text("Fay Waiting")

        gina.get_by_role("button", name="Close roll call").tap()
        expect(gina.locator(".roll-call-facts")).to_contain_text("Closed by Test Guard")
        found += blocking_violations(gina, "closed roll call on a phone")
        # Gus's page sees the closing and redraws without its buttons.
        expect(gus.locator(".roll-call-facts")).to_contain_text(
            "Closed by Test Guard", timeout=8000
        )
        expect(gus.get_by_role("button", name="Found")).to_have_count(0)

        gus.goto(url + "/roster/roll-calls")
        expect(gus.locator("tbody tr")).to_contain_text("3 of 4")
        found += blocking_violations(gus, "roll calls")
    finally:
        for context in contexts:
            context.close()

    assert not found, "axe violations:\n" + "\n".join(found)
