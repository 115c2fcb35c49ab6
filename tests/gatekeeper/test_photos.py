"""Photos sealed at rest with the instance's PHOTO_KEY."""

import pytest
from cryptography.fernet import Fernet

from gatekeeper import photos

PHOTO = b"\xff\xd8\xff\xe0 a photo of an ID card \xff\xd9"


@pytest.fixture
def key() -> str:
    return Fernet.generate_key().decode("ascii")


def test_a_sealed_photo_opens_with_the_same_key(key):
    token = photos.seal(key, PHOTO)

    assert photos.open_sealed(key, token) == PHOTO


def test_a_sealed_photo_does_not_carry_the_photo_in_clear(key):
    assert b"ID card" not in photos.seal(key, PHOTO)


def test_a_sealed_photo_does_not_open_with_another_key(key):
    token = photos.seal(key, PHOTO)
    other = Fernet.generate_key().decode("ascii")

    with pytest.raises(photos.PhotoError, match="key is wrong or it was altered"):
        photos.open_sealed(other, token)


@pytest.mark.parametrize("position", [0, 20, 60, -1])
def test_a_tampered_token_does_not_open(key, position):
    token = bytearray(photos.seal(key, PHOTO))
    token[position] = ord("A") if token[position] != ord("A") else ord("B")

    with pytest.raises(photos.PhotoError):
        photos.open_sealed(key, bytes(token))


def test_a_truncated_token_does_not_open(key):
    token = photos.seal(key, PHOTO)

    with pytest.raises(photos.PhotoError):
        photos.open_sealed(key, token[:-10])


def test_a_key_that_is_not_a_fernet_key_is_refused_clearly():
    with pytest.raises(photos.PhotoError, match="PHOTO_KEY"):
        photos.seal("not-a-key", PHOTO)
