"""The touchscreen's launcher and Chromium policy: the kiosk's origin is the only
site the browser opens and the only one given the camera; no pinch-zoom."""

import json
import mmap
import os
import re
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.deploy.processes import DEPLOY

TOUCHSCREEN = DEPLOY / "touchscreen"
LAUNCHER = TOUCHSCREEN / "gatekeeper-touchscreen"
# The browser itself, behind Debian's /usr/bin/chromium wrapper script.
CHROMIUM_BINARY = Path("/usr/lib/chromium/chromium")


def _policy() -> dict:
    return json.loads((TOUCHSCREEN / "chromium-policy.json").read_text())


def _kiosk_url() -> str:
    settings = (TOUCHSCREEN / "touchscreen.env").read_text()
    return re.search(r"^KIOSK_URL=(\S+)$", settings, re.MULTILINE).group(1)


def _kiosk_origin() -> str:
    """The origin of KIOSK_URL in touchscreen.env, with its port spelt out."""
    url = urlsplit(_kiosk_url())
    assert url.scheme == "https", "browsers give the camera to secure origins only"
    return f"https://{url.hostname}:{url.port or 443}"


def test_the_camera_is_given_to_the_kiosks_origin_only():
    policy = _policy()

    assert policy["VideoCaptureAllowed"] is False
    # An explicit port: a pattern without one would match every port of the host,
    # the console's included.
    assert policy["VideoCaptureAllowedUrls"] == [_kiosk_origin()]
    assert policy["AudioCaptureAllowed"] is False


def test_the_browser_opens_the_kiosks_origin_and_nothing_else():
    policy = _policy()

    assert {"http://*", "https://*", "file://*"} <= set(policy["URLBlocklist"])
    assert policy["URLAllowlist"] == [_kiosk_origin()]
    assert policy["DeveloperToolsAvailability"] == 2
    assert policy["IncognitoModeAvailability"] == 1
    assert policy["BrowserGuestModeEnabled"] is False


def test_the_launcher_is_valid_bash():
    result = subprocess.run(
        ["bash", "-n", str(LAUNCHER)], capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr


def test_the_launchers_default_address_is_the_one_the_policy_allows():
    script = LAUNCHER.read_text()
    default = re.search(r'KIOSK_URL="\$\{KIOSK_URL:-(\S+)\}"', script).group(1)

    assert default == _kiosk_url()
    assert "--incognito" not in script, "the device credential must survive restarts"


def test_the_launcher_runs_chromium_with_the_flags_it_is_given(tmp_path):
    """Run the launcher with a stand-in chromium that records its arguments."""
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    recorder = bin_folder / "chromium"
    recorder.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$RECORD"\n')
    recorder.chmod(0o755)
    record = tmp_path / "arguments"

    # Something listening where the kiosk app would be, so the launcher's wait for
    # the server ends at once.
    with socket.create_server(("127.0.0.1", 0)) as server:
        url = f"https://127.0.0.1:{server.getsockname()[1]}/"
        subprocess.run(
            ["bash", str(LAUNCHER)],
            env={
                "PATH": f"{bin_folder}:/usr/bin:/bin",
                "HOME": str(tmp_path),
                "RECORD": str(record),
                "KIOSK_URL": url,
            },
            check=True,
            timeout=30,
        )

    arguments = record.read_text().splitlines()
    assert arguments[-2:] == ["--kiosk", url]
    assert f"--user-data-dir={tmp_path}/.config/gatekeeper-chromium" in arguments
    for flag in (
        "--kiosk-printing",
        "--disable-pinch",
        "--overscroll-history-navigation=0",
    ):
        assert flag in arguments, flag


def test_debians_chromium_knows_every_policy_and_flag_the_kiosk_relies_on():
    """Chromium ignores a policy or flag it does not know without a word, so a
    misspelt name would quietly leave the kiosk open; each must be in the binary."""
    if not CHROMIUM_BINARY.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Debian's chromium is not installed at {CHROMIUM_BINARY}")

        pytest.skip("Debian's chromium is not installed")

    script = LAUNCHER.read_text()
    flags = re.findall(r"^\s+--([a-z-]+)", script, re.MULTILINE)
    names = [*_policy(), *flags]
    assert "kiosk-printing" in flags and "disable-pinch" in flags

    with CHROMIUM_BINARY.open("rb") as binary:
        contents = mmap.mmap(binary.fileno(), 0, access=mmap.ACCESS_READ)
        unknown = [name for name in names if contents.find(name.encode()) < 0]
        contents.close()

    assert unknown == []
