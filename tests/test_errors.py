"""What both apps answer when something goes wrong: a plain page, never a traceback;
and a production start-up that refuses to run without its secrets."""

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from admin.access import PUBLIC, allow
from admin.app import create_app as create_console
from gatekeeper.config import ConfigError, load_settings, write_instance_secrets
from kiosk import device
from kiosk.app import create_app as create_kiosk
from tests.fixtures.apps import csrf_token
from tests.functional import assert_plain_error_page, inline_scripts, running

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/unreachable"
SECRET_KEY = "a-production-secret-key-" + "z" * 32


def _raise_an_error():
    """A view that fails the way a bug would, with a detail nobody should see."""
    raise RuntimeError("internal detail: /srv/gatekeeper/secret.py line 42")


@pytest.mark.parametrize("app", ["console", "kiosk_client"])
def test_an_unknown_address_gets_a_plain_not_found_page(request, app):
    client = request.getfixturevalue(app)
    response = client.get("/no/such/page")

    assert_plain_error_page(response, 404, "Page not found")


def test_a_failing_console_page_gets_a_plain_error_page(app_settings):
    with running(create_console, app_settings) as app:
        app.add_url_rule("/fail", "fail", allow(PUBLIC)(_raise_an_error))
        response = app.test_client().get("/fail")

    assert_plain_error_page(response, 500, "Something went wrong.")
    assert b"internal detail" not in response.data


def test_a_failing_kiosk_page_gets_a_plain_error_page(app_settings, enrolment_code):
    with running(create_kiosk, app_settings) as app:
        app.add_url_rule("/fail", "fail", _raise_an_error)
        client = app.test_client()
        client.post(
            "/enrol",
            data={"code": enrolment_code, "csrf_token": csrf_token(client, "/enrol")},
        )
        response = client.get("/fail")

    assert_plain_error_page(response, 500, "Something went wrong.")
    assert b"internal detail" not in response.data


@pytest.fixture
def without_database(app_settings):
    """Settings naming a PostgreSQL server that does not answer."""
    return {**app_settings, "DATABASE_URL": UNREACHABLE, "AUTO_MIGRATE": False}


@pytest.fixture
def console_without_database(without_database):
    with running(create_console, without_database) as app:
        yield app


@pytest.fixture
def kiosk_without_database(without_database):
    with running(create_kiosk, without_database) as app:
        yield app


def test_the_console_says_the_system_is_unavailable_without_its_database(
    console_without_database,
):
    client = console_without_database.test_client()

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json == {"status": "database unavailable"}

    response = client.post(
        "/login",
        data={
            "username": "frontdesk",
            "password": "any password at all",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert_plain_error_page(response, 503, "The system is unavailable.")


def test_the_kiosk_says_the_system_is_unavailable_without_its_database(
    kiosk_without_database,
):
    client = kiosk_without_database.test_client()

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json == {"status": "database unavailable"}

    with kiosk_without_database.test_request_context():
        credential = device._serializer().dumps([1, "a device token"])

    client.set_cookie(device.COOKIE, credential)
    response = client.get("/")
    assert_plain_error_page(response, 503, "The system is unavailable.")


@pytest.fixture
def production(tmp_path, monkeypatch):
    """Production settings with an empty instance folder and no secrets set."""
    for name in ("SECRET_KEY", "PHOTO_KEY", "GATEKEEPER_ENV", "INSTANCE_PATH"):
        monkeypatch.delenv(name, raising=False)

    return {
        "GATEKEEPER_ENV": "production",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "",
        "PHOTO_KEY": "",
    }


@pytest.mark.parametrize(
    ("secret_key", "photo_key", "missing"),
    [
        ("", "", "SECRET_KEY is missing"),
        ("too-short", "fernet", "SECRET_KEY is missing or too short"),
        ("dev-" + "x" * 40, "fernet", "SECRET_KEY is missing or too short"),
        (SECRET_KEY, "", "PHOTO_KEY is missing or not a Fernet key"),
        (SECRET_KEY, "not-a-fernet-key", "PHOTO_KEY is missing or not a Fernet key"),
    ],
)
def test_production_refuses_to_start_without_real_secrets(
    production, secret_key, photo_key, missing
):
    if photo_key == "fernet":
        photo_key = Fernet.generate_key().decode()

    settings = {**production, "SECRET_KEY": secret_key, "PHOTO_KEY": photo_key}
    with pytest.raises(ConfigError, match=missing):
        load_settings(settings)

    for create_app in (create_console, create_kiosk):
        with pytest.raises(ConfigError, match=missing):
            create_app(settings)


def test_production_starts_with_both_secrets_set(production, sqlite_url):
    settings = {
        **production,
        "SECRET_KEY": SECRET_KEY,
        "PHOTO_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": sqlite_url,
    }

    assert load_settings(settings).is_production
    for create_app in (create_console, create_kiosk):
        with running(create_app, settings) as app:
            assert not app.testing
            assert app.config["SESSION_COOKIE_SECURE"]
            assert app.test_client().get("/healthz").json == {"status": "ok"}


def test_production_reads_its_secrets_from_the_instance_folder(production):
    write_instance_secrets(Path(production["INSTANCE_PATH"]))

    settings = load_settings(production)

    assert len(settings.SECRET_KEY) >= 32
    Fernet(settings.PHOTO_KEY.encode())


def test_a_signed_in_console_says_it_cannot_reach_its_database(
    console_without_database,
):
    client = console_without_database.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:a session token"

    # Loading the account fails on every page; a page not found would be drawn with
    # the account's menu, so it too falls back to the page that needs no database.
    for path in ("/visits/today", "/no/such/page"):
        response = client.get(path)

        assert_plain_error_page(response, 503, "cannot reach its database")
        assert response.headers["Retry-After"] == "15"
        assert f'data-retry-url="{path}"'.encode() in response.data


def test_the_unavailable_page_retries_a_page_of_its_own_site_only(
    kiosk_without_database,
):
    client = kiosk_without_database.test_client()
    with kiosk_without_database.test_request_context():
        credential = device._serializer().dumps([1, "a device token"])

    client.set_cookie(device.COOKIE, credential)
    page = client.get("/sign-out?step=2")
    elsewhere = client.get("/", environ_overrides={"PATH_INFO": "//evil.example/x"})
    posted = client.post("/sign-out", data={"badge_number": "123456"})

    assert b'data-retry-url="/sign-out?step=2"' in page.data
    assert b"common/retry.js" in page.data
    assert inline_scripts(page.data) == []
    # "//host" would leave the site; the path arrives with one slash.
    assert_plain_error_page(elsewhere, 503, "Please see the front desk.")
    assert b'data-retry-url="/evil.example/x"' in elsewhere.data
    # A form is not sent again by the retry: it goes to the first page.
    assert_plain_error_page(posted, 503, "Please see the front desk.")
    assert b'data-retry-url="/"' in posted.data
