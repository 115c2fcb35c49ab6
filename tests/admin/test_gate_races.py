"""Two guards log out the same driver at the same moment, on PostgreSQL where the
two requests really run side by side: exactly one departure is recorded, one
consignee notice queued, and the other guard is told the driver is already out."""

import threading

import pytest
from sqlalchemy import func, select

from gatekeeper.models import LogEntry, OutboxMessage, Pickup
from tests.fixtures.apps import csrf_token
from tests.support.pickups import ASSIGNED_SEAL, add_appointment, on_site


@pytest.fixture
def app_settings(app_settings, pg_url):
    return {**app_settings, "DATABASE_URL": pg_url}


def test_two_guards_logging_out_one_driver_record_one_departure(
    signed_in, db_sessions, site, people
):
    add_appointment(db_sessions, site)
    pickup = on_site(db_sessions, site, people["guard"].id)
    page = f"/gate/{pickup.id}/depart"
    clients = [signed_in("guard"), signed_in("security_manager")]
    forms = [
        {
            "csrf_token": csrf_token(client, page),
            "seal_number": ASSIGNED_SEAL,
            "seal_confirmation": ASSIGNED_SEAL,
            "trailer_number": "53889",
            **dict.fromkeys(("view", "verify", "tug", "twist"), "y"),
        }
        for client in clients
    ]
    barrier = threading.Barrier(2)
    pages: list[str] = []

    def log_out(client, form):
        barrier.wait()
        response = client.post(page, data=form, follow_redirects=True)
        pages.append(response.get_data(as_text=True))

    threads = [
        threading.Thread(target=log_out, args=pair)
        for pair in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum("is logged out with seal" in text for text in pages) == 1
    assert sum("already logged out" in text for text in pages) == 1
    with db_sessions() as session:
        departures = session.scalar(
            select(func.count())
            .select_from(LogEntry)
            .where(LogEntry.kind == "pickup.departed")
        )
        notices = session.scalar(select(func.count()).select_from(OutboxMessage))
        assert session.get(Pickup, pickup.id).status == "departed"

    assert (departures, notices) == (1, 1)
