"""The guard's badge check on a phone, in Chromium at 390 × 844 (CTPAT 10.2): each
of the five verdicts is one large, coloured word with the face to compare, nothing
runs off the side of the screen, and axe finds no serious or critical fault."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from gatekeeper import badge_checks, badges
from gatekeeper.db import utcnow
from gatekeeper.models import User, Visit
from tests.browser.accessibility import blocking_violations
from tests.support import checkins

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# The verdict colours of static/console/console.css, as computed styles.
COLOURS = {
    "green": "rgb(29, 107, 47)",
    "amber": "rgb(240, 162, 2)",
    "grey": "rgb(95, 107, 118)",
    "red": "rgb(164, 22, 26)",
}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


def sign_in(page, url: str, person) -> None:
    page.goto(url + "/login")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").tap()
    expect(page.get_by_role("link", name="Check a badge")).to_be_visible()


def _tokens(db_sessions, site, people, secret: str) -> dict[str, str]:
    """A badge token in each state a guard can meet, by the verdict it should get."""
    desk = people["front_desk"].id
    valid = checkins.check_in_with_photos(db_sessions, site, "Valerie Valid")
    checkins.admit(db_sessions, valid, desk)
    expired = checkins.admit(db_sessions, _plain(db_sessions, site, "Ed Expired"), desk)
    left = checkins.admit(db_sessions, _plain(db_sessions, site, "Sam Signedout"), desk)
    revoked = checkins.admit(
        db_sessions, _plain(db_sessions, site, "Rita Revoked"), desk
    )
    with db_sessions.begin() as session:
        session.get(Visit, expired.id).valid_until = utcnow() - timedelta(minutes=1)
        session.get(Visit, left.id).departed_at = utcnow()
        badge_checks.revoke(
            session, session.get(Visit, revoked.id), actor=session.get(User, desk)
        )

    def token(visit) -> str:
        with db_sessions() as session:
            row = session.get(Visit, visit.id)
            row.site  # noqa: B018 - loaded while the session is open
            return badges.token_for(secret, row)

    return {
        "VALID": token(valid),
        "EXPIRED": token(expired),
        "SIGNED OUT": token(left),
        "REVOKED": token(revoked),
        "FORGED": badges.token_for("a guessed secret", _loaded(db_sessions, valid)),
    }


def _plain(db_sessions, site, name):
    return checkins.check_in_with_photos(db_sessions, site, name, kinds=())


def _loaded(db_sessions, visit):
    with db_sessions() as session:
        row = session.get(Visit, visit.id)
        row.site  # noqa: B018 - loaded while the session is open
        return row


def _check(page, token: str) -> None:
    """Type the code and press Enter, as a USB scanner does; wait for the verdict."""
    field = page.get_by_label("Badge code")
    field.fill(token)
    with page.expect_navigation():
        field.press("Enter")

    page.wait_for_load_state("load")


def test_each_verdict_is_one_large_coloured_word_on_a_phone(
    phone, console_server, console_app, people, db_sessions, site, tmp_path
):
    tokens = _tokens(db_sessions, site, people, console_app.config["SECRET_KEY"])
    sign_in(phone, console_server.url, people["guard"])
    phone.get_by_role("link", name="Check a badge").tap()
    expect(phone.get_by_role("heading", name="Check a badge")).to_be_visible()
    found = blocking_violations(phone)

    expected = {
        "VALID": ("green", "Valerie Valid"),
        "EXPIRED": ("amber", "Ed Expired"),
        "SIGNED OUT": ("grey", "Sam Signedout"),
        "REVOKED": ("red", "Rita Revoked"),
        "FORGED": ("red", "Stop the holder"),
    }
    for headline, (colour, shown) in expected.items():
        _check(phone, tokens[headline])
        verdict = phone.locator(".verdict")
        expect(phone.locator(".verdict-headline")).to_have_text(headline)
        expect(verdict).to_contain_text(shown)
        expect(verdict).to_have_css("background-color", COLOURS[colour])
        size = phone.locator(".verdict-headline").evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)"
        )
        assert size >= 40, f"{headline} is {size}px"
        box = verdict.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        # Seen at once: the headline on the first screen, the field ready to scan.
        expect(phone.locator(".verdict-headline")).to_be_in_viewport(ratio=1)
        expect(phone.get_by_label("Badge code")).to_be_focused()
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.screenshot(path=tmp_path / f"guard-{colour}-{headline}.png")
        found += [f"{headline}: {problem}" for problem in blocking_violations(phone)]

    assert not found, "axe violations:\n" + "\n".join(found)


def test_the_valid_verdict_shows_the_face_to_compare_with_the_wearer(
    phone, console_server, console_app, people, db_sessions, site
):
    visit = checkins.check_in_with_photos(db_sessions, site, "Valerie Valid")
    checkins.admit(db_sessions, visit, people["front_desk"].id)
    token = badges.token_for(
        console_app.config["SECRET_KEY"], _loaded(db_sessions, visit)
    )
    sign_in(phone, console_server.url, people["guard"])
    phone.goto(console_server.url + "/badges/check")

    _check(phone, token)

    face = phone.get_by_role("img", name="Face photo of Valerie Valid")
    expect(face).to_be_visible()
    assert face.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(phone.locator(".verdict-escort")).to_contain_text("Required: Ana López")
    expect(phone.locator(".verdict")).to_contain_text("Time left")
