"""Staff accounts, managed by administrators (CTPAT 4.7: access by role, removed
when a person leaves)."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from admin.access import allow
from admin.forms import AccessForm, ActionForm, UserForm
from gatekeeper import accounts
from gatekeeper.models import ROLE_LABELS, Site, User, user_sites
from gatekeeper.web import client_address, db, transaction

bp = Blueprint("users", __name__)


def _my_sites() -> list[Site]:
    return list(current_user.sites)


def _site_choices() -> dict[int, str]:
    return {site.id: site.name for site in _my_sites()}


def _chosen_sites(ids: list[int]) -> list[Site]:
    return [site for site in _my_sites() if site.id in set(ids)]


def _user_or_404(user_id: int) -> User:
    """An account that shares a site with this administrator, or 404."""
    user = db().get(User, user_id)
    if user is None or not (user.site_ids & current_user.site_ids):
        abort(404)

    return user


@bp.get("/")
@allow("administrator")
def index():
    query = (
        select(User)
        .join(user_sites)
        .where(user_sites.c.site_id.in_(current_user.site_ids))
        .distinct()
        .order_by(User.username)
    )
    return render_template(
        "console/users/index.html",
        users=db().scalars(query).all(),
        roles=ROLE_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@allow("administrator")
def create():
    form = UserForm()
    form.sites.choices = _site_choices()
    if form.validate_on_submit():
        try:
            with transaction():
                user, password = accounts.create_user(
                    db(),
                    username=form.username.data,
                    display_name=form.display_name.data,
                    email=form.email.data or "",
                    role=form.role.data,
                    sites=_chosen_sites(form.sites.data),
                    actor=current_user.user,
                    address=client_address(),
                )
        except accounts.AccountError as error:
            form.form_errors.append(str(error))
        else:
            return render_template(
                "console/users/password.html", user=user, password=password
            )

    return render_template("console/users/create.html", form=form)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@allow("administrator")
def edit(user_id: int):
    """Change an account's role and sites; shows its actions."""
    user = _user_or_404(user_id)
    form = AccessForm(obj=None)
    form.sites.choices = _site_choices()
    if not form.is_submitted():
        form.role.data = user.role
        form.sites.data = [site.id for site in user.sites]

    if form.validate_on_submit():
        # Sites outside this administrator's own stay as they were.
        kept = [site for site in user.sites if site.id not in current_user.site_ids]
        try:
            with transaction():
                accounts.set_role_and_sites(
                    db(),
                    user,
                    role=form.role.data,
                    sites=kept + _chosen_sites(form.sites.data),
                    actor=current_user.user,
                    address=client_address(),
                )
        except accounts.AccountError as error:
            form.form_errors.append(str(error))
        else:
            flash(f"Access of {user.username} changed; their sessions ended.", "ok")
            return redirect(url_for("users.edit", user_id=user.id))

    return render_template(
        "console/users/edit.html",
        user=user,
        form=form,
        action_form=ActionForm(),
        roles=ROLE_LABELS,
    )


def _account_action(user_id: int, change, done: str):
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    try:
        with transaction():
            result = change(user)
    except accounts.AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("users.edit", user_id=user.id))

    if isinstance(result, str):
        return render_template(
            "console/users/password.html", user=user, password=result
        )

    flash(done.format(username=user.username), "ok")
    return redirect(url_for("users.edit", user_id=user.id))


def _audit_args() -> dict:
    return {"actor": current_user.user, "address": client_address()}


@bp.post("/<int:user_id>/disable")
@allow("administrator")
def disable(user_id: int):
    return _account_action(
        user_id,
        lambda user: accounts.set_active(db(), user, False, **_audit_args()),
        "{username} is disabled and signed out everywhere.",
    )


@bp.post("/<int:user_id>/enable")
@allow("administrator")
def enable(user_id: int):
    return _account_action(
        user_id,
        lambda user: accounts.set_active(db(), user, True, **_audit_args()),
        "{username} is enabled.",
    )


@bp.post("/<int:user_id>/reset-password")
@allow("administrator")
def reset_password(user_id: int):
    return _account_action(
        user_id,
        lambda user: accounts.reset_password(db(), user, **_audit_args()),
        "",
    )


@bp.post("/<int:user_id>/reset-mfa")
@allow("administrator")
def reset_mfa(user_id: int):
    return _account_action(
        user_id,
        lambda user: accounts.reset_mfa(db(), user, **_audit_args()),
        "{username} will enrol a new authenticator at the next sign-in.",
    )
