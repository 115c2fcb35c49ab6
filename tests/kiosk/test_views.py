"""The kiosk's screens: sign-out, language, reset, and what every page carries
(CTPAT 10.2: the visit is logged with the fields the criteria name). The check-in's
steps have their own modules, test_check_in*.py."""

import re
import unicodedata

import pytest

from gatekeeper import sites, visits
from gatekeeper.models import LogEntry, Site, Visit
from tests.fixtures.apps import csrf_token
from tests.functional import (
    assert_plain_error_page,
    hidden_value,
    inline_scripts,
    log_kinds,
    rows,
)

INLINE_HANDLER = re.compile(rb"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def _visit_elsewhere(db_sessions, other_site) -> str:
    """A visit at the other site, made at its front desk; returns its badge number."""
    with db_sessions.begin() as session:
        site = session.get(Site, other_site.id)
        visit = visits.check_in(
            session,
            site=site,
            kiosk=None,
            visitor_name="Somebody Else",
            company="North Co",
            host_id=sites.active_hosts(session, site.id)[0].id,
            visitor_type="visitor",
            id_type="passport",
        )
        return visit.badge_number


def _sign_out(client, badge_number: str):
    return client.post(
        "/sign-out",
        data={
            "badge_number": badge_number,
            "csrf_token": csrf_token(client, "/sign-out"),
        },
    )


def test_a_step_posted_without_its_csrf_token_is_refused_with_a_plain_page(
    visitor, db_sessions
):
    visitor.post("/check-in", visitor_type="visitor")

    response = visitor.client.post(
        "/check-in/identity", data={"visitor_name": "Jane Roe", "company": "Acme"}
    )

    assert_plain_error_page(response, 400, "This form expired.")
    assert visitor.client.get("/check-in/id-type").location.endswith(
        "/check-in/identity"
    )


@pytest.mark.parametrize("name", ["Zoë Ñúñez", "李小龍", "Ngũgĩ wa Thiong'o"])
def test_names_in_any_script_are_accepted_and_stored_composed(
    visitor, db_sessions, name
):
    decomposed = unicodedata.normalize("NFD", name)
    visitor.check_in(name=decomposed, company=decomposed)

    [visit] = rows(db_sessions, Visit)
    assert visit.visitor_name == unicodedata.normalize("NFC", name)
    assert visit.company == unicodedata.normalize("NFC", name)


def test_a_visitor_signs_out_once_by_badge_number(visitor, kiosk_client, db_sessions):
    visitor.check_in()
    [visit] = rows(db_sessions, Visit)

    response = _sign_out(kiosk_client, visit.badge_number)
    assert response.status_code == 200
    assert b"You are signed out" in response.data

    [visit] = rows(db_sessions, Visit)
    assert visit.departed_at is not None
    assert visit.departed_by == f"kiosk:{visit.kiosk_id}"
    assert log_kinds(db_sessions) == ["visit.arrived", "visit.departed"]

    again = _sign_out(kiosk_client, visit.badge_number)
    assert again.status_code == 200
    assert b"This badge is already signed out." in again.data
    assert rows(db_sessions, Visit)[0].departed_at == visit.departed_at
    assert log_kinds(db_sessions) == ["visit.arrived", "visit.departed"]


@pytest.mark.parametrize(
    ("badge", "message"),
    [
        ("12345", b"A badge number is 6 digits."),
        ("12a456", b"A badge number is 6 digits."),
        ("1234567", b"A badge number is 6 digits."),
        # Digits of another script are not badge digits.
        ("\u0661\u0662\u0663\u0664\u0665\u0666", b"A badge number is 6 digits."),
        ("", b"Badge number is required."),
        ("999999", b"No visit has that badge number."),
    ],
)
def test_a_badge_number_that_names_no_visit_is_refused(
    kiosk_client, db_sessions, badge, message
):
    response = _sign_out(kiosk_client, badge)

    assert response.status_code == 200
    assert b'name="badge_number"' in response.data
    assert message in response.data
    assert rows(db_sessions, LogEntry) == []


def test_a_kiosk_cannot_sign_out_a_visit_of_another_site(
    kiosk_client, db_sessions, other_site
):
    badge = _visit_elsewhere(db_sessions, other_site)
    response = _sign_out(kiosk_client, badge)

    assert response.status_code == 200
    assert b"No visit has that badge number." in response.data
    [visit] = rows(db_sessions, Visit)
    assert visit.departed_at is None
    assert log_kinds(db_sessions) == ["visit.arrived"]


@pytest.mark.usefixtures("self_service")
def test_reset_forgets_the_language_and_the_badge_on_screen(visitor, kiosk_client):
    token = csrf_token(kiosk_client, "/")
    kiosk_client.post("/language", data={"lang": "es", "csrf_token": token})
    visitor.check_in()
    done = kiosk_client.get("/check-in/done")
    assert done.status_code == 200
    assert b'<html lang="es">' in done.data

    reset_token = hidden_value(done.data, "csrf_token")
    response = kiosk_client.post("/reset", data={"csrf_token": reset_token})
    assert response.status_code == 302

    after = kiosk_client.get("/check-in/done")
    assert after.status_code == 302
    assert after.location.endswith("/")
    assert b'<html lang="en">' in kiosk_client.get("/").data


@pytest.mark.usefixtures("self_service")
def test_the_start_screen_forgets_the_badge_of_the_last_visitor(visitor, kiosk_client):
    visitor.check_in()
    assert kiosk_client.get("/check-in/done").status_code == 200

    kiosk_client.get("/")

    assert kiosk_client.get("/check-in/done").status_code == 302
    assert kiosk_client.get("/check-in/status").status_code == 404


def test_the_start_screen_tells_the_browser_to_forget_the_badge_photo(kiosk_client):
    page = kiosk_client.get("/").data

    assert b'data-forget="true"' in page
    assert b'href="/check-in"' in page


def test_choosing_spanish_sets_the_page_language(kiosk_client):
    token = csrf_token(kiosk_client, "/")
    response = kiosk_client.post("/language", data={"lang": "es", "csrf_token": token})
    assert response.status_code == 302

    assert b'<html lang="es">' in kiosk_client.get("/").data
    assert b'<html lang="es">' in kiosk_client.get("/check-in").data


def test_an_unknown_language_is_ignored(kiosk_client):
    token = csrf_token(kiosk_client, "/")
    kiosk_client.post("/language", data={"lang": "xx", "csrf_token": token})

    assert b'<html lang="en">' in kiosk_client.get("/").data


def _responses_of_a_whole_visit(kiosk_app, visitor):
    """One response of each kind the kiosk gives, to a stranger and to a kiosk."""
    kiosk_client = visitor.client
    stranger = kiosk_app.test_client()
    yield stranger.get("/enrol")
    yield stranger.get("/")
    yield stranger.post("/enrol", data={"csrf_token": "forged"})
    yield kiosk_client.get("/")
    yield kiosk_client.get("/check-in")
    yield visitor.post("/check-in", visitor_type="visitor")
    yield visitor.post("/check-in/identity", visitor_name="")
    yield kiosk_client.get("/check-in/identity")
    visitor.reach(target="/check-in/id-type")
    yield kiosk_client.get("/check-in/id-type")
    visitor.reach(target="/check-in/id-photo")
    yield kiosk_client.get("/check-in/id-photo")
    yield visitor.photo("/check-in/id-photo", b"not a picture")
    visitor.reach(target="/check-in/host")
    yield kiosk_client.get("/check-in/host")
    visitor.reach()
    yield kiosk_client.get("/check-in/review")
    yield visitor.confirm()
    yield kiosk_client.get("/check-in/wait")
    yield kiosk_client.get("/check-in/status")
    yield kiosk_client.get("/check-in/see-desk?why=camera")
    yield kiosk_client.get("/hosts?q=an")
    yield kiosk_client.get("/sign-out")
    yield _sign_out(kiosk_client, "12")
    yield kiosk_client.get("/no-such-page")
    yield kiosk_client.get("/healthz")


def test_every_kiosk_response_is_not_cached_and_allows_no_inline_script(
    kiosk_app, visitor
):
    for response in _responses_of_a_whole_visit(kiosk_app, visitor):
        where = f"{response.request.method} {response.request.path}"
        assert response.headers["Cache-Control"] == "no-store", where
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy, where
        assert "unsafe-inline" not in policy, where
        assert "unsafe-eval" not in policy, where
        assert "frame-ancestors 'none'" in policy, where
        assert response.headers["X-Content-Type-Options"] == "nosniff", where


def test_no_kiosk_page_has_an_inline_script(kiosk_app, visitor):
    pages = 0
    for response in _responses_of_a_whole_visit(kiosk_app, visitor):
        if response.mimetype != "text/html":
            continue

        pages += 1
        assert inline_scripts(response.data) == [], response.request.path
        assert not INLINE_HANDLER.search(response.data), response.request.path

    assert pages >= 14


def test_a_form_error_page_on_a_kiosk_still_returns_to_the_start_by_itself(
    kiosk_client,
):
    response = kiosk_client.post("/check-in/identity", data={"visitor_name": "X"})

    assert response.status_code == 400
    assert b'data-idle-seconds="90"' in response.data
    assert b"Main Warehouse" in response.data
