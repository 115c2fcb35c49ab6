"""Kiosks: create one and get its enrolment code, rename it, replace its code,
revoke it."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField

from admin.access import allow, require_site
from admin.forms import ActionForm, KioskForm
from gatekeeper import kiosks
from gatekeeper.forms import CleanText
from gatekeeper.models import Kiosk
from gatekeeper.text import TextError
from gatekeeper.web import client_address, db, transaction

bp = Blueprint("kiosks", __name__)


class RenameKioskForm(FlaskForm):
    name = StringField("New name", validators=[CleanText("Kiosk name", 80)])


def _kiosk_or_404(kiosk_id: int) -> Kiosk:
    kiosk = db().get(Kiosk, kiosk_id)
    if kiosk is None:
        abort(404)

    require_site(kiosk.site_id)
    return kiosk


def _form() -> KioskForm:
    form = KioskForm()
    form.site_id.choices = {site.id: site.name for site in current_user.sites}
    return form


@bp.get("/")
@allow("administrator")
def index():
    query = (
        select(Kiosk)
        .where(Kiosk.site_id.in_(current_user.site_ids))
        .order_by(Kiosk.site_id, Kiosk.name)
    )
    return render_template(
        "console/kiosks/index.html",
        kiosks=db().scalars(query).all(),
        form=_form(),
        action_form=ActionForm(),
    )


@bp.post("/new")
@allow("administrator")
def create():
    form = _form()
    if form.validate_on_submit():
        site = next(s for s in current_user.sites if s.id == form.site_id.data)
        try:
            with transaction():
                kiosk, code = kiosks.create_kiosk(
                    db(),
                    site,
                    form.name.data,
                    actor=current_user.user,
                    address=client_address(),
                )
        except (kiosks.EnrolmentError, TextError) as error:
            form.name.errors.append(str(error))
        else:
            return render_template("console/kiosks/code.html", kiosk=kiosk, code=code)

    query = select(Kiosk).where(Kiosk.site_id.in_(current_user.site_ids))
    return render_template(
        "console/kiosks/index.html",
        kiosks=db().scalars(query).all(),
        form=form,
        action_form=ActionForm(),
    ), 400


@bp.post("/<int:kiosk_id>/code")
@allow("administrator")
def new_code(kiosk_id: int):
    """A fresh one-time code, to enrol a replacement device for the same kiosk."""
    kiosk = _kiosk_or_404(kiosk_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    try:
        with transaction():
            code = kiosks.replace_device(
                db(), kiosk, actor=current_user.user, address=client_address()
            )
    except kiosks.EnrolmentError as error:
        flash(str(error), "error")
        return redirect(url_for("kiosks.index"))

    return render_template("console/kiosks/code.html", kiosk=kiosk, code=code)


@bp.post("/<int:kiosk_id>/revoke")
@allow("administrator")
def revoke(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    with transaction():
        kiosks.revoke(db(), kiosk, actor=current_user.user, address=client_address())

    flash(f"Kiosk {kiosk.name} is revoked; it stops at its next request.", "ok")
    return redirect(url_for("kiosks.index"))


@bp.post("/<int:kiosk_id>/rename")
@allow("administrator")
def rename(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    form = RenameKioskForm()
    if not form.validate_on_submit():
        flash("Nothing was renamed. " + " ".join(form.name.errors), "error")
        return redirect(url_for("kiosks.index"))

    before = kiosk.name
    try:
        with transaction():
            kiosks.rename(
                db(),
                kiosk,
                form.name.data,
                actor=current_user.user,
                address=client_address(),
            )
    except (kiosks.EnrolmentError, TextError) as error:
        flash(f"Nothing was renamed. {error}", "error")
    else:
        flash(f"Kiosk {before} is now {kiosk.name}.", "ok")

    return redirect(url_for("kiosks.index"))
