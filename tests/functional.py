"""Shared by the functional tests of both apps: an app with its own settings, form
posts, and what the tests read back from pages and rows."""

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from html.parser import HTMLParser

from flask import Flask
from sqlalchemy import select

from gatekeeper.models import AuditEvent, LogEntry
from tests.fixtures.apps import close, csrf_token

SCRIPT_TAG = re.compile(rb"<script\b[^>]*>", re.IGNORECASE)


@contextmanager
def running(create_app: Callable[..., Flask], settings: Mapping) -> Iterator[Flask]:
    """An app built with its own settings for one test, closed when it is done."""
    app = create_app(settings)
    try:
        yield app
    finally:
        close(app)


def hidden_value(page: bytes, name: str) -> str:
    """The value of the first input of a page with the given name."""
    tag = re.search(rb'<input[^>]*\bname="' + name.encode() + rb'"[^>]*>', page)
    assert tag, f"no input named {name!r} on the page"
    value = re.search(rb'\bvalue="([^"]*)"', tag.group(0))
    assert value, f"the input {name!r} has no value"
    return value.group(1).decode()


def one_time_secret(page: bytes) -> str:
    """The password or code a console page shows once."""
    match = re.search(rb'class="one-time-secret"><code>([^<]+)</code>', page)
    assert match, "no one-time secret on the page"
    return match.group(1).decode()


def rows(db_sessions, model, **equal) -> list:
    """The rows of a table whose columns equal the given values, oldest first."""
    query = select(model).filter_by(**equal).order_by(model.id)
    with db_sessions() as session:
        return list(session.scalars(query))


def audit_actions(db_sessions, prefix: str = "") -> list[str]:
    """The actions of the audit trail that start with a prefix, oldest first."""
    actions = [event.action for event in rows(db_sessions, AuditEvent)]
    return [action for action in actions if action.startswith(prefix)]


def log_kinds(db_sessions) -> list[str]:
    """The kinds of every log entry of every site, oldest first."""
    return [entry.kind for entry in rows(db_sessions, LogEntry)]


def assert_plain_error_page(response, status: int, message: str) -> None:
    """An error answered with the product's own page: its status, its words, no
    traceback and no framework detail."""
    assert response.status_code == status
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert message in body
    assert 'class="panel error-page"' in body
    for leak in ("Traceback", 'File "', "werkzeug", "sqlalchemy", "psycopg"):
        assert leak not in body, f"the error page shows {leak!r}"


def inline_scripts(page: bytes) -> list[bytes]:
    """The <script> tags of a page that carry no src, i.e. inline code."""
    return [tag for tag in SCRIPT_TAG.findall(page) if b" src=" not in tag]


def is_signed_in(client) -> bool:
    """True when the console serves a signed-in page to this client; False when it
    sends the client to sign in."""
    response = client.get("/account")
    if response.status_code == 302:
        assert "/login" in response.location, response.location
        return False

    assert response.status_code == 200
    return True


def submit(client, path: str, data: dict | None = None, *, token_page: str):
    """Post a console or kiosk form with the CSRF token of the page it sits on."""
    form = {"csrf_token": csrf_token(client, token_page), **(data or {})}
    return client.post(path, data=form)


class _TableReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(page: bytes) -> list[list[str]]:
    """The text of each cell of each table row of a page, header rows included."""
    reader = _TableReader()
    reader.feed(page.decode())
    return reader.rows
