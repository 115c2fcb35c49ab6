"""Staff accounts managed by administrators (CTPAT 4.7: access by job role, removed
when a person leaves)."""

import json

import pytest

from gatekeeper import passwords
from gatekeeper.models import AuditEvent, Site, User
from tests.fixtures.apps import PASSWORD, Person, csrf_token, sign_in, user_row
from tests.functional import audit_actions, is_signed_in, one_time_secret, rows, submit


def _create(client, site, **changes):
    form = {
        "username": "newguard",
        "display_name": "Nadia Guard",
        "email": "",
        "role": "guard",
        "sites": str(site.id),
        **changes,
    }
    return submit(client, "/admin/users/new", form, token_page="/admin/users/new")


def _site_ids(db_sessions, user_id: int) -> set[int]:
    with db_sessions() as session:
        return session.get(User, user_id).site_ids


def test_an_administrator_creates_an_account_with_a_one_time_password(
    signed_in, site, db_sessions, console_app
):
    admin = signed_in("administrator")
    response = _create(admin, site)

    assert response.status_code == 200
    password = one_time_secret(response.data)
    [user] = rows(db_sessions, User, username="newguard")
    assert user.role == "guard"
    assert user.display_name == "Nadia Guard"
    assert _site_ids(db_sessions, user.id) == {site.id}
    assert user.must_change_password
    assert passwords.verify_password(user.password_hash, password)
    [event] = rows(
        db_sessions, AuditEvent, action="user.create", target="user newguard"
    )
    assert json.loads(event.detail) == {"role": "guard", "sites": ["main"]}

    assert password.encode() not in admin.get(f"/admin/users/{user.id}").data
    assert password.encode() not in admin.get("/admin/users/").data

    newcomer = console_app.test_client()
    person = Person(user.id, "newguard", "guard", password)
    assert sign_in(newcomer, person).status_code == 302
    assert newcomer.get("/").location.endswith("/account/password")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "ab"}, "Username: 3 to 64 lowercase letters"),
        ({"username": "new guard"}, "Username: 3 to 64 lowercase letters"),
        ({"username": "<b>x</b>"}, "Username: 3 to 64 lowercase letters"),
        ({"username": "frontdeskmain"}, "is taken"),
        ({"username": "FrontDeskMain"}, "is taken"),
        ({"display_name": "Nadia\u202eGuard"}, "not allowed"),
        ({"sites": ""}, "Please correct the fields"),
    ],
)
def test_a_bad_new_account_is_refused_on_the_same_page(
    signed_in, site, db_sessions, changes, message
):
    before = len(rows(db_sessions, User))
    response = _create(signed_in("administrator"), site, **changes)

    assert response.status_code == 200
    assert b"<h1>New user</h1>" in response.data
    assert message in response.get_data(as_text=True)
    assert len(rows(db_sessions, User)) == before
    assert audit_actions(db_sessions).count("user.create") == before


def test_changing_an_accounts_role_signs_out_its_sessions(
    signed_in, people, site, db_sessions
):
    front_desk = signed_in("front_desk")
    target = people["front_desk"].id
    token_before = user_row(db_sessions, people["front_desk"]).session_token

    response = submit(
        signed_in("administrator"),
        f"/admin/users/{target}",
        {"role": "guard", "sites": str(site.id)},
        token_page=f"/admin/users/{target}",
    )

    assert response.status_code == 302
    user = user_row(db_sessions, people["front_desk"])
    assert user.role == "guard"
    assert user.session_token != token_before
    assert not is_signed_in(front_desk)
    assert audit_actions(db_sessions)[-1] == "user.access_change"


def test_changing_an_accounts_sites_signs_out_its_sessions(
    console_app, signed_in, people, make_person, site, other_site, db_sessions
):
    """An administrator of both sites moves a front-desk account to the other one."""
    both = make_person("administrator", site, username="bothsites")
    with db_sessions.begin() as session:
        user = session.get(User, both.id)
        user.sites = [session.get(Site, site.id), session.get(Site, other_site.id)]

    admin_of_both = console_app.test_client()
    sign_in(admin_of_both, both)
    front_desk = signed_in("front_desk")
    target = people["front_desk"].id

    response = submit(
        admin_of_both,
        f"/admin/users/{target}",
        {"role": "front_desk", "sites": str(other_site.id)},
        token_page=f"/admin/users/{target}",
    )

    assert response.status_code == 302
    assert _site_ids(db_sessions, target) == {other_site.id}
    assert not is_signed_in(front_desk)


def test_a_password_reset_shows_a_new_one_time_password(signed_in, people, db_sessions):
    target = people["guard"]
    guard = signed_in("guard")

    response = submit(
        signed_in("administrator"),
        f"/admin/users/{target.id}/reset-password",
        token_page="/account",
    )

    assert response.status_code == 200
    password = one_time_secret(response.data)
    user = user_row(db_sessions, target)
    assert user.must_change_password
    assert passwords.verify_password(user.password_hash, password)
    assert not passwords.verify_password(user.password_hash, PASSWORD)
    assert not is_signed_in(guard)
    assert audit_actions(db_sessions)[-1] == "user.password_reset"


def test_a_second_factor_reset_makes_the_account_enrol_again(
    signed_in, people, db_sessions, console
):
    target = people["security_manager"]

    response = submit(
        signed_in("administrator"),
        f"/admin/users/{target.id}/reset-mfa",
        token_page="/account",
    )

    assert response.status_code == 302
    user = user_row(db_sessions, target)
    assert user.totp_secret is None
    assert user.mfa_enrolled_at is None
    assert audit_actions(db_sessions)[-1] == "user.mfa_reset"
    signing_in = console.post(
        "/login",
        data={
            "username": target.username,
            "password": target.password,
            "csrf_token": csrf_token(console, "/login"),
        },
    )
    assert signing_in.location.endswith("/mfa/enrol")


def test_an_administrator_cannot_disable_their_own_account(
    signed_in, people, db_sessions
):
    admin = signed_in("administrator")
    me = people["administrator"].id

    response = submit(admin, f"/admin/users/{me}/disable", token_page="/account")

    assert response.status_code == 302
    page = admin.get(response.location)
    assert b"You cannot disable your own account." in page.data
    assert user_row(db_sessions, people["administrator"]).active
    assert is_signed_in(admin)


def test_accounts_of_other_sites_are_not_listed(
    signed_in, people, make_person, other_site
):
    elsewhere = make_person("guard", other_site, username="northguard")
    admin = signed_in("administrator")

    page = admin.get("/admin/users/")

    assert page.status_code == 200
    assert b"frontdeskmain" in page.data
    assert b"northguard" not in page.data
    assert admin.get(f"/admin/users/{elsewhere.id}").status_code == 404
