"""The systemd units: systemd accepts them, and they run the files deploy/ ships."""

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.processes import DEPLOY, ROOT, require_tool

UNITS = sorted((DEPLOY / "systemd").glob("gatekeeper-*")) + [
    DEPLOY / "touchscreen" / "gatekeeper-touchscreen.service"
]
INSTALLED_HOME = "/opt/gatekeeper"


def _unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


def test_systemd_accepts_every_unit(tmp_path):
    analyze = require_tool("systemd-analyze")
    # The units name the installed paths; point them at this checkout so systemd
    # can check that each program exists. cage belongs on the kiosk machine, so a
    # stand-in takes its place where it is not installed.
    cage = shutil.which("cage") or "/bin/true"
    replacements = {
        INSTALLED_HOME: str(ROOT),
        "/usr/bin/cage": cage,
        "/usr/local/bin/gatekeeper-touchscreen": str(
            DEPLOY / "touchscreen" / "gatekeeper-touchscreen"
        ),
    }
    copies = []
    for unit in UNITS:
        text = unit.read_text()
        for old, new in replacements.items():
            text = text.replace(old, new)

        copy = tmp_path / unit.name
        copy.write_text(text)
        copies.append(str(copy))

    result = subprocess.run(
        [analyze, "verify", "--man=no", *copies],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


@pytest.mark.parametrize(
    ("unit", "shipped"),
    [
        ("gatekeeper-kiosk.service", "deploy/gunicorn/kiosk.conf.py"),
        ("gatekeeper-console.service", "deploy/gunicorn/console.conf.py"),
        ("gatekeeper-backup.service", "deploy/bin/gatekeeper-backup"),
        ("gatekeeper-send-mail.service", ".venv/bin/kiosk"),
        ("gatekeeper-retention.service", ".venv/bin/kiosk"),
    ],
)
def test_each_service_runs_a_shipped_file_with_the_shipped_settings(unit, shipped):
    service = _unit(DEPLOY / "systemd" / unit)["Service"]
    arguments = shlex.split(service["ExecStart"])

    assert shipped in " ".join(arguments)
    assert (ROOT / shipped).exists()
    assert service["WorkingDirectory"] == INSTALLED_HOME
    assert service["EnvironmentFile"] == "/etc/gatekeeper/gatekeeper.env"
    assert service["User"] == "gatekeeper"


def test_the_timer_starts_the_backup_every_night():
    timer = _unit(DEPLOY / "systemd" / "gatekeeper-backup.timer")["Timer"]

    assert timer["Unit"] == "gatekeeper-backup.service"
    assert timer["OnCalendar"].startswith("*-*-* ")
    assert timer["Persistent"] == "true"


def test_the_mail_timer_retries_the_outbox_every_few_minutes():
    timer = _unit(DEPLOY / "systemd" / "gatekeeper-send-mail.timer")["Timer"]
    service = _unit(DEPLOY / "systemd" / "gatekeeper-send-mail.service")["Service"]

    assert timer["Unit"] == "gatekeeper-send-mail.service"
    assert timer["OnUnitActiveSec"] == "5min"
    assert shlex.split(service["ExecStart"])[1:] == ["send-mail"]


def test_the_retention_timer_runs_the_purge_nightly_after_the_backup():
    timer = _unit(DEPLOY / "systemd" / "gatekeeper-retention.timer")["Timer"]
    backup = _unit(DEPLOY / "systemd" / "gatekeeper-backup.timer")["Timer"]
    service = _unit(DEPLOY / "systemd" / "gatekeeper-retention.service")["Service"]

    assert timer["Unit"] == "gatekeeper-retention.service"
    assert timer["OnCalendar"] > backup["OnCalendar"]
    assert shlex.split(service["ExecStart"])[1:] == ["retention"]
