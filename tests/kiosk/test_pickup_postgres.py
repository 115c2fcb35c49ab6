"""A driver's arrival on PostgreSQL: two taps at one moment make one arrival, and a
truck already at the gate is refused however its number is spaced."""

import threading

import pytest

from gatekeeper.models import Photo, Pickup
from tests.functional import rows
from tests.support.drivers import Driver

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_settings(app_settings, pg_url):
    """The shared settings, on the run's PostgreSQL database instead of SQLite."""
    return {**app_settings, "DATABASE_URL": pg_url}


@pytest.fixture
def driver(kiosk_client, face_jpeg, licence_back) -> Driver:
    return Driver(kiosk_client, face_jpeg, licence_back)


def test_two_taps_at_the_same_moment_make_one_arrival_on_postgresql(
    driver, kiosk_app, db_sessions
):
    driver.reach(id_type="drivers_licence")
    key = driver.review_key()
    cookie = driver.client.get_cookie("gk_kiosk_session").value
    device = driver.client.get_cookie("gk_kiosk_device").value
    token = driver.token()
    start = threading.Barrier(2)
    answers = []

    def tap():
        client = kiosk_app.test_client()
        client.set_cookie("gk_kiosk_session", cookie)
        client.set_cookie("gk_kiosk_device", device)
        start.wait()
        response = client.post(
            "/pickup/review", data={"submission_key": key, "csrf_token": token}
        )
        answers.append((response.status_code, response.location))

    taps = [threading.Thread(target=tap) for _ in range(2)]
    for thread in taps:
        thread.start()

    for thread in taps:
        thread.join(timeout=30)

    assert sorted(answers) == [(302, "/pickup/done")] * 2
    [pickup] = rows(db_sessions, Pickup)
    assert pickup.driver_name == "Sean Patrick O'Brien"
    assert sorted(p.kind for p in rows(db_sessions, Photo, pickup_id=pickup.id)) == [
        "id",
        "id_back",
    ]


def test_a_truck_at_the_gate_is_refused_however_it_is_spaced_on_postgresql(
    driver, db_sessions
):
    driver.arrive(truck="TX-4411")
    driver.start_again()
    driver.reach(truck="TX 4411")

    page = driver.confirm().get_data(as_text=True)

    assert "This truck is already checked in. Please see the gate staff." in page
    assert len(rows(db_sessions, Pickup)) == 1
