"""The pickup reference read from the driver's papers with the kiosk's camera: the
barcode or QR code of a bill of lading goes in, a well-formed reference comes out,
and nothing is looked up."""

import numpy as np
import pytest
import zxingcpp

from gatekeeper import appointments
from tests.fixtures.apps import csrf_token
from tests.kiosk.conftest import post_file
from tests.support.drivers import barcode_frame
from tests.support.pickups import add_appointment
from tests.support.pictures import jpeg

SYMBOLOGIES = {
    "code-128": zxingcpp.BarcodeFormat.Code128,
    "code-39": zxingcpp.BarcodeFormat.Code39,
    "qr-code": zxingcpp.BarcodeFormat.QRCode,
}


def _scan(driver_client, frame: bytes, token: str | None = None):
    headers = {"X-CSRFToken": token} if token is not None else {}
    return post_file(
        driver_client, "/pickup/scan", "frame", frame, "frame.jpg", headers=headers
    )


@pytest.fixture
def token(kiosk_client) -> str:
    return csrf_token(kiosk_client, "/pickup")


@pytest.mark.parametrize("symbology", SYMBOLOGIES.values(), ids=SYMBOLOGIES.keys())
def test_a_reference_in_a_barcode_or_qr_code_is_read(kiosk_client, token, symbology):
    response = _scan(kiosk_client, barcode_frame("BOL-20261203-7", symbology), token)

    assert response.status_code == 200
    assert response.get_json() == {"text": "BOL-20261203-7"}


def test_a_reference_is_read_the_way_the_pickup_log_writes_it(kiosk_client, token):
    frame = barcode_frame("po 4471/a", zxingcpp.BarcodeFormat.QRCode)

    assert _scan(kiosk_client, frame, token).get_json() == {"text": "PO4471/A"}


@pytest.mark.parametrize(
    "frame",
    [
        barcode_frame("https://example.com/track?id=1", zxingcpp.BarcodeFormat.QRCode),
        barcode_frame("R" * 41),
        jpeg(np.full((720, 1280, 3), 250, np.uint8)),
        b"not a picture at all",
    ],
    ids=["a-web-address", "too-long", "no-code", "not-an-image"],
)
def test_a_frame_without_a_reference_reads_nothing(kiosk_client, token, frame):
    response = _scan(kiosk_client, frame, token)

    assert response.status_code == 200
    assert response.get_json() == {"text": None}


def test_a_known_reference_reads_exactly_as_an_unknown_one(
    kiosk_client, token, db_sessions, site
):
    add_appointment(db_sessions, site, reference="BOL-1001")

    known = _scan(kiosk_client, barcode_frame("BOL-1001"), token)
    unknown = _scan(kiosk_client, barcode_frame("BOL-1002"), token)

    assert known.get_json() == {"text": "BOL-1001"}
    assert unknown.get_json() == {"text": "BOL-1002"}
    assert known.headers.get("Content-Length") == unknown.headers.get("Content-Length")


def test_a_scan_without_a_frame_or_a_csrf_token_is_refused(kiosk_client, token):
    without_frame = kiosk_client.post("/pickup/scan", headers={"X-CSRFToken": token})
    without_token = _scan(kiosk_client, barcode_frame("BOL-1001"))

    assert without_frame.status_code == 400
    assert without_token.status_code == 400
    assert without_token.mimetype == "text/html"


def test_the_reference_step_offers_the_camera_with_the_pickup_scanner(kiosk_client):
    page = kiosk_client.get("/pickup").get_data(as_text=True)

    assert 'data-scan-url="/pickup/scan"' in page
    assert 'data-field="reference"' in page
    assert "see the gate staff" in page


def test_read_reference_takes_the_first_code_that_is_a_reference():
    assert appointments.read_reference(barcode_frame("ORDER 77")) == "ORDER77"
    assert appointments.read_reference(barcode_frame("#1")) is None
