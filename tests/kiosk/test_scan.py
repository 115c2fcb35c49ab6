"""The kiosk's camera scanner: a frame goes in, the text of a badge's or an
invitation's QR code comes out, and nothing else."""

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from gatekeeper import badges, invitations
from tests.fixtures.apps import csrf_token
from tests.kiosk.conftest import post_file
from tests.support.pictures import jpeg

TOKEN = badges.make_token(
    "some secret",
    site_id=1,
    visit_id=7,
    badge_number="123456",
    valid_until=datetime(2030, 1, 1, tzinfo=UTC),
)


def _frame(text: str) -> bytes:
    """A 1280 × 720 camera frame with the QR code of text held in the middle."""
    code = cv2.imdecode(np.frombuffer(badges.qr_png(text), np.uint8), cv2.IMREAD_COLOR)
    frame = np.full((720, 1280, 3), 255, np.uint8)
    top, left = (720 - code.shape[0]) // 2, (1280 - code.shape[1]) // 2
    frame[top : top + code.shape[0], left : left + code.shape[1]] = code
    return jpeg(frame)


def _scan(client, frame: bytes):
    token = csrf_token(client, "/sign-out")
    return post_file(
        client, "/scan", "frame", frame, "frame.jpg", headers={"X-CSRFToken": token}
    )


@pytest.mark.parametrize(
    "text", [TOKEN, "INV" + "ABCDEFGH234567AB"], ids=["badge", "invitation"]
)
def test_a_badge_or_an_invitation_in_the_frame_is_read(kiosk_client, text):
    assert badges.looks_like_token(text) or invitations.looks_like_code(text)

    response = _scan(kiosk_client, _frame(text))

    assert response.status_code == 200
    assert response.get_json() == {"text": text}


@pytest.mark.parametrize(
    "frame",
    [
        _frame("https://example.com/not-ours"),
        jpeg(np.full((720, 1280, 3), 255, np.uint8)),
        b"not a picture at all",
    ],
    ids=["someone-elses-code", "no-code", "not-an-image"],
)
def test_a_frame_without_one_of_our_codes_reads_nothing(kiosk_client, frame):
    response = _scan(kiosk_client, frame)

    assert response.status_code == 200
    assert response.get_json() == {"text": None}


def test_a_scan_without_a_frame_or_a_csrf_token_is_refused(kiosk_client):
    token = csrf_token(kiosk_client, "/sign-out")
    without_frame = kiosk_client.post("/scan", headers={"X-CSRFToken": token})
    without_token = post_file(kiosk_client, "/scan", "frame", _frame(TOKEN), "f.jpg")

    assert without_frame.status_code == 400
    assert without_token.status_code == 400
    assert without_token.mimetype == "text/html"
