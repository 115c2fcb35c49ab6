"""Kiosks in the console: creating one with its enrolment code, replacing the
device behind it, and revoking it."""

from gatekeeper.models import AuditEvent, Kiosk
from tests.fixtures.apps import csrf_token
from tests.functional import audit_actions, one_time_secret, rows, submit


def _create(client, site, name: str):
    return submit(
        client,
        "/admin/kiosks/new",
        {"site_id": str(site.id), "name": name},
        token_page="/admin/kiosks/",
    )


def _enrol(kiosk_app, code: str):
    """A fresh kiosk browser that entered the code; returns it and the response."""
    client = kiosk_app.test_client()
    response = client.post(
        "/enrol", data={"code": code, "csrf_token": csrf_token(client, "/enrol")}
    )
    return client, response


def _lobby(db_sessions) -> Kiosk:
    return rows(db_sessions, Kiosk, name="Lobby")[0]


def test_a_new_kiosk_gets_a_code_that_enrols_its_browser(
    signed_in, site, kiosk_app, db_sessions
):
    response = _create(signed_in("administrator"), site, "Gate 2")

    assert response.status_code == 200
    code = one_time_secret(response.data)
    assert len(code.replace("-", "")) == 8
    [kiosk] = rows(db_sessions, Kiosk, name="Gate 2")
    assert kiosk.site_id == site.id
    assert kiosk.state == "awaiting enrolment"

    client, enrolled = _enrol(kiosk_app, code)

    assert enrolled.status_code == 302
    assert client.get("/").status_code == 200
    assert rows(db_sessions, Kiosk, name="Gate 2")[0].state == "enrolled"
    assert audit_actions(db_sessions, "kiosk.") == ["kiosk.create", "kiosk.enrol"]
    events = rows(db_sessions, AuditEvent, action="kiosk.create")
    assert events[0].actor == "administratormain"


def test_a_new_code_unbinds_the_old_device_and_enrols_the_new_one(
    signed_in, kiosk_app, kiosk_client, db_sessions
):
    assert kiosk_client.get("/").status_code == 200
    lobby = _lobby(db_sessions)

    response = submit(
        signed_in("administrator"),
        f"/admin/kiosks/{lobby.id}/code",
        token_page="/admin/kiosks/",
    )

    assert response.status_code == 200
    old = kiosk_client.get("/")
    assert old.status_code == 302
    assert old.location.endswith("/enrol")

    replacement, enrolled = _enrol(kiosk_app, one_time_secret(response.data))

    assert enrolled.status_code == 302
    assert replacement.get("/").status_code == 200
    assert kiosk_client.get("/").location.endswith("/enrol")
    assert _lobby(db_sessions).state == "enrolled"
    assert audit_actions(db_sessions, "kiosk.")[-2:] == [
        "kiosk.new_code",
        "kiosk.enrol",
    ]


def test_a_revoked_kiosk_stops_at_its_next_request(
    signed_in, kiosk_client, db_sessions
):
    lobby = _lobby(db_sessions)
    admin = signed_in("administrator")

    response = submit(admin, f"/admin/kiosks/{lobby.id}/revoke", token_page="/account")

    assert response.status_code == 302
    assert b"is revoked" in admin.get(response.location).data
    assert kiosk_client.get("/").location.endswith("/enrol")
    assert _lobby(db_sessions).revoked_at is not None
    assert audit_actions(db_sessions, "kiosk.")[-1] == "kiosk.revoke"

    refused = submit(admin, f"/admin/kiosks/{lobby.id}/code", token_page="/account")
    assert b"cannot be enrolled again" in admin.get(refused.location).data


def test_a_second_kiosk_of_the_same_name_is_refused(
    signed_in, site, enrolment_code, db_sessions
):
    response = _create(signed_in("administrator"), site, "Lobby")

    assert response.status_code == 400
    assert b"This site already has a kiosk named" in response.data
    assert b'name="name"' in response.data
    assert len(rows(db_sessions, Kiosk)) == 1
    assert audit_actions(db_sessions, "kiosk.") == ["kiosk.create"]


def test_a_kiosk_of_another_site_is_absent(
    signed_in, other_site, db_sessions, kiosk_client
):
    admin = signed_in("administrator")
    with db_sessions.begin() as session:
        session.add(Kiosk(site_id=other_site.id, name="North gate"))

    [north] = rows(db_sessions, Kiosk, name="North gate")
    page = admin.get("/admin/kiosks/")

    assert b"Lobby" in page.data
    assert b"North gate" not in page.data
    revoke = submit(admin, f"/admin/kiosks/{north.id}/revoke", token_page="/account")
    assert revoke.status_code == 404
    assert rows(db_sessions, Kiosk, name="North gate")[0].revoked_at is None
