"""Signing in and out of the console, the second factor, and one's own password
(CTPAT 4.8: individually assigned accounts, strong authentication)."""

import re
import time
from datetime import timedelta

import pyotp
import pytest

from admin.app import create_app as create_console
from gatekeeper import mfa
from gatekeeper.db import utcnow
from gatekeeper.models import RecoveryCode, User
from tests.fixtures.apps import PHOTO_KEY, csrf_token, sign_in, user_row
from tests.functional import (
    assert_plain_error_page,
    audit_actions,
    is_signed_in,
    rows,
    running,
    submit,
)

NEW_PASSWORD = "plum tractor anthem lighthouse"
SESSION_COOKIE = "gk_console_session"


def _password_step(client, person, password: str | None = None):
    return client.post(
        "/login",
        data={
            "username": person.username,
            "password": password or person.password,
            "csrf_token": csrf_token(client, "/login"),
        },
    )


def _wrong_code(person) -> str:
    # Wider than the window the server accepts, in case a step ends meanwhile.
    accepted = {person.totp(steps) for steps in range(-2, 3)}
    return next(code for code in ("000000", "111111", "222222") if code not in accepted)


def _change_password(client, current: str, new: str, repeat: str | None = None):
    return submit(
        client,
        "/account/password",
        {"current": current, "new": new, "repeat": new if repeat is None else repeat},
        token_page="/account/password",
    )


def _session_cookie(response) -> str:
    [cookie] = [
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith(f"{SESSION_COOKIE}=")
    ]
    return cookie


def test_the_front_desk_signs_in_with_a_password_and_lands_on_todays_visits(
    console, people, db_sessions
):
    response = _password_step(console, people["front_desk"])
    assert response.status_code == 302

    landing = console.get(response.location, follow_redirects=True)
    assert landing.request.path == "/visits/today"
    assert landing.status_code == 200
    assert b"Today's visits" in landing.data

    assert user_row(db_sessions, people["front_desk"]).last_login_at is not None
    assert audit_actions(db_sessions, "login.") == ["login.success"]


@pytest.mark.parametrize("username", ["frontdeskmain", "nobody"])
def test_a_wrong_password_is_refused_with_a_message(
    console, people, db_sessions, username
):
    response = console.post(
        "/login",
        data={
            "username": username,
            "password": "not the password at all",
            "csrf_token": csrf_token(console, "/login"),
        },
    )

    assert response.status_code == 200
    assert b"Wrong username or password." in response.data
    assert not is_signed_in(console)
    assert audit_actions(db_sessions, "login.") == ["login.failure"]


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(
    console, people, db_sessions
):
    person = people["front_desk"]
    for _ in range(5):
        response = _password_step(console, person, "not the password at all")
        assert b"Wrong username or password." in response.data

    response = _password_step(console, person)

    assert response.status_code == 200
    assert b"Too many failed sign-ins" in response.data
    assert not is_signed_in(console)
    assert user_row(db_sessions, person).locked_until > utcnow()
    actions = audit_actions(db_sessions)
    assert actions.count("login.failure") == 5
    assert actions.count("login.lockout") == 1
    assert actions[-1] == "login.locked"
    assert "login.success" not in actions


def test_a_lockout_ends_when_its_time_has_passed(console, people, db_sessions):
    person = people["front_desk"]
    for _ in range(5):
        _password_step(console, person, "not the password at all")

    with db_sessions.begin() as session:
        session.get(User, person.id).locked_until = utcnow() - timedelta(seconds=1)

    response = _password_step(console, person)

    assert response.status_code == 302
    assert is_signed_in(console)
    assert user_row(db_sessions, person).locked_until is None


@pytest.fixture
def strict_console(app_settings):
    """A console that accepts three sign-in attempts per address."""
    settings = {**app_settings, "LOGIN_RATE_PER_ADDRESS": "3 per 5 minutes"}
    with running(create_console, settings) as app:
        yield app


def test_sign_in_attempts_are_limited_per_address(strict_console, people):
    client = strict_console.test_client()
    for name in ("first", "second", "third"):
        response = client.post(
            "/login",
            data={
                "username": name,
                "password": "not the password at all",
                "csrf_token": csrf_token(client, "/login"),
            },
        )
        assert response.status_code == 200

    response = _password_step(client, people["front_desk"])

    assert_plain_error_page(response, 429, "Too many attempts")
    assert not is_signed_in(client)
    assert client.get("/login").status_code == 200


