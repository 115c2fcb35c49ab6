"""Staff accounts: creation, sign-in with lockout, roles, sites (CTPAT 4.7, 4.8)."""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gatekeeper import audit, passwords
from gatekeeper.db import utcnow
from gatekeeper.models import ROLES, Site, User
from gatekeeper.sites import check_email
from gatekeeper.text import TextError, clean_name

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class AccountError(ValueError):
    """A change to an account that cannot be made; the message is for the person."""


@dataclass
class SignIn:
    """The outcome of checking a username and password."""

    user: User | None
    error: str = ""


def new_session_token() -> str:
    return secrets.token_hex(16)


def generate_password() -> str:
    """A one-time password that passes the policy, for a first sign-in."""
    while True:
        candidate = secrets.token_urlsafe(15)
        if not passwords.problems(candidate):
            return candidate


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str,
    sites: list[Site],
    email: str = "",
    password: str | None = None,
    actor: User | str,
    address: str = "",
) -> tuple[User, str]:
    """Create an account; returns it and its one-time password for the first sign-in."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError(
            "Username: 3 to 64 lowercase letters, digits, dots, hyphens or underscores."
        )

    if session.scalar(select(User).where(func.lower(User.username) == username)):
        raise AccountError(f"The username {username!r} is taken.")

    if role not in ROLES:
        raise AccountError("Choose one of the roles.")

    if not sites:
        raise AccountError("An account needs at least one site.")

    try:
        display_name = clean_name(display_name, label="Name")
        email = check_email(email) if email.strip() else ""
    except TextError as error:
        raise AccountError(str(error)) from error

    one_time = password is None
    password = password or generate_password()
    faults = passwords.problems(password, username=username, name=display_name)
    if faults:
        raise AccountError(" ".join(faults))

    user = User(
        username=username,
        display_name=display_name,
        email=email,
        role=role,
        password_hash=passwords.hash_password(password),
        must_change_password=one_time,
        session_token=new_session_token(),
        sites=list(sites),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        "user.create",
        actor=actor,
        target=f"user {user.username}",
        address=address,
        role=role,
        sites=[site.code for site in sites],
    )
    return user, password


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    address: str,
    max_failures: int,
    lockout_minutes: int,
) -> SignIn:
    """Check a password, counting failures and locking the account after too many."""
    name = username.strip().lower()[:64]
    user = session.scalar(
        select(User).where(func.lower(User.username) == name).with_for_update()
    )
    if user is None:
        passwords.verify_password(passwords.DUMMY_HASH, password)
        audit.record(session, "login.failure", actor=name, address=address)
        return SignIn(None, "Wrong username or password.")

    now = utcnow()
    if user.locked_until and user.locked_until > now:
        audit.record(session, "login.locked", actor=user, address=address)
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return SignIn(
            None,
            f"Too many failed sign-ins. Try again in {minutes} minutes, "
            "or ask an administrator.",
        )

    if not passwords.verify_password(user.password_hash, password):
        user.failed_logins += 1
        audit.record(
            session,
            "login.failure",
            actor=user,
            address=address,
            failures=user.failed_logins,
        )
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
            audit.record(session, "login.lockout", actor=user, address=address)

        return SignIn(None, "Wrong username or password.")

    if not user.active:
        audit.record(session, "login.disabled", actor=user, address=address)
        return SignIn(None, "This account is disabled. Ask an administrator.")

    user.failed_logins = 0
    user.locked_until = None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)

    return SignIn(user)


def complete_sign_in(session: Session, user: User, *, address: str) -> None:
    """Record a finished sign-in (after the second factor, where one is required)."""
    user.last_login_at = utcnow()
    audit.record(session, "login.success", actor=user, address=address)


def change_password(
    session: Session, user: User, current: str, new: str, *, address: str = ""
) -> None:
    """Change one's own password; ends the account's other sessions."""
    if not passwords.verify_password(user.password_hash, current):
        raise AccountError("Your current password is not right.")

    if new == current:
        raise AccountError("Choose a password different from the current one.")

    faults = passwords.problems(new, username=user.username, name=user.display_name)
    if faults:
        raise AccountError(" ".join(faults))

    user.password_hash = passwords.hash_password(new)
    user.must_change_password = False
    user.session_token = new_session_token()
    audit.record(session, "user.password_change", actor=user, address=address)


def set_active(
    session: Session, user: User, active: bool, *, actor: User, address: str = ""
) -> None:
    """Enable or disable an account; disabling ends its sessions at once (4.7)."""
    if user.id == actor.id and not active:
        raise AccountError("You cannot disable your own account.")

    user.active = active
    user.session_token = new_session_token()
    if active:
        user.locked_until = None
        user.failed_logins = 0

    action = "user.enable" if active else "user.disable"
    audit.record(
        session, action, actor=actor, target=f"user {user.username}", address=address
    )


def set_role_and_sites(
    session: Session,
    user: User,
    *,
    role: str,
    sites: list[Site],
    actor: User,
    address: str = "",
) -> None:
    """Change what an account may reach; its sessions end so the change applies now."""
    if role not in ROLES:
        raise AccountError("Choose one of the roles.")

    if not sites:
        raise AccountError("An account needs at least one site.")

    if user.id == actor.id and role != user.role:
        raise AccountError("You cannot change your own role.")

    before = (user.role, sorted(site.code for site in user.sites))
    user.role = role
    user.sites = list(sites)
    user.session_token = new_session_token()
    audit.record(
        session,
        "user.access_change",
        actor=actor,
        target=f"user {user.username}",
        address=address,
        before={"role": before[0], "sites": before[1]},
        after={"role": role, "sites": sorted(site.code for site in sites)},
    )


def reset_password(
    session: Session, user: User, *, actor: User, address: str = ""
) -> str:
    """Give an account a new one-time password and end its sessions."""
    password = generate_password()
    user.password_hash = passwords.hash_password(password)
    user.must_change_password = True
    user.session_token = new_session_token()
    user.locked_until = None
    user.failed_logins = 0
    audit.record(
        session,
        "user.password_reset",
        actor=actor,
        target=f"user {user.username}",
        address=address,
    )
    return password


def reset_mfa(session: Session, user: User, *, actor: User, address: str = "") -> None:
    """Clear an account's second factor so it enrols again at its next sign-in."""
    user.totp_secret = None
    user.mfa_enrolled_at = None
    user.totp_last_step = 0
    user.session_token = new_session_token()
    audit.record(
        session,
        "user.mfa_reset",
        actor=actor,
        target=f"user {user.username}",
        address=address,
    )


def load_by_session_id(session: Session, session_id: str) -> User | None:
    """The active user a session cookie names, or None when the session has ended."""
    user_id, _, token = session_id.partition(":")
    # isdigit() alone also accepts digits int() cannot read, such as "²"; and ids are
    # 32-bit integers, so a longer number must be a miss rather than a database error.
    if not (user_id.isascii() and user_id.isdigit()) or not token:
        return None

    if int(user_id) >= 2**31:
        return None

    user = session.get(User, int(user_id))
    if user is None or not user.active:
        return None

    if not secrets.compare_digest(user.session_token, token):
        return None

    return user
