"""The brute-force drill: wrong passwords by the thousand from many addresses,
password spraying across accounts, and guessed second-factor codes (CTPAT 4.8).

The console runs behind a proxy here (TRUST_PROXY), so each attempt comes from the
address its X-Forwarded-For names, as nginx would pass it on. No attempt may sign
anyone in; the per-account lockout and both rate limits must engage; and once
their time has passed, the real people sign in, a used TOTP code still refused.
"""

import itertools
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from admin import access
from admin.app import create_app as create_console
from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent, User
from tests.drills.rig import sizes
from tests.fixtures.apps import close, csrf_token, sign_in
from tests.functional import is_signed_in

# Settings a facility runs with, behind its proxy; the limits are the defaults.
ACCOUNT_LIMIT = 10
ADDRESS_LIMIT = 30
MAX_FAILURES = 5
GUESSES = [
    "password",
    "123456",
    "qwerty123",
    "letmein",
    "Password1!",
    "correct horse battery",
    "frontdeskmain",
    "Summer2026!",
    "welcome1",
    "admin",
]
WRONG = "Wrong username or password."
LOCKED = "Too many failed sign-ins."


@pytest.fixture
def console_app(app_settings):
    settings = {
        **app_settings,
        "TRUST_PROXY": True,
        "LOGIN_RATE_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per 5 minutes",
        "LOGIN_RATE_PER_ADDRESS": f"{ADDRESS_LIMIT} per 5 minutes",
        "LOGIN_MAX_FAILURES": MAX_FAILURES,
        "LOGIN_LOCKOUT_MINUTES": 15,
    }
    app = create_console(settings)
    yield app
    close(app)


class Attacker:
    """A browser session that posts sign-ins from whichever address it is told."""

    def __init__(self, app):
        self.client = app.test_client()
        self.token = csrf_token(self.client, "/login")
        self.outcomes: list[str] = []

    def try_password(self, username: str, password: str, address: str) -> str:
        response = self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": self.token},
            headers={"X-Forwarded-For": address},
        )
        self.outcomes.append(outcome(response))
        return self.outcomes[-1]


def outcome(response) -> str:
    """What one attempt got: in, limited, locked, wrong, or the second factor."""
    if response.status_code == 429:
        return "limited"

    if response.status_code == 302:
        if response.location.endswith("/login/second-factor"):
            return "second factor"

        return "in"

    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    if LOCKED in page:
        return "locked"

    assert WRONG in page
    return "wrong"


def addresses(count: int) -> list[str]:
    return [f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in range(count)]


def audit(db_sessions, action: str) -> list[AuditEvent]:
    with db_sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.scalars(query))


def time_passes(db_sessions) -> None:
    """Move past the lockouts and the rate-limit windows, as 15 minutes would."""
    with db_sessions.begin() as session:
        for user in session.scalars(select(User).where(User.locked_until.is_not(None))):
            user.locked_until = utcnow() - timedelta(seconds=1)

    access.limiter.reset()


