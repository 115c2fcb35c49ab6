"""The shipped gunicorn configs start each app on loopback, and it answers."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(tmp_path, **extra) -> dict[str, str]:
    env = {
        **os.environ,
        "GATEKEEPER_ENV": "production",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gatekeeper.sqlite3'}",
        "SECRET_KEY": "a-production-secret-of-enough-length-0123456789",
        "PHOTO_KEY": Fernet.generate_key().decode(),
        "GUNICORN_WORKERS": "2",
    }
    env.update(extra)
    return env


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}")

        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                return response.read()
        # A worker still importing the app accepts nothing yet: the connection
        # waits, and the read times out.
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)

    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.mark.parametrize(
    ("config", "bind_variable"),
    [("kiosk.conf.py", "KIOSK_BIND"), ("console.conf.py", "CONSOLE_BIND")],
)
def test_each_gunicorn_config_serves_its_app_on_loopback(
    tmp_path, config, bind_variable
):
    port = _free_port()
    env = _environment(tmp_path, **{bind_variable: f"127.0.0.1:{port}"})
    process = subprocess.Popen(
        [str(GUNICORN), "-c", str(ROOT / "deploy" / "gunicorn" / config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        body = _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        assert b'"status":"ok"' in body.replace(b" ", b"")
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)

    assert process.returncode == 0, errors.decode()[-2000:]


def test_production_refuses_to_start_without_real_secrets(tmp_path):
    env = _environment(tmp_path, SECRET_KEY="", PHOTO_KEY="")
    result = subprocess.run(
        [
            str(GUNICORN),
            "-c",
            str(ROOT / "deploy" / "gunicorn" / "kiosk.conf.py"),
            "--bind",
            f"127.0.0.1:{_free_port()}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert b"SECRET_KEY is missing" in result.stderr
