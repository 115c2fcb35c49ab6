"""The set-up commands: instance, database, sites, hosts, accounts and kiosks."""

import re
import stat
from shlex import split

import pytest
from sqlalchemy import func, select

from gatekeeper import kiosks, passwords
from gatekeeper.models import Host, Site, User


@pytest.fixture
def database_url(sqlite_url):
    """These commands behave alike on both databases; SQLite keeps them quick."""
    return sqlite_url


def test_init_instance_writes_owner_only_secrets_once(invoke, tmp_path):
    first = invoke("init-instance")
    second = invoke("init-instance")

    instance = tmp_path / "instance"
    for name in ("secret_key", "photo.key"):
        assert stat.S_IMODE((instance / name).stat().st_mode) == 0o600
        assert f"Wrote {instance / name}" in first.output

    assert "already holds" in second.output


def test_production_commands_need_the_secrets_init_instance_writes(invoke, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_ENV", "production")

    refused = invoke("verify-log", code=1)
    invoke("init-instance")
    invoke("verify-log")

    assert "SECRET_KEY is missing" in refused.output
    assert "kiosk init-instance" in refused.output


def test_init_db_creates_a_new_sqlite_database_and_its_folder(
    invoke, monkeypatch, tmp_path
):
    path = tmp_path / "fresh" / "gatekeeper.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")

    invoke("init-db")
    invoke("init-db")
    invoke("create-site", "--code", "tulsa", "--name", "Tulsa", "--timezone", "UTC")

    assert path.exists()


def test_commands_on_a_missing_database_say_to_run_init_db(
    invoke, monkeypatch, tmp_path
):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite3'}")

    result = invoke("verify-log", code=1)

    assert "run 'kiosk init-db'" in result.output
    assert not (tmp_path / "none.sqlite3").exists()


def test_create_site_makes_a_site_with_an_empty_log(invoke):
    result = invoke(
        *split(
            "create-site --code Laredo-2 --name 'Laredo Cross-dock' "
            "--timezone America/Chicago"
        )
    )

    assert "Created site laredo-2 (Laredo Cross-dock, America/Chicago)" in result.output
    assert "Site laredo-2: OK" in invoke("verify-log").output


def test_add_host_adds_to_the_site_directory(invoke, site, sessions):
    result = invoke(
        *split(
            "add-host --site dallas --name 'Björn Ångström' "
            "--email bjorn@example.com --department Shipping"
        )
    )

    with sessions() as session:
        host = session.scalar(select(Host).where(Host.email == "bjorn@example.com"))

    assert "Added Björn Ångström <bjorn@example.com> to site dallas" in result.output
    assert (host.site_id, host.department) == (site.id, "Shipping")


def test_create_user_prints_a_one_time_password_that_signs_in(invoke, site, sessions):
    result = invoke(
        *split(
            "create-user --username mgarcia --name 'María García' --role guard "
            "--site dallas --site dallas --email maria@example.com"
        )
    )

    password = re.search(r"One-time password: (\S+)", result.output).group(1)
    with sessions() as session:
        user = session.scalar(select(User).where(User.username == "mgarcia"))
        reach = [s.code for s in user.sites]

    assert result.output.count(password) == 1
    assert passwords.verify_password(user.password_hash, password)
    assert (user.role, reach, user.must_change_password) == ("guard", ["dallas"], True)


def test_enrol_kiosk_prints_a_code_the_kiosk_can_enrol_with(invoke, site, sessions):
    result = invoke(*split("enrol-kiosk --site dallas --name 'Gate 3'"))

    code = re.search(r"Enrolment code: (\S+)", result.output).group(1)
    with sessions.begin() as session:
        kiosk, _token = kiosks.enrol(session, code)

    assert (kiosk.name, kiosk.site_id, kiosk.state) == ("Gate 3", site.id, "enrolled")


USER = "create-user --username jdoe --name 'Jane Doe' --role guard --site dallas"


@pytest.mark.parametrize(
    ("command", "code", "message"),
    [
        pytest.param(
            "create-site --code dallas --name Dallas --timezone America/Chicago",
            1,
            "A site with code 'dallas' already exists.",
            id="duplicate-site",
        ),
        pytest.param(
            "create-site --code tulsa --name Tulsa --timezone Mars/Olympus_Mons",
            1,
            "'Mars/Olympus_Mons' is not a known time zone.",
            id="bad-timezone",
        ),
        pytest.param(
            "create-site --code x --name X --timezone UTC",
            1,
            "Site code: 2 to 32",
            id="bad-site-code",
        ),
        pytest.param(
            "add-host --site dallas --name Ana --email ana@example.com",
            1,
            "already has a host with the email ana@example.com",
            id="duplicate-host",
        ),
        pytest.param(
            "add-host --site nowhere --name Ana --email a@example.com",
            2,
            "no site has the code 'nowhere'",
            id="host-unknown-site",
        ),
        pytest.param(
            "add-host --site dallas --name 1234 --email n@example.com",
            1,
            "Host name must contain letters.",
            id="host-name-without-letters",
        ),
        pytest.param(
            "add-host --site dallas --name Ana --email ana@",
            1,
            "Email is not a valid email address.",
            id="host-bad-email",
        ),
        pytest.param(
            "create-user --username jdoe --name Jane --role king --site dallas",
            2,
            "'king' is not one of",
            id="bad-role",
        ),
        pytest.param(
            f"{USER} --site nowhere",
            2,
            "no site has the code 'nowhere'",
            id="user-unknown-site",
        ),
        pytest.param(
            "create-user --username jdoe --name Jane --role guard",
            2,
            "Missing option '--site'",
            id="user-without-site",
        ),
        pytest.param(
            "create-user --username Jo --name Jo --role guard --site dallas",
            1,
            "Username: 3 to 64",
            id="bad-username",
        ),
        pytest.param(
            "enrol-kiosk --site nowhere --name Lobby",
            2,
            "no site has the code 'nowhere'",
            id="kiosk-unknown-site",
        ),
        pytest.param(
            "verify-log --site nowhere",
            2,
            "no site has the code 'nowhere'",
            id="verify-unknown-site",
        ),
    ],
)
def test_mistakes_end_with_a_clear_message(invoke, site, command, code, message):
    result = invoke(*split(command), code=code)

    assert message in result.output


def test_a_taken_username_or_kiosk_name_is_refused(invoke, site, sessions):
    invoke(*split(USER))
    invoke(*split("enrol-kiosk --site dallas --name Lobby"))

    user = invoke(*split(USER), code=1)
    kiosk = invoke(*split("enrol-kiosk --site dallas --name Lobby"), code=1)

    with sessions() as session:
        users = session.scalar(select(func.count()).select_from(User))
        site_count = session.scalar(select(func.count()).select_from(Site))

    assert "The username 'jdoe' is taken." in user.output
    assert "already has a kiosk named 'Lobby'" in kiosk.output
    assert (users, site_count) == (1, 1)
