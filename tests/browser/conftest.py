"""Live servers for the two apps and Debian's Chromium, driven by Playwright.

Each test gets both apps served on loopback ports from threads of this process, on
its own database. With CI=true a missing browser fails the run instead of skipping.
"""

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is not installed at /usr/bin/chromium")

        pytest.skip("Debian's chromium is not installed")

    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_FLAGS,
    }


class LiveServer:
    """A WSGI app served from a thread on a free loopback port."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def kiosk_server(kiosk_app):
    with LiveServer(kiosk_app) as server:
        yield server


@pytest.fixture
def console_server(console_app):
    with LiveServer(console_app) as server:
        yield server


@pytest.fixture
def touch_page(browser):
    """A portrait touchscreen like the lobby kiosk's, 1080 by 1920."""
    context = browser.new_context(
        viewport={"width": 1080, "height": 1920}, has_touch=True, locale="en-US"
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desk_page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    yield page
    context.close()