def test_a_security_manager_is_not_signed_in_before_the_second_factor(
    console, people, db_sessions
):
    person = people["security_manager"]
    response = _password_step(console, person)

    assert response.status_code == 302
    assert response.location.endswith("/login/second-factor")
    today = console.get("/visits/today")
    assert today.status_code == 302
    assert "/login" in today.location
    assert "login.success" not in audit_actions(db_sessions)

    response = console.post(
        "/login/second-factor",
        data={
            "code": person.totp(),
            "csrf_token": csrf_token(console, "/login/second-factor"),
        },
    )

    assert response.status_code == 302
    assert console.get("/visits/today").status_code == 200
    assert audit_actions(db_sessions, "login.") == ["login.success"]


def test_a_wrong_second_factor_code_is_refused(console, people, db_sessions):
    person = people["security_manager"]
    response = sign_in(console, person, code=_wrong_code(person))

    assert response.status_code == 200
    assert b"That code is not right." in response.data
    assert not is_signed_in(console)
    assert audit_actions(db_sessions, "login.") == ["login.mfa_failure"]


def test_a_code_used_once_is_refused_at_the_next_sign_in(console_app, people):
    person = people["security_manager"]
    code = person.totp()
    first = console_app.test_client()
    assert sign_in(first, person, code=code).status_code == 302
    submit(first, "/logout", token_page="/account")
    assert not is_signed_in(first)

    again = console_app.test_client()
    response = sign_in(again, person, code=code)

    assert response.status_code == 200
    assert b"That code was already used" in response.data
    assert not is_signed_in(again)


def test_a_recovery_code_signs_in_once(console_app, people, db_sessions):
    person = people["security_manager"]
    with db_sessions.begin() as session:
        codes = mfa.issue_recovery_codes(session, session.get(User, person.id))

    first = console_app.test_client()
    assert sign_in(first, person, code=codes[0]).status_code == 302
    assert is_signed_in(first)
    assert "login.recovery_code" in audit_actions(db_sessions)
    unused = [code for code in rows(db_sessions, RecoveryCode) if not code.used_at]
    assert len(unused) == 9

    again = console_app.test_client()
    response = sign_in(again, person, code=codes[0])

    assert response.status_code == 200
    assert b"That recovery code is not valid or was already used." in response.data
    assert not is_signed_in(again)


def test_a_new_administrator_enrols_an_authenticator_at_the_first_sign_in(
    console, make_person, site, db_sessions
):
    person = make_person(
        "administrator",
        site,
        username="newadmin",
        totp_secret=None,
        mfa_enrolled_at=None,
    )
    response = _password_step(console, person)
    assert response.location.endswith("/mfa/enrol")

    page = console.get("/mfa/enrol")
    assert page.status_code == 200
    assert b'src="/mfa/qr.svg"' in page.data
    shown = re.search(rb'<code class="secret">([A-Z2-7 ]+)</code>', page.data)
    assert shown, "the page shows no key to type in"
    # Shown in groups of four for typing; authenticator apps ignore the spaces.
    secret = shown.group(1).decode().replace(" ", "")

    qr = console.get("/mfa/qr.svg")
    assert qr.status_code == 200
    assert qr.mimetype == "image/svg+xml"
    assert b"<svg" in qr.data

    wrong = submit(console, "/mfa/enrol", {"code": "12345"}, token_page="/mfa/enrol")
    assert b"Enter the 6-digit code" in wrong.data
    assert user_row(db_sessions, person).mfa_enrolled_at is None

    code = pyotp.TOTP(secret).now()
    done = submit(console, "/mfa/enrol", {"code": code}, token_page="/mfa/enrol")

    assert done.status_code == 200
    codes = re.findall(rb"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", done.data)
    assert len(set(codes)) == 10
    assert is_signed_in(console)

    user = user_row(db_sessions, person)
    assert user.mfa_enrolled_at is not None
    assert secret not in user.totp_secret
    assert mfa.open_secret(PHOTO_KEY, user.totp_secret) == secret
    assert len(rows(db_sessions, RecoveryCode, user_id=person.id)) == 10
    assert audit_actions(db_sessions)[-2:] == ["mfa.enrol", "login.success"]


def test_the_enrolment_pages_need_a_password_first(console):
    assert console.get("/mfa/enrol").location.endswith("/login")
    assert console.get("/mfa/qr.svg").location.endswith("/login")


@pytest.fixture
def newcomer(make_person, site):
    """A front-desk account still on the one-time password an administrator gave."""
    return make_person(
        "front_desk", site, username="newcomer", must_change_password=True
    )


def test_a_one_time_password_leads_every_page_to_the_password_change(console, newcomer):
    assert sign_in(console, newcomer).status_code == 302
    for path in ("/", "/visits/today", "/account", "/audit/", "/admin/users/"):
        response = console.get(path)
        assert response.status_code == 302, path
        assert response.location.endswith("/account/password"), path

    assert console.get("/account/password").status_code == 200


