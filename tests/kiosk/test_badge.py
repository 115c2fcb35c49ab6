"""The kiosk's badge (CTPAT 10.2): printed for the visit just recorded and no other,
and scanned back at the sign-out screen."""

import base64
import re
from datetime import timedelta

import pytest

from gatekeeper import badges
from gatekeeper.models import Site, Visit
from tests.fixtures.apps import csrf_token
from tests.functional import inline_scripts, rows

QR_IMAGE = re.compile(rb'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')
NO_VISIT = b"No visit has that badge number. Please see the front desk."


@pytest.fixture
def checked_in(visitor, self_service, db_sessions) -> Visit:
    """A visit just recorded and admitted on the lobby kiosk, whose done screen is
    showing."""
    visitor.check_in()
    [visit] = rows(db_sessions, Visit)
    assert visit.admission == "admitted"
    return visit


def _token(kiosk_app, db_sessions, visit_id: int, secret: str | None = None) -> str:
    with db_sessions() as session:
        visit = session.get(Visit, visit_id)
        visit.site  # noqa: B018 - loaded while the session is open
        return badges.token_for(secret or kiosk_app.config["SECRET_KEY"], visit)


def _sign_out(client, entered: str):
    return client.post(
        "/sign-out",
        data={"badge_number": entered, "csrf_token": csrf_token(client, "/sign-out")},
    )


def test_the_done_screen_offers_to_print_the_badge(kiosk_client, checked_in):
    page = kiosk_client.get("/check-in/done")

    assert b'href="/check-in/badge">Print badge</a>' in page.data


def test_the_badge_shows_the_visit_just_recorded_with_its_qr_code(
    kiosk_app, kiosk_client, checked_in, db_sessions
):
    page = kiosk_client.get("/check-in/badge")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for shown in ("Jane Roe", "Acme Freight", "Ana López", "Visitor"):
        assert shown in text
    assert f"<strong>{checked_in.badge_number}</strong>" in text
    # The built-in visitor type needs an escort (CTPAT 10.2 says visitors should be).
    assert "ESCORT REQUIRED" in text

    [encoded] = QR_IMAGE.findall(page.data)
    token = _token(kiosk_app, db_sessions, checked_in.id)
    assert base64.b64decode(encoded) == badges.qr_svg(token)
    claim = badges.read_token(kiosk_app.config["SECRET_KEY"], token)
    assert (claim.visit_id, claim.valid_until) == (
        checked_in.id,
        checked_in.valid_until.replace(microsecond=0),
    )


def test_the_badge_prints_itself_from_its_own_script_and_is_not_cached(
    kiosk_client, checked_in
):
    page = kiosk_client.get("/check-in/badge")

    assert b'<script src="/static/kiosk/print-badge.js">' in page.data
    assert inline_scripts(page.data) == []
    assert b'data-back-url="/check-in/done"' in page.data
    assert page.headers["Cache-Control"] == "no-store"
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("stock", "size_class"),
    [
        ("62x100mm", b"badge-size-62x100mm"),
        ("4x3in", b"badge-size-4x3in"),
        ("A4", b"badge-size-62x100mm"),
    ],
    ids=["default-label", "four-by-three-inch", "unknown-stock-falls-back"],
)
def test_the_badge_is_sized_for_the_sites_label_stock(
    kiosk_client, checked_in, db_sessions, site, stock, size_class
):
    with db_sessions.begin() as session:
        session.get(Site, site.id).badge_size = stock

    page = kiosk_client.get("/check-in/badge")

    assert b'<body class="badge-page ' + size_class + b'"' in page.data


@pytest.mark.usefixtures("self_service")
def test_escort_required_is_printed_only_when_the_visitor_type_says_so(
    visitor, db_sessions
):
    visitor.check_in(visitor_type="service_provider")

    page = visitor.client.get("/check-in/badge").get_data(as_text=True)

    assert "Service provider" in page
    assert "ESCORT REQUIRED" not in page


def test_the_kiosk_badge_has_a_photo_slot_but_never_the_photo_itself(
    kiosk_client, checked_in
):
    """The server keeps the face photo; the page fills the slot from the copy the
    kiosk's own camera step kept."""
    page = kiosk_client.get("/check-in/badge").get_data(as_text=True)

    assert '<div class="badge-photo" hidden>' in page
    assert "data:image/jpeg" not in page
    assert "/photos/" not in page


def test_a_visit_waiting_for_the_front_desk_prints_no_badge(visitor, db_sessions):
    visitor.check_in()
    assert rows(db_sessions, Visit)[0].admission == "awaiting_id"

    response = visitor.client.get("/check-in/badge")

    assert response.status_code == 302
    assert b"Jane Roe" not in response.data


def test_without_a_check_in_on_this_screen_there_is_no_badge(
    kiosk_client, make_visit, site
):
    make_visit(site, "Somebody Else", company="Hidden Company")

    response = kiosk_client.get("/check-in/badge")

    assert response.status_code == 302
    assert response.location.endswith("/")


def test_the_badge_page_cannot_be_pointed_at_another_visit(
    kiosk_client, checked_in, db_sessions, make_visit, site
):
    other = make_visit(site, "Somebody Else", company="Hidden Company")
    with db_sessions.begin() as session:
        session.get(Visit, other.id).admission = "admitted"

    for query in (
        f"?visit_id={other.id}",
        f"?badge={other.badge_number}",
        f"?done_badge={other.badge_number}",
    ):
        page = kiosk_client.get("/check-in/badge" + query)
        assert b"Somebody Else" not in page.data
        assert b"Jane Roe" in page.data


