"""Rate limits counted in Redis hold across app servers; counted in each process's
memory, every server (and every worker) would allow the whole limit again. Without
Redis, each process still counts on its own rather than failing the request."""

import pytest

from gatekeeper import migrate
from gatekeeper.db import make_engine
from tests.deploy.processes import (
    Browser,
    free_port,
    gunicorns,
    production_env,
    unique_addresses,
)

LIMIT = 3


def _migrated_sqlite(tmp_path) -> str:
    """A database migrated beforehand, so two servers do not both create tables."""
    url = f"sqlite:///{tmp_path / 'gatekeeper.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.mark.parametrize(
    ("storage", "refused_after_limit"), [("redis", True), ("memory://", False)]
)
def test_sign_in_attempts_are_counted_across_two_app_servers(
    tmp_path, request, storage, refused_after_limit
):
    uri = request.getfixturevalue("redis_url") if storage == "redis" else storage
    database_url = _migrated_sqlite(tmp_path)
    env = production_env(
        tmp_path / "instance",
        database_url,
        RATELIMIT_STORAGE_URI=uri,
        LOGIN_RATE_PER_ADDRESS=f"{LIMIT} per 5 minutes",
        TRUST_PROXY="true",
        COOKIE_SECURE="false",
        # One worker each, so memory counting splits the attempts exactly in two.
        GUNICORN_WORKERS="1",
    )
    [address] = unique_addresses(1)

    with gunicorns([("console", free_port()), ("console", free_port())], env) as urls:
        browsers = [Browser(url, address) for url in urls]
        statuses = [
            browsers[attempt % 2].submit(
                "/login", {"username": f"nobody-{address}", "password": "wrong"}
            )[0]
            for attempt in range(LIMIT + 1)
        ]

    assert statuses[:LIMIT] == [200] * LIMIT
    assert (statuses[LIMIT] == 429) is refused_after_limit


def test_an_app_server_keeps_limiting_in_memory_while_redis_is_down(tmp_path):
    database_url = _migrated_sqlite(tmp_path)
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    env = production_env(
        tmp_path / "instance",
        database_url,
        RATELIMIT_STORAGE_URI=nothing_listens,
        LOGIN_RATE_PER_ADDRESS=f"{LIMIT} per 5 minutes",
        COOKIE_SECURE="false",
        GUNICORN_WORKERS="1",
    )

    with gunicorns([("console", free_port())], env) as [url]:
        browser = Browser(url)
        statuses = [
            browser.submit("/login", {"username": "nobody", "password": "wrong"})[0]
            for _ in range(LIMIT + 1)
        ]

    assert statuses == [200] * LIMIT + [429]
