"""`kiosk demo`: the set-up behind `make run`, safe to run again and again."""

import re
import stat

from sqlalchemy import func, select

from gatekeeper import demo, kiosks, passwords
from gatekeeper.db import utcnow
from gatekeeper.models import Host, Kiosk, Site, User


def _password(output: str, who: str = "Administrator admin") -> str | None:
    found = re.search(rf"{who}: one-time password (\S+)", output)
    return found.group(1) if found else None


def _admin(session) -> User:
    return session.scalar(select(User).where(User.username == "admin"))


def _code(output: str) -> str | None:
    found = re.search(r"enrolment code (\S+)", output)
    return found.group(1) if found else None


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_demo_sets_up_secrets_schema_site_hosts_kiosk_and_admin(
    invoke, sessions, tmp_path
):
    result = invoke("demo")

    with sessions() as session:
        site = session.scalar(select(Site))
        hosts = session.scalars(select(Host.name)).all()
        admin = _admin(session)

    assert (site.code, site.name, site.timezone) == (
        "demo",
        "Demo Warehouse",
        "America/Chicago",
    )
    assert 4 <= len(hosts) <= 6
    assert any(not name.isascii() for name in hosts)
    assert (admin.username, admin.role, admin.must_change_password) == (
        "admin",
        "administrator",
        True,
    )
    assert passwords.verify_password(admin.password_hash, _password(result.output))
    assert "http://127.0.0.1:8000" in result.output
    assert _code(result.output)
    with sessions() as session:
        for username, _name, role in demo.STAFF:
            user = session.scalar(select(User).where(User.username == username))
            assert user.role == role and [s.code for s in user.sites] == ["demo"]
            password = _password(result.output, f"Staff {username}")
            assert passwords.verify_password(user.password_hash, password)

    for name in ("secret_key", "photo.key"):
        assert stat.S_IMODE((tmp_path / "instance" / name).stat().st_mode) == 0o600


def test_demo_run_twice_duplicates_nothing_and_reissues_the_secrets(invoke, sessions):
    first = invoke("demo")
    second = invoke("demo")

    with sessions() as session:
        counts = [_count(session, model) for model in (Site, Host, Kiosk, User)]
        admin = _admin(session)
        kiosk = session.scalar(select(Kiosk))

    assert counts == [1, len(demo.HOSTS), 1, 1 + len(demo.STAFF)]
    assert "already there" in second.output
    assert _password(second.output) != _password(first.output)
    assert passwords.verify_password(admin.password_hash, _password(second.output))
    assert not passwords.verify_password(admin.password_hash, _password(first.output))
    assert kiosk.state == "awaiting enrolment"
    assert _code(second.output) not in (None, _code(first.output))
    assert "Site demo: OK" in invoke("verify-log").output


def test_demo_leaves_a_signed_in_admin_and_an_enrolled_kiosk_alone(invoke, sessions):
    first = invoke("demo")
    with sessions.begin() as session:
        kiosks.enrol(session, _code(first.output))
        _admin(session).last_login_at = utcnow()

    again = invoke("demo")

    with sessions() as session:
        admin = _admin(session)

    assert _password(again.output) is None
    assert _code(again.output) is None
    assert "password unchanged" in again.output
    assert "Kiosk 'Lobby kiosk': enrolled." in again.output
    assert passwords.verify_password(admin.password_hash, _password(first.output))


def test_demo_refuses_a_production_installation(invoke, monkeypatch, sessions):
    monkeypatch.setenv("GATEKEEPER_ENV", "production")
    invoke("init-instance")

    result = invoke("demo", code=1)

    with sessions() as session:
        assert _count(session, Site) == 0

    assert "GATEKEEPER_ENV=development" in result.output
