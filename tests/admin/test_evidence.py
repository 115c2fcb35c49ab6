"""The evidence pack in the console: chosen by range, downloaded, audited."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent
from tests.functional import rows, submit


def _today(site):
    return utcnow().astimezone(ZoneInfo(site.timezone)).date()


def _ask(client, first, last):
    response = submit(
        client,
        "/evidence/",
        {"first": str(first), "last": str(last)},
        token_page="/evidence/",
    )
    response.get_data()
    response.close()
    return response


def _visitor_names(response) -> list[str]:
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    text = archive.read("10.2-visitors/visitor-log.csv").decode("utf-8-sig")
    return [row["Visitor's name"] for row in csv.DictReader(io.StringIO(text))]


def test_a_security_manager_downloads_the_pack_of_the_current_site(
    signed_in, site, other_site, make_visit, db_sessions
):
    make_visit(site, "Ada Lovelace")
    make_visit(other_site, "Somebody Elsewhere")
    client = signed_in("security_manager")
    today = _today(site)

    response = _ask(client, today - timedelta(days=7), today)

    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert f"evidence-main-{today - timedelta(days=7)}-to-{today}.zip" in disposition
    assert _visitor_names(response) == ["Ada Lovelace"]
    [event] = rows(db_sessions, AuditEvent, action="evidence.exported")
    detail = json.loads(event.detail)
    assert event.site_id == site.id and event.actor == "securitymanagermain"
    assert detail["sha256"] == hashlib.sha256(response.data).hexdigest()
    assert detail["verified"] is True
    assert detail["rows"]["10.2-visitors/visitor-log.csv"] == 1

    page = client.get("/evidence/").get_data(as_text=True)
    assert detail["sha256"] in page


@pytest.mark.parametrize(
    ("days", "message"),
    [((0, -1), "The range ends before it starts."), ((-400, 0), "at most 366 days")],
)
def test_a_bad_range_is_explained_on_the_page_and_nothing_exported(
    signed_in, site, db_sessions, days, message
):
    today = _today(site)
    response = _ask(
        signed_in("security_manager"),
        today + timedelta(days=days[0]),
        today + timedelta(days=days[1]),
    )

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert rows(db_sessions, AuditEvent, action="evidence.exported") == []


def test_a_date_that_is_not_a_date_is_refused(signed_in, site, db_sessions):
    response = _ask(signed_in("security_manager"), "31/03/2026", "2026-04-01")

    assert response.status_code == 400
    assert "Not a valid date value." in response.get_data(as_text=True)
    assert rows(db_sessions, AuditEvent, action="evidence.exported") == []


@pytest.mark.parametrize("role", ["front_desk", "guard", "administrator"])
def test_only_security_managers_make_packs(signed_in, site, role):
    assert signed_in(role).get("/evidence/").status_code == 403
