"""Visitor badges in the console (CTPAT 10.2): a guard's check gives one verdict and
is recorded, whatever was scanned; the desk reprints and revokes badges of its own
site, and a revocation keeps the site's log whole."""

import json
import re
from datetime import timedelta

import pytest

from gatekeeper import badges, chain, visits
from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent, BadgeCheck, LogEntry, Site, Visit
from tests.functional import rows, submit


def _token(console_app, visit, **overrides) -> str:
    fields = {
        "site_id": visit.site_id,
        "visit_id": visit.id,
        "badge_number": visit.badge_number,
        "valid_until": visit.valid_until,
    }
    secret = overrides.pop("secret", console_app.config["SECRET_KEY"])
    return badges.make_token(secret, **(fields | overrides))


def _check(client, code: str):
    return submit(client, "/badges/check", {"code": code}, token_page="/badges/check")


def _revoke(client, visit_id: int):
    return submit(client, f"/badges/{visit_id}/revoke", token_page="/badges/check")


def _headline(page: bytes) -> str:
    start = page.index(b'class="verdict-headline">') + len(b'class="verdict-headline">')
    return page[start : page.index(b"<", start)].decode()


def _sign_out(db_sessions, visit) -> None:
    with db_sessions.begin() as session:
        visits.sign_out(
            session,
            site_id=visit.site_id,
            badge_number=visit.badge_number,
            actor="test",
        )


def test_a_guard_checking_a_current_badge_sees_valid_with_the_visit(
    console_app, signed_in, make_visit, admit, site, db_sessions
):
    visit = admit(make_visit(site, "Jane Roe"))

    page = _check(signed_in("guard"), _token(console_app, visit))

    assert page.status_code == 200
    assert _headline(page.data) == "VALID"
    assert b'class="verdict verdict-green"' in page.data
    text = page.get_data(as_text=True)
    for shown in ("Jane Roe", "Acme Freight", "Ana López", "Required</strong>: Ana"):
        assert shown in text
    assert "11 h 59 min" in text or "12 h 00 min" in text

    [check] = rows(db_sessions, BadgeCheck)
    assert (check.site_id, check.visit_id) == (site.id, visit.id)
    assert (check.verdict, check.checked_by) == ("valid", "guardmain")
    assert check.checked_at is not None


def test_a_badge_past_its_time_is_expired(
    console_app, signed_in, make_visit, admit, site, db_sessions
):
    visit = admit(make_visit(site))
    token = _token(console_app, visit, valid_until=utcnow() - timedelta(minutes=1))

    page = _check(signed_in("guard"), token)

    assert _headline(page.data) == "EXPIRED"
    assert b"verdict-amber" in page.data
    assert b"Jane Roe" in page.data
    assert rows(db_sessions, BadgeCheck)[0].verdict == "expired"


def test_a_badge_of_a_visitor_who_left_is_signed_out(
    console_app, signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site)
    _sign_out(db_sessions, visit)

    page = _check(signed_in("front_desk"), _token(console_app, visit))

    assert _headline(page.data) == "SIGNED OUT"
    assert b"verdict-grey" in page.data
    [check] = rows(db_sessions, BadgeCheck)
    assert (check.verdict, check.visit_id, check.checked_by) == (
        "signed_out",
        visit.id,
        "frontdeskmain",
    )


def test_a_badge_signed_with_another_secret_is_forged_and_shows_no_visit(
    console_app, signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site, "Jane Roe")
    token = _token(console_app, visit, secret="a guessed secret")

    page = _check(signed_in("guard"), token)

    assert _headline(page.data) == "FORGED"
    assert b"verdict-red" in page.data
    assert b"Jane Roe" not in page.data
    [check] = rows(db_sessions, BadgeCheck)
    assert (check.verdict, check.visit_id, check.site_id) == ("forged", None, site.id)


def test_a_genuine_badge_of_another_site_is_forged_here(
    console_app, signed_in, make_visit, site, other_site, db_sessions
):
    elsewhere = make_visit(other_site, "Somebody Else")

    page = _check(signed_in("guard"), _token(console_app, elsewhere))

    assert _headline(page.data) == "FORGED"
    assert b"Somebody Else" not in page.data
    assert b"North Co" not in page.data
    [check] = rows(db_sessions, BadgeCheck)
    assert (check.verdict, check.visit_id, check.site_id) == ("forged", None, site.id)


@pytest.mark.parametrize(
    "code",
    [
        "GARBAGE",
        "A" * 58,
        "X" * 100_000,
        "<script>alert(1)</script>",
        "\x00\x01\x02",
        "ÁÉÍÓÚ" * 20,
        "305117-",
    ],
    ids=[
        "word",
        "token-shaped",
        "huge",
        "markup",
        "control-characters",
        "accented",
        "almost-a-number",
    ],
)
def test_anything_else_scanned_is_forged_and_recorded(
    signed_in, site, db_sessions, code
):
    page = _check(signed_in("guard"), code)

    assert page.status_code == 200
    assert _headline(page.data) == "FORGED"
    assert b"<script>alert" not in page.data
    [check] = rows(db_sessions, BadgeCheck)
    assert (check.verdict, check.visit_id) == ("forged", None)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", b"Scan the code on the badge first."),
        ("  \t ", b"Scan the code on the badge first."),
        ("305117", b"That is a badge number."),
    ],
    ids=["empty", "blank", "badge-number"],
)
def test_a_check_of_nothing_or_of_a_bare_number_asks_for_the_code(
    signed_in, site, db_sessions, code, message
):
    page = _check(signed_in("guard"), code)

    assert page.status_code == 200
    assert message in page.data
    assert b"verdict-headline" not in page.data
    assert rows(db_sessions, BadgeCheck) == []


