"""Log review on PostgreSQL through the console: a search that folds accented
capitals, and an export read and streamed after its view has returned."""

import csv
import io

import pytest

from gatekeeper.models import AuditEvent
from tests.functional import rows, table_rows

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_settings(app_settings, pg_url):
    """The shared settings, on the run's PostgreSQL database instead of SQLite."""
    return {**app_settings, "DATABASE_URL": pg_url}


def test_a_search_and_its_export_run_on_postgresql(
    signed_in, make_visit, site, db_sessions
):
    for name in ("Ángel Ruiz", "ángela Soto", "Bob Stone"):
        make_visit(site, name)

    client = signed_in("security_manager")
    page = client.get("/logs/visits?name=ÁNGEL")
    export = client.get("/logs/visits.csv?name=án")
    streamed = export.is_streamed
    data = export.get_data()

    # PostgreSQL folds the case of every letter, accented capitals included.
    assert [row[1] for row in table_rows(page.data)[1:]] == [
        "ángela Soto",
        "Ángel Ruiz",
    ]
    assert streamed
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [row[3] for row in table[1:]] == ["ángela Soto", "Ángel Ruiz"]
    # The search page and the export are each in the audit trail.
    actions = [event.action for event in rows(db_sessions, AuditEvent)]
    assert actions.count("log.searched") == 1 and actions.count("log.exported") == 1
