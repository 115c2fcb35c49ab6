"""Who may reach what in the console (CTPAT 4.7).

Every view declares who may call it with `allow`; one guard, run before every
request of the app, enforces it. A view that declares nothing is refused, so a
new route cannot forget its rule, and the access test walks the route table.
"""

import logging

from flask import Flask, abort, current_app, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user

from gatekeeper import accounts
from gatekeeper.models import Site, User
from gatekeeper.web import db, new_limiter

logger = logging.getLogger(__name__)

PUBLIC = "public"
SIGNED_IN = "signed_in"
STAFF_ON_SITE = ("front_desk", "guard", "security_manager")
# Reached before the password is changed: the change itself, and leaving.
WHILE_PASSWORD_EXPIRED = {"auth.change_password", "auth.logout"}

limiter = new_limiter()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in."
login_manager.session_protection = "basic"


class Staff(UserMixin):
    """The signed-in account as Flask-Login sees it.

    Its id carries the account's session token, so rotating the token (disable,
    role change, password change) ends every session of the account at once.
    """

    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_token}"

    def __getattr__(self, name):
        return getattr(self.user, name)


@login_manager.user_loader
def _load_user(session_id: str):
    user = accounts.load_by_session_id(db(), session_id)
    return Staff(user) if user else None


def allow(*who: str):
    """Declare who may call a view: roles, SIGNED_IN for any account, or PUBLIC."""

    def mark(view):
        view.allowed = frozenset(who)
        return view

    return mark


def configure(app: Flask) -> None:
    login_manager.init_app(app)
    app.before_request(_guard)


def _guard():
    if request.endpoint is None:
        return None

    view = current_app.view_functions.get(request.endpoint)
    allowed = getattr(view, "allowed", None)
    if request.endpoint == "static" or (allowed and PUBLIC in allowed):
        return None

    if allowed is None:
        logger.error("refused %s: the view declares no access rule", request.endpoint)
        abort(403)

    if not current_user.is_authenticated:
        return login_manager.unauthorized()

    session.permanent = True
    expired = current_user.must_change_password
    if expired and request.endpoint not in WHILE_PASSWORD_EXPIRED:
        return redirect(url_for("auth.change_password"))

    if SIGNED_IN not in allowed and current_user.role not in allowed:
        abort(403)

    return None


def current_site() -> Site:
    """The site the signed-in account is working on, one of its own."""
    sites = current_user.sites
    if not sites:
        abort(403, "This account has no site. Ask an administrator.")

    chosen = session.get("site_id")
    for site in sites:
        if site.id == chosen:
            return site

    return sites[0]


def require_site(site_id: int) -> None:
    """Refuse a record of a site the account is not scoped to (as if absent)."""
    if site_id not in current_user.site_ids:
        abort(404)
