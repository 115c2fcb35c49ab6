"""The `kiosk` command: installation, sites, accounts, kiosks, the log and backups.

Each command reads the settings from the environment, hands the work to a service,
and prints the outcome. Mistakes a person can fix end with a one-line message and
exit status 1 (2 for a bad option); `verify-log` exits 1 when a log fails to verify.
"""

import functools
import getpass
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

import gatekeeper.visits  # noqa: F401  (registers the 'visit' subject for verify)
from gatekeeper import (
    accounts,
    backup,
    chain,
    demo,
    integrity,
    kiosks,
    mail,
    migrate,
    retention,
    sites,
)
from gatekeeper.accounts import AccountError
from gatekeeper.config import (
    ConfigError,
    Settings,
    load_settings,
    write_instance_secrets,
)
from gatekeeper.db import make_engine, make_sessionmaker, read_only
from gatekeeper.kiosks import EnrolmentError
from gatekeeper.models import ROLES, Host, Site
from gatekeeper.text import TextError

logger = logging.getLogger(__name__)

# Errors whose message is written for the person at the keyboard.
USER_ERRORS = (
    AccountError,
    EnrolmentError,
    TextError,
    ConfigError,
    backup.BackupError,
    demo.DemoError,
)


class _EchoHandler(logging.Handler):
    """Writes log records to whatever stderr is now, as click does for its output."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


class _Commands(click.Group):
    """Turns errors a person can fix into one-line messages instead of tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except USER_ERRORS as error:
            raise click.ClickException(str(error)) from error
        except (OperationalError, ProgrammingError) as error:
            logger.debug("database error", exc_info=True)
            lines = str(error.orig).strip().splitlines() or [type(error).__name__]
            raise click.ClickException(f"Database error: {lines[0]}") from error


def _configure_logging(verbose: bool) -> None:
    root = logging.getLogger()
    if not any(isinstance(handler, _EchoHandler) for handler in root.handlers):
        handler = _EchoHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)

    root.setLevel(logging.INFO if verbose else logging.WARNING)


@click.group(cls=_Commands)
@click.option("-v", "--verbose", is_flag=True, help="Log what the commands do.")
def main(verbose: bool) -> None:
    """Set up and look after a Gatekeeper installation.

    Settings come from the environment (DATABASE_URL, INSTANCE_PATH,
    GATEKEEPER_ENV, ...), as for the apps.
    """
    _configure_logging(verbose)


def _operator() -> str:
    """The audit trail's name for whoever runs the command (CTPAT 4.5)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def _printable(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured database, which must exist at the newest schema."""
    path = backup.sqlite_path(settings.database_url)
    if path is not None and not path.exists():
        raise click.ClickException(
            f"No database at {path}: run 'kiosk init-db' first, or set DATABASE_URL."
        )

    engine = make_engine(settings.database_url)
    try:
        if not migrate.is_current(engine):
            raise click.ClickException(
                "The database schema is missing or out of date: run 'kiosk init-db'."
            )

        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def _site(session: Session, code: str) -> Site:
    site = sites.site_by_code(session, code.strip().lower())
    if site is None:
        raise click.BadParameter(f"no site has the code {code!r}.", param_hint="--site")

    return site


