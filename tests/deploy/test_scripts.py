"""The shell scripts and the environment file that deploy/ ships."""

import os
import re
import subprocess

import pytest

from gatekeeper.config import Settings, load_settings
from tests.deploy.processes import (
    DEPLOY,
    PHOTO_KEY,
    ROOT,
    SECRET_KEY,
    production_env,
    run_script,
)

SCRIPTS = [
    DEPLOY / "bin" / "kiosk",
    DEPLOY / "bin" / "gatekeeper-backup",
    DEPLOY / "bin" / "gatekeeper-migrate",
    DEPLOY / "touchscreen" / "gatekeeper-touchscreen",
]
# Read by deploy/gunicorn and deploy/bin rather than by the apps' settings.
DEPLOY_VARIABLES = {"KIOSK_BIND", "CONSOLE_BIND", "BACKUP_DIR", "BACKUP_KEEP_DAYS"}


def _environment_file() -> dict[str, str]:
    text = (DEPLOY / "gatekeeper.env").read_text()
    return dict(re.findall(r"^([A-Z_]+)=(.*)$", text, re.MULTILINE))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_each_script_is_executable_bash(script):
    result = subprocess.run(
        ["bash", "-n", str(script)], capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr
    assert os.access(script, os.X_OK)
    assert "set -euo pipefail" in script.read_text()


def test_the_environment_file_sets_only_what_something_reads():
    names = set(_environment_file())
    settings = set(Settings.__dataclass_fields__)

    assert names - settings - DEPLOY_VARIABLES == set()


def test_the_environment_file_is_a_production_setup_behind_nginx(monkeypatch):
    for name, value in _environment_file().items():
        monkeypatch.setenv(name, value)

    settings = load_settings({"SECRET_KEY": SECRET_KEY, "PHOTO_KEY": PHOTO_KEY})

    assert settings.is_production
    assert settings.TRUST_PROXY and settings.COOKIE_SECURE
    assert settings.AUTO_MIGRATE is False
    assert settings.RATELIMIT_STORAGE_URI.startswith("redis://")


def test_the_kiosk_wrapper_runs_the_command_with_the_installed_settings(tmp_path):
    config = tmp_path / "etc"
    config.mkdir()
    database = tmp_path / "gatekeeper.sqlite3"
    (config / "gatekeeper.env").write_text(
        "GATEKEEPER_ENV=production\n"
        f"INSTANCE_PATH={tmp_path / 'instance'}\n"
        f"DATABASE_URL=sqlite:///{database}\n"
    )
    env = production_env(
        tmp_path / "ignored",
        "sqlite:///ignored",
        GATEKEEPER_HOME=str(ROOT),
        GATEKEEPER_CONFIG=str(config),
        GATEKEEPER_USER=subprocess.check_output(["id", "-un"], text=True).strip(),
    )
    wrapper = str(DEPLOY / "bin" / "kiosk")

    run_script([wrapper, "init-db"], env)
    created = run_script(
        [
            wrapper,
            "create-site",
            "--code",
            "main",
            "--name",
            "Main",
            "--timezone",
            "UTC",
        ],
        env,
    )

    assert database.exists()
    assert "Created site main" in created.stdout
