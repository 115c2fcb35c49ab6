"""The kiosk's screens: check-in, sign-out, language, reset, and what every page
carries (CTPAT 10.2: the visit is logged with the fields the criteria name)."""

import json
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


def test_a_check_in_records_one_visit_and_shows_its_badge_number(
    kiosk_client, check_in_form, db_sessions, host_ids
):
    form = check_in_form(visitor_type="vendor", id_type="drivers_licence")
    response = kiosk_client.post("/check-in", data=form)

    assert response.status_code == 302
    assert response.location.endswith("/check-in/done")

    [visit] = rows(db_sessions, Visit)
    assert visit.visitor_name == "Jane Roe"
    assert visit.company == "Acme Freight"
    assert visit.visitor_type == "vendor"
    assert visit.host_id == host_ids[0]
    assert visit.host_name == "Ana López"
    assert visit.id_type == "drivers_licence"
    assert visit.id_status == "unverified"
    assert visit.arrived_at is not None
    assert visit.departed_at is None
    assert visit.submission_key == form["submission_key"]

    [entry] = rows(db_sessions, LogEntry)
    assert entry.kind == "visit.arrived"
    assert entry.subject_id == visit.id
    assert json.loads(entry.body)["set"]["visitor_name"] == "Jane Roe"

    done = kiosk_client.get("/check-in/done")
    assert done.status_code == 200
    assert f'class="badge-number">{visit.badge_number}<'.encode() in done.data


def test_a_double_tap_on_check_in_records_one_visit(
    kiosk_client, check_in_form, db_sessions
):
    form = check_in_form()
    first = kiosk_client.post("/check-in", data=form)
    second = kiosk_client.post("/check-in", data=form)

    assert first.status_code == second.status_code == 302
    assert second.location.endswith("/check-in/done")

    [visit] = rows(db_sessions, Visit)
    assert log_kinds(db_sessions) == ["visit.arrived"]
    assert visit.badge_number.encode() in kiosk_client.get("/check-in/done").data


NAME_REQUIRED = "Your full name is required."
NAME_REFUSED = "Your full name contains a character that is not allowed."
BAD_CHECK_INS = {
    "empty-name": ({"visitor_name": ""}, NAME_REQUIRED),
    "blank-name": ({"visitor_name": "   "}, NAME_REQUIRED),
    "bell-in-name": ({"visitor_name": "Jane\x07Roe"}, NAME_REFUSED),
    "zero-width-joiner": ({"visitor_name": "Jane\u200dRoe"}, NAME_REFUSED),
    "right-to-left-override": ({"visitor_name": "Jane \u202eeoR"}, NAME_REFUSED),
    "121-characters": (
        {"visitor_name": "J" * 121},
        "Your full name must be at most 120 characters.",
    ),
    "name-without-letters": (
        {"visitor_name": "1234"},
        "Your full name must contain letters.",
    ),
    "markup-in-company": (
        {"company": "Acme <b>"},
        "Your company contains a character that is not allowed.",
    ),
    "host-not-chosen": ({"host_id": "0"}, "Choose your point of contact."),
    "host-missing": ({"host_id": None}, "Choose your point of contact."),
    "host-not-a-number": ({"host_id": "abc"}, "Invalid Choice"),
    "unknown-id-type": ({"id_type": "library_card"}, "Not a valid choice"),
    "id-type-missing": ({"id_type": None}, "Choose the type of photo ID."),
    "unknown-visitor-type": ({"visitor_type": "inspector"}, "Not a valid choice"),
    "malformed-submission-key": (
        {"submission_key": "short"},
        "Please correct the fields",
    ),
}


@pytest.mark.parametrize(
    ("changes", "message"), BAD_CHECK_INS.values(), ids=BAD_CHECK_INS.keys()
)
def test_bad_check_in_input_is_shown_on_the_same_page_and_writes_nothing(
    kiosk_client, check_in_form, db_sessions, changes, message
):
    response = kiosk_client.post("/check-in", data=check_in_form(**changes))

    assert response.status_code == 200
    assert b"<h1>Check in</h1>" in response.data
    assert b'name="visitor_name"' in response.data
    assert message in response.get_data(as_text=True)
    assert rows(db_sessions, Visit) == []
    assert rows(db_sessions, LogEntry) == []


