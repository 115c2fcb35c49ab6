"""The password policy after NIST SP 800-63B, and argon2 hashing (CTPAT 4.8)."""

import unicodedata

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gatekeeper import passwords

GOOD = "amber lantern over quiet harbour"


def test_a_long_passphrase_is_accepted():
    assert passwords.problems(GOOD, username="gina.guard", name="Gina Guard") == []


@pytest.mark.parametrize(
    "password",
    [
        "тихая гавань под снегом",
        "静かな港に雪が降る夜の灯りを見る",
        "Zoë's café über den Fluß",
        "🌊 harbour lights at dawn",
    ],
)
def test_a_unicode_passphrase_is_accepted(password):
    assert passwords.problems(password) == []


@pytest.mark.parametrize("password", ["", "short", "elevenchars"])
def test_a_password_under_twelve_characters_is_refused(password):
    assert "Use at least 12 characters." in passwords.problems(password)


def test_a_password_over_the_maximum_length_is_refused():
    found = passwords.problems("amber lantern " * 10)

    assert found == [f"Use at most {passwords.MAX_LENGTH} characters."]


@pytest.mark.parametrize(
    "password",
    [
        "password1234",
        "qwertyuiop12",
        "Password1234!",
        "1234567890123",
        "!!football2024",
    ],
)
def test_a_common_password_or_a_trivial_variant_of_one_is_refused(password):
    assert passwords.problems(password) == [
        "That password is on a list of common or breached passwords."
    ]


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaaaa",
        "abababababab",
        "abcdefghijklmn",
        "nmlkjihgfedcba",
        "asdfghjklzxc",
        "XYZABCDEFGHIJ",
    ],
)
def test_repeated_or_sequential_characters_are_refused(password):
    assert passwords.problems(password) == ["Avoid repeated or sequential characters."]


@pytest.mark.parametrize(
    "password",
    ["my gina.guard secret", "the guard tower at dawn", "GINA likes lanterns"],
)
def test_a_password_containing_the_username_or_name_is_refused(password):
    found = passwords.problems(password, username="gina.guard", name="Gina Guard")

    assert found == ["Do not use your name or username in your password."]


def test_a_short_name_does_not_forbid_its_letters():
    # Words under four letters would refuse too much ("Al" is in "always").
    assert passwords.problems("always a lantern here", name="Al Li") == []


def test_a_hash_verifies_its_own_password_and_no_other():
    stored = passwords.hash_password(GOOD)

    assert stored.startswith("$argon2id$")
    assert GOOD not in stored
    assert passwords.verify_password(stored, GOOD)
    assert not passwords.verify_password(stored, GOOD.upper())
    assert not passwords.verify_password(stored, GOOD + " ")


def test_the_same_password_hashes_differently_each_time():
    assert passwords.hash_password(GOOD) != passwords.hash_password(GOOD)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=65536,t=3,p=4$broken",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    ],
)
def test_a_malformed_hash_verifies_nothing(stored):
    assert passwords.verify_password(stored, GOOD) is False


def test_a_truncated_hash_verifies_nothing():
    assert passwords.verify_password(passwords.hash_password(GOOD)[:-5], GOOD) is False


def test_a_hash_made_with_weaker_parameters_needs_rehashing():
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD)

    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password(GOOD))


def test_the_dummy_hash_refuses_any_password():
    assert not passwords.verify_password(passwords.DUMMY_HASH, GOOD)


# argon2 is deliberately slow, so the property is tried on a few examples only.
@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)
@given(st.text(min_size=passwords.MIN_LENGTH, max_size=40))
def test_any_accepted_password_verifies_against_its_own_hash(password):
    assume(passwords.problems(password) == [])

    stored = passwords.hash_password(password)

    assert passwords.verify_password(stored, password)
    assert not passwords.verify_password(stored, password + "x")


def test_a_passphrase_matches_whatever_unicode_composition_it_is_typed_in():
    composed = "café crème brûlée au lait"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed

    stored = passwords.hash_password(composed)

    assert passwords.verify_password(stored, decomposed)
