"""The front desk's queue and check-in at the desk (CTPAT 10.2): check-ins waiting
for an ID check or a hold decision are listed and counted, and a visitor the kiosk
could not photograph is checked in with uploaded photos, each judged, none kept
when any is refused."""

import re
import struct
import zlib

import numpy as np
import pytest

from gatekeeper import images, screening
from gatekeeper.models import LogEntry, OutboxMessage, Photo, Site, User, Visit
from tests.admin.conftest import set_mode
from tests.fixtures.apps import csrf_token
from tests.functional import log_kinds, rows, table_rows
from tests.support import pictures


def _names_in_queue(page: bytes) -> list[str]:
    return [cells[1].split(" ")[0] for cells in table_rows(page)[1:]]


def test_the_queue_lists_waiting_and_held_check_ins_newest_first(
    signed_in, make_visit, admit, block, site, other_site
):
    waiting = make_visit(site, "Waiting Walter")
    admit(make_visit(site, "Admitted Anna"))
    block(site, "Harold Held")
    make_visit(site, "Harold Held")
    make_visit(other_site, "Elsewhere Ella")

    page = signed_in("front_desk").get("/desk/")

    assert page.status_code == 200
    assert _names_in_queue(page.data) == ["Harold", "Waiting"]
    text = page.get_data(as_text=True)
    assert "hold decision" in text and "ID check" in text
    assert "Admitted Anna" not in text and "Elsewhere Ella" not in text
    assert f'href="/visits/{waiting.id}"' in text
    assert '<script src="/static/console/desk-queue.js">' in text


def test_the_queue_data_names_each_waiting_visit_for_the_script(
    signed_in, make_visit, block, site
):
    block(site, "Harold Held")
    held = make_visit(site, "Harold Held")
    waiting = make_visit(site, "Waiting Walter", company="<b>Bold</b> Ltd")

    answer = signed_in("security_manager").get("/desk/queue.json")

    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    data = answer.get_json()
    assert data["held"] == 1
    assert [v["id"] for v in data["visits"]] == [waiting.id, held.id]
    first = data["visits"][0]
    assert first["company"] == "<b>Bold</b> Ltd"
    assert first["admission"] == "awaiting_id"
    assert first["url"] == f"/visits/{waiting.id}"
    assert first["arrived"] == waiting.arrived_at.strftime("%H:%M")


def test_an_empty_queue_says_nobody_is_waiting(signed_in, site):
    page = signed_in("front_desk").get("/desk/")

    assert b"Nobody is waiting." in page.data
    assert signed_in("front_desk").get("/desk/queue.json").get_json() == {
        "visits": [],
        "held": 0,
    }


@pytest.mark.parametrize("role", ["guard", "administrator"])
def test_guards_and_administrators_have_no_queue(signed_in, site, role):
    client = signed_in(role)

    assert client.get("/desk/").status_code == 403
    assert client.get("/desk/queue.json").status_code == 403


def test_a_held_check_in_puts_a_banner_on_every_page_of_the_desk(
    signed_in, make_visit, block, site
):
    block(site, "Harold Held")
    make_visit(site, "Harold Held")

    for role in ("front_desk", "security_manager"):
        page = signed_in(role).get("/account")
        assert b"1 check-in held" in page.data, role
        assert b'href="/desk/"' in page.data

    for role in ("guard", "administrator"):
        assert b"check-in held" not in signed_in(role).get("/account").data, role


def test_no_banner_once_the_hold_is_decided(
    signed_in, make_visit, block, site, db_sessions, people
):
    block(site, "Harold Held")
    visit = make_visit(site, "Harold Held")
    client = signed_in("front_desk")
    client.post(
        f"/visits/{visit.id}/hold",
        data={
            "decision": "deny",
            "reason": "Known trespasser",
            "csrf_token": csrf_token(client, "/account"),
        },
    )

    assert b"check-in held" not in client.get("/account").data


# Check-in at the desk


def _form(client, **changes) -> dict:
    """The desk check-in's fields, filled in, with the first host of the list."""
    page = client.get("/desk/check-in")
    assert page.status_code == 200
    hosts = re.search(
        rb'<select[^>]*name="host_id"[^>]*>\s*<option[^>]*value="(\d+)"', page.data
    )
    fields = {
        "csrf_token": csrf_token(client, "/desk/check-in"),
        "visitor_name": "Walk-in Walter",
        "company": "Acme Freight",
        "visitor_type": "visitor",
        "host_id": hosts.group(1).decode(),
        "id_type": "drivers_licence",
    }
    return fields | changes