def with_settings(command):
    """Pass the command the settings, read from the environment when it runs."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        return command(load_settings(), *args, **kwargs)

    return wrapper


@main.command("init-instance")
def init_instance() -> None:
    """Write a secret key and a photo key into the instance folder, where absent."""
    # Production refuses settings without these secrets, and this command is the one
    # that creates them; only INSTANCE_PATH is needed here.
    settings = load_settings({"GATEKEEPER_ENV": "development"})
    written = write_instance_secrets(settings.instance)
    for path in written:
        click.echo(f"Wrote {path} (readable by its owner only).")

    if not written:
        click.echo(f"{settings.instance} already holds a secret key and a photo key.")

    click.echo(
        "Keep a copy of the photo key with the backups: without it the stored ID "
        "images cannot be read."
    )


@main.command("init-db")
@with_settings
def init_db(settings: Settings) -> None:
    """Create the database tables, or bring them to the newest schema."""
    path = backup.sqlite_path(settings.database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)

    engine = make_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()

    click.echo(f"{_printable(settings.database_url)} is at the newest schema.")


@main.command("create-site")
@click.option("--code", required=True, help="Short code, e.g. 'dallas-1'.")
@click.option("--name", required=True, help="The site's name as staff know it.")
@click.option("--timezone", required=True, help="IANA time zone, e.g. America/Chicago.")
@with_settings
def create_site(settings: Settings, code: str, name: str, timezone: str) -> None:
    """Create a site with an empty log."""
    with _database(settings) as sessions, sessions.begin() as session:
        site = sites.create_site(session, code=code, name=name, timezone=timezone)

    logger.info("site %s created", site.code)
    click.echo(f"Created site {site.code} ({site.name}, {site.timezone}).")


@main.command("add-host")
@click.option("--site", "site_code", required=True, help="The site's code.")
@click.option("--name", required=True, help="The host's full name.")
@click.option("--email", required=True, help="Where arrival notices go.")
@click.option("--department", default="", help="Shown beside the name on the kiosk.")
@with_settings
def add_host(
    settings: Settings, site_code: str, name: str, email: str, department: str
) -> None:
    """Add a point of contact to a site's host directory."""
    with _database(settings) as sessions, sessions.begin() as session:
        site = _site(session, site_code)
        taken = session.scalar(
            select(Host.id).where(Host.site_id == site.id, Host.email == email.strip())
        )
        if taken:
            raise click.ClickException(
                f"Site {site.code} already has a host with the email {email.strip()}."
            )

        host = sites.add_host(
            session, site, name=name, email=email, department=department
        )

    click.echo(f"Added {host.name} <{host.email}> to site {site.code}.")


@main.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="The person's full name.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--site",
    "site_codes",
    required=True,
    multiple=True,
    help="A site the account may reach; repeat for several.",
)
@click.option("--email", default="")
@with_settings
def create_user(
    settings: Settings,
    username: str,
    display_name: str,
    role: str,
    site_codes: tuple[str, ...],
    email: str,
) -> None:
    """Create a staff account and print its one-time password."""
    with _database(settings) as sessions, sessions.begin() as session:
        chosen = [_site(session, code) for code in dict.fromkeys(site_codes)]
        user, password = accounts.create_user(
            session,
            username=username,
            display_name=display_name,
            role=role,
            sites=chosen,
            email=email,
            actor=_operator(),
        )
        reach = ", ".join(site.code for site in user.sites)

    click.echo(f"Created {user.username} ({role}) for sites: {reach}.")
    click.echo(f"One-time password: {password}")
    click.echo("It is shown only now; it must be changed at the first sign-in.")


@main.command("enrol-kiosk")
@click.option("--site", "site_code", required=True, help="The site's code.")
@click.option("--name", required=True, help="e.g. 'Lobby kiosk'.")
@with_settings
def enrol_kiosk(settings: Settings, site_code: str, name: str) -> None:
    """Create a kiosk and print the one-time code its browser enrols with."""
    with _database(settings) as sessions, sessions.begin() as session:
        site = _site(session, site_code)
        kiosk, code = kiosks.create_kiosk(session, site, name, actor=_operator())
        expires = kiosk.enrolment_expires_at

    click.echo(f"Created kiosk {kiosk.name!r} for site {site.code}.")
    click.echo(f"Enrolment code: {code}")
    click.echo(
        f"Enter it in the kiosk app on the kiosk's screen; it works once, "
        f"until {expires:%Y-%m-%d %H:%M} UTC."
    )


