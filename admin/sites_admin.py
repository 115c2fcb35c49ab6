"""Sites, their settings and their host directories, managed by administrators.

An administrator creates sites (and reaches each one they create), sets each of
their sites' kiosk and retention settings, sends a test email, and keeps the host
directory: hosts added one by one or imported from a CSV file, and taken off the
kiosk's list when they leave. Pickup rules (walk-ins, the appointment window, the
seal pattern) stay with the security manager under Pickup rules. Every change is
audited by the services.
"""

import logging
from dataclasses import fields
from zoneinfo import available_timezones

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired

from admin.access import allow, require_site
from admin.forms import VERIFICATION_MODE_LABELS, ActionForm
from gatekeeper import audit, hosts_import, mail, sites
from gatekeeper.models import Host, Site
from gatekeeper.text import TextError
from gatekeeper.web import client_address, db, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("sites_admin", __name__)

ADMIN = "administrator"
BADGE_SIZE_LABELS = {
    "62x100mm": "62 × 100 mm label (the default)",
    "4x3in": "4 × 3 inch label",
}
LANGUAGE_CHOICES = {
    "en,es": "English and Spanish, English first",
    "es,en": "Spanish and English, Spanish first",
    "en": "English only",
    "es": "Spanish only",
}
WHOLE_NUMBER = "Enter a whole number."


def _zones() -> list[str]:
    return sorted(available_timezones())


def _number(label: str) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(WHOLE_NUMBER)])


class NewSiteForm(FlaskForm):
    code = StringField("Site code (e.g. dallas-1)")
    name = StringField("Site name")
    timezone = SelectField("Time zone", default="America/Chicago")


class SettingsForm(FlaskForm):
    name = StringField("Site name")
    timezone = SelectField("Time zone")
    idle_seconds = _number("Kiosk returns to its start screen after (seconds idle)")
    verification_mode = RadioField(
        "How photo IDs are verified", choices=VERIFICATION_MODE_LABELS
    )
    badge_size = RadioField("Badge label size", choices=BADGE_SIZE_LABELS)
    badge_valid_hours = _number("Visitor badges are valid for (hours)")
    driver_overdue_hours = _number("Drivers on site are flagged after (hours)")
    languages = SelectField("Kiosk languages", choices=LANGUAGE_CHOICES)
    photo_retention_days = _number("ID images and face photos are kept for (days)")
    log_retention_years = _number("Log rows are kept at least (years)")


class HostForm(FlaskForm):
    name = StringField("Full name")
    email = StringField("Email")
    department = StringField("Department (optional)")


class ImportForm(FlaskForm):
    file = FileField("CSV file of the directory")


def _site_or_404(site_id: int) -> Site:
    """One of the administrator's own sites; any other is as if absent."""
    require_site(site_id)
    site = db().get(Site, site_id)
    if site is None:
        abort(404)

    return site


# The list of sites, and a new one


@bp.get("/")
@allow(ADMIN)
def index():
    return _index_page(NewSiteForm(formdata=None))


def _index_page(form: NewSiteForm, status: int = 200):
    form.timezone.choices = _zones()
    return render_template(
        "console/sites_admin/index.html", sites=current_user.sites, form=form
    ), status


@bp.post("/")
@allow(ADMIN)
def create():
    """Create a site with its empty log; the administrator reaches it from now on."""
    form = NewSiteForm()
    form.timezone.choices = _zones()
    if not form.validate_on_submit():
        return _index_page(form, 400)

    try:
        with transaction():
            site = sites.create_site(
                db(),
                code=form.code.data or "",
                name=form.name.data or "",
                timezone=form.timezone.data or "",
                actor=current_user.user,
                address=client_address(),
            )
            current_user.user.sites.append(site)
    except TextError as error:
        form.form_errors.append(str(error))
        return _index_page(form, 400)

    flash(
        f"Site {site.name} created with an empty log. Add its hosts, kiosks and "
        "staff next.",
        "ok",
    )
    return redirect(url_for("sites_admin.settings", site_id=site.id))


# A site's settings


def _settings_page(site: Site, form: SettingsForm, status: int = 200):
    form.timezone.choices = _zones()
    smtp = current_app.config["SETTINGS"].SMTP_HOST
    return render_template(
        "console/sites_admin/settings.html",
        site=site,
        form=form,
        action_form=ActionForm(),
        smtp=smtp,
    ), status


@bp.get("/<int:site_id>")
@allow(ADMIN)
def settings(site_id: int):
    site = _site_or_404(site_id)
    return _settings_page(site, SettingsForm(formdata=None, obj=site))