@pytest.mark.parametrize("attempts", sizes(60, 1000))
@pytest.mark.timeout(600)
def test_a_thousand_wrong_passwords_take_over_no_account(
    console_app, db_sessions, people, attempts, figures
):
    desk = people["front_desk"]
    attacker = Attacker(console_app)
    # Few attempts from each address, so only the per-account limit and the
    # lockout stand in the way; the right password comes once the lock is on.
    sources = itertools.cycle(addresses(attempts // 4 + 1))
    passwords = [GUESSES[n % len(GUESSES)] + str(n) for n in range(attempts)]
    passwords[MAX_FAILURES + 1] = desk.password
    for password in passwords:
        attacker.try_password(desk.username, password, next(sources))

    seen = attacker.outcomes
    assert "in" not in seen
    assert seen[:MAX_FAILURES] == ["wrong"] * MAX_FAILURES
    # Locked even against the right password; then the account's limit answers.
    assert seen[MAX_FAILURES:ACCOUNT_LIMIT] == ["locked"] * (
        ACCOUNT_LIMIT - MAX_FAILURES
    )
    assert seen[ACCOUNT_LIMIT:] == ["limited"] * (attempts - ACCOUNT_LIMIT)
    with db_sessions() as session:
        assert session.get(User, desk.id).locked_until > utcnow()

    assert len(audit(db_sessions, "login.lockout")) == 1
    assert audit(db_sessions, "login.success") == []

    time_passes(db_sessions)
    client = console_app.test_client()
    assert sign_in(client, desk).status_code == 302
    assert is_signed_in(client)
    figures.add("wrong passwords tried against one account", attempts)


@pytest.mark.parametrize("attempts", sizes(60, 1000))
@pytest.mark.timeout(600)
def test_spraying_every_account_from_many_addresses_takes_over_none(
    console_app, db_sessions, people, attempts, figures
):
    accounts = sorted(person.username for person in people.values())
    # One address spraying alone meets the address limit before any account's.
    alone = Attacker(console_app)
    for number in range(ADDRESS_LIMIT + 5):
        username = accounts[number % len(accounts)]
        alone.try_password(username, GUESSES[number % len(GUESSES)], "192.0.2.7")

    attacker = Attacker(console_app)
    sources = iter(addresses(attempts))
    for number in range(attempts):
        username = accounts[number % len(accounts)]
        attacker.try_password(username, GUESSES[number % len(GUESSES)], next(sources))

    assert "in" not in attacker.outcomes + alone.outcomes
    assert "second factor" not in attacker.outcomes + alone.outcomes
    assert "limited" not in alone.outcomes[:ADDRESS_LIMIT]
    assert alone.outcomes[ADDRESS_LIMIT:] == ["limited"] * 5
    tried = alone.outcomes + attacker.outcomes
    assert tried.count("wrong") == MAX_FAILURES * len(accounts)
    with db_sessions() as session:
        locked = session.scalars(
            select(User.username).where(User.locked_until > utcnow())
        )
        assert sorted(locked) == accounts

    assert audit(db_sessions, "login.success") == []
    time_passes(db_sessions)
    for person in people.values():
        client = console_app.test_client()
        assert sign_in(client, person).status_code == 302
        assert is_signed_in(client), person.username

    figures.add("passwords sprayed across accounts", attempts + ADDRESS_LIMIT + 5)


@pytest.mark.parametrize("attempts", sizes(40, 1000))
@pytest.mark.timeout(600)
def test_guessed_and_replayed_second_factor_codes_are_refused(
    console_app, db_sessions, people, attempts, figures
):
    """The password alone, phished, is not enough; nor is a code seen once."""
    manager = people["security_manager"]
    totp = pyotp.TOTP(manager.totp_secret)
    now = utcnow()
    valid = {totp.at(now, counter_offset=step) for step in range(-2, 3)}
    guesses = (f"{n * 7919 % 1_000_000:06d}" for n in itertools.count())
    guesses = [
        code for code in itertools.islice(guesses, attempts + 5) if code not in valid
    ]

    attacker = console_app.test_client()
    attacker.post(
        "/login",
        data={
            "username": manager.username,
            "password": manager.password,
            "csrf_token": csrf_token(attacker, "/login"),
        },
        headers={"X-Forwarded-For": "198.51.100.9"},
    )
    token = csrf_token(attacker, "/login/second-factor")
    statuses = []
    for code in guesses[:attempts]:
        response = attacker.post(
            "/login/second-factor",
            data={"code": code, "csrf_token": token},
            headers={"X-Forwarded-For": "198.51.100.9"},
        )
        statuses.append(response.status_code)

    assert set(statuses[:10]) == {200} and set(statuses[10:]) == {429}
    assert not is_signed_in(attacker)
    assert len(audit(db_sessions, "login.mfa_failure")) == 10

    time_passes(db_sessions)
    code = manager.totp()
    first = console_app.test_client()
    assert sign_in(first, manager, code=code).status_code == 302
    assert is_signed_in(first)
    replayed = console_app.test_client()
    response = sign_in(replayed, manager, code=code)
    assert "That code was already used" in response.get_data(as_text=True)
    assert not is_signed_in(replayed)
    figures.add("second-factor codes guessed or replayed", attempts + 1)