def _upload(data: bytes, name: str = "photo.jpg") -> tuple[bytes, str]:
    return data, name


BOUNDARY = "gatekeeper-test-boundary"


def _multipart(fields: dict) -> bytes:
    """A multipart body built in memory: the test client would spool a large one
    to a temporary file it never closes."""
    parts = []
    for name, value in fields.items():
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
        if isinstance(value, tuple):
            data, filename = value
            head += f'; filename="{filename}"\r\nContent-Type: image/jpeg'
        else:
            data = str(value).encode()

        parts.append(head.encode() + b"\r\n\r\n" + data + b"\r\n")

    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _post_form(client, fields: dict):
    return client.post(
        "/desk/check-in",
        data=_multipart(fields),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def _check_in(client, files: dict, **changes):
    return _post_form(client, _form(client, **changes) | files)


def test_the_desk_checks_in_a_walk_in_with_uploaded_photos_verified_at_once(
    signed_in, site, db_sessions, face_jpeg, licence_back
):
    client = signed_in("front_desk")

    response = _check_in(
        client,
        {
            "id_photo": _upload(face_jpeg),
            "id_back": _upload(licence_back, "back.png"),
            "face_photo": _upload(face_jpeg),
        },
    )

    assert response.status_code == 302, response.data
    [visit] = rows(db_sessions, Visit)
    assert response.location.endswith(f"/visits/{visit.id}")
    assert (visit.visitor_name, visit.admission) == ("Walk-in Walter", "admitted")
    assert (visit.id_status, visit.id_type) == ("verified", "drivers_licence")
    assert visit.id_verified_by == "Test Front Desk"
    assert visit.id_document_expired is False
    assert visit.escort_required and visit.escort_name == "Ana López"
    kept = rows(db_sessions, Photo, visit_id=visit.id)
    assert sorted(p.kind for p in kept) == ["face", "id", "id_back"]
    assert {p.uploaded_by for p in kept} == {"Test Front Desk"}
    assert all(p.capture_key_hash is None for p in kept)
    [entry] = rows(db_sessions, LogEntry)
    assert (entry.kind, entry.actor) == ("visit.arrived", "user:frontdeskmain")
    assert len(rows(db_sessions, OutboxMessage)) == 1

    page = client.get(response.location)
    assert b"Walk-in Walter is checked in; print the badge." in page.data
    assert f'href="/badges/{visit.id}"'.encode() in page.data


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


# A whole, well-formed PNG whose header claims 50,000 × 50,000 pixels over a few
# bytes of compressed zeros: decoded, it would take 7.5 GB.
BOMB_PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _chunk(b"IHDR", struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0))
    + _chunk(b"IDAT", zlib.compress(b"\x00" * 10_000, 9))
    + _chunk(b"IEND", b"")
)


