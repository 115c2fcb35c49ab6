"""TOTP second factor and one-time recovery codes (CTPAT 4.8's recommended practice)."""

import hashlib
import io
import secrets

import pyotp
import qrcode
import qrcode.image.svg
from cryptography.fernet import Fernet, InvalidToken

from gatekeeper.db import utcnow
from gatekeeper.models import RecoveryCode, User

ISSUER = "Gatekeeper"
RECOVERY_CODE_COUNT = 10
# Accept the code of the previous and next 30-second step too: phone clocks drift.
VALID_WINDOW = 1


class MfaError(ValueError):
    """A code that cannot be accepted; the message is for the person who typed it."""


def new_secret() -> str:
    return pyotp.random_base32()


def seal_secret(key: str, secret: str) -> str:
    """Encrypt a TOTP secret for storage with the instance's data key."""
    return Fernet(key.encode("ascii")).encrypt(secret.encode("ascii")).decode("ascii")


def open_secret(key: str, sealed: str) -> str:
    try:
        return Fernet(key.encode("ascii")).decrypt(sealed.encode("ascii")).decode()
    except InvalidToken as error:
        raise MfaError("The second factor cannot be read; ask an administrator.") from (
            error
        )


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> bytes:
    """The enrolment QR code as an SVG document, served from its own URL."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def accept_code(user: User, secret: str, code: str) -> None:
    """Check a TOTP code and refuse one already used, so a seen code cannot replay."""
    code = "".join(code.split())
    # isdigit() alone accepts digits of other scripts, which compare_digest refuses.
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        raise MfaError("Enter the 6-digit code from your authenticator app.")

    totp = pyotp.TOTP(secret)
    now = utcnow()
    step_now = totp.timecode(now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        step = step_now + offset
        if secrets.compare_digest(totp.generate_otp(step), code):
            if step <= user.totp_last_step:
                raise MfaError("That code was already used; wait for the next one.")

            user.totp_last_step = step
            return

    raise MfaError("That code is not right. Check the time on your phone and retry.")


def _digest(code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normalised.encode("ascii", "ignore")).hexdigest()


def issue_recovery_codes(session, user: User) -> list[str]:
    """Replace a user's recovery codes; the plain codes are shown once and not kept."""
    for old in session.query(RecoveryCode).filter_by(user_id=user.id):
        session.delete(old)

    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_digest(raw)))

    return codes


def use_recovery_code(session, user: User, code: str) -> bool:
    """Spend one unused recovery code; True when it was valid."""
    digest = _digest(code)
    match = (
        session.query(RecoveryCode)
        .filter_by(user_id=user.id, code_hash=digest, used_at=None)
        .with_for_update()
        .first()
    )
    if match is None:
        return False

    match.used_at = utcnow()
    return True


def remaining_recovery_codes(session, user: User) -> int:
    return session.query(RecoveryCode).filter_by(user_id=user.id, used_at=None).count()
