"""Password rules after NIST SP 800-63B, and argon2 hashing (CTPAT 4.8).

Length counts, composition rules do not: at least 12 characters, and nothing from
the list of common passwords that ships with the zxcvbn package, nor a trivial
variant of one, nor the account's own name.
"""

import re
import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 128
SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "01234567890",
)
_hasher = PasswordHasher()


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def problems(password: str, *, username: str = "", name: str = "") -> list[str]:
    """What is wrong with a proposed password, as messages for the person choosing."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"Use at least {MIN_LENGTH} characters.")

    if len(password) > MAX_LENGTH:
        found.append(f"Use at most {MAX_LENGTH} characters.")

    lowered = password.lower()
    if _is_common(lowered):
        found.append("That password is on a list of common or breached passwords.")
    elif _is_repetitive(lowered):
        found.append("Avoid repeated or sequential characters.")

    context = [word.lower() for word in (username, *name.split()) if len(word) >= 4]
    if any(word in lowered for word in context):
        found.append("Do not use your name or username in your password.")

    return found


def _is_common(lowered: str) -> bool:
    common = _common_passwords()
    if lowered in common:
        return True

    core = re.sub(r"[\d\W_]+$", "", lowered)
    core = re.sub(r"^[\d\W_]+", "", core)
    return len(core) < MIN_LENGTH and (core in common or core == "")


def _is_repetitive(lowered: str) -> bool:
    if len(set(lowered)) <= 2:
        return True

    for sequence in SEQUENCES:
        if lowered in sequence * 2 or lowered in sequence[::-1] * 2:
            return True

    return False


def _normalise(password: str) -> str:
    """NFKC, as SP 800-63B asks: the same passphrase typed on another keyboard or
    system, composed differently, must still match."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(_normalise(password))


def verify_password(stored_hash: str, password: str) -> bool:
    """True when the password matches; never raises for a wrong or malformed hash."""
    try:
        return _hasher.verify(stored_hash, _normalise(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


# A hash to verify against when the username is unknown, so the answer takes as long.
DUMMY_HASH = _hasher.hash("not a real password, only for timing")
