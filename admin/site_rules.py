"""A site's check-in rules, set by its security manager (CTPAT 10.2).

The visitor types the kiosk offers, with whether each needs an escort and a photo
ID and how long its badge lasts, and the site's verification mode: attended (the
front desk compares each ID before the badge prints) or self-service (the guard
does at the badge's first scan). Every change is audited.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from admin.access import allow, current_site, require_site
from admin.forms import VerificationModeForm, VisitorTypeForm
from gatekeeper import visitor_types
from gatekeeper.models import Site, VisitorType
from gatekeeper.text import TextError
from gatekeeper.web import client_address, db, transaction

bp = Blueprint("site_rules", __name__)

MANAGER = "security_manager"
NEW_PREFIX = "new"


def _page(*, new_form=None, failed=None, failed_id=None, mode_form=None, status=200):
    """The rules page; a form that failed is shown again with its errors."""
    site = current_site()
    kinds = visitor_types.for_site(db(), site.id, active_only=False)
    forms = {}
    for kind in kinds:
        if kind.id == failed_id:
            forms[kind.id] = failed
        else:
            forms[kind.id] = _type_form(kind, formdata=None, obj=kind)

    if new_form is None:
        new_form = VisitorTypeForm(
            formdata=None,
            prefix=NEW_PREFIX,
            escort_required=True,
            id_required=True,
            active=True,
        )

    mode_form = mode_form or VerificationModeForm(
        formdata=None, mode=site.verification_mode
    )
    return render_template(
        "console/site_rules/index.html",
        site=site,
        kinds=kinds,
        forms=forms,
        new_form=new_form,
        mode_form=mode_form,
    ), status


def _type_form(kind: VisitorType, **values) -> VisitorTypeForm:
    # Each type's form has its own prefix, so the fields of the several forms on
    # the page have distinct ids for their labels.
    return VisitorTypeForm(prefix=f"type-{kind.id}", **values)


@bp.get("/")
@allow(MANAGER, "administrator")
def index():
    return _page()


def _save(form: VisitorTypeForm, site: Site, code: str) -> VisitorType:
    with transaction():
        return visitor_types.save(
            db(),
            db().get(Site, site.id),
            code=code,
            label=form.label.data,
            label_es=form.label_es.data,
            escort_required=form.escort_required.data,
            id_required=form.id_required.data,
            badge_valid_hours=form.badge_valid_hours.data,
            active=form.active.data,
            actor=current_user.user,
            address=client_address(),
        )


@bp.post("/types/<int:type_id>")
@allow(MANAGER, "administrator")
def update_type(type_id: int):
    """Change a visitor type's label and rules; check-ins from now on follow them."""
    kind = db().get(VisitorType, type_id)
    if kind is None:
        abort(404)

    require_site(kind.site_id)
    site = _site_of(kind)
    form = _type_form(kind)
    if form.validate_on_submit():
        try:
            saved = _save(form, site, kind.code)
        except TextError as error:
            form.form_errors.append(str(error))
        else:
            flash(f"Visitor type {saved.label} saved.", "ok")
            return redirect(url_for("site_rules.index"))

    return _page(failed=form, failed_id=kind.id, status=400)


def _site_of(kind: VisitorType) -> Site:
    """The type's site, which must be the one the console shows: its page's forms
    are that site's, and a type of another site is changed after switching."""
    site = current_site()
    if kind.site_id != site.id:
        abort(404)

    return site


@bp.post("/types")
@allow(MANAGER, "administrator")
def add_type():
    """Add a visitor type of the site's own, e.g. auditor or contractor."""
    site = current_site()
    form = VisitorTypeForm(prefix=NEW_PREFIX)
    if form.validate_on_submit():
        code = (form.code.data or "").strip().lower()
        taken = {
            k.code for k in visitor_types.for_site(db(), site.id, active_only=False)
        }
        if code in taken:
            form.code.errors.append("That code is taken; change that type instead.")
        else:
            try:
                saved = _save(form, site, code)
            except TextError as error:
                form.form_errors.append(str(error))
            else:
                flash(f"Visitor type {saved.label} added.", "ok")
                return redirect(url_for("site_rules.index"))

    return _page(new_form=form, status=400)


@bp.post("/verification")
@allow(MANAGER, "administrator")
def set_verification():
    """Choose attended or self-service verification of photo IDs for the site."""
    site = current_site()
    form = VerificationModeForm()
    if form.validate_on_submit():
        try:
            with transaction():
                visitor_types.set_verification_mode(
                    db(),
                    db().get(Site, site.id),
                    form.mode.data,
                    actor=current_user.user,
                    address=client_address(),
                )
        except TextError as error:
            form.mode.errors.append(str(error))
        else:
            flash(f"{site.name} now verifies photo IDs {_mode_words(site)}.", "ok")
            return redirect(url_for("site_rules.index"))

    return _page(mode_form=form, status=400)


def _mode_words(site: Site) -> str:
    if site.verification_mode == "self_service":
        return "at the guard's first scan of the badge"

    return "at the front desk before the badge prints"
