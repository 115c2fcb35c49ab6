"""Fixtures by area live in tests/fixtures; this file only wires them together."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.apps",
]
