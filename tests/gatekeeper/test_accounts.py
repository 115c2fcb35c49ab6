"""Staff accounts: creation rules, sign-in with lockout, and sessions that end when
access changes (CTPAT 4.7, 4.8)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from gatekeeper import accounts, passwords
from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent, Site, User

PASSWORD = "amber lantern over quiet harbour"
MAX_FAILURES = 3


@pytest.fixture
def admin(sessions, site) -> User:
    with sessions.begin() as s:
        user, _ = accounts.create_user(
            s,
            username="ada.admin",
            display_name="Ada Admin",
            role="administrator",
            sites=[s.get(Site, site.id)],
            actor="setup",
        )
        return user


@pytest.fixture
def clerk(sessions, site) -> User:
    """A front-desk account with a known password."""
    with sessions.begin() as s:
        user, _ = accounts.create_user(
            s,
            username="fred.desk",
            display_name="Fred Desk",
            role="front_desk",
            sites=[s.get(Site, site.id)],
            password=PASSWORD,
            actor="setup",
        )
        return user


def sign_in(sessions, password: str, username: str = "fred.desk"):
    with sessions.begin() as s:
        return accounts.sign_in(
            s,
            username,
            password,
            address="192.0.2.7",
            max_failures=MAX_FAILURES,
            lockout_minutes=15,
        )


def actions(sessions) -> list[str]:
    with sessions.begin() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def cookie(user: User) -> str:
    return f"{user.id}:{user.session_token}"


def load(sessions, session_id: str) -> User | None:
    with sessions.begin() as s:
        return accounts.load_by_session_id(s, session_id)


def test_a_new_account_gets_a_one_time_password_that_passes_the_policy(sessions, site):
    with sessions.begin() as s:
        user, one_time = accounts.create_user(
            s,
            username="  Gina.Guard ",
            display_name="Gina Guard",
            role="guard",
            sites=[s.get(Site, site.id)],
            actor="setup",
        )

    assert user.username == "gina.guard"
    assert user.must_change_password
    assert passwords.problems(one_time) == []
    assert passwords.verify_password(user.password_hash, one_time)
    assert user.site_ids == {site.id}


def test_an_account_created_with_a_chosen_password_need_not_change_it(clerk):
    assert not clerk.must_change_password
    assert passwords.verify_password(clerk.password_hash, PASSWORD)


@pytest.mark.parametrize("username", ["ab", "with space", "-dash", "über", "a" * 65])
def test_create_user_refuses_a_bad_username(sessions, site, username):
    with pytest.raises(accounts.AccountError, match="Username"), sessions.begin() as s:
        accounts.create_user(
            s,
            username=username,
            display_name="Some One",
            role="guard",
            sites=[s.get(Site, site.id)],
            actor="setup",
        )


def test_create_user_refuses_a_username_already_taken(sessions, site, clerk):
    with pytest.raises(accounts.AccountError, match="taken"), sessions.begin() as s:
        accounts.create_user(
            s,
            username="FRED.DESK",
            display_name="Fred Again",
            role="guard",
            sites=[s.get(Site, site.id)],
            actor="setup",
        )


def test_create_user_refuses_an_unknown_role(sessions, site):
    with pytest.raises(accounts.AccountError, match="role"), sessions.begin() as s:
        accounts.create_user(
            s,
            username="root.user",
            display_name="Root User",
            role="superuser",
            sites=[s.get(Site, site.id)],
            actor="setup",
        )


def test_create_user_refuses_an_account_without_sites(sessions):
    with pytest.raises(accounts.AccountError, match="site"), sessions.begin() as s:
        accounts.create_user(
            s,
            username="nowhere.man",
            display_name="Nowhere Man",
            role="guard",
            sites=[],
            actor="setup",
        )


@pytest.mark.parametrize("password", ["short", "password1234", "fred.desk-at-dawn"])
def test_create_user_refuses_a_weak_password(sessions, site, password):
    with pytest.raises(accounts.AccountError), sessions.begin() as s:
        accounts.create_user(
            s,
            username="fred.desk",
            display_name="Fred Desk",
            role="front_desk",
            sites=[s.get(Site, site.id)],
            password=password,
            actor="setup",
        )

    with sessions.begin() as s:
        assert s.scalar(select(User).where(User.username == "fred.desk")) is None


def test_creating_an_account_is_audited(sessions, admin, clerk):
    with sessions.begin() as s:
        event = s.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "user.create",
                AuditEvent.target == "user fred.desk",
            )
        )

    assert event is not None
    assert event.actor == "setup"
    assert '"role": "front_desk"' in event.detail


def test_the_right_password_signs_in(sessions, clerk):
    result = sign_in(sessions, PASSWORD, username=" Fred.Desk ")

    assert result.user is not None
    assert result.user.id == clerk.id
    assert result.error == ""


def test_an_unknown_username_fails_like_a_wrong_password(sessions, clerk):
    unknown = sign_in(sessions, PASSWORD, username="nobody.here")
    wrong = sign_in(sessions, "not the password at all")

    assert unknown.user is None
    assert unknown.error == wrong.error
    with sessions.begin() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.actor == "nobody.here"))

    assert event.action == "login.failure"
    assert event.address == "192.0.2.7"


def test_a_wrong_password_counts_a_failure(sessions, clerk):
    result = sign_in(sessions, "not the password at all")

    assert result.user is None
    with sessions.begin() as s:
        assert s.get(User, clerk.id).failed_logins == 1

    assert actions(sessions)[-1] == "login.failure"


def test_too_many_wrong_passwords_lock_the_account(sessions, clerk):
    for _ in range(MAX_FAILURES):
        assert sign_in(sessions, "not the password at all").user is None

    with sessions.begin() as s:
        user = s.get(User, clerk.id)
        locked_until, failures = user.locked_until, user.failed_logins

    assert locked_until is not None
    assert locked_until > utcnow() + timedelta(minutes=14)
    assert failures == 0
    assert actions(sessions)[-MAX_FAILURES - 1 :] == [
        "login.failure",
        "login.failure",
        "login.failure",
        "login.lockout",
    ]


def test_a_locked_account_is_refused_even_with_the_right_password(sessions, clerk):
    for _ in range(MAX_FAILURES):
        sign_in(sessions, "not the password at all")

    result = sign_in(sessions, PASSWORD)

    assert result.user is None
    assert "Too many failed sign-ins" in result.error
    assert actions(sessions)[-1] == "login.locked"


def test_a_lock_that_has_passed_lets_the_right_password_in(sessions, clerk):
    for _ in range(MAX_FAILURES):
        sign_in(sessions, "not the password at all")

    with sessions.begin() as s:
        s.get(User, clerk.id).locked_until = utcnow() - timedelta(seconds=1)

    result = sign_in(sessions, PASSWORD)

    assert result.user is not None
    assert result.user.locked_until is None
    assert result.user.failed_logins == 0


def test_a_disabled_account_is_refused_even_with_the_right_password(
    sessions, clerk, admin
):
    with sessions.begin() as s:
        accounts.set_active(
            s, s.get(User, clerk.id), False, actor=s.get(User, admin.id)
        )

    result = sign_in(sessions, PASSWORD)

    assert result.user is None
    assert "disabled" in result.error
    assert actions(sessions)[-2:] == ["user.disable", "login.disabled"]


def test_an_account_cannot_disable_itself(sessions, admin):
    with pytest.raises(accounts.AccountError), sessions.begin() as s:
        user = s.get(User, admin.id)
        accounts.set_active(s, user, False, actor=user)

    with sessions.begin() as s:
        assert s.get(User, admin.id).active


def test_a_session_loads_its_user_while_the_token_is_current(sessions, clerk):
    loaded = load(sessions, cookie(clerk))

    assert loaded is not None
    assert loaded.id == clerk.id


@pytest.mark.parametrize(
    "session_id", ["", "1", "1:", "abc:def", ":token", "²:x", "99999999999999999999:x"]
)
def test_a_malformed_session_id_loads_no_one(sessions, clerk, session_id):
    assert load(sessions, session_id) is None


def test_a_session_with_the_wrong_token_loads_no_one(sessions, clerk):
    assert load(sessions, f"{clerk.id}:{'0' * 32}") is None


def test_disabling_an_account_ends_its_sessions(sessions, clerk, admin):
    with sessions.begin() as s:
        accounts.set_active(
            s, s.get(User, clerk.id), False, actor=s.get(User, admin.id)
        )

    assert load(sessions, cookie(clerk)) is None


def test_enabling_an_account_again_does_not_revive_old_sessions(sessions, clerk, admin):
    with sessions.begin() as s:
        user, actor = s.get(User, clerk.id), s.get(User, admin.id)
        accounts.set_active(s, user, False, actor=actor)
        accounts.set_active(s, user, True, actor=actor)

    assert load(sessions, cookie(clerk)) is None
    with sessions.begin() as s:
        current = cookie(s.get(User, clerk.id))

    assert load(sessions, current).id == clerk.id


def test_changing_the_role_ends_the_accounts_sessions(sessions, site, clerk, admin):
    with sessions.begin() as s:
        accounts.set_role_and_sites(
            s,
            s.get(User, clerk.id),
            role="guard",
            sites=[s.get(Site, site.id)],
            actor=s.get(User, admin.id),
        )

    assert load(sessions, cookie(clerk)) is None
    assert actions(sessions)[-1] == "user.access_change"


def test_an_administrator_cannot_change_their_own_role(sessions, site, admin):
    with pytest.raises(accounts.AccountError), sessions.begin() as s:
        user = s.get(User, admin.id)
        accounts.set_role_and_sites(
            s, user, role="guard", sites=[s.get(Site, site.id)], actor=user
        )


def test_changing_the_password_ends_the_accounts_other_sessions(sessions, clerk):
    new = "copper kettle beside a sleeping cat"
    with sessions.begin() as s:
        accounts.change_password(s, s.get(User, clerk.id), PASSWORD, new)

    assert load(sessions, cookie(clerk)) is None
    assert sign_in(sessions, PASSWORD).user is None
    assert sign_in(sessions, new).user is not None


def test_a_password_change_needs_the_current_password(sessions, clerk):
    with pytest.raises(accounts.AccountError), sessions.begin() as s:
        accounts.change_password(
            s, s.get(User, clerk.id), "wrong current one", "copper kettle by the cat"
        )

    assert load(sessions, cookie(clerk)) is not None


def test_a_password_reset_ends_sessions_and_clears_a_lock(sessions, clerk, admin):
    for _ in range(MAX_FAILURES):
        sign_in(sessions, "not the password at all")

    with sessions.begin() as s:
        one_time = accounts.reset_password(
            s, s.get(User, clerk.id), actor=s.get(User, admin.id)
        )

    assert load(sessions, cookie(clerk)) is None
    result = sign_in(sessions, one_time)
    assert result.user is not None
    assert result.user.must_change_password
