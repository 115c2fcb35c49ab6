"""Administrators' sites: a new site, its settings, a test email, the host directory
and its CSV import, and renaming a kiosk."""

import io
import json

import pytest

from gatekeeper import sites
from gatekeeper.models import (
    AuditEvent,
    ChainHead,
    Host,
    Kiosk,
    OutboxMessage,
    Site,
    User,
    VisitorType,
)
from tests.functional import rows, submit, table_rows

SETTINGS = {
    "name": "Main Warehouse East",
    "timezone": "America/Monterrey",
    "idle_seconds": "120",
    "verification_mode": "self_service",
    "badge_size": "4x3in",
    "badge_valid_hours": "10",
    "driver_overdue_hours": "6",
    "languages": "es,en",
    "photo_retention_days": "14",
    "log_retention_years": "5",
}


def _settings(client, site, **changes):
    path = f"/admin/sites/{site.id}"
    return submit(client, path, {**SETTINGS, **changes}, token_page=path)


def test_an_administrator_creates_a_site_and_reaches_it(
    signed_in, site, people, db_sessions
):
    client = signed_in("administrator")

    response = submit(
        client,
        "/admin/sites/",
        {"code": "laredo-2", "name": "Laredo Yard", "timezone": "America/Chicago"},
        token_page="/admin/sites/",
    )

    [made] = rows(db_sessions, Site, code="laredo-2")
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/sites/{made.id}")
    with db_sessions() as session:
        assert session.get(ChainHead, made.id).seq == 0
    assert len(rows(db_sessions, VisitorType, site_id=made.id)) == 3
    with db_sessions() as session:
        admin = session.get(User, people["administrator"].id)
        assert made.id in admin.site_ids

    [event] = rows(db_sessions, AuditEvent, action="site.created")
    assert event.site_id == made.id and event.actor == "administratormain"
    assert "Laredo Yard" in client.get("/admin/sites/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "Main Site!"}, "Site code: 2 to 32 lowercase letters"),
        ({"code": "main"}, "A site with code &#39;main&#39; already exists."),
        ({"name": ""}, "Site name is required."),
        ({"timezone": "Mars/Olympus"}, "Not a valid choice"),
    ],
)
def test_a_site_that_cannot_be_made_is_explained(
    signed_in, site, db_sessions, fields, message
):
    data = {"code": "laredo-2", "name": "Laredo Yard", "timezone": "UTC", **fields}
    response = submit(
        signed_in("administrator"), "/admin/sites/", data, token_page="/admin/sites/"
    )

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert [s.code for s in rows(db_sessions, Site)] == ["main"]


def test_settings_are_saved_together_and_audited(signed_in, site, db_sessions):
    client = signed_in("administrator")
    page = client.get(f"/admin/sites/{site.id}").get_data(as_text=True)
    assert 'value="Main Warehouse"' in page

    response = _settings(client, site)

    assert response.status_code == 302
    saved = rows(db_sessions, Site, id=site.id)[0]
    assert sites.settings_of(saved) == sites.SiteSettings(
        name="Main Warehouse East",
        timezone="America/Monterrey",
        idle_seconds=120,
        verification_mode="self_service",
        badge_size="4x3in",
        badge_valid_hours=10,
        driver_overdue_hours=6,
        languages="es,en",
        photo_retention_days=14,
        log_retention_years=5,
    )
    [event] = rows(db_sessions, AuditEvent, action="site.settings_changed")
    detail = json.loads(event.detail)
    assert detail["before"]["idle_seconds"] == 90
    assert detail["after"]["languages"] == "es,en"
    assert "timezone" in detail["after"]

    _settings(client, site)
    assert len(rows(db_sessions, AuditEvent, action="site.settings_changed")) == 1


