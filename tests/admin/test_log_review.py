"""Log review in the console: a security manager searches the visitor log and the
pickup log, pages through them, exports them as CSV, and every search and export
is in the audit trail; bad input is explained on the page and nothing is read."""

import csv
import io
import json
import re

import pytest

from gatekeeper import search
from gatekeeper.models import AuditEvent
from tests.fixtures.apps import sign_in
from tests.functional import rows, table_rows
from tests.support.pickups import ASSIGNED_SEAL, add_appointment, depart, on_site


def _text(response) -> str:
    return response.get_data(as_text=True)


def _events(db_sessions, action: str) -> list[AuditEvent]:
    return rows(db_sessions, AuditEvent, action=action)


@pytest.fixture
def manager(signed_in):
    return signed_in("security_manager")


@pytest.fixture
def visitors(make_visit, site):
    """Three visits of today; Jane's company is typed as a formula might be."""
    return {
        "jane": make_visit(site, "Jane Roe", company="-1 Acme Freight"),
        "janet": make_visit(site, "Janet Moss", company="Moss Logistics"),
        "john": make_visit(site, "John Doe", company="Doe & Sons"),
    }


def test_a_manager_finds_visits_by_the_start_of_a_name(manager, visitors):
    page = manager.get("/logs/visits?name=JANE")

    assert page.status_code == 200
    names = [row[1] for row in table_rows(page.data)[1:]]
    assert names == ["Janet Moss", "Jane Roe"]
    assert f'href="/visits/{visitors["jane"].id}"' in _text(page)


def test_the_company_host_and_badge_narrow_the_visits(manager, visitors):
    badge = visitors["john"].badge_number

    by_company = manager.get("/logs/visits?company=moss")
    by_badge = manager.get(f"/logs/visits?badge={badge}")
    by_host = manager.get("/logs/visits?host=nobody")

    assert [row[1] for row in table_rows(by_company.data)[1:]] == ["Janet Moss"]
    assert [row[1] for row in table_rows(by_badge.data)[1:]] == ["John Doe"]
    assert "No visit matches." in _text(by_host)


def test_each_search_page_is_kept_in_the_audit_trail_with_its_criteria(
    manager, db_sessions, visitors, site
):
    manager.get("/logs/visits?name=jan&state=on_site")

    (event,) = _events(db_sessions, "log.searched")
    detail = json.loads(event.detail)
    assert event.actor == "securitymanagermain" and event.site_id == site.id
    assert event.target == "log:visits"
    assert detail["criteria"]["terms"] == {"name": "jan"}
    assert detail["criteria"]["state"] == "on_site"
    assert detail["shown"] == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("badge=12ab", "A badge is 6 digits."),
        ("first=yesterday", "Write the date like 2026-03-31."),
        ("first=2026-03-10&last=2026-03-01", "The range ends before it starts."),
        ("first=1899-01-01", "Choose a date from 2000 to 2099."),
        ("state=deleted", "Not a valid choice"),
        ("name=%E2%80%AEevil", "contains a character that is not allowed"),
        ("after=1;DROP", "That page link is not valid"),
    ],
)
def test_bad_input_is_explained_on_the_page_and_nothing_is_read(
    manager, db_sessions, visitors, query, message
):
    page = manager.get(f"/logs/visits?{query}")

    assert page.status_code == 400
    assert message in _text(page)
    assert "Jane Roe" not in _text(page)
    assert _events(db_sessions, "log.searched") == []


def test_the_older_link_pages_through_every_row_once(
    manager, db_sessions, visitors, monkeypatch
):
    monkeypatch.setattr(search, "PAGE_SIZE", 2)

    first = manager.get("/logs/visits")
    older = _link(first, "Older")
    second = manager.get(older)

    assert [row[1] for row in table_rows(first.data)[1:]] == ["John Doe", "Janet Moss"]
    assert [row[1] for row in table_rows(second.data)[1:]] == ["Jane Roe"]
    assert "Older</a>" not in _text(second) and "Newest</a>" in _text(second)
    assert len(_events(db_sessions, "log.searched")) == 2