def test_the_check_page_is_one_focused_field_that_keeps_no_code(
    console_app, signed_in, make_visit, site
):
    token = _token(console_app, make_visit(site))
    client = signed_in("guard")

    blank = client.get("/badges/check")
    checked = _check(client, token)

    assert blank.status_code == 200
    assert b'href="/badges/check">Check a badge</a>' in blank.data
    for page in (blank.data, checked.data):
        [field] = re.findall(rb'<input[^>]*name="code"[^>]*>', page)
        assert b" autofocus " in field
        assert b'value=""' in field
    assert token.encode() not in checked.data


def test_a_guard_sees_no_reprint_or_revoke_but_the_desk_does(
    console_app, signed_in, make_visit, admit, site
):
    visit = admit(make_visit(site))
    token = _token(console_app, visit)

    guard = _check(signed_in("guard"), token)
    desk = _check(signed_in("front_desk"), token)

    assert f"/badges/{visit.id}/revoke".encode() not in guard.data
    assert f"/badges/{visit.id}/revoke".encode() in desk.data
    assert f'href="/badges/{visit.id}"'.encode() in desk.data


def test_revoking_a_badge_is_logged_and_every_check_then_says_revoked(
    console_app, signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site, "Jane Roe")
    client = signed_in("front_desk")

    response = _revoke(client, visit.id)

    assert response.status_code == 302
    assert response.location.endswith("/badges/check")
    page = client.get(response.location)
    assert f"Badge {visit.badge_number} of Jane Roe is revoked".encode() in page.data

    revoked = rows(db_sessions, Visit, id=visit.id)[0]
    assert revoked.badge_revoked_at is not None
    entry = rows(db_sessions, LogEntry)[-1]
    assert (entry.kind, entry.actor) == ("visit.badge_revoked", "user:frontdeskmain")
    assert json.loads(entry.body)["set"] == {
        "badge_revoked_at": chain.to_log_value(revoked.badge_revoked_at)
    }

    again = client.get(_revoke(client, visit.id).location)
    assert b"This badge is already revoked." in again.data

    checked = _check(signed_in("guard"), _token(console_app, visit))
    assert _headline(checked.data) == "REVOKED"
    assert b"verdict-red" in checked.data
    assert rows(db_sessions, BadgeCheck)[-1].verdict == "revoked"

    with db_sessions() as session:
        report = chain.verify_site(session, session.get(Site, site.id))
        assert report.ok, report
        assert report.entries == 2


def test_a_badge_of_another_site_cannot_be_revoked_or_reprinted(
    signed_in, make_visit, other_site, db_sessions
):
    elsewhere = make_visit(other_site)
    client = signed_in("security_manager")

    assert _revoke(client, elsewhere.id).status_code == 404
    assert client.get(f"/badges/{elsewhere.id}").status_code == 404
    assert client.get("/badges/999999").status_code == 404
    assert rows(db_sessions, Visit, id=elsewhere.id)[0].badge_revoked_at is None


def test_the_desk_reprints_the_same_badge_and_the_reprint_is_audited(
    console_app, signed_in, make_visit, admit, site, db_sessions
):
    visit = admit(make_visit(site, "Jane Roe"))

    page = signed_in("front_desk").get(f"/badges/{visit.id}")

    assert page.status_code == 200
    assert b"Jane Roe" in page.data
    assert b'<body class="badge-page badge-size-62x100mm"' in page.data
    assert b'<script src="/static/console/print-badge.js">' in page.data
    qr = badges.face(console_app.config["SECRET_KEY"], _with_site(db_sessions, visit))
    assert qr.qr_data_uri.encode() in page.data

    [event] = rows(db_sessions, AuditEvent, action="badge.reprinted")
    assert (event.actor, event.site_id) == ("frontdeskmain", site.id)
    assert event.target == f"visit:{visit.id}"


def test_a_badge_no_longer_in_use_is_not_reprinted(
    signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site, "Jane Roe")
    _sign_out(db_sessions, visit)
    client = signed_in("front_desk")

    response = client.get(f"/badges/{visit.id}")

    assert response.status_code == 302
    page = client.get(response.location)
    assert b"Jane Roe&#39;s badge is no longer in use" in page.data
    assert rows(db_sessions, AuditEvent, action="badge.reprinted") == []


def _with_site(db_sessions, visit) -> Visit:
    with db_sessions() as session:
        row = session.get(Visit, visit.id)
        row.site  # noqa: B018 - loaded while the session is open
        return row
