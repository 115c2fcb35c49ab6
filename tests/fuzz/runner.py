"""Send a route its fuzzed examples, each checked the same way (conftest.Watch).

A route's examples all go through one caller, signed in (or enrolled) before the
first; a kiosk route's draft is put back before each example where its target says
which step it stands at, so every example meets the same screen.
"""

import io
import re

from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.fuzz.conftest import Watch, World, check_markup
from tests.fuzz.payloads import MARKER, form_body, hostile_text
from tests.fuzz.targets import Target

# The share of examples that send no CSRF token or a forged one, that name a record
# which does not exist, and that leave a route's file out.
BAD_TOKEN = 0.05
MISSING_RECORD = 0.03
MISSING_FILE = 0.1
MISSING_ID = 999_999
# PostgreSQL takes this share of a route's examples; SQLite takes them all.
POSTGRES_SHARE = 8


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )


def example_count(world: World, target: Target) -> int:
    if world.backend == "sqlite":
        return target.examples

    return max(5, target.examples // POSTGRES_SHARE)


def route_url(app, endpoint: str, ids: dict, *, missing: bool = False) -> str:
    """The route's address with the world's records, or one that does not exist."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {name: MISSING_ID if missing else ids[name] for name in rule.arguments}
    with app.test_request_context():
        return url_for(endpoint, **values)


def page_token(client, path: str) -> str:
    page = client.get(path)
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data)
    assert match, f"no CSRF token on {path}: {page.status_code}"
    return match.group(1).decode()


def csv_bytes() -> st.SearchStrategy:
    """A CSV upload: a usable header with hostile rows, or any bytes at all."""
    header = "reference,carrier,driver_name,truck_number,expected_at,name,email"
    rows = st.lists(
        st.lists(hostile_text, min_size=1, max_size=8).map(
            lambda cells: ",".join(c.replace("\n", " ") for c in cells)
        ),
        max_size=5,
    )
    return st.one_of(
        rows.map(lambda lines: "\n".join([header, *lines]).encode("utf-8", "replace")),
        st.binary(max_size=1024),
        st.just(b"\xff\xfe\x00\x00"),
        st.just(b"a,b\n" + b"x," * 50_000),
    )


def _body(data, rng, target: Target, ids: dict, token: str):
    fields = {name.format(**ids): kind for name, kind in target.fields.items()}
    pairs = data.draw(form_body(fields), label="form")
    for name, kind in target.files.items():
        if rng.random() < MISSING_FILE:
            continue

        strategy = csv_bytes() if kind == "csv" else kind
        content = data.draw(strategy, label=name)
        names = ["photo.jpg", "a.png", "x.svg", MARKER + ".jpg"]
        filename = data.draw(st.sampled_from(names))
        pairs.append((name, FileStorage(io.BytesIO(content), filename)))

    if rng.random() >= BAD_TOKEN:
        pairs.append(("csrf_token", token))
    elif rng.random() < 0.5:
        pairs.append(("csrf_token", data.draw(hostile_text)))

    return pairs


def post(client, url: str, pairs: list, token: str):
    """POST the pairs: multipart when a file is among them, encoded here in memory
    as the kiosk tests' post_file explains; otherwise as a plain form."""
    headers = {"X-CSRFToken": token} if ("csrf_token", token) in pairs else {}
    if not any(isinstance(value, FileStorage) for _, value in pairs):
        return client.post(url, data=MultiDict(pairs), headers=headers)

    boundary, body = encode_multipart(MultiDict(pairs))
    return client.post(
        url,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


def follow(client, response) -> None:
    """Open where a success sends the caller: a stored value shows up there."""
    location = response.location or ""
    if 300 <= response.status_code < 400 and location.startswith("/"):
        page = client.get(location)
        check_markup(page)
        page.close()


def fuzz_route(
    world: World,
    app,
    endpoint: str,
    target: Target,
    client,
    *,
    token_page: str,
    figures,
    restore=None,
) -> None:
    """Run a route's examples; restore() puts the caller back before each one."""
    token = page_token(client, token_page)
    ids = world.ids
    watch = Watch(world)

    @fuzz_settings(example_count(world, target))
    @given(st.data())
    def example(data):
        if restore is not None:
            restore()

        # Hypothesis favours the ends of a range; the shares of examples with a
        # forged token or a missing record are drawn from a plain generator.
        rng = data.draw(st.randoms(use_true_random=True))
        url = route_url(app, endpoint, ids, missing=rng.random() < MISSING_RECORD)
        pairs = _body(data, rng, target, ids, token)
        watch.start()
        response = post(client, url, pairs, token)
        accepted = watch.check(
            response, may_write=target.refusal_writes, partial=target.partial
        )
        if accepted:
            follow(client, response)

        response.close()
        figures.add(f"examples ({world.backend})")

    try:
        example()
    finally:
        watch.close()