def _link(page, label: str) -> str:
    """The address of the page's button link with this label."""
    match = re.search(rf'<a class="button" href="([^"]+)">{label}</a>', _text(page))
    assert match, f"no {label} link"
    return match.group(1).replace("&amp;", "&")


@pytest.fixture
def departed(db_sessions, site, people):
    add_appointment(db_sessions, site)
    pickup = on_site(db_sessions, site, people["guard"].id)
    assert depart(db_sessions, pickup.id, people["guard"].id).departed
    return pickup


def test_a_manager_finds_pickups_by_truck_trailer_or_seal(manager, departed):
    for query in ("truck=tx-44", "trailer=538", f"seal={ASSIGNED_SEAL[:4]}"):
        page = manager.get(f"/logs/pickups?{query}")
        cells = table_rows(page.data)[1:]
        assert [row[1] for row in cells] == ["Rosa Díaz"], query

    assert "No pickup matches." in _text(manager.get("/logs/pickups?seal=ZZ"))
    assert f'href="/pickups/{departed.id}"' in _text(manager.get("/logs/pickups"))


def test_a_visit_field_is_no_pickup_search(manager, departed):
    page = manager.get("/logs/pickups?badge=123456&host=ana")

    # The pickup form has no such fields: they are ignored, not an error.
    assert page.status_code == 200
    assert 'name="badge"' not in _text(page)


def test_an_export_streams_the_matching_rows_as_csv(manager, db_sessions, visitors):
    response = manager.get("/logs/visits.csv?name=jan")

    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="visitor-log-main-')
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [row[3] for row in table[1:]] == ["Janet Moss", "Jane Roe"]
    # "-1 Acme Freight" is a name the kiosk accepts, and a formula to a spreadsheet.
    assert table[2][4] == "'-1 Acme Freight"
    (event,) = _events(db_sessions, "log.exported")
    assert json.loads(event.detail)["criteria"]["terms"] == {"name": "jan"}


def test_a_pickup_export_holds_the_pickup_log(manager, db_sessions, departed):
    data = manager.get("/logs/pickups.csv").get_data()

    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    row = dict(zip(table[0], table[1], strict=True))
    assert row["Driver's name"] == "Rosa Díaz"
    assert row["Seal number at departure"] == ASSIGNED_SEAL
    assert [e.target for e in _events(db_sessions, "log.exported")] == ["log:pickups"]


def test_the_export_of_a_bad_search_is_refused_with_the_reason(
    manager, db_sessions, visitors
):
    response = manager.get("/logs/visits.csv?badge=nope")

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "A badge is 6 digits." in _text(response)
    assert _events(db_sessions, "log.exported") == []


def test_the_search_page_links_its_export_with_the_same_criteria(manager, visitors):
    page = _text(manager.get("/logs/visits?name=jan&state=on_site"))

    assert "/logs/visits.csv?" in page
    export = page.split("/logs/visits.csv?", 1)[1].split('"', 1)[0]
    assert "name=jan" in export and "state=on_site" in export


@pytest.mark.parametrize("role", ["front_desk", "guard", "administrator"])
def test_only_a_security_manager_reviews_and_exports_the_logs(
    signed_in, db_sessions, visitors, role
):
    client = signed_in(role)

    for path in ("/logs/visits", "/logs/pickups", "/logs/visits.csv"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert b"Jane Roe" not in response.data

    assert client.get("/logs/pickups.csv").status_code == 403
    assert _events(db_sessions, "log.exported") == []


def test_a_manager_of_another_site_sees_nothing_of_this_one(
    make_person, console_app, other_site, visitors
):
    client = console_app.test_client()
    sign_in(client, make_person("security_manager", other_site))

    page = _text(client.get("/logs/visits?name=jan"))
    export = client.get("/logs/visits.csv").get_data()

    assert "Jane Roe" not in page and "No visit matches." in page
    assert b"Jane" not in export


def test_nothing_in_the_console_deletes(console_app):
    """No route of the console takes DELETE, and none is named for removing a
    record of the logs."""
    for rule in console_app.url_map.iter_rules():
        assert "DELETE" not in rule.methods, rule.rule
        if rule.endpoint.split(".")[0] in ("log_review", "records"):
            assert "delete" not in rule.endpoint and "remove" not in rule.endpoint
