"""Fixtures for the kiosk's screens: the main site's directory, real pictures, and a
visitor who taps through the check-in's steps."""

import io
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from gatekeeper.models import Host, Site
from tests.fixtures.apps import csrf_token
from tests.functional import hidden_value
from tests.support import licences
from tests.support.pictures import framed, jpeg, portrait


def post_file(client, path: str, field: str, data: bytes, name: str, headers=None):
    """POST one file as multipart form data, encoded here in memory: the test
    client's own encoder spools a large body to a file it never closes."""
    boundary, body = encode_multipart({field: FileStorage(io.BytesIO(data), name)})
    return client.post(
        path,
        data=body,
        headers=headers or {},
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _host_ids(db_sessions, site) -> list[int]:
    query = select(Host.id).where(Host.site_id == site.id).order_by(Host.id)
    with db_sessions() as session:
        return list(session.scalars(query))


@pytest.fixture
def host_ids(db_sessions, site):
    """The ids of the main site's hosts, Ana López first."""
    return _host_ids(db_sessions, site)


@pytest.fixture
def other_host_ids(db_sessions, other_site):
    """The ids of the other site's hosts, whom the main site's kiosk must not offer."""
    return _host_ids(db_sessions, other_site)


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    """The astronaut framed as a 1280 × 720 webcam sees him: a usable face photo, and
    (a face being what the judge looks for on the front of an ID) a usable ID photo."""
    return jpeg(framed(portrait()))


@pytest.fixture(scope="session")
def licence_back() -> bytes:
    """The back of a Texas licence, valid until 2030, Sean Patrick O'Brien's."""
    return licences.photo_of(licences.payload(licences.TEXAS))


@pytest.fixture
def self_service(db_sessions, site):
    """The main site in self-service: a kiosk check-in is admitted at once (10.2)."""
    with db_sessions.begin() as session:
        session.get(Site, site.id).verification_mode = "self_service"


@dataclass
class Answers:
    """What a visitor answers at each step; None skips a step's answer."""

    visitor_type: str = "visitor"
    name: str = "Jane Roe"
    company: str = "Acme Freight"
    id_type: str = "passport"
    host: int | None = None
    # Pictures by camera step ("id-photo", "id-back", "face"), instead of the usual.
    photos: dict = field(default_factory=dict)
    # For the back of a licence: True taps "My ID has no barcode".
    no_barcode: bool = False


class Visitor:
    """A person at the lobby kiosk, answering each screen it is sent to."""

    def __init__(self, client, host_ids, face: bytes, licence: bytes):
        self.client = client
        self.host_ids = host_ids
        self.face = face
        # The picture each camera step takes unless a test says otherwise.
        self.pictures = {"id-photo": face, "id-back": licence, "face": face}

    def token(self) -> str:
        return csrf_token(self.client, "/check-in")

    def post(self, path: str, **data):
        return self.client.post(path, data={"csrf_token": self.token(), **data})

    def photo(self, path: str, data: bytes, name: str = "photo.jpg", **headers):
        """Send a picture as the camera step's script does: multipart, CSRF header."""
        return post_file(
            self.client,
            path,
            "photo",
            data,
            name,
            headers={"X-CSRFToken": self.token(), **headers},
        )

    def answer(self, path: str, answers: Answers):
        """Answer the screen at path; returns where the kiosk sends the visitor."""
        if path == "/check-in":
            response = self.post(path, visitor_type=answers.visitor_type)
        elif path == "/check-in/identity":
            response = self.post(
                path, visitor_name=answers.name, company=answers.company
            )
        elif path == "/check-in/id-type":
            response = self.post(path, id_type=answers.id_type)
        elif path == "/check-in/id-back" and answers.no_barcode:
            response = self.post("/check-in/id-back/none")
        elif path in ("/check-in/id-photo", "/check-in/id-back", "/check-in/face"):
            step = path.rsplit("/", 1)[1]
            response = self.photo(path, answers.photos.get(step, self.pictures[step]))
            assert response.status_code == 200, response.get_json()
            return response.get_json()["next"]
        elif path == "/check-in/host":
            host = answers.host or self.host_ids[0]
            response = self.post(path, host_id=str(host))
        else:
            raise AssertionError(f"no answer for {path}")

        assert response.status_code == 302, response.get_data(as_text=True)
        return response.location

    def reach(self, target: str = "/check-in/review", **changes) -> list[str]:
        """Answer screen after screen until the kiosk shows target; returns the path."""
        answers = Answers(**changes)
        path = "/check-in"
        seen = []
        while path != target:
            seen.append(path)
            assert len(seen) < 10, seen
            path = self.answer(path, answers)

        return seen

    def review_key(self) -> str:
        page = self.client.get("/check-in/review")
        assert page.status_code == 200, page.location
        return hidden_value(page.data, "submission_key")

    def confirm(self, key: str | None = None):
        """Tap Check in on the review screen."""
        return self.post("/check-in/review", submission_key=key or self.review_key())

    def check_in(self, **changes):
        """The whole check-in; returns the review's response."""
        self.reach(**changes)
        response = self.confirm()
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def badge_number(self) -> str:
        page = self.client.get("/check-in/done").data
        match = re.search(rb'class="badge-number">(\d{6})<', page)
        assert match, "no badge number on the done screen"
        return match.group(1).decode()


@pytest.fixture
def visitor(kiosk_client, host_ids, face_jpeg, licence_back) -> Visitor:
    """A visitor at the main site's lobby kiosk."""
    return Visitor(kiosk_client, host_ids, face_jpeg, licence_back)
