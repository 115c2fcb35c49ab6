"""A pickup corrected through the console on PostgreSQL: the fields changed are
corrected together, the unchanged one refused, and the page shows both values."""

import pytest

from gatekeeper.models import AuditEvent, Pickup
from tests.admin.test_pickup_corrections import ON_SITE_VALUES, REASON
from tests.fixtures.apps import csrf_token
from tests.functional import log_kinds, rows, table_rows
from tests.support.pickups import on_site

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_settings(app_settings, pg_url):
    """The shared settings, on the run's PostgreSQL database instead of SQLite."""
    return {**app_settings, "DATABASE_URL": pg_url}


def test_a_pickup_is_corrected_on_postgresql(signed_in, db_sessions, site, people):
    pickup = on_site(db_sessions, site, people["guard"].id)
    client = signed_in("security_manager")
    path = f"/records/pickups/{pickup.id}/correct"
    data = {"csrf_token": csrf_token(client, path), **ON_SITE_VALUES, "reason": REASON}

    unchanged = client.post(path, data={**data, "truck_number": "tx-4411"})
    done = client.post(path, data={**data, "carrier": "Swift", "trailer_number": "5"})
    page = client.get(f"/pickups/{pickup.id}")

    assert unchanged.status_code == 400
    assert "Truck number: that is the value already" in unchanged.get_data(True)
    assert done.status_code == 302
    fields = [r[1:4] for r in table_rows(page.data) if r[-1:] == [REASON]]
    assert fields == [
        ["Carrier", "Swift Lines", "Swift"],
        ["Trailer number", "53889", "5"],
    ]
    assert log_kinds(db_sessions)[-2:] == ["pickup.corrected"] * 2
    assert rows(db_sessions, Pickup, id=pickup.id)[0].carrier == "Swift"
    reads = rows(db_sessions, AuditEvent, action="log.record_read")
    assert [event.target for event in reads] == [f"pickup:{pickup.id}"] * 2
