"""Real processes for the deployment tests: gunicorn, nginx and the shipped scripts.

Every server here listens on a free loopback port, and every context manager stops
what it started, even when the test fails.
"""

import http.cookiejar
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "a-production-secret-of-enough-length-0123456789"
PHOTO_KEY = Fernet.generate_key().decode("ascii")


def require_tool(name: str) -> str:
    """The path of a program the test needs; with CI=true its absence is a failure."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message)

        pytest.skip(message)

    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(instance: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of an installed server: production checks on, real keys."""
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # The scripts and the `kiosk` command run this checkout's code.
        "PYTHONPATH": str(ROOT),
        "GATEKEEPER_ENV": "production",
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PHOTO_KEY": PHOTO_KEY,
        "GUNICORN_WORKERS": "2",
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def insecure_tls() -> ssl.SSLContext:
    """A client context for the tests' self-signed certificates."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def wait_until_answers(
    url: str, process: subprocess.Popen, *, seconds: float = 30
) -> None:
    """Poll a URL until it answers 200, failing early when the process has died."""
    context = insecure_tls() if url.startswith("https") else None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited with {process.returncode}")

        try:
            with urllib.request.urlopen(url, timeout=2, context=context):  # noqa: S310
                return
        # A worker still importing the app accepts nothing yet: the connection
        # waits, and the read times out.
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)

    raise AssertionError(f"{url} did not answer within {seconds} s")


@contextmanager
def running(arguments: list[str], *, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """A background process, stopped with TERM (then KILL) when the block ends."""
    with running_together([(arguments, env)]) as [process]:
        yield process


@contextmanager
def running_together(
    commands: list[tuple[list[str], dict[str, str]]],
) -> Iterator[list[subprocess.Popen]]:
    """Background processes, each with its environment, started and stopped
    together."""
    processes = []
    try:
        for arguments, env in commands:
            processes.append(
                subprocess.Popen(
                    arguments,
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )

        yield processes
    except BaseException:
        _stop(processes)
        raise

    for process, errors in zip(processes, _stop(processes), strict=True):
        assert process.returncode in (0, -15), errors[-3000:]


def _stop(processes: list[subprocess.Popen]) -> list[str]:
    """TERM every process at once, then collect each one's exit and stderr."""
    for process in processes:
        if process.poll() is None:
            process.terminate()

    outputs = []
    for process in processes:
        try:
            _, errors = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, errors = process.communicate()

        outputs.append(errors.decode(errors="replace"))

    return outputs


@contextmanager
def gunicorn(app: str, port: int, env: dict[str, str]) -> Iterator[str]:
    """One app under its shipped gunicorn config on a loopback port; yields its URL."""
    with gunicorns([(app, port)], env) as [url]:
        yield url


@contextmanager
def gunicorns(apps: list[tuple[str, int]], env: dict[str, str]) -> Iterator[list[str]]:
    """Apps under their shipped gunicorn configs, each on its (app, port); booted
    side by side, which halves the wait. Yields their URLs."""
    commands, urls = [], []
    for app, port in apps:
        config = DEPLOY / "gunicorn" / f"{app}.conf.py"
        bind = {"kiosk": "KIOSK_BIND", "console": "CONSOLE_BIND"}[app]
        arguments = [str(VENV_BIN / "gunicorn"), "-c", str(config)]
        commands.append((arguments, {**env, bind: f"127.0.0.1:{port}"}))
        urls.append(f"http://127.0.0.1:{port}")

    with running_together(commands) as processes:
        for url, process in zip(urls, processes, strict=True):
            wait_until_answers(f"{url}/healthz", process)

        yield urls


def run_script(
    arguments: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess:
    """Run a shipped script or the `kiosk` command to the end; fails on a bad exit."""
    result = subprocess.run(
        arguments, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{arguments}\n{result.stdout}\n{result.stderr}"
    return result


class Browser:
    """A browser's cookies, talking to one app server from an address of its own.

    The address travels in X-Forwarded-For, as nginx would send it, so the servers
    must run with TRUST_PROXY=true.
    """

    def __init__(self, server: str, address: str = "127.0.0.1"):
        self.server = server
        self.address = address
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def request(self, path: str, form: dict[str, str] | None = None):
        """GET, or POST the form; returns the status and the body."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(f"{self.server}{path}", data=data)  # noqa: S310
        request.add_header("X-Forwarded-For", self.address)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def submit(self, path: str, fields: dict[str, str]) -> tuple[int, bytes]:
        """Open the page with the form, then post it with the page's CSRF token."""
        status, page = self.request(path)
        assert status == 200, f"GET {path}: {status}"
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, f"no CSRF token on {path}"
        return self.request(path, {**fields, "csrf_token": token.group(1).decode()})


def unique_addresses(count: int) -> list[str]:
    """Client addresses no other test run uses: rate-limit counters left in a
    shared Redis by another run cannot reach them."""
    tag = os.urandom(2)
    return [f"10.{tag[0]}.{tag[1]}.{index + 1}" for index in range(count)]
