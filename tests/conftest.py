"""Fixtures by area live in tests/fixtures; this file only wires them together."""

import pytest
from argon2 import PasswordHasher

from gatekeeper import passwords

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.apps",
    "tests.fixtures.translations",
]


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing():
    """Argon2 with the smallest cost, so the many sign-ins of the suite stay quick.

    The rules, the verification and the rehash path are the production code's; only
    the work factor differs, and test_passwords checks the production hasher itself.
    """
    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    passwords._hasher = production
