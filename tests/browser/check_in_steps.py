"""The kiosk's check-in walked in Chromium, with a fake camera showing a real face.

Chromium reads its fake camera's picture from a y4m file named when the browser
starts, so the tests that photograph launch browsers of their own here; one is
kept for the session per picture. The steps below tap through the screens the way
a visitor does, finding each choice by its value so that they work in any language.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from gatekeeper.models import Site
from tests.support.pictures import framed, portrait, write_y4m

# getUserMedia answers without a permission prompt, from a file instead of a device.
CAMERA_FLAGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
# Session storage key the camera step keeps the badge photo under (photo.js).
FACE_KEY = "gatekeeper.face"
# The badge page prints itself on load; the tests count the prints instead.
COUNT_PRINTS = "window.__prints = 0; window.print = () => { window.__prints += 1; };"


def launch_with_camera(
    playwright, launch_args: dict, picture: np.ndarray, folder: Path
):
    """A Chromium whose camera shows the picture (BGR) for as long as it runs."""
    video = write_y4m(folder / "camera.y4m", picture)
    args = [*launch_args["args"], *CAMERA_FLAGS]
    args.append(f"--use-file-for-fake-video-capture={video}")
    return playwright.chromium.launch(
        executable_path=launch_args["executable_path"], args=args
    )


@pytest.fixture(scope="session")
def portrait_camera(playwright, browser_type_launch_args, tmp_path_factory):
    """A Chromium whose camera sees the astronaut, as a 1280 × 720 webcam would."""
    browser = launch_with_camera(
        playwright,
        browser_type_launch_args,
        framed(portrait()),
        tmp_path_factory.mktemp("portrait-camera"),
    )
    yield browser
    browser.close()


def new_screen(browser, *, width=1080, height=1920, locale="en-US"):
    """A touchscreen context and its page; portrait 1080 × 1920 unless told."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, has_touch=True, locale=locale
    )
    context.add_init_script(COUNT_PRINTS)
    return context, context.new_page()


def enrol(page, kiosk_server, code: str) -> None:
    page.goto(kiosk_server.url + "/enrol")
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")
    expect(page.locator("a[href$='/check-in']")).to_be_visible()


def long_idle(db_sessions, site, *, mode: str | None = None) -> None:
    """No idle reset during a test's walk; optionally the site's verification mode."""
    with db_sessions.begin() as session:
        row = session.get(Site, site.id)
        row.idle_seconds = 600
        if mode:
            row.verification_mode = mode


def take_photo(page, next_path: str) -> None:
    """Wait for the camera's real frames, tap the shutter, and arrive at next_path."""
    button = page.locator("#take-photo")
    expect(button).to_be_enabled(timeout=10_000)
    button.tap()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"), timeout=10_000)


def walk_to_review(
    page,
    *,
    host_query: str = "lóp",
    host: str = "Ana López",
    **answers,
) -> None:
    """From the start screen to the review screen, as a visitor taps through."""
    walk_to_host(page, **answers)
    choose_host(page, host_query, host)
    expect(page).to_have_url(re.compile(r"/check-in/review$"))


def walk_to_host(
    page,
    *,
    visitor_type: str = "visitor",
    name: str = "Zoë Ñúñez",
    company: str = "Acme Logística",
    id_type: str | None = "passport",
) -> None:
    """From the start screen to the host step: type, name, photo ID, face.

    Choices are found by their values, not their words, so a walk in Spanish takes
    the same path; id_type None is a visitor who needs no photo ID.
    """
    page.locator("a[href$='/check-in']").tap()
    page.locator(f"button[name=visitor_type][value={visitor_type}]").tap()
    fill_identity(page, name, company)
    if id_type in ("drivers_licence", "national_id"):
        # The camera shows a face, not a barcode: the card "has none".
        page.locator(f"button[name=id_type][value={id_type}]").tap()
        take_photo(page, "/check-in/id-back")
        page.locator("form[action$='/check-in/id-back/none'] button").tap()
        expect(page).to_have_url(re.compile(r"/check-in/face$"))
    elif id_type:
        page.locator(f"button[name=id_type][value={id_type}]").tap()
        take_photo(page, "/check-in/face")

    take_photo(page, "/check-in/host")


def fill_identity(page, name: str, company: str) -> None:
    """Type a name and company, tap Next, and wait for the next step."""
    page.locator("#visitor_name").fill(name)
    page.locator("#company").fill(company)
    page.locator("#next").tap()
    page.wait_for_url(re.compile(r"/check-in/(?!identity|invitation)[a-z-]+$"))


def choose_host(page, query: str, host: str) -> None:
    page.locator("#host-search-input").fill(query)
    page.locator("#host-search-results").get_by_role("button", name=host).tap()
    page.locator("#next").tap()


def badge_photo_shown(page) -> bool:
    """True once the badge's photo slot shows the picture kept in session storage."""
    return page.evaluate(
        """(key) => {
            const image = document.querySelector('.badge-photo img');
            const kept = sessionStorage.getItem(key);
            return Boolean(image && kept && image.src === kept
                && image.complete && image.naturalWidth > 0
                && !image.closest('.badge-photo').hidden);
        }""",
        FACE_KEY,
    )
