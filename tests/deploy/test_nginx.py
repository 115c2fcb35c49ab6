"""The shipped nginx site: Debian's nginx accepts it, and in front of the shipped
gunicorn configs it serves each app on its own TLS listener, the static files from
disk, and the console to the office network only (CTPAT 10.4)."""

import datetime
import http.client
import ipaddress
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import expect

from gatekeeper import accounts, kiosks, migrate, sites
from gatekeeper.db import make_engine, make_sessionmaker
from tests.deploy.processes import (
    DEPLOY,
    ROOT,
    free_port,
    gunicorns,
    insecure_tls,
    production_env,
    require_tool,
    running,
    wait_until_answers,
)

SITE = DEPLOY / "nginx" / "gatekeeper.conf"
TLS = DEPLOY / "nginx" / "tls.conf"
PROXY = DEPLOY / "nginx" / "proxy.conf"
DEBIAN_CONF = Path("/etc/nginx/nginx.conf")
PASSWORD = "correct horse battery staple"
# An address on the loopback network that the console's allow list does not name,
# standing in for a lobby or yard machine.
OUTSIDER = "127.0.0.2"


def rewritten(source: Path, target: Path, replacements: dict[str, str]) -> Path:
    """Copy a shipped file with some text replaced; each must be found, or it fails."""
    text = source.read_text()
    for old, new in replacements.items():
        assert old in text, f"{source.name} no longer contains {old!r}"
        text = text.replace(old, new)

    target.write_text(text)
    return target


