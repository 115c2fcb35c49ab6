"""Signing in and out, the second factor, and one's own password (CTPAT 4.8)."""

import logging
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from admin.access import PUBLIC, SIGNED_IN, Staff, allow, limiter
from admin.forms import (
    ActionForm,
    ChangePasswordForm,
    CodeForm,
    EnrolMfaForm,
    LoginForm,
)
from gatekeeper import accounts, audit, mfa
from gatekeeper.db import utcnow
from gatekeeper.models import User
from gatekeeper.web import client_address, db, transaction

logger = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

# Between the password and the second factor: long enough to open the app.
PENDING_SECONDS = 300


def _settings():
    return current_app.config["SETTINGS"]


def _account_key() -> str:
    return "account:" + request.form.get("username", "").strip().lower()[:64]


def _pending_key() -> str:
    return f"pending:{session.get('pending', {}).get('id', '-')}"


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(lambda: _settings().LOGIN_RATE_PER_ADDRESS, methods=["POST"])
@limiter.limit(
    lambda: _settings().LOGIN_RATE_PER_ACCOUNT, key_func=_account_key, methods=["POST"]
)
def login():
    """Check the password; then the second factor, where the role requires one."""
    if current_user.is_authenticated:
        return redirect(url_for("console.index"))

    form = LoginForm()
    if form.validate_on_submit():
        settings = _settings()
        with transaction():
            outcome = accounts.sign_in(
                db(),
                form.username.data,
                form.password.data,
                address=client_address(),
                max_failures=settings.LOGIN_MAX_FAILURES,
                lockout_minutes=settings.LOGIN_LOCKOUT_MINUTES,
            )

        if outcome.user is None:
            form.form_errors.append(outcome.error)
        elif outcome.user.needs_mfa:
            return _start_second_factor(outcome.user)
        else:
            return _finish_sign_in(outcome.user)

    return render_template("console/auth/login.html", form=form)


def _start_second_factor(user: User) -> Response:
    session.clear()
    session["pending"] = {
        "id": user.id,
        "token": user.session_token,
        "until": time.time() + PENDING_SECONDS,
        "next": _safe_next(),
    }
    if user.mfa_enrolled_at is None:
        return redirect(url_for("auth.enrol_mfa"))

    return redirect(url_for("auth.second_factor"))


def _pending_user() -> User | None:
    pending = session.get("pending")
    if not pending or pending.get("until", 0) < time.time():
        return None

    return accounts.load_by_session_id(db(), f"{pending['id']}:{pending['token']}")


def _safe_next() -> str:
    """A same-site path to return to after signing in, never another host."""
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target

    return ""


def _finish_sign_in(user: User, next_path: str = "") -> Response:
    next_path = next_path or _safe_next()
    with transaction():
        accounts.complete_sign_in(db(), user, address=client_address())

    session.clear()
    login_user(Staff(user))
    session.permanent = True
    return redirect(next_path or url_for("console.index"))


@bp.route("/login/second-factor", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit("10 per 5 minutes", key_func=_pending_key, methods=["POST"])
def second_factor():
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))

    form = CodeForm()
    if form.validate_on_submit():
        with transaction():
            accepted, error = _check_code(user, form.code.data)

        if accepted:
            return _finish_sign_in(user, session["pending"].get("next", ""))

        form.code.errors.append(error)

    return render_template("console/auth/second_factor.html", form=form)


def _check_code(user: User, code: str) -> tuple[bool, str]:
    """A TOTP code, or a recovery code; each use and failure is audited."""
    address = client_address()
    compact = "".join(code.split())
    if compact.isdigit():
        try:
            secret = mfa.open_secret(_settings().PHOTO_KEY, user.totp_secret or "")
            mfa.accept_code(user, secret, compact)
        except mfa.MfaError as error:
            audit.record(db(), "login.mfa_failure", actor=user, address=address)
            return False, str(error)

        return True, ""

    if mfa.use_recovery_code(db(), user, compact):
        left = mfa.remaining_recovery_codes(db(), user)
        audit.record(
            db(), "login.recovery_code", actor=user, address=address, remaining=left
        )
        return True, ""

    audit.record(db(), "login.mfa_failure", actor=user, address=address)
    return False, "That recovery code is not valid or was already used."


