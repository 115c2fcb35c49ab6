"""The guard's badge check beyond the token (CTPAT 10.2): the face photo to compare,
escort and time left; visits never admitted are not valid; a self-service badge's
first scan asks the guard to compare the ID; camera frames are read on the server;
and the desk's copies of a badge (reprint, PDF) exist only for admitted visits."""

import io
import json
import re

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from gatekeeper import badges, visits
from gatekeeper.models import AuditEvent, BadgeCheck, LogEntry, Site, User, Visit
from tests.admin.conftest import set_mode
from tests.functional import rows, submit
from tests.support import pdfs, pictures


def _token(console_app, visit) -> str:
    return badges.make_token(
        console_app.config["SECRET_KEY"],
        site_id=visit.site_id,
        visit_id=visit.id,
        badge_number=visit.badge_number,
        valid_until=visit.valid_until,
    )


def _check(client, code: str):
    return submit(client, "/badges/check", {"code": code}, token_page="/badges/check")


def _headline(page: bytes) -> str:
    return re.search(rb'class="verdict-headline">([^<]*)<', page).group(1).decode()


def test_a_valid_badge_shows_the_face_escort_and_time_left(
    console_app, signed_in, visit_with_photos, admit, site
):
    visit = admit(visit_with_photos(site))

    page = _check(signed_in("guard"), _token(console_app, visit))

    text = page.get_data(as_text=True)
    assert _headline(page.data) == "VALID"
    assert f'src="/photos/{visit.id}/face.jpg"' in text
    assert "compare it with the wearer" in text
    assert "<strong>Required</strong>: Ana López" in text
    assert re.search(r"<dt>Time left</dt><dd>1[12] h \d\d min</dd>", text)
    assert "First scan" not in text


def test_a_badge_without_a_face_photo_says_so(
    console_app, signed_in, make_visit, admit, site
):
    visit = admit(make_visit(site))

    page = _check(signed_in("guard"), _token(console_app, visit))

    assert b"No face photo" in page.data
    assert b"/face.jpg" not in page.data


@pytest.mark.parametrize(
    ("state", "headline", "colour", "note"),
    [
        ("held", "REVOKED", "red", "Check-in held"),
        ("denied", "REVOKED", "red", "Check-in denied"),
        ("awaiting_id", "EXPIRED", "amber", "Not valid yet"),
    ],
)
def test_a_badge_of_a_visit_never_admitted_is_not_valid(
    console_app,
    signed_in,
    make_visit,
    block,
    site,
    db_sessions,
    people,
    state,
    headline,
    colour,
    note,
):
    if state != "awaiting_id":
        block(site, "Jane Roe")

    visit = make_visit(site, "Jane Roe")
    if state == "denied":
        with db_sessions.begin() as session:
            visits.decide_hold(
                session,
                session.get(Visit, visit.id),
                "deny",
                reason="Barred",
                actor=session.get(User, people["front_desk"].id),
            )

    page = _check(signed_in("guard"), _token(console_app, visit))

    assert _headline(page.data) == headline
    assert f"verdict-{colour}".encode() in page.data
    assert note.encode() in page.data
    assert b"Time left</dt><dd>none" in page.data
    assert rows(db_sessions, BadgeCheck)[-1].verdict == headline.lower()


def test_the_first_scan_of_a_self_service_badge_asks_the_guard_to_compare_the_id(
    console_app, signed_in, visit_with_photos, site, db_sessions, people
):
    set_mode(db_sessions, site, "self_service")
    visit = visit_with_photos(site, kiosk=True)
    assert (visit.admission, visit.id_status) == ("admitted", "captured")
    guard = signed_in("guard")

    page = _check(guard, _token(console_app, visit)).get_data(as_text=True)

    assert "First scan: compare the person with their ID" in page
    assert f'src="/photos/{visit.id}/id.jpg"' in page
    assert guard.get(f"/photos/{visit.id}/id.jpg").status_code == 200
    [viewed] = rows(db_sessions, AuditEvent, action="photo.viewed")
    assert viewed.actor == people["guard"].username

    response = submit(
        guard, f"/badges/{visit.id}/confirm-id", token_page="/badges/check"
    )

    assert response.location.endswith("/badges/check")
    assert "Photo ID of Jane Roe confirmed" in guard.get(response.location).get_data(
        as_text=True
    )
    confirmed = rows(db_sessions, Visit, id=visit.id)[0]
    assert (confirmed.id_status, confirmed.id_verified_by) == ("verified", "Test Guard")
    entry = rows(db_sessions, LogEntry)[-1]
    assert (entry.kind, entry.actor) == ("visit.id_verified", "user:guardmain")
    assert json.loads(entry.body)["set"]["id_type"] == "drivers_licence"

    again = _check(guard, _token(console_app, visit)).get_data(as_text=True)
    assert "First scan" not in again
    assert _headline(again.encode()) == "VALID"