@bp.post("/<int:site_id>")
@allow(ADMIN)
def save_settings(site_id: int):
    """Save every setting at once; a refused one leaves all of them as they were."""
    site = _site_or_404(site_id)
    form = SettingsForm()
    form.timezone.choices = _zones()
    if not form.validate_on_submit():
        return _settings_page(site, form, 400)

    names = [setting.name for setting in fields(sites.SiteSettings)]
    wanted = sites.SiteSettings(**{name: getattr(form, name).data for name in names})
    try:
        with transaction():
            changed = sites.update_settings(
                db(), site, wanted, actor=current_user.user, address=client_address()
            )
    except sites.SettingsError as error:
        for name, message in error.errors.items():
            getattr(form, name).errors.append(message)

        return _settings_page(site, form, 400)

    if changed:
        flash(f"Settings of {site.name} saved.", "ok")
    else:
        flash("Nothing was changed.", "ok")

    return redirect(url_for("sites_admin.settings", site_id=site.id))


@bp.post("/<int:site_id>/test-email")
@allow(ADMIN)
def test_email(site_id: int):
    """Queue an email to the administrator, to prove the mail settings work."""
    site = _site_or_404(site_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    recipient = current_user.email
    if not recipient:
        flash(
            "Your account has no email address: ask another administrator to add "
            "one under Users, then send the test again.",
            "error",
        )
        return redirect(url_for("sites_admin.settings", site_id=site.id))

    with transaction():
        mail.queue(
            db(),
            site_id=site.id,
            recipient=recipient,
            subject=f"Gatekeeper test email from {site.name}",
            body=(
                f"{current_user.display_name} sent this test from the console of "
                f"{site.name}. If you can read it, arrival notices, invitations and "
                "consignee notices reach their recipients.\n"
            ),
        )
        audit.record(
            db(),
            "mail.test",
            actor=current_user.user,
            site_id=site.id,
            target=f"site:{site.code}",
            address=client_address(),
            recipient=recipient,
        )

    flash(f"A test email to {recipient} is in the Outbox; see there if it went.", "ok")
    return redirect(url_for("sites_admin.settings", site_id=site.id))


# The host directory


def _hosts_page(site: Site, *, form=None, import_form=None, report=None, status=200):
    return render_template(
        "console/sites_admin/hosts.html",
        site=site,
        hosts=sites.directory(db(), site.id),
        form=form or HostForm(formdata=None),
        import_form=import_form or ImportForm(formdata=None),
        action_form=ActionForm(),
        report=report,
        max_rows=hosts_import.MAX_ROWS,
    ), status


def _host_or_404(site: Site, host_id: int) -> Host:
    host = db().get(Host, host_id)
    if host is None or host.site_id != site.id:
        abort(404)

    return host


@bp.get("/<int:site_id>/hosts")
@allow(ADMIN)
def hosts(site_id: int):
    return _hosts_page(_site_or_404(site_id))


@bp.post("/<int:site_id>/hosts")
@allow(ADMIN)
def add_host(site_id: int):
    site = _site_or_404(site_id)
    form = HostForm()
    if not form.validate_on_submit():
        return _hosts_page(site, form=form, status=400)

    try:
        with transaction():
            host = sites.add_directory_host(
                db(),
                site,
                name=form.name.data or "",
                email=form.email.data or "",
                department=form.department.data or "",
                actor=current_user.user,
                address=client_address(),
            )
    except TextError as error:
        form.form_errors.append(str(error))
        return _hosts_page(site, form=form, status=400)

    flash(f"{host.name} added to the directory of {site.name}.", "ok")
    return redirect(url_for("sites_admin.hosts", site_id=site.id))


@bp.post("/<int:site_id>/hosts/<int:host_id>/deactivate")
@allow(ADMIN)
def deactivate_host(site_id: int, host_id: int):
    """Take a host off the kiosk's list; visits that named them keep the name."""
    return _set_active(site_id, host_id, False)


@bp.post("/<int:site_id>/hosts/<int:host_id>/reactivate")
@allow(ADMIN)
def reactivate_host(site_id: int, host_id: int):
    return _set_active(site_id, host_id, True)


def _set_active(site_id: int, host_id: int, active: bool):
    site = _site_or_404(site_id)
    host = _host_or_404(site, host_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    with transaction():
        sites.set_host_active(
            db(), host, active, actor=current_user.user, address=client_address()
        )

    where = "back on" if active else "off"
    flash(f"{host.name} is {where} the kiosk's list of hosts.", "ok")
    return redirect(url_for("sites_admin.hosts", site_id=site.id))


@bp.post("/<int:site_id>/hosts/import")
@allow(ADMIN)
def import_hosts(site_id: int):
    """Import a CSV file row by row and show what became of each row."""
    site = _site_or_404(site_id)
    form = ImportForm()
    upload = form.file.data if form.validate_on_submit() else None
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors.append("Choose the CSV file to import.")
        return _hosts_page(site, import_form=form, status=400)

    data = upload.read(hosts_import.MAX_BYTES + 1)
    try:
        with transaction():
            report = hosts_import.import_hosts(
                db(), site, data, actor=current_user.user, address=client_address()
            )
    except hosts_import.HostFileError as error:
        form.file.errors.append(str(error))
        return _hosts_page(site, import_form=form, status=400)

    return _hosts_page(site, report=report)