def _print_reports(reports: list[chain.Report]) -> bool:
    """Print each site's verification; True when every site's log verified."""
    if not reports:
        click.echo("No sites to verify.")

    for report in reports:
        verdict = "OK" if report.ok else "FAILED"
        click.echo(f"Site {report.site_code}: {verdict}")
        click.echo(f"  entries:   {report.entries}")
        click.echo(f"  head seq:  {report.head_seq}")
        click.echo(f"  head hash: {report.head_hash}")
        if report.chain_problem:
            click.echo(f"  chain problem: {report.chain_problem.message}")

        for problem in report.state_problems:
            click.echo(f"  state problem: {problem.message}")

    return all(report.ok for report in reports)


def _verify(sessions: sessionmaker[Session], site_code: str | None) -> bool:
    """Verify and print; each result is also kept for the console's red banner."""
    site_ids = None
    if site_code is not None:
        with sessions() as session:
            site_ids = [_site(session, site_code).id]

    # Sites in parallel: the nightly verification of years of log is bound by the
    # processor, not the database.
    reports = integrity.verify_and_record(
        sessions, site_ids, processes=integrity.worker_count()
    )
    return _print_reports(reports)


@main.command("verify-log")
@click.option("--site", "site_code", help="Verify one site only.")
@with_settings
def verify_log(settings: Settings, site_code: str | None) -> None:
    """Check each site's hash chain and its rows; exit 1 when any fails."""
    with _database(settings) as sessions:
        ok = _verify(sessions, site_code)

    if not ok:
        logger.error("the log failed verification")
        click.get_current_context().exit(1)