def test_an_attended_sites_captured_id_is_not_offered_to_the_guard(
    console_app, signed_in, visit_with_photos, admit, site
):
    visit = admit(visit_with_photos(site))

    page = _check(signed_in("guard"), _token(console_app, visit))

    assert b"First scan" not in page.data


def test_a_camera_frame_is_read_on_the_server(console_app, signed_in, make_visit, site):
    token = _token(console_app, make_visit(site))
    code = Image.open(io.BytesIO(badges.qr_png(token, box_size=8))).convert("RGB")
    frame = pictures.framed(
        np.ascontiguousarray(np.asarray(code)[:, :, ::-1]), 640, 480
    )
    client = signed_in("guard")
    headers = {"X-CSRFToken": _meta_token(client)}

    read = client.post(
        "/badges/scan",
        data=pictures.jpeg(frame),
        content_type="image/jpeg",
        headers=headers,
    )
    blank = client.post(
        "/badges/scan",
        data=pictures.jpeg(pictures.framed(pictures.portrait(), 640, 480)),
        content_type="image/jpeg",
        headers=headers,
    )
    junk = client.post(
        "/badges/scan",
        data=b"not a picture",
        content_type="image/jpeg",
        headers=headers,
    )

    assert read.get_json() == {"code": token}
    assert blank.get_json() == {"code": None}
    assert junk.get_json() == {"code": None}


def test_a_camera_frame_needs_the_pages_csrf_token(signed_in, site, db_sessions):
    response = signed_in("guard").post(
        "/badges/scan", data=b"\xff\xd8\xff", content_type="image/jpeg"
    )

    assert response.status_code == 400


def _meta_token(client) -> str:
    page = client.get("/badges/check").data
    return (
        re.search(rb'<meta name="csrf-token" content="([^"]+)"', page).group(1).decode()
    )


def test_a_badge_is_not_reprinted_before_the_visit_is_admitted(
    signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site)
    client = signed_in("front_desk")

    for path in (f"/badges/{visit.id}", f"/badges/{visit.id}/badge.pdf"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.location.endswith(f"/visits/{visit.id}")
    assert b"is not admitted yet" in client.get(f"/visits/{visit.id}").data
    assert rows(db_sessions, AuditEvent, action="badge.reprinted") == []


def test_the_reprinted_badge_shows_the_face_photo_from_the_console(
    signed_in, visit_with_photos, admit, site
):
    visit = admit(visit_with_photos(site))

    page = signed_in("front_desk").get(f"/badges/{visit.id}")

    assert page.status_code == 200
    assert f'src="/photos/{visit.id}/face.jpg"'.encode() in page.data
    assert b"ESCORT REQUIRED" in page.data


# The badge PDF


@pytest.mark.parametrize(
    ("size", "expected"), [("62x100mm", (62, 100)), ("4x3in", (101.6, 76.2))]
)
def test_the_badge_pdf_is_label_sized_and_its_code_names_the_visit(
    console_app,
    signed_in,
    visit_with_photos,
    admit,
    site,
    db_sessions,
    size,
    expected,
):
    with db_sessions.begin() as session:
        session.get(Site, site.id).badge_size = size
    visit = admit(visit_with_photos(site))

    response = signed_in("front_desk").get(f"/badges/{visit.id}/badge.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert (
        f'filename="badge-{visit.badge_number}.pdf"'
        in response.headers["Content-Disposition"]
    )
    [(width, height)] = pdfs.page_sizes_mm(response.data)
    assert width == pytest.approx(expected[0], abs=0.1)
    assert height == pytest.approx(expected[1], abs=0.1)
    assert b"/DCTDecode" in response.data, "the face photo is missing"

    [code] = pdfs.grey_images(response.data)
    [symbol] = zxingcpp.read_barcodes(code)
    claim = badges.read_token(console_app.config["SECRET_KEY"], symbol.text)
    assert (claim.visit_id, claim.badge_number) == (visit.id, visit.badge_number)
    [event] = rows(db_sessions, AuditEvent, action="badge.downloaded")
    assert event.target == f"visit:{visit.id}"


@pytest.mark.parametrize("role", ["guard", "administrator"])
def test_only_the_desk_downloads_a_badge_pdf(signed_in, make_visit, admit, site, role):
    visit = admit(make_visit(site))

    assert signed_in(role).get(f"/badges/{visit.id}/badge.pdf").status_code == 403


def test_a_guard_cannot_confirm_an_id_the_front_desk_is_to_check(
    signed_in, visit_with_photos, site, db_sessions
):
    visit = visit_with_photos(site)
    assert (visit.admission, visit.id_status) == ("awaiting_id", "captured")
    guard = signed_in("guard")

    response = submit(
        guard, f"/badges/{visit.id}/confirm-id", token_page="/badges/check"
    )

    page = guard.get(response.location).get_data(as_text=True)
    assert "is not waiting for a guard&#39;s check" in page
    assert rows(db_sessions, Visit, id=visit.id)[0].admission == "awaiting_id"
    assert [e.kind for e in rows(db_sessions, LogEntry)] == ["visit.arrived"]