def test_a_refused_setting_leaves_every_setting_as_it_was(signed_in, site, db_sessions):
    before = sites.settings_of(rows(db_sessions, Site, id=site.id)[0])

    response = _settings(
        signed_in("administrator"),
        site,
        idle_seconds="5",
        badge_valid_hours="100",
        driver_overdue_hours="0",
        photo_retention_days="0",
        log_retention_years="0",
        name="",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in (
        "The kiosk resets after 30 to 600 seconds idle.",
        "A badge is valid 1 to 72 hours.",
        "A driver is flagged after 1 to 72 hours.",
        "Photos are kept 1 to 3650 days.",
        "Logs are kept at least 1 year.",
        "Site name is required.",
    ):
        assert message in page

    assert sites.settings_of(rows(db_sessions, Site, id=site.id)[0]) == before
    assert rows(db_sessions, AuditEvent, action="site.settings_changed") == []


@pytest.mark.parametrize(
    "changes",
    [
        {"languages": "fr"},
        {"badge_size": "A4"},
        {"verification_mode": "honour"},
        {"timezone": "Nowhere/City"},
        {"idle_seconds": "ninety"},
    ],
)
def test_a_choice_outside_the_list_is_refused(signed_in, site, db_sessions, changes):
    response = _settings(signed_in("administrator"), site, **changes)

    assert response.status_code == 400
    assert rows(db_sessions, Site, id=site.id)[0].name == "Main Warehouse"


@pytest.mark.parametrize(
    ("value", "error"),
    [("en", None), ("es,en", None), ("", "at least one"), ("en,en", "once")],
)
def test_kiosk_languages_are_known_codes_each_once(value, error):
    if error is None:
        assert sites.check_languages(value) == value
    else:
        with pytest.raises(ValueError, match=error):
            sites.check_languages(value)


def test_a_test_email_goes_to_the_administrators_address(
    signed_in, site, people, db_sessions
):
    with db_sessions.begin() as session:
        session.get(User, people["administrator"].id).email = "admin@main.example"

    client = signed_in("administrator")
    path = f"/admin/sites/{site.id}"
    response = submit(client, f"{path}/test-email", token_page=path)

    assert response.status_code == 302
    [message] = rows(db_sessions, OutboxMessage)
    assert message.recipient == "admin@main.example"
    assert message.site_id == site.id
    assert "Main Warehouse" in message.subject
    assert rows(db_sessions, AuditEvent, action="mail.test")


def test_without_an_email_address_no_test_is_sent(signed_in, site, db_sessions):
    client = signed_in("administrator")
    path = f"/admin/sites/{site.id}"

    response = submit(client, f"{path}/test-email", token_page=path)

    assert "Your account has no email address" in client.get(
        response.location
    ).get_data(as_text=True)
    assert rows(db_sessions, OutboxMessage) == []


def _hosts(client, site, path="", data=None):
    base = f"/admin/sites/{site.id}/hosts"
    return submit(client, base + path, data, token_page=base)


def test_hosts_are_added_taken_off_the_list_and_put_back(signed_in, site, db_sessions):
    client = signed_in("administrator")

    added = _hosts(
        client,
        site,
        data={"name": "Carmen Ruiz", "email": "carmen@main.example", "department": ""},
    )
    twice = _hosts(
        client,
        site,
        data={"name": "Carmen R.", "email": "CARMEN@main.example", "department": ""},
    )

    assert added.status_code == 302
    assert twice.status_code == 400
    assert "already has a host with the email" in twice.get_data(as_text=True)
    [carmen] = rows(db_sessions, Host, email="carmen@main.example")
    assert carmen.name == "Carmen Ruiz"

    _hosts(client, site, f"/{carmen.id}/deactivate")
    with db_sessions() as session:
        listed = [h.name for h in sites.active_hosts(session, site.id)]
    assert "Carmen Ruiz" not in listed

    _hosts(client, site, f"/{carmen.id}/reactivate")
    assert rows(db_sessions, Host, id=carmen.id)[0].active
    actions = [e.action for e in rows(db_sessions, AuditEvent)]
    assert {"host.added", "host.deactivated", "host.reactivated"} <= set(actions)


def test_a_host_of_another_site_cannot_be_changed_through_this_one(
    signed_in, site, other_site, people, db_sessions
):
    with db_sessions.begin() as session:
        admin = session.get(User, people["administrator"].id)
        admin.sites.append(session.get(Site, other_site.id))

    [elsewhere] = rows(db_sessions, Host, email="ana@north.example")
    response = _hosts(signed_in("administrator"), site, f"/{elsewhere.id}/deactivate")

    assert response.status_code == 404
    assert rows(db_sessions, Host, id=elsewhere.id)[0].active


def test_a_csv_import_reports_each_row(signed_in, site, db_sessions):
    data = (
        b"name,email,department\n"
        b"Diego Vega,diego@main.example,Receiving\n"
        b"Bob Stone,BOB@main.example,Yard\n"
        b"Broken Row,not an email,\n"
    )

    response = _hosts(
        signed_in("administrator"),
        site,
        "/import",
        {"file": (io.BytesIO(data), "hosts.csv")},
    )

    assert response.status_code == 200
    page = response.data
    assert (
        b"2 added" not in page and b"1 added, 1 updated, 0 unchanged, 1 refused" in page
    )
    report = [row for row in table_rows(page) if row and row[0].isdigit()]
    assert [row[:2] for row in report] == [
        ["2", "added"],
        ["3", "updated"],
        ["4", "refused"],
    ]
    assert rows(db_sessions, Host, email="bob@main.example")[0].department == "Yard"
    assert rows(db_sessions, Host, email="diego@main.example")


def test_an_import_without_a_file_or_with_a_bad_one_is_explained(
    signed_in, site, db_sessions
):
    client = signed_in("administrator")
    missing = _hosts(client, site, "/import", {})
    unreadable = _hosts(
        client,
        site,
        "/import",
        {"file": (io.BytesIO(b"who,where\nx,y\n"), "hosts.csv")},
    )

    assert missing.status_code == unreadable.status_code == 400
    assert "Choose the CSV file to import." in missing.get_data(as_text=True)
    assert "email is missing" in unreadable.get_data(as_text=True)
    assert len(rows(db_sessions, Host, site_id=site.id)) == 2


def test_a_kiosk_is_renamed_and_keeps_its_name_unique(
    signed_in, site, enrolment_code, db_sessions
):
    client = signed_in("administrator")
    [lobby] = rows(db_sessions, Kiosk, name="Lobby")
    with db_sessions.begin() as session:
        session.add(Kiosk(site_id=site.id, name="Gate"))

    renamed = submit(
        client,
        f"/admin/kiosks/{lobby.id}/rename",
        {"name": "Front lobby"},
        token_page="/admin/kiosks/",
    )
    taken = submit(
        client,
        f"/admin/kiosks/{lobby.id}/rename",
        {"name": "Gate"},
        token_page="/admin/kiosks/",
    )

    assert renamed.status_code == taken.status_code == 302
    assert rows(db_sessions, Kiosk, id=lobby.id)[0].name == "Front lobby"
    assert "already has a kiosk named" in client.get("/admin/kiosks/").get_data(
        as_text=True
    )
    [event] = rows(db_sessions, AuditEvent, action="kiosk.rename")
    assert json.loads(event.detail)["before"] == "Lobby"
