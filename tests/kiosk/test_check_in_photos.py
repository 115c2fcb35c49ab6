"""The check-in's camera steps (CTPAT 10.2): the server judges every picture, a
poor or bad one gets advice and is not kept, and the back of a licence is read."""

import json

import cv2
import numpy as np
import pytest
from skimage import data

from gatekeeper import images, photos, screening
from gatekeeper.models import Photo, Site, User, Visit
from tests.fixtures.apps import PHOTO_KEY
from tests.functional import rows
from tests.gatekeeper.test_images import black_png, huge_jpeg, huge_png
from tests.support import licences
from tests.support.pictures import framed, jpeg, portrait


def _at_camera(visitor, step: str = "/check-in/id-photo", **changes) -> None:
    visitor.reach(target=step, **changes)


def _coffee() -> bytes:
    """A sharp, well-lit 960 × 640 photo of a cup of coffee: nobody in it."""
    cup = np.ascontiguousarray(data.coffee()[:, :, ::-1])
    return jpeg(cv2.resize(cup, (960, 640), interpolation=cv2.INTER_CUBIC))


def test_a_good_picture_is_kept_unattached_under_this_kiosks_key(
    visitor, db_sessions, face_jpeg
):
    _at_camera(visitor)

    response = visitor.photo("/check-in/id-photo", face_jpeg)

    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "advice": [], "next": "/check-in/face"}
    [photo] = rows(db_sessions, Photo)
    assert (photo.kind, photo.visit_id) == ("id", None)
    assert photo.kiosk_id is not None and photo.capture_key_hash
    # Sealed at rest: the row holds a token that only the photo key opens.
    assert not photo.sealed.startswith(b"\xff\xd8")
    assert photos.open_sealed(PHOTO_KEY, photo.sealed).startswith(b"\xff\xd8\xff")
    # The picture is never sent back: not in the answer, not on the next screen.
    assert b"data:image" not in visitor.client.get("/check-in/face").data


BAD_PICTURES = {
    "not-an-image": (
        lambda: b"%PDF-1.7 this is not a picture",
        "This is not a picture we can read.",
    ),
    "truncated-jpeg": (
        lambda: jpeg(framed(portrait()))[:20_000],
        "The picture did not arrive complete.",
    ),
    "decompression-bomb-png": (
        lambda: black_png(20_000, 20_000),
        "The picture is too large.",
    ),
    "huge-png-header": (lambda: huge_png(), "The picture is too large."),
    "huge-jpeg-header": (lambda: huge_jpeg(), "The picture is too large."),
    "over-the-byte-limit": (
        lambda: b"\xff\xd8\xff" + bytes(images.MAX_BYTES),
        "The picture is too large.",
    ),
    "too-small": (
        lambda: jpeg(cv2.resize(portrait(), (320, 320))),
        "The picture is too small.",
    ),
    "blurred": (
        lambda: jpeg(cv2.GaussianBlur(framed(portrait()), (0, 0), 3)),
        "Hold the card still and let the camera focus.",
    ),
    "dark": (
        lambda: jpeg((framed(portrait()) * 0.25).astype(np.uint8)),
        "The picture is too dark.",
    ),
    "faceless": (_coffee, "We cannot see a face."),
}


@pytest.mark.parametrize(
    ("make", "advice"), BAD_PICTURES.values(), ids=BAD_PICTURES.keys()
)
@pytest.mark.parametrize("step", ["/check-in/id-photo", "/check-in/face"])
def test_a_bad_or_poor_picture_gets_advice_and_nothing_is_kept(
    visitor, db_sessions, make, advice, step
):
    _at_camera(visitor, step)
    before = len(rows(db_sessions, Photo))

    response = visitor.photo(step, make())

    assert response.status_code == 422
    answer = response.get_json()
    assert answer["ok"] is False
    assert any(line.startswith(advice) for line in answer["advice"]), answer
    assert "next" not in answer
    assert len(rows(db_sessions, Photo)) == before
    # The step is still the one to do.
    assert visitor.client.get(step).status_code == 200


def test_an_upload_over_the_request_limit_is_refused_before_it_is_read(
    visitor, db_sessions, kiosk_app
):
    _at_camera(visitor)
    too_much = kiosk_app.config["MAX_CONTENT_LENGTH"] + 1

    response = visitor.photo("/check-in/id-photo", b"\xff\xd8\xff" + bytes(too_much))

    assert response.status_code == 413
    assert b"Try a smaller photo" in response.data
    assert rows(db_sessions, Photo) == []


def test_a_post_without_a_picture_is_refused(visitor, db_sessions):
    _at_camera(visitor)

    response = visitor.client.post(
        "/check-in/id-photo",
        data={"other": "field"},
        headers={"X-CSRFToken": visitor.token()},
    )

    assert response.status_code == 400
    assert response.get_json()["ok"] is False
    assert rows(db_sessions, Photo) == []


