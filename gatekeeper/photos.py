"""Encryption at rest for photos of people and their documents (CTPAT 4.12).

The key is the instance's PHOTO_KEY, a Fernet key; a sealed photo also carries the
time it was sealed and cannot be altered without open_sealed noticing.
"""

from cryptography.fernet import Fernet, InvalidToken


class PhotoError(ValueError):
    """A sealed photo that cannot be opened: wrong key, or altered since sealing."""


def seal(key: str, data: bytes) -> bytes:
    """Encrypt and authenticate a photo for storage."""
    return _fernet(key).encrypt(data)


def open_sealed(key: str, token: bytes) -> bytes:
    """The photo sealed in a token; PhotoError when the key or the token is wrong."""
    try:
        return _fernet(key).decrypt(token)
    except InvalidToken as error:
        raise PhotoError(
            "The photo cannot be opened: the key is wrong or it was altered."
        ) from error


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except ValueError as error:
        raise PhotoError("PHOTO_KEY is not a Fernet key.") from error