def self_signed_certificate(folder: Path) -> dict[str, str]:
    """A key and certificate for 127.0.0.1; the replacements that point tls.conf at
    them instead of /etc/gatekeeper/tls."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    chain = folder / "fullchain.pem"
    private = folder / "privkey.pem"
    chain.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {
        "/etc/gatekeeper/tls/fullchain.pem": str(chain),
        "/etc/gatekeeper/tls/privkey.pem": str(private),
    }


def snippets(folder: Path) -> dict[str, str]:
    """The TLS and proxy snippets, installed into the folder instead of /etc/nginx."""
    tls = rewritten(TLS, folder / "tls.conf", self_signed_certificate(folder))
    return {
        "/etc/nginx/snippets/gatekeeper-tls.conf": str(tls),
        "/etc/nginx/snippets/gatekeeper-proxy.conf": str(PROXY),
    }


def test_debians_nginx_accepts_the_shipped_site(tmp_path):
    nginx = require_tool("nginx")
    if not DEBIAN_CONF.exists():
        pytest.fail(f"{DEBIAN_CONF} is missing: is this Debian's nginx package?")

    site = rewritten(SITE, tmp_path / "gatekeeper.conf", snippets(tmp_path))
    # Debian's own nginx.conf, with the site as the only one enabled and the files
    # nginx writes moved out of /run and /var/log.
    conf = rewritten(
        DEBIAN_CONF,
        tmp_path / "nginx.conf",
        {
            "include /etc/nginx/sites-enabled/*;": f"include {site};",
            "pid /run/nginx.pid;": f"pid {tmp_path / 'nginx.pid'};",
            "error_log /var/log/nginx/error.log;": "error_log stderr;",
            "access_log /var/log/nginx/access.log;": "access_log off;",
        },
    )

    result = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert "[warn]" not in result.stderr, result.stderr


@dataclass
class Stack:
    """nginx in front of both apps, as on a server, with the data a test needs."""

    kiosk: str
    console: str
    http: str
    kiosk_port: int
    console_port: int
    enrolment_code: str
    username: str


def _seed(database_url: str) -> tuple[str, str]:
    """A site, a kiosk awaiting enrolment and a front-desk account; code, username."""
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with make_sessionmaker(engine).begin() as session:
            site = sites.create_site(
                session, code="main", name="Main Warehouse", timezone="UTC"
            )
            sites.add_host(session, site, name="Ana López", email="ana@x.example")
            _, code = kiosks.create_kiosk(session, site, "Lobby", actor="test")
            user, _ = accounts.create_user(
                session,
                username="frontdesk",
                display_name="Front Desk",
                role="front_desk",
                sites=[site],
                password=PASSWORD,
                actor="test",
            )
            user.must_change_password = False
            return code, user.username
    finally:
        engine.dispose()


def _nginx_conf(folder: Path, site: Path) -> Path:
    """A minimal main configuration that runs in the foreground, writing to folder."""
    # Workers of a root master would otherwise run as nobody, who cannot read the
    # test's private temporary folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\n"
        "daemon off;\n"
        f"pid {folder / 'nginx.pid'};\n"
        "error_log stderr warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        "    access_log off;\n"
        f"{temp}\n"
        f"    include {site};\n"
        "}\n"
    )
    return conf


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    nginx = require_tool("nginx")
    folder = tmp_path_factory.mktemp("tls")
    database_url = f"sqlite:///{folder / 'gatekeeper.sqlite3'}"
    code, username = _seed(database_url)

    static = folder / "static"
    shutil.copytree(ROOT / "static", static)
    (static / "kiosk" / "nginx-probe.txt").write_text("served from disk\n")

    ports = {name: free_port() for name in ("http", "kiosk", "console", "ka", "ca")}
    site = rewritten(
        SITE,
        folder / "gatekeeper.conf",
        {
            **snippets(folder),
            "    listen [::]:80;\n": "",
            "    listen [::]:443 ssl;\n": "",
            "    listen [::]:8443 ssl;\n": "",
            "listen 80;": f"listen 127.0.0.1:{ports['http']};",
            "listen 443 ssl;": f"listen 127.0.0.1:{ports['kiosk']} ssl;",
            "listen 8443 ssl;": f"listen 127.0.0.1:{ports['console']} ssl;",
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{ports['ka']};",
            "server 127.0.0.1:8001;": f"server 127.0.0.1:{ports['ca']};",
            "alias /opt/gatekeeper/static/;": f"alias {static}/;",
        },
    )
    env = production_env(
        folder / "instance", database_url, TRUST_PROXY="true", COOKIE_SECURE="true"
    )
    with (
        gunicorns([("kiosk", ports["ka"]), ("console", ports["ca"])], env),
        running([nginx, "-c", str(_nginx_conf(folder, site))], env=env) as server,
    ):
        kiosk = f"https://127.0.0.1:{ports['kiosk']}"
        wait_until_answers(f"{kiosk}/healthz", server)
        yield Stack(
            kiosk=kiosk,
            console=f"https://127.0.0.1:{ports['console']}",
            http=f"http://127.0.0.1:{ports['http']}",
            kiosk_port=ports["kiosk"],
            console_port=ports["console"],
            enrolment_code=code,
            username=username,
        )


def _get(port: int, path: str, *, source: str = "127.0.0.1", tls: bool = True):
    """One request from a chosen source address; returns status, headers, body."""
    if tls:
        connection = http.client.HTTPSConnection(
            "127.0.0.1",
            port,
            timeout=10,
            context=insecure_tls(),
            source_address=(source, 0),
        )
    else:
        connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=10, source_address=(source, 0)
        )

    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("listener", ["kiosk_port", "console_port"])
def test_each_listener_serves_its_app_over_tls(stack, listener):
    status, _, body = _get(getattr(stack, listener), "/healthz")

    assert status == 200
    assert b'"status":"ok"' in body.replace(b" ", b"")


def test_the_kiosk_listener_does_not_serve_the_console(stack):
    console, _, page = _get(stack.console_port, "/login")
    kiosk, _, elsewhere = _get(stack.kiosk_port, "/login")

    assert console == 200 and b'name="password"' in page
    assert kiosk != 200 and b'name="password"' not in elsewhere


def test_static_files_come_from_disk_not_from_the_app(stack):
    status, headers, body = _get(stack.kiosk_port, "/static/kiosk/nginx-probe.txt")

    assert status == 200 and body == b"served from disk\n"
    assert headers["Cache-Control"] == "no-cache"


def test_the_console_refuses_addresses_outside_its_allow_list(stack):
    console, _, _ = _get(stack.console_port, "/login", source=OUTSIDER)
    kiosk, _, _ = _get(stack.kiosk_port, "/healthz", source=OUTSIDER)

    assert console == 403
    assert kiosk == 200


def test_plain_http_is_sent_to_the_kiosk_on_tls(stack):
    status, headers, _ = _get(int(stack.http.rsplit(":", 1)[1]), "/enrol", tls=False)

    assert status == 301
    assert headers["Location"] == "https://127.0.0.1/enrol"


@pytest.fixture
def tls_page(browser):
    context = browser.new_context(ignore_https_errors=True)
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_a_browser_enrols_the_kiosk_over_tls(stack, tls_page):
    tls_page.goto(f"{stack.kiosk}/enrol?code={stack.enrolment_code}")
    tls_page.get_by_role("button", name="Enrol").click()

    expect(tls_page).to_have_url(f"{stack.kiosk}/")
    cookies = {c["name"]: c for c in tls_page.context.cookies()}
    assert cookies["gk_kiosk_device"]["secure"] is True


@pytest.mark.browser
def test_a_browser_signs_in_to_the_console_over_tls(stack, tls_page):
    tls_page.goto(f"{stack.console}/login")
    tls_page.get_by_label("Username").fill(stack.username)
    tls_page.get_by_label("Password").fill(PASSWORD)
    tls_page.get_by_role("button", name="Sign in").click()

    expect(tls_page).not_to_have_url(re.compile(r"/login"))
    expect(tls_page.get_by_text("Form expired")).to_have_count(0)
