"""Invitations: the front desk pre-registers a visitor, who is emailed a QR code.

The list covers every site of the account; the form offers the active hosts of
those sites, and the host chosen decides the site of the invitation.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.validators import InputRequired

from admin.access import allow, require_site
from admin.forms import ActionForm
from gatekeeper import invitations, sites
from gatekeeper.forms import CleanName, CleanText
from gatekeeper.models import Host, Invitation
from gatekeeper.text import TextError
from gatekeeper.web import client_address, db, transaction

bp = Blueprint("invitations", __name__)
ROLES = ("front_desk", "security_manager", "administrator")


class InvitationForm(FlaskForm):
    visitor_name = StringField(
        "Visitor's name", validators=[CleanName("Visitor's name", 120)]
    )
    company = StringField("Company", validators=[CleanName("Company", 120)])
    email = EmailField(
        "Visitor's email", validators=[CleanText("Visitor's email", 254)]
    )
    expected_on = DateField(
        "Date of the visit",
        validators=[InputRequired("Enter the date of the visit.")],
    )
    host_id = SelectField(
        "Host", coerce=int, validators=[InputRequired("Choose the host.")]
    )


def _hosts() -> list[Host]:
    """The active hosts of the account's sites, by site then name."""
    found = []
    for site in current_user.sites:
        found.extend(sites.active_hosts(db(), site.id))

    return found


def _form() -> InvitationForm:
    form = InvitationForm()
    several = len(current_user.sites) > 1
    form.host_id.choices = [
        (host.id, f"{host.name} ({host.site.name})" if several else host.name)
        for host in _hosts()
    ]
    return form


def _invitation_or_404(invitation_id: int) -> Invitation:
    invitation = db().get(Invitation, invitation_id)
    if invitation is None:
        abort(404)

    require_site(invitation.site_id)
    return invitation


def _printable_date(day) -> str:
    """A day as the lists show it: weekday and ISO date, e.g. "Tue 2026-03-03"."""
    return f"{day:%a} {day:%Y-%m-%d}"


@bp.get("/")
@allow(*ROLES)
def index():
    """Upcoming invitations of each of the account's sites, then past ones."""
    listings = [
        {
            "site": site,
            "today": invitations.site_today(site),
            "upcoming": invitations.upcoming(db(), site),
            "past": invitations.past(db(), site),
        }
        for site in current_user.sites
    ]
    return render_template(
        "console/invitations/index.html",
        listings=listings,
        status=invitations.status,
        printable_date=_printable_date,
        action_form=ActionForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
@allow(*ROLES)
def create():
    form = _form()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("console/invitations/new.html", form=form), status

    host = db().get(Host, form.host_id.data)
    if host is None or host.site_id not in current_user.site_ids:
        abort(400)

    try:
        with transaction():
            invitation, _code = invitations.create(
                db(),
                host.site,
                visitor_name=form.visitor_name.data,
                company=form.company.data,
                email=form.email.data,
                expected_on=form.expected_on.data,
                host_id=host.id,
                actor=current_user.user,
                address=client_address(),
            )
    except TextError as error:
        form.form_errors.append(str(error))
        return render_template("console/invitations/new.html", form=form), 400

    flash(
        f"{invitation.visitor_name} is invited for "
        f"{_printable_date(invitation.expected_on)}; the email with the QR code "
        f"is in the outbox.",
        "ok",
    )
    return redirect(url_for("invitations.index"))


@bp.post("/<int:invitation_id>/cancel")
@allow(*ROLES)
def cancel(invitation_id: int):
    invitation = _invitation_or_404(invitation_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    try:
        with transaction():
            invitations.cancel(
                db(), invitation, current_user.user, address=client_address()
            )
    except TextError as error:
        flash(str(error), "error")
    else:
        flash(f"The invitation of {invitation.visitor_name} is cancelled.", "ok")

    return redirect(url_for("invitations.index"))
