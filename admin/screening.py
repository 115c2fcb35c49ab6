"""The security manager's lists: the block list and the photo-ID exemptions (10.2).

Both are kept per site, for the site the console is switched to; entries are never
deleted, only removed or revoked with who and when, and every change is audited
(gatekeeper.screening does both).
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from admin.access import allow, current_site, require_site
from admin.forms import BLOCK_KIND_LABELS, ActionForm, BlockEntryForm, ExemptionForm
from gatekeeper import screening
from gatekeeper.models import BlockListEntry, Exemption
from gatekeeper.text import TextError
from gatekeeper.web import client_address, db, transaction

bp = Blueprint("screening", __name__)

MANAGER = "security_manager"


def _block_list_page(form: BlockEntryForm, status: int = 200):
    site = current_site()
    return render_template(
        "console/screening/block_list.html",
        site=site,
        entries=screening.active_entries(db(), site.id),
        form=form,
        action_form=ActionForm(),
        kinds=BLOCK_KIND_LABELS,
    ), status


@bp.get("/block-list")
@allow(MANAGER)
def block_list():
    """The site's block list: people, companies and ID numbers, with aliases."""
    return _block_list_page(BlockEntryForm(formdata=None))


@bp.post("/block-list")
@allow(MANAGER)
def add_block():
    form = BlockEntryForm()
    if not form.validate_on_submit():
        return _block_list_page(form, 400)

    site = current_site()
    try:
        with transaction():
            entry = screening.add_entry(
                db(),
                site,
                kind=form.kind.data,
                value=form.value.data,
                aliases=form.aliases.data,
                reason=form.reason.data,
                actor=current_user.user,
                address=client_address(),
            )
    except TextError as error:
        form.form_errors.append(str(error))
        return _block_list_page(form, 400)

    flash(f"{entry.value} is on the block list of {site.name}.", "ok")
    return redirect(url_for("screening.block_list"))


@bp.post("/block-list/<int:entry_id>/remove")
@allow(MANAGER)
def remove_block(entry_id: int):
    entry = db().get(BlockListEntry, entry_id)
    if entry is None:
        abort(404)

    require_site(entry.site_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    try:
        with transaction():
            screening.remove_entry(
                db(), entry, actor=current_user.user, address=client_address()
            )
    except TextError as error:
        flash(str(error), "error")
    else:
        flash(f"{entry.value} is off the block list.", "ok")

    return redirect(url_for("screening.block_list"))


def _exemptions_page(form: ExemptionForm, status: int = 200):
    site = current_site()
    return render_template(
        "console/screening/exemptions.html",
        site=site,
        exemptions=screening.active_exemptions(db(), site.id),
        form=form,
        action_form=ActionForm(),
    ), status


@bp.get("/exemptions")
@allow(MANAGER)
def exemptions():
    """Frequent, well-known visitors excused from showing photo ID at this site."""
    return _exemptions_page(ExemptionForm(formdata=None))


@bp.post("/exemptions")
@allow(MANAGER)
def grant_exemption():
    form = ExemptionForm()
    if not form.validate_on_submit():
        return _exemptions_page(form, 400)

    site = current_site()
    try:
        with transaction():
            exemption = screening.grant_exemption(
                db(),
                site,
                person_name=form.person_name.data,
                company=form.company.data,
                note=form.note.data,
                actor=current_user.user,
                address=client_address(),
            )
    except TextError as error:
        form.form_errors.append(str(error))
        return _exemptions_page(form, 400)

    flash(
        f"{exemption.person_name} is exempt from showing photo ID at {site.name}.",
        "ok",
    )
    return redirect(url_for("screening.exemptions"))


@bp.post("/exemptions/<int:exemption_id>/revoke")
@allow(MANAGER)
def revoke_exemption(exemption_id: int):
    exemption = db().get(Exemption, exemption_id)
    if exemption is None:
        abort(404)

    require_site(exemption.site_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    try:
        with transaction():
            screening.revoke_exemption(
                db(), exemption, actor=current_user.user, address=client_address()
            )
    except TextError as error:
        flash(str(error), "error")
    else:
        flash(f"{exemption.person_name} must show photo ID again.", "ok")

    return redirect(url_for("screening.exemptions"))