def test_the_badge_is_gone_once_the_screen_is_reset(kiosk_client, checked_in):
    token = csrf_token(kiosk_client, "/check-in/done")
    kiosk_client.post("/reset", data={"csrf_token": token})

    response = kiosk_client.get("/check-in/badge")

    assert response.status_code == 302
    assert b"Jane Roe" not in response.data


def test_a_signed_out_visit_prints_no_badge(kiosk_client, checked_in):
    assert _sign_out(kiosk_client, checked_in.badge_number).status_code == 200

    response = kiosk_client.get("/check-in/badge")

    assert response.status_code == 302


@pytest.mark.usefixtures("spanish_mo")
def test_the_badge_is_in_spanish_once_chosen(kiosk_client, checked_in):
    # The token comes from the done screen: the start screen would end the visit's.
    token = csrf_token(kiosk_client, "/check-in/done")
    kiosk_client.post("/language", data={"lang": "es", "csrf_token": token})

    done = kiosk_client.get("/check-in/done").get_data(as_text=True)
    badge = kiosk_client.get("/check-in/badge").get_data(as_text=True)

    assert "Imprimir gafete" in done
    for spanish in ("Visitante", "Anfitrión", "Válido hasta", "Gafete n.º"):
        assert spanish in badge
    assert "Valid until" not in badge


def test_a_visitor_signs_out_once_by_scanning_the_badge(
    kiosk_app, kiosk_client, checked_in, db_sessions
):
    token = _token(kiosk_app, db_sessions, checked_in.id)

    first = _sign_out(kiosk_client, token)
    again = _sign_out(kiosk_client, token)

    assert b"You are signed out" in first.data
    assert b"This badge is already signed out." in again.data
    [visit] = rows(db_sessions, Visit)
    assert visit.departed_at is not None
    assert visit.departed_by.startswith("kiosk:")


def test_a_scanned_badge_of_another_site_signs_nobody_out(
    kiosk_app, kiosk_client, db_sessions, make_visit, other_site
):
    other = make_visit(other_site, "Somebody Else", company="Hidden Company")
    token = _token(kiosk_app, db_sessions, other.id)

    response = _sign_out(kiosk_client, token)

    assert response.status_code == 200
    assert NO_VISIT in response.data
    assert b"Somebody Else" not in response.data
    assert rows(db_sessions, Visit, id=other.id)[0].departed_at is None


def test_a_forged_badge_signs_nobody_out(
    kiosk_app, kiosk_client, checked_in, db_sessions
):
    forged = _token(kiosk_app, db_sessions, checked_in.id, secret="a guessed secret")

    response = _sign_out(kiosk_client, forged)

    assert NO_VISIT in response.data
    assert rows(db_sessions, Visit)[0].departed_at is None


def test_an_altered_badge_code_signs_nobody_out(
    kiosk_app, kiosk_client, checked_in, db_sessions
):
    token = _token(kiosk_app, db_sessions, checked_in.id)
    # One character changed, still of the base32 alphabet: the tag no longer fits.
    altered = token[:20] + ("B" if token[20] != "B" else "C") + token[21:]

    response = _sign_out(kiosk_client, altered)

    assert response.status_code == 200
    assert NO_VISIT in response.data
    assert rows(db_sessions, Visit)[0].departed_at is None


def test_an_expired_badge_still_signs_its_holder_out(
    kiosk_app, kiosk_client, checked_in, db_sessions
):
    """The holder is leaving: a badge past its time still records the departure."""
    expired = badges.make_token(
        kiosk_app.config["SECRET_KEY"],
        site_id=checked_in.site_id,
        visit_id=checked_in.id,
        badge_number=checked_in.badge_number,
        valid_until=checked_in.arrived_at - timedelta(minutes=1),
    )

    response = _sign_out(kiosk_client, expired)

    assert b"You are signed out" in response.data
    assert rows(db_sessions, Visit)[0].departed_at is not None


@pytest.mark.parametrize(
    ("entered", "message"),
    [
        ("ABC", b"A badge number is 6 digits."),
        ("12345A", b"A badge number is 6 digits."),
        ("A" * 49, b"A badge number is 6 digits."),
        ("a" * 58, b"A badge number is 6 digits."),
        ("A" * 75, b"Badge number must be at most 74 characters."),
        ("A" * 100_000, b"Badge number must be at most 74 characters."),
        ("A1" * 29, b"A badge number is 6 digits."),
    ],
    ids=[
        "three-letters",
        "six-characters-not-digits",
        "shorter-than-a-token",
        "lowercase-token",
        "longer-than-a-token",
        "huge",
        "not-base32",
    ],
)
def test_the_sign_out_field_takes_only_a_badge_number_or_a_token(
    kiosk_client, checked_in, db_sessions, entered, message
):
    response = _sign_out(kiosk_client, entered)

    assert response.status_code == 200
    assert message in response.data
    assert rows(db_sessions, Visit)[0].departed_at is None


def test_a_token_shaped_entry_that_is_no_token_names_no_visit(
    kiosk_client, checked_in, db_sessions
):
    response = _sign_out(kiosk_client, "A" * 58)

    assert NO_VISIT in response.data
    assert rows(db_sessions, Visit)[0].departed_at is None


def test_the_sign_out_field_is_focused_for_the_scanner(kiosk_client):
    page = kiosk_client.get("/sign-out")

    assert re.search(rb'<input[^>]*\bautofocus\b[^>]*name="badge_number"', page.data)