def test_a_host_of_another_site_cannot_be_chosen(
    kiosk_client, check_in_form, other_host_ids, db_sessions
):
    page = kiosk_client.get("/check-in").data
    for host_id in other_host_ids:
        assert f'<option value="{host_id}"'.encode() not in page

    form = check_in_form(host_id=str(other_host_ids[0]))
    response = kiosk_client.post("/check-in", data=form)

    assert response.status_code == 200
    assert b"Not a valid choice" in response.data
    assert rows(db_sessions, Visit) == []
    assert rows(db_sessions, LogEntry) == []


def test_a_check_in_without_its_csrf_token_is_refused_with_a_plain_page(
    kiosk_client, check_in_form, db_sessions
):
    response = kiosk_client.post("/check-in", data=check_in_form(csrf_token=None))

    assert_plain_error_page(response, 400, "This form expired.")
    assert rows(db_sessions, Visit) == []


@pytest.mark.parametrize("name", ["Zoë Ñúñez", "李小龍", "Ngũgĩ wa Thiong'o"])
def test_names_in_any_script_are_accepted_and_stored_composed(
    kiosk_client, check_in_form, db_sessions, name
):
    decomposed = unicodedata.normalize("NFD", name)
    form = check_in_form(visitor_name=decomposed, company=decomposed)
    response = kiosk_client.post("/check-in", data=form)

    assert response.status_code == 302
    [visit] = rows(db_sessions, Visit)
    assert visit.visitor_name == unicodedata.normalize("NFC", name)
    assert visit.company == unicodedata.normalize("NFC", name)


def test_a_visitor_signs_out_once_by_badge_number(
    kiosk_client, check_in_form, db_sessions
):
    kiosk_client.post("/check-in", data=check_in_form())
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


def test_reset_forgets_the_language_and_the_badge_on_screen(
    kiosk_client, check_in_form
):
    token = csrf_token(kiosk_client, "/")
    kiosk_client.post("/language", data={"lang": "es", "csrf_token": token})
    kiosk_client.post("/check-in", data=check_in_form())
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


def test_the_start_screen_forgets_the_badge_of_the_last_visitor(
    kiosk_client, check_in_form
):
    kiosk_client.post("/check-in", data=check_in_form())
    assert kiosk_client.get("/check-in/done").status_code == 200

    kiosk_client.get("/")

    assert kiosk_client.get("/check-in/done").status_code == 302


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


def _responses_of_a_whole_visit(kiosk_app, kiosk_client, check_in_form):
    """One response of each kind the kiosk gives, to a stranger and to a kiosk."""
    stranger = kiosk_app.test_client()
    yield stranger.get("/enrol")
    yield stranger.get("/")
    yield stranger.post("/enrol", data={"csrf_token": "forged"})
    yield kiosk_client.get("/")
    yield kiosk_client.get("/check-in")
    yield kiosk_client.post("/check-in", data=check_in_form(visitor_name=""))
    yield kiosk_client.post("/check-in", data=check_in_form())
    yield kiosk_client.get("/check-in/done")
    yield kiosk_client.get("/sign-out")
    yield _sign_out(kiosk_client, "12")
    yield kiosk_client.get("/no-such-page")
    yield kiosk_client.get("/healthz")


def test_every_kiosk_response_is_not_cached_and_allows_no_inline_script(
    kiosk_app, kiosk_client, check_in_form
):
    for response in _responses_of_a_whole_visit(kiosk_app, kiosk_client, check_in_form):
        where = f"{response.request.method} {response.request.path}"
        assert response.headers["Cache-Control"] == "no-store", where
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy, where
        assert "unsafe-inline" not in policy, where
        assert "unsafe-eval" not in policy, where
        assert "frame-ancestors 'none'" in policy, where
        assert response.headers["X-Content-Type-Options"] == "nosniff", where


def test_no_kiosk_page_has_an_inline_script(kiosk_app, kiosk_client, check_in_form):
    pages = 0
    for response in _responses_of_a_whole_visit(kiosk_app, kiosk_client, check_in_form):
        if response.mimetype != "text/html":
            continue

        pages += 1
        assert inline_scripts(response.data) == [], response.request.path
        assert not INLINE_HANDLER.search(response.data), response.request.path

    assert pages >= 8


def test_a_form_error_page_on_a_kiosk_still_returns_to_the_start_by_itself(
    kiosk_client,
):
    response = kiosk_client.post("/check-in", data={"visitor_name": "No Token"})

    assert response.status_code == 400
    assert b'data-idle-seconds="90"' in response.data
    assert b"Main Warehouse" in response.data
