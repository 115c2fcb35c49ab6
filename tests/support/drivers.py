"""A truck driver at the kiosk, answering the arrival's screens one at a time, and
frames with the barcodes a driver holds to the camera."""

from dataclasses import dataclass, field

import numpy as np
import zxingcpp

from tests.fixtures.apps import csrf_token
from tests.functional import hidden_value
from tests.kiosk.conftest import post_file
from tests.support import pictures

FIRST_STEP = "/pickup"
CAMERA_STEPS = ("/pickup/id-photo", "/pickup/id-back")


@dataclass
class Answers:
    """What a driver answers at each step."""

    reference: str = "BOL-1001"
    name: str = "Rosa Díaz"
    carrier: str = "Swift Lines"
    truck: str = "TX-4411"
    trailer: str = "53889"
    id_type: str = "passport"
    # Pictures by camera step ("id-photo", "id-back"), instead of the usual.
    photos: dict = field(default_factory=dict)
    # For the back of a licence: True taps "My ID has no barcode".
    no_barcode: bool = False


class Driver:
    """A driver at the gate kiosk; the usual pictures are a face and a licence."""

    def __init__(self, client, face: bytes, licence: bytes):
        self.client = client
        self.pictures = {"id-photo": face, "id-back": licence}

    def token(self) -> str:
        # A page that changes nothing: the start screen would forget the draft.
        return csrf_token(self.client, "/pickup/see-gate")

    def post(self, path: str, **data):
        return self.client.post(path, data={"csrf_token": self.token(), **data})

    def photo(self, path: str, data: bytes, **headers):
        """Send a picture as the camera step's script does: multipart, CSRF header."""
        return post_file(
            self.client,
            path,
            "photo",
            data,
            "photo.jpg",
            headers={"X-CSRFToken": self.token(), **headers},
        )

    def answer(self, path: str, answers: Answers) -> str:
        """Answer the screen at path; returns where the kiosk sends the driver."""
        if path in CAMERA_STEPS and not (path.endswith("back") and answers.no_barcode):
            step = path.rsplit("/", 1)[1]
            response = self.photo(path, answers.photos.get(step, self.pictures[step]))
            assert response.status_code == 200, response.get_json()
            return response.get_json()["next"]

        forms = {
            FIRST_STEP: {"reference": answers.reference},
            "/pickup/name": {"driver_name": answers.name},
            "/pickup/carrier": {"carrier": answers.carrier},
            "/pickup/vehicle": {
                "truck_number": answers.truck,
                "trailer_number": answers.trailer,
            },
            "/pickup/id-type": {"id_type": answers.id_type},
            "/pickup/id-back": {},
        }
        target = "/pickup/id-back/none" if path == "/pickup/id-back" else path
        response = self.post(target, **forms[path])
        assert response.status_code == 302, response.get_data(as_text=True)
        return response.location

    def reach(self, target: str = "/pickup/review", **changes) -> list[str]:
        """Answer screen after screen until the kiosk shows target; returns the path."""
        answers = Answers(**changes)
        path = FIRST_STEP
        seen = []
        while path != target:
            seen.append(path)
            assert len(seen) < 10, seen
            path = self.answer(path, answers)

        return seen

    def review_key(self) -> str:
        page = self.client.get("/pickup/review")
        assert page.status_code == 200, page.location
        return hidden_value(page.data, "submission_key")

    def confirm(self, key: str | None = None):
        """Tap Send to the gate on the review screen."""
        return self.post("/pickup/review", submission_key=key or self.review_key())

    def arrive(self, **changes):
        """The whole arrival; returns the review's response."""
        self.reach(**changes)
        response = self.confirm()
        assert response.status_code == 302, response.get_data(as_text=True)
        assert response.location.endswith("/pickup/done")
        return response

    def start_again(self) -> None:
        """Tap Done: the kiosk forgets this driver, ready for the next."""
        response = self.post("/reset")
        assert response.status_code == 302


def barcode_frame(text: str, symbology=zxingcpp.BarcodeFormat.Code128) -> bytes:
    """A 1280 × 720 camera frame of a document with text's barcode on it."""
    code = zxingcpp.create_barcode(text, symbology)
    width = np.array(code.to_image(scale=1)).shape[1]
    symbol = np.array(code.to_image(scale=max(1, min(4, 1200 // width))))
    frame = np.full((720, 1280), 250, dtype=np.uint8)
    top, left = (720 - symbol.shape[0]) // 2, (1280 - symbol.shape[1]) // 2
    frame[top : top + symbol.shape[0], left : left + symbol.shape[1]] = symbol
    return pictures.jpeg(np.dstack([frame] * 3))