@bp.route("/mfa/enrol", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit("10 per 5 minutes", key_func=_pending_key, methods=["POST"])
def enrol_mfa():
    """Enrol an authenticator app by QR code; then show the recovery codes once."""
    user = _pending_user()
    if user is None or user.mfa_enrolled_at is not None:
        return redirect(url_for("auth.login"))

    if "mfa_secret" not in session:
        session["mfa_secret"] = mfa.new_secret()

    secret = session["mfa_secret"]
    form = EnrolMfaForm()
    if form.validate_on_submit():
        try:
            mfa.accept_code(user, secret, form.code.data)
        except mfa.MfaError as error:
            form.code.errors.append(str(error))
        else:
            return _complete_enrolment(user, secret)

    return render_template(
        "console/auth/enrol_mfa.html", form=form, secret=secret, username=user.username
    )


def _complete_enrolment(user: User, secret: str) -> str:
    next_path = session["pending"].get("next", "")
    with transaction():
        user.totp_secret = mfa.seal_secret(_settings().PHOTO_KEY, secret)
        user.mfa_enrolled_at = utcnow()
        codes = mfa.issue_recovery_codes(db(), user)
        audit.record(db(), "mfa.enrol", actor=user, address=client_address())
        accounts.complete_sign_in(db(), user, address=client_address())

    session.clear()
    login_user(Staff(user))
    session.permanent = True
    return render_template(
        "console/auth/recovery_codes.html",
        codes=codes,
        next_path=next_path or url_for("console.index"),
    )


@bp.get("/mfa/qr.svg")
@allow(PUBLIC)
def enrolment_qr():
    user = _pending_user()
    secret = session.get("mfa_secret")
    if user is None or secret is None:
        return redirect(url_for("auth.login"))

    svg = mfa.qr_svg(mfa.provisioning_uri(secret, user.username))
    return Response(svg, mimetype="image/svg+xml")


@bp.post("/account/recovery-codes")
@allow(SIGNED_IN)
def new_recovery_codes():
    """Replace one's recovery codes (the old ones stop working)."""
    form = ActionForm()
    if not form.validate_on_submit() or not current_user.mfa_enrolled_at:
        abort(400)

    with transaction():
        codes = mfa.issue_recovery_codes(db(), current_user.user)
        audit.record(
            db(),
            "mfa.recovery_codes",
            actor=current_user.user,
            address=client_address(),
        )

    return render_template(
        "console/auth/recovery_codes.html",
        codes=codes,
        next_path=url_for("auth.account"),
    )


@bp.get("/account")
@allow(SIGNED_IN)
def account():
    left = mfa.remaining_recovery_codes(db(), current_user.user)
    return render_template(
        "console/auth/account.html", form=ActionForm(), recovery_left=left
    )


@bp.route("/account/password", methods=["GET", "POST"])
@allow(SIGNED_IN)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user.user
        try:
            with transaction():
                accounts.change_password(
                    db(),
                    user,
                    form.current.data,
                    form.new.data,
                    address=client_address(),
                )
        except accounts.AccountError as error:
            form.new.errors.append(str(error))
        else:
            # The token rotated: sign this session in again with the new one.
            login_user(Staff(user))
            return redirect(url_for("console.index"))

    return render_template("console/auth/change_password.html", form=form)


@bp.post("/logout")
@allow(PUBLIC)
def logout():
    form = ActionForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        with transaction():
            audit.record(
                db(), "logout", actor=current_user.user, address=client_address()
            )

        logout_user()

    session.clear()
    return redirect(url_for("auth.login"))