def _read_passphrase(path: Path) -> str:
    """The first line of a passphrase file; a file keeps it out of the process list
    and the shell's history, where a command-line option would show it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[0] if lines else ""


PASSPHRASE_FILE = click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file whose first line is the passphrase of an encrypted backup.",
)


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@PASSPHRASE_FILE
@with_settings
def backup_command(
    settings: Settings, path: Path, passphrase_file: Path | None
) -> None:
    """Write a consistent backup of the database to PATH (mode 0600).

    With --passphrase-file the backup is encrypted with that passphrase.
    """
    if passphrase_file is None:
        written = backup.backup(settings.database_url, path)
    else:
        passphrase = backup.check_passphrase(_read_passphrase(passphrase_file))
        written = _encrypted_backup(settings.database_url, path, passphrase)

    size = written.stat().st_size
    click.echo(
        f"Backed up {_printable(settings.database_url)} to {written} ({size} bytes)."
    )
    click.echo("Keep a copy of the instance folder's photo key with the backups.")


def _encrypted_backup(url: str, path: Path, passphrase: str) -> Path:
    """Back up beside PATH, then encrypt; the plain copy never outlives the command."""
    plain = path.with_name(f".{path.name}.plain")
    try:
        backup.backup(url, plain)
        return backup.encrypt_file(plain, path, passphrase)
    finally:
        plain.unlink(missing_ok=True)


@main.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a database that holds data.")
@PASSPHRASE_FILE
@with_settings
def restore_command(
    settings: Settings, path: Path, yes: bool, passphrase_file: Path | None
) -> None:
    """Replace the database with the backup at PATH, then verify the log.

    Stop the apps first: a restore replaces what they are working on. An encrypted
    backup asks for its passphrase unless --passphrase-file gives it.
    """
    passphrase = None
    if passphrase_file is not None:
        passphrase = _read_passphrase(passphrase_file)
    elif backup.is_encrypted(path):
        passphrase = click.prompt("Passphrase of the backup", hide_input=True)

    backup.restore(settings.database_url, path, replace=yes, passphrase=passphrase)
    click.echo(f"Restored {_printable(settings.database_url)} from {path}.")
    with _database(settings) as sessions:
        ok = _verify(sessions, None)

    if not ok:
        raise click.ClickException("The restored log does not verify; see above.")


@main.command("demo")
@click.option("--kiosk-url", default="http://127.0.0.1:8000", show_default=True)
@click.option("--console-url", default="http://127.0.0.1:8001", show_default=True)
@with_settings
def demo_command(settings: Settings, kiosk_url: str, console_url: str) -> None:
    """Set up a demo site, kiosk and admin for trying the product; safe to repeat."""
    result = demo.set_up(settings, actor=_operator())
    site = result.site
    state = "created" if result.site_created else "already there"
    click.echo(f"Site {site.code} ({site.name}, {site.timezone}): {state}.")
    click.echo(f"Hosts: {result.hosts_total} ({result.hosts_added} added).")
    _echo_kiosk(result, kiosk_url)
    _echo_admin(result, console_url)
    _echo_staff(result)


def _echo_kiosk(result: demo.DemoResult, kiosk_url: str) -> None:
    kiosk = result.kiosk
    if result.enrolment_code is None:
        click.echo(f"Kiosk {kiosk.name!r}: {kiosk.state}.")
        return

    code = result.enrolment_code
    click.echo(f"Kiosk {kiosk.name!r}: enrolment code {code}")
    click.echo(
        f"  Open {kiosk_url.rstrip('/')}/enrol?code={code} in the kiosk's browser "
        "and tap Enrol."
    )


def _echo_admin(result: demo.DemoResult, console_url: str) -> None:
    username = result.admin.username
    if result.admin_password is None:
        click.echo(f"Administrator {username}: has signed in; password unchanged.")
        return

    click.echo(f"Administrator {username}: one-time password {result.admin_password}")
    click.echo(f"  Sign in at {console_url}; the password is shown only now.")
    click.echo("  You will choose a new one and set up an authenticator app.")


def _echo_staff(result: demo.DemoResult) -> None:
    for username, password in result.staff_passwords.items():
        if password is None:
            click.echo(f"Staff {username}: has signed in; password unchanged.")
        else:
            click.echo(f"Staff {username}: one-time password {password}")


@main.command("retention")
@click.option(
    "--dry-run", is_flag=True, help="Say what would be purged; delete nothing."
)
@with_settings
def retention_command(settings: Settings, dry_run: bool) -> None:
    """Purge ID images and face photos past each site's retention (run daily).

    The visits and pickups keep their verification records, and each purge adds a
    log entry, so the log still verifies. Log entries are never deleted.
    """
    with _database(settings) as sessions, sessions.begin() as session:
        results = retention.purge_all(session, dry_run=dry_run)

    verb = "Would purge" if dry_run else "Purged"
    for result in results:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.images.items()))
        click.echo(
            f"{result.site_code}: {verb} {result.total} images of {result.records} "
            f"records taken before {result.cutoff:%Y-%m-%d %H:%M} UTC"
            + (f" ({kinds})" if kinds else "")
            + "."
        )


@main.command("send-mail")
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(1, 10000),
    help="Send at most this many messages.",
)
@with_settings
def send_mail(settings: Settings, limit: int) -> None:
    """Send the outbox's waiting emails over SMTP; exit 1 when one fails.

    The apps send each message as soon as it is written; run this from a timer to
    retry the ones that failed. Without SMTP_HOST the messages stay in the outbox,
    which the console shows.
    """
    with _database(settings) as sessions:
        delivery = mail.deliver_pending(sessions, settings, limit=limit)
        with sessions() as session:
            waiting = mail.waiting_count(read_only(session))

    if not settings.SMTP_HOST:
        click.echo(f"SMTP_HOST is not set: {waiting} messages wait in the outbox.")
        return

    click.echo(
        f"Sent {len(delivery.sent)}, failed {len(delivery.failed)}; {waiting} not sent."
    )
    for message_id, error in delivery.failed.items():
        click.echo(f"  message {message_id}: {error}", err=True)

    if delivery.failed:
        click.get_current_context().exit(1)