@pytest.mark.parametrize(
    ("current", "new", "repeat", "message"),
    [
        (None, "short words", None, "Use at least 12 characters."),
        (None, "password1234", None, "common or breached passwords"),
        (None, "newcomer at the gate", None, "Do not use your name or username"),
        (None, "aaaaaaaaaaaaaa", None, "Avoid repeated or sequential characters."),
        (None, NEW_PASSWORD, "something else entirely", "The two passwords differ."),
        ("not my password", NEW_PASSWORD, None, "Your current password is not right."),
        (None, None, None, "Choose a password different from the current one."),
    ],
)
def test_the_password_change_enforces_the_password_policy(
    console, newcomer, db_sessions, current, new, repeat, message
):
    sign_in(console, newcomer)
    response = _change_password(
        console, current or newcomer.password, new or newcomer.password, repeat
    )

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert user_row(db_sessions, newcomer).must_change_password
    assert console.get("/visits/today").location.endswith("/account/password")


def test_a_changed_password_opens_the_console(console, newcomer, db_sessions):
    sign_in(console, newcomer)
    response = _change_password(console, newcomer.password, NEW_PASSWORD)

    assert response.status_code == 302
    assert audit_actions(db_sessions)[-1] == "user.password_change"
    assert console.get("/visits/today").status_code == 200
    assert not user_row(db_sessions, newcomer).must_change_password


def test_a_password_change_signs_out_the_accounts_other_sessions(console_app, people):
    person = people["front_desk"]
    mine, elsewhere = console_app.test_client(), console_app.test_client()
    sign_in(mine, person)
    sign_in(elsewhere, person)
    assert is_signed_in(elsewhere)

    assert _change_password(mine, person.password, NEW_PASSWORD).status_code == 302

    assert is_signed_in(mine)
    assert not is_signed_in(elsewhere)
    stale = console_app.test_client()
    assert b"Wrong username or password." in _password_step(stale, person).data


def test_a_disabled_account_is_signed_out_at_its_next_request(
    signed_in, people, db_sessions
):
    front_desk = signed_in("front_desk")
    administrator = signed_in("administrator")
    assert is_signed_in(front_desk)

    target = people["front_desk"].id
    response = submit(
        administrator, f"/admin/users/{target}/disable", token_page="/account"
    )

    assert response.status_code == 302
    assert not is_signed_in(front_desk)
    assert not user_row(db_sessions, people["front_desk"]).active
    assert "user.disable" in audit_actions(db_sessions)
    again = _password_step(front_desk, people["front_desk"])
    assert b"This account is disabled." in again.data


def test_a_session_ends_after_its_idle_lifetime(console_app, signed_in):
    client = signed_in("front_desk")
    console_app.permanent_session_lifetime = timedelta(seconds=1)
    assert client.get("/visits/today").status_code == 200
    stale = client.get_cookie(SESSION_COOKIE).value

    time.sleep(2)

    # Sent again without its expiry, so the server's own check is what refuses it.
    client.set_cookie(SESSION_COOKIE, stale)
    response = client.get("/visits/today")
    assert response.status_code == 302
    assert "/login" in response.location


def test_signing_out_takes_a_post_and_ends_the_session(signed_in, db_sessions):
    client = signed_in("front_desk")

    refused = client.get("/logout")
    assert refused.status_code == 405
    assert is_signed_in(client)

    response = submit(client, "/logout", token_page="/account")
    assert response.status_code == 302
    assert response.location.endswith("/login")
    assert not is_signed_in(client)
    assert audit_actions(db_sessions)[-1] == "logout"


def test_the_session_cookie_is_http_only_and_same_site_lax(console, people):
    cookie = _session_cookie(_password_step(console, people["front_desk"]))

    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_the_session_cookie_is_secure_when_cookies_must_be(app_settings):
    with running(create_console, {**app_settings, "COOKIE_SECURE": True}) as app:
        response = app.test_client().get("/login")

    cookie = _session_cookie(response)
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize(
    "target",
    ["https://evil.example", "//evil.example", "\\\\evil.example", "/\t/evil.example"],
)
def test_the_page_to_return_to_after_sign_in_is_never_another_site(
    console, people, target
):
    person = people["front_desk"]
    response = console.post(
        "/login",
        query_string={"next": target},
        data={
            "username": person.username,
            "password": person.password,
            "csrf_token": csrf_token(console, "/login"),
        },
    )

    assert response.status_code == 302
    assert response.location == "/"


def test_the_page_to_return_to_after_sign_in_may_be_a_console_page(console, people):
    person = people["front_desk"]
    response = console.post(
        "/login",
        query_string={"next": "/account"},
        data={
            "username": person.username,
            "password": person.password,
            "csrf_token": csrf_token(console, "/login"),
        },
    )

    assert response.location == "/account"
