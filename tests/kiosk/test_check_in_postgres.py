"""The kiosk's check-in on PostgreSQL: the sealed pictures, the one visit a double
tap makes, and the invitation it uses, as a company running many kiosks has them."""

import threading

import pytest

from gatekeeper.models import Photo, Visit
from tests.functional import rows

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_settings(app_settings, pg_url):
    """The shared settings, on the run's PostgreSQL database instead of SQLite."""
    return {**app_settings, "DATABASE_URL": pg_url}


def test_a_check_in_keeps_its_pictures_with_the_visit_on_postgresql(
    visitor, db_sessions
):
    visitor.check_in(id_type="drivers_licence")

    [visit] = rows(db_sessions, Visit)
    assert visit.visitor_name == "Sean Patrick O'Brien"
    assert visit.id_document_expired is False
    photos = rows(db_sessions, Photo)
    assert sorted(p.kind for p in photos) == ["face", "id", "id_back"]
    assert {p.visit_id for p in photos} == {visit.id}


def test_two_taps_at_the_same_moment_make_one_visit_on_postgresql(
    visitor, kiosk_app, db_sessions
):
    visitor.reach()
    key = visitor.review_key()
    cookie = visitor.client.get_cookie("gk_kiosk_session").value
    device = visitor.client.get_cookie("gk_kiosk_device").value
    token = visitor.token()
    start = threading.Barrier(2)
    answers = []

    def tap():
        client = kiosk_app.test_client()
        client.set_cookie("gk_kiosk_session", cookie)
        client.set_cookie("gk_kiosk_device", device)
        start.wait()
        response = client.post(
            "/check-in/review", data={"submission_key": key, "csrf_token": token}
        )
        answers.append((response.status_code, response.location))

    taps = [threading.Thread(target=tap) for _ in range(2)]
    for thread in taps:
        thread.start()

    for thread in taps:
        thread.join(timeout=30)

    assert sorted(answers) == [(302, "/check-in/done")] * 2
    assert len(rows(db_sessions, Visit)) == 1