def test_a_picture_without_the_csrf_token_is_refused(visitor, db_sessions, face_jpeg):
    _at_camera(visitor)

    response = visitor.photo("/check-in/id-photo", face_jpeg, **{"X-CSRFToken": ""})

    assert response.status_code == 400
    assert rows(db_sessions, Photo) == []


def test_a_retake_replaces_the_picture_it_retakes(visitor, db_sessions, face_jpeg):
    _at_camera(visitor, "/check-in/face")
    visitor.photo("/check-in/face", face_jpeg)
    [first] = [p.id for p in rows(db_sessions, Photo, kind="face")]

    visitor.photo("/check-in/face", face_jpeg)

    [second] = [p.id for p in rows(db_sessions, Photo, kind="face")]
    assert second != first


def test_the_camera_steps_share_one_rate_limit(visitor, db_sessions, face_jpeg):
    _at_camera(visitor, "/check-in/id-photo")
    answers = [visitor.photo("/check-in/id-photo", face_jpeg).status_code]
    answers += [
        visitor.photo("/check-in/face", b"not a picture").status_code for _ in range(29)
    ]
    answers.append(visitor.photo("/check-in/face", face_jpeg).status_code)

    assert answers[:30] == [200] + [422] * 29
    assert answers[30] == 429
    assert rows(db_sessions, Photo, kind="face") == []


def test_the_name_on_a_licence_replaces_the_typed_one_and_its_number_is_kept(
    visitor, db_sessions, licence_back
):
    _at_camera(visitor, "/check-in/id-back", id_type="drivers_licence", name="Sean")

    answer = visitor.photo("/check-in/id-back", licence_back).get_json()

    assert answer == {
        "ok": True,
        "advice": [],
        "next": "/check-in/face",
        "name": "Sean Patrick O'Brien",
        "expired": False,
    }
    visitor.reach()
    review = visitor.client.get("/check-in/review").get_data(as_text=True)
    assert "Name from your licence" in review
    assert "Sean Patrick O&#39;Brien" in review
    assert "expired" not in review

    visitor.confirm()
    [visit] = rows(db_sessions, Visit)
    assert visit.visitor_name == "Sean Patrick O'Brien"
    assert visit.id_document_expired is False
    back = rows(db_sessions, Photo, kind="id_back")[0]
    assert back.visit_id == visit.id
    assert json.loads(back.details)["expired"] is False


def test_an_expired_licence_is_flagged_on_the_review_and_the_visit(
    visitor, db_sessions
):
    expired = licences.photo_of(licences.payload({**licences.TEXAS, "DBA": "07142020"}))
    visitor.reach(id_type="drivers_licence", photos={"id-back": expired})

    review = visitor.client.get("/check-in/review").get_data(as_text=True)
    visitor.confirm()

    assert "Your licence has expired." in review
    [visit] = rows(db_sessions, Visit)
    assert visit.id_document_expired is True


def test_a_licence_number_on_the_block_list_holds_the_check_in(
    visitor, db_sessions, site, people
):
    with db_sessions.begin() as session:
        screening.add_entry(
            session,
            session.get(Site, site.id),
            kind="id_number",
            value="12345678",
            actor=session.get(User, people["security_manager"].id),
        )

    visitor.check_in(id_type="drivers_licence", name="Someone Else Entirely")

    [visit] = rows(db_sessions, Visit)
    assert visit.admission == "held"


def test_the_back_of_a_card_without_a_readable_barcode_asks_for_a_retake(
    visitor, db_sessions, face_jpeg
):
    _at_camera(visitor, "/check-in/id-back", id_type="drivers_licence")

    response = visitor.photo("/check-in/id-back", face_jpeg)

    assert response.status_code == 422
    assert response.get_json()["advice"] == [
        "We cannot read the barcode. Hold the back of the card level, "
        "filling the frame, in good light."
    ]
    assert rows(db_sessions, Photo, kind="id_back") == []


def test_the_camera_screens_say_what_to_do_and_load_only_their_scripts(visitor):
    _at_camera(visitor, "/check-in/id-back", id_type="drivers_licence")

    page = visitor.client.get("/check-in/id-back").get_data(as_text=True)

    assert "My ID has no barcode" in page
    assert 'data-facing="environment"' in page
    assert 'data-no-camera-url="/check-in/see-desk?why=camera"' in page
    assert '<meta name="csrf-token"' in page
    assert '<script src="/static/kiosk/camera.js">' in page
    assert '<script src="/static/kiosk/photo.js">' in page


def test_without_a_camera_the_visitor_is_sent_to_the_front_desk(visitor):
    page = visitor.client.get("/check-in/see-desk?why=camera")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Please see the front desk" in text
    assert "The camera is not available" in text
