"""The kiosk's device credential: enrolment with a one-time code, and the cookie."""

import pytest
from itsdangerous import URLSafeSerializer

from gatekeeper.models import Kiosk, Visit
from kiosk import device
from kiosk.app import create_app as create_kiosk
from tests.fixtures.apps import csrf_token
from tests.functional import assert_plain_error_page, audit_actions, rows, running


def _enrol(client, code: str):
    return client.post(
        "/enrol", data={"code": code, "csrf_token": csrf_token(client, "/enrol")}
    )


def _device_cookie_headers(response) -> list[str]:
    return [
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith(f"{device.COOKIE}=")
    ]


def _lobby(db_sessions) -> Kiosk:
    return rows(db_sessions, Kiosk, name="Lobby")[0]


def test_a_kiosk_enrols_with_its_code_typed_in_lowercase_without_the_hyphen(
    kiosk_app, enrolment_code, db_sessions
):
    client = kiosk_app.test_client()
    response = _enrol(client, enrolment_code.replace("-", "").lower())

    assert response.status_code == 302
    assert response.location.endswith("/")
    assert _device_cookie_headers(response)
    assert b"Main Warehouse" in client.get("/").data

    kiosk = _lobby(db_sessions)
    assert kiosk.enrolled_at is not None
    assert kiosk.device_token_hash is not None
    assert kiosk.enrolment_code_hash is None
    assert audit_actions(db_sessions).count("kiosk.enrol") == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ZZZZ-ZZZZ", b"That code is not valid"),
        ("ABC", b"Enter the 8-character code"),
        ("", b"Enter the enrolment code."),
    ],
)
def test_a_wrong_code_is_refused_on_the_same_page_without_a_cookie(
    kiosk_app, enrolment_code, db_sessions, code, message
):
    client = kiosk_app.test_client()
    response = _enrol(client, code)

    assert response.status_code == 200
    assert message in response.data
    assert b'name="code"' in response.data
    assert not _device_cookie_headers(response)
    assert client.get("/").location.endswith("/enrol")
    assert _lobby(db_sessions).enrolled_at is None


def test_a_code_enrols_one_kiosk_only(
    kiosk_app, kiosk_client, enrolment_code, db_sessions
):
    second = kiosk_app.test_client()
    response = _enrol(second, enrolment_code)

    assert response.status_code == 200
    assert b"That code is not valid" in response.data
    assert not _device_cookie_headers(response)
    assert second.get("/").location.endswith("/enrol")
    assert kiosk_client.get("/").status_code == 200
    assert audit_actions(db_sessions, "kiosk.") == ["kiosk.create", "kiosk.enrol"]


def test_enrolment_is_refused_after_ten_attempts_in_ten_minutes(
    kiosk_app, enrolment_code, db_sessions
):
    client = kiosk_app.test_client()
    for _ in range(10):
        assert _enrol(client, "ZZZZ-ZZZZ").status_code == 200

    response = _enrol(client, enrolment_code)

    assert_plain_error_page(response, 429, "Too many attempts")
    assert not _device_cookie_headers(response)
    assert _lobby(db_sessions).enrolled_at is None


def test_a_tampered_device_cookie_is_treated_as_not_enrolled(kiosk_app, kiosk_client):
    value = kiosk_client.get_cookie(device.COOKIE).value
    # The first character, not the last: the last base64 character of a signature
    # also carries padding bits, and changing those alone changes nothing.
    tampered = ("B" if value[0] != "B" else "C") + value[1:]
    client = kiosk_app.test_client()
    client.set_cookie(device.COOKIE, tampered)

    assert client.get("/").location.endswith("/enrol")
    token = csrf_token(client, "/enrol")
    response = client.post("/check-in", data={"csrf_token": token})
    assert response.location.endswith("/enrol")
    assert b'name="code"' in client.get("/enrol").data


def _signed(payload, key: str) -> str:
    return URLSafeSerializer(key, salt=device.SALT).dumps(payload)


def _is_sent_to_enrolment(kiosk_app, cookie: str) -> bool:
    client = kiosk_app.test_client()
    client.set_cookie(device.COOKIE, cookie)
    response = client.get("/check-in")
    return response.status_code == 302 and response.location.endswith("/enrol")


def test_a_genuine_credential_signed_with_another_key_is_not_enrolled(
    kiosk_app, kiosk_client
):
    key = kiosk_app.config["SECRET_KEY"]
    genuine = URLSafeSerializer(key, salt=device.SALT).loads(
        kiosk_client.get_cookie(device.COOKIE).value
    )
    assert not _is_sent_to_enrolment(kiosk_app, _signed(genuine, key))

    assert _is_sent_to_enrolment(kiosk_app, _signed(genuine, "another-key-" + "y" * 32))


def test_a_signed_credential_with_a_wrong_token_is_not_enrolled(
    kiosk_app, kiosk_client, db_sessions
):
    payload = [_lobby(db_sessions).id, "not-the-token"]

    assert _is_sent_to_enrolment(
        kiosk_app, _signed(payload, kiosk_app.config["SECRET_KEY"])
    )


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param([2**70, "token"], id="id-beyond-any-row"),
        pytest.param([-1, "token"], id="negative-id"),
        pytest.param("not a pair", id="text"),
        pytest.param(["1", "token"], id="id-as-text"),
        pytest.param([1, 2], id="token-as-number"),
        pytest.param([1], id="one-item"),
        pytest.param({"id": 1}, id="object"),
        pytest.param(None, id="null"),
    ],
)
def test_a_signed_credential_of_the_wrong_shape_is_not_enrolled(
    kiosk_app, kiosk_client, payload
):
    assert _is_sent_to_enrolment(
        kiosk_app, _signed(payload, kiosk_app.config["SECRET_KEY"])
    )


def test_a_revoked_kiosk_is_sent_to_enrolment_and_writes_nothing(
    revoked_kiosk_client, host_ids, db_sessions
):
    response = revoked_kiosk_client.post(
        "/check-in",
        data={
            "csrf_token": csrf_token(revoked_kiosk_client, "/enrol"),
            "visitor_name": "Jane Roe",
            "host_id": str(host_ids[0]),
        },
    )
    assert response.location.endswith("/enrol")

    page = revoked_kiosk_client.get("/enrol")
    assert page.status_code == 200
    assert b"revoked" in page.data
    assert rows(db_sessions, Visit) == []


def test_the_device_cookie_is_http_only_and_same_site_strict(kiosk_app, enrolment_code):
    response = _enrol(kiosk_app.test_client(), enrolment_code)

    [cookie] = _device_cookie_headers(response)
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie


def test_the_device_cookie_is_secure_when_cookies_must_be(app_settings, enrolment_code):
    with running(create_kiosk, {**app_settings, "COOKIE_SECURE": True}) as app:
        response = _enrol(app.test_client(), enrolment_code)

    [cookie] = _device_cookie_headers(response)
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


def test_an_enrolment_link_fills_in_the_code_but_does_not_enrol_by_itself(
    kiosk_app, enrolment_code, db_sessions
):
    client = kiosk_app.test_client()
    page = client.get(f"/enrol?code={enrolment_code}")

    assert f'value="{enrolment_code}"'.encode() in page.data
    assert client.get_cookie(device.COOKIE) is None
    assert _lobby(db_sessions).enrolled_at is None
