"""Every form of the console, fuzzed as a caller its route admits (targets.py).

Each example must end without a 5xx, without a fuzzed value rendered raw, without a
row written when the answer is a refusal, and with a log that verifies when it is
not (conftest.check_response).
"""

import pytest

from tests.fixtures.apps import csrf_token
from tests.fuzz.conftest import caller_role
from tests.fuzz.runner import fuzz_route
from tests.fuzz.targets import CONSOLE
from tests.test_access import CONSOLE_POLICY

# The carrier API takes JSON, not a form: test_carrier_api fuzzes it.
CONSOLE_FORMS = sorted(set(CONSOLE) - {"carrier_api.appointments"})
CONSOLE_COOKIE = "gk_console_session"


@pytest.mark.parametrize("endpoint", CONSOLE_FORMS)
def test_console_form_survives_fuzzing(world, endpoint, fuzz_figures):
    client, token_page = _console_caller(world, endpoint)
    restore = None
    if endpoint == "auth.logout":
        # Signing out is public, but only a signed-in caller has something to
        # sign out of: each example starts from the same signed-in session.
        signed_in = client.get_cookie(CONSOLE_COOKIE).value

        def restore():
            client.set_cookie(CONSOLE_COOKIE, signed_in)

    fuzz_route(
        world,
        world.console_app,
        endpoint,
        CONSOLE[endpoint],
        client,
        token_page=token_page,
        figures=fuzz_figures,
        restore=restore,
    )


def _console_caller(world, endpoint: str):
    """A console browser as the route's caller, and a page with a CSRF token."""
    if endpoint == "auth.login":
        return world.console_client(None), "/login"

    if endpoint in ("auth.second_factor", "auth.enrol_mfa"):
        return _half_signed_in(world, enrolled=endpoint == "auth.second_factor")

    if endpoint == "auth.logout":
        return world.console_client("guard"), "/account"

    return world.console_client(caller_role(CONSOLE_POLICY[endpoint])), "/account"


def _half_signed_in(world, *, enrolled: bool):
    """A security manager past the password, at the second factor or its enrolment."""
    person = world.person("security_manager")
    if not enrolled:
        with world.sessions.begin() as session:
            from gatekeeper.models import User

            user = session.get(User, person.id)
            user.totp_secret = None
            user.mfa_enrolled_at = None

        person.totp_secret = None

    client = world.console_app.test_client()
    # The password alone: sign_in would answer the second factor too.
    response = client.post(
        "/login",
        data={
            "username": person.username,
            "password": person.password,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    page = "/login/second-factor" if enrolled else "/mfa/enrol"
    assert response.status_code == 302 and response.location.endswith(page)
    return client, page
