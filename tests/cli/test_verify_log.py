"""`kiosk verify-log`: each site's chain and rows, and the exit status scripts use."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text


def _tamper_first_entry(engine) -> None:
    """Rewrite log entry 1 as someone with database access could, past the triggers."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER log_entries_no_update"))
        else:
            connection.execute(text("SET LOCAL session_replication_role = replica"))

        connection.execute(
            text(
                "UPDATE log_entries SET body = replace(body, 'Ada Lovelace', "
                "'Eve Intruder') WHERE seq = 1"
            )
        )


def test_verify_log_reports_each_site_and_exits_0_when_clean(
    invoke, site, sessions, check_in
):
    check_in(sessions, "dallas", ["Ada Lovelace", "Grace Hopper"])

    result = invoke("verify-log")

    assert "Site dallas: OK" in result.output
    assert "entries:   2" in result.output
    assert "head seq:  2" in result.output
    assert "problem" not in result.output


def test_verify_log_exits_1_and_names_the_altered_entry(
    invoke, site, sessions, engine, check_in
):
    check_in(sessions, "dallas", ["Ada Lovelace", "Grace Hopper"])
    _tamper_first_entry(engine)

    result = invoke("verify-log", "--site", "dallas", code=1)

    assert "Site dallas: FAILED" in result.output
    assert "chain problem: entry 1 altered" in result.output
    assert "state problem:" in result.output


def test_verify_log_with_no_sites_says_so(invoke):
    assert "No sites to verify." in invoke("verify-log").output


@pytest.fixture
def kiosk_script() -> Path:
    script = Path(sys.executable).with_name("kiosk")
    if not script.exists():
        pytest.fail(f"the console script is not installed at {script}")

    return script


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_installed_script_exits_1_on_a_tampered_log(
    cli_env, site, sessions, engine, kiosk_script, check_in
):
    check_in(sessions, "dallas", ["Ada Lovelace"])
    _tamper_first_entry(engine)

    result = subprocess.run(
        [str(kiosk_script), "verify-log"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1, result.stderr
    assert "chain problem: entry 1 altered" in result.stdout
    assert "Traceback" not in result.stderr