@pytest.mark.parametrize(
    ("data", "advice"),
    [
        (b"%PDF-1.7 this is not a picture", "This is not a picture we can read."),
        ("truncated", "The picture did not arrive complete."),
        ("oversized", "The picture is too large."),
        (BOMB_PNG, "The picture is too large."),
        ("blank", "We cannot see a face."),
    ],
    ids=["not-an-image", "truncated", "oversized", "bomb-header", "no-face"],
)
def test_a_refused_upload_gives_the_judges_advice_and_keeps_nothing(
    signed_in, site, db_sessions, face_jpeg, data, advice
):
    if data == "truncated":
        data = face_jpeg[: len(face_jpeg) // 2]
    elif data == "oversized":
        data = b"\xff\xd8\xff" + b"\x00" * images.MAX_BYTES
    elif data == "blank":
        data = pictures.jpeg(np.full((720, 1280, 3), 128, np.uint8))

    client = signed_in("front_desk")

    response = _check_in(
        client,
        {"id_photo": _upload(data), "face_photo": _upload(face_jpeg)},
        visitor_name="Refused Rita",
    )

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert advice in text
    assert 'value="Refused Rita"' in text
    assert rows(db_sessions, Visit) == []
    assert rows(db_sessions, Photo) == []
    assert log_kinds(db_sessions) == []


def test_a_licence_back_without_a_barcode_is_refused_with_its_advice(
    signed_in, site, db_sessions, face_jpeg
):
    response = _check_in(
        signed_in("front_desk"),
        {
            "id_photo": _upload(face_jpeg),
            "id_back": _upload(face_jpeg),
            "face_photo": _upload(face_jpeg),
        },
    )

    assert response.status_code == 400
    assert b"We cannot read the barcode." in response.data
    assert rows(db_sessions, Photo) == []
    assert rows(db_sessions, Visit) == []


def test_missing_photos_and_id_type_are_asked_for_on_the_same_form(
    signed_in, site, db_sessions
):
    response = _check_in(signed_in("front_desk"), {}, id_type="")

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Choose the type of photo ID you checked." in text
    assert "Upload a photo of the ID you checked." in text
    assert "Upload a face photo for the badge." in text
    assert rows(db_sessions, Visit) == []


def test_bad_fields_are_refused_before_any_photo_is_judged(
    signed_in, site, db_sessions, face_jpeg
):
    response = _check_in(
        signed_in("front_desk"),
        {"id_photo": _upload(face_jpeg), "face_photo": _upload(face_jpeg)},
        visitor_name="\u202eevil",
        host_id="999999",
        visitor_type="astronaut",
    )

    assert response.status_code == 400
    assert b"Full name contains a character that is not allowed." in response.data
    assert b"Not a valid choice" in response.data
    assert rows(db_sessions, Photo) == []


def test_an_exempt_visitor_needs_no_id_photo_at_the_desk(
    signed_in, site, db_sessions, face_jpeg, people
):
    with db_sessions.begin() as session:
        screening.grant_exemption(
            session,
            session.get(Site, site.id),
            person_name="Regular Rick",
            actor=session.get(User, people["security_manager"].id),
        )

    response = _check_in(
        signed_in("front_desk"),
        {"face_photo": _upload(face_jpeg)},
        visitor_name="Rick Regular",
        id_type="",
    )

    assert response.status_code == 302, response.data
    [visit] = rows(db_sessions, Visit)
    assert (visit.id_status, visit.admission) == ("exempt", "admitted")
    assert visit.id_exemption_by == "Test Security Manager"


def test_a_desk_check_in_of_a_listed_person_is_held_not_admitted(
    signed_in, site, db_sessions, face_jpeg, licence_back, block
):
    block(site, "12345678", kind="id_number")
    client = signed_in("front_desk")

    response = _check_in(
        client,
        {
            "id_photo": _upload(face_jpeg),
            "id_back": _upload(licence_back, "back.png"),
            "face_photo": _upload(face_jpeg),
        },
        visitor_name="Sean O'Brien",
    )

    assert response.status_code == 302
    [visit] = rows(db_sessions, Visit)
    assert visit.admission == "held"
    assert rows(db_sessions, OutboxMessage) == []
    page = client.get(response.location)
    assert b"matches the block list" in page.data
    assert b"Approve check-in" in page.data


def test_a_desk_check_in_at_a_self_service_site_is_still_verified_by_the_desk(
    signed_in, site, db_sessions, face_jpeg
):
    set_mode(db_sessions, site, "self_service")

    _check_in(
        signed_in("front_desk"),
        {"id_photo": _upload(face_jpeg), "face_photo": _upload(face_jpeg)},
    )

    [visit] = rows(db_sessions, Visit)
    assert (visit.id_status, visit.admission) == ("verified", "admitted")


@pytest.mark.parametrize("role", ["guard", "security_manager", "administrator"])
def test_only_the_front_desk_checks_in_at_the_desk(signed_in, site, db_sessions, role):
    client = signed_in(role)

    assert client.get("/desk/check-in").status_code == 403
    token = csrf_token(client, "/account")
    assert _post_form(client, {"csrf_token": token}).status_code == 403
    assert rows(db_sessions, Visit) == []


def test_a_desk_check_in_without_its_csrf_token_is_refused(
    signed_in, site, db_sessions, face_jpeg
):
    client = signed_in("front_desk")
    data = _form(client) | {
        "csrf_token": "forged",
        "face_photo": _upload(face_jpeg),
    }

    response = _post_form(client, data)

    assert response.status_code == 400
    assert rows(db_sessions, Visit) == []
