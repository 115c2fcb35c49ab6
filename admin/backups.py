"""Backups in the console: an administrator downloads a backup made on request
(CTPAT 4.12), encrypted with a passphrase unless they choose otherwise.

The backup is gatekeeper.backup's: SQLite's online backup or pg_dump. It holds
every site's records, so only an administrator who reaches every site may make
one; an administrator of some sites only would otherwise carry away the others'
visitor logs. Restoring stays with `kiosk restore` on the server, with the apps
stopped (the page says how): replacing the database under running apps is not a
thing to do from a web page.
"""

import hashlib
import logging
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, render_template, send_file
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField
from wtforms.validators import Length

from admin.access import allow
from gatekeeper import audit, backup
from gatekeeper.db import utcnow
from gatekeeper.models import Site
from gatekeeper.web import client_address, db, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("backups", __name__)

ADMIN = "administrator"
EVERY_SITE = (
    "A backup holds the records of every site, and your account does not reach "
    "every site: ask an administrator who does."
)


class BackupForm(FlaskForm):
    encrypt = BooleanField("Encrypt the backup with a passphrase", default=True)
    passphrase = PasswordField("Passphrase", validators=[Length(max=256)])
    repeat = PasswordField("Passphrase again", validators=[Length(max=256)])


def _reaches_every_site() -> bool:
    every = set(db().scalars(select(Site.id)))
    return every <= current_user.site_ids


def _page(form: BackupForm, status: int = 200):
    settings = current_app.config["SETTINGS"]
    return render_template(
        "console/backups/index.html",
        form=form,
        allowed=_reaches_every_site(),
        postgres=backup.sqlite_path(settings.database_url) is None,
        min_length=backup.PASSPHRASE_MIN_LENGTH,
    ), status


@bp.get("/")
@allow(ADMIN)
def index():
    return _page(BackupForm(formdata=None))


@bp.post("/")
@allow(ADMIN)
def download():
    """Make a backup now and send it; the download is audited."""
    form = BackupForm()
    if not _reaches_every_site():
        # Not 403: the page is the administrator's, and it explains the refusal.
        form.form_errors.append(EVERY_SITE)
        return _page(form, 400)

    if not form.validate_on_submit():
        return _page(form, 400)

    passphrase = _passphrase(form)
    if form.errors:
        return _page(form, 400)

    # End the request's transaction first: on SQLite a form's POST holds the write
    # lock, which the kiosks need while the copy is made.
    db().commit()
    try:
        handle, name = _make(passphrase)
    except backup.BackupError as error:
        logger.error("console backup failed: %s", error)
        form.form_errors.append(f"The backup could not be made: {error}")
        return _page(form, 500)

    try:
        _record(handle, encrypted=passphrase is not None)
    except BaseException:
        handle.close()
        raise

    return send_file(
        handle,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=name,
    )


def _passphrase(form: BackupForm) -> str | None:
    """The checked passphrase, None for a plain backup; problems go on the form."""
    if not form.encrypt.data:
        return None

    passphrase = form.passphrase.data or ""
    try:
        backup.check_passphrase(passphrase)
    except backup.BackupError as error:
        form.passphrase.errors.append(str(error))
        return None

    if passphrase != (form.repeat.data or ""):
        form.repeat.errors.append("The two passphrases differ.")
        return None

    return passphrase


def _make(passphrase: str | None):
    """The finished backup file, open for reading, and the name to send it under.

    It is written in a private temporary folder that is removed at once; the open
    file stays readable until the response closes it.
    """
    url = current_app.config["SETTINGS"].database_url
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    name = f"gatekeeper-{stamp}.backup"
    with tempfile.TemporaryDirectory(prefix="gatekeeper-backup-") as folder:
        plain = backup.backup(url, Path(folder) / name)
        if passphrase is None:
            return open(plain, "rb"), name  # noqa: SIM115  (closed by the response)

        name += ".enc"
        sealed = backup.encrypt_file(plain, Path(folder) / name, passphrase)
        plain.unlink()
        return open(sealed, "rb"), name  # noqa: SIM115  (closed by the response)


def _record(handle, *, encrypted: bool) -> None:
    hasher, size = hashlib.sha256(), 0
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        hasher.update(chunk)
        size += len(chunk)

    handle.seek(0)
    with transaction():
        audit.record(
            db(),
            "backup.downloaded",
            actor=current_user.user,
            address=client_address(),
            encrypted=encrypted,
            bytes=size,
            sha256=hasher.hexdigest(),
        )
