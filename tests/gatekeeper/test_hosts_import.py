"""Importing a host directory from CSV: row by row, no half-written row."""

import json

import pytest
from sqlalchemy import select

from gatekeeper import hosts_import, sites
from gatekeeper.models import AuditEvent, Host, Site, User


def directory(sessions, site) -> dict[str, tuple[str, str, bool]]:
    with sessions() as s:
        return {
            host.email: (host.name, host.department, host.active)
            for host in s.scalars(select(Host).where(Host.site_id == site.id))
        }


def run(sessions, site, guard, data: bytes) -> hosts_import.ImportReport:
    with sessions.begin() as s:
        return hosts_import.import_hosts(
            s, s.get(Site, site.id), data, actor=s.get(User, guard.id)
        )


def test_good_rows_are_imported_and_bad_rows_reported_whole(sessions, site, guard):
    data = (
        "\ufeffName,Email,Department,Phone\r\n"
        "Ana López,ana@example.com,Shipping,555\r\n"
        "Bob,not-an-email,Receiving,\r\n"
        ",carol@example.com,Receiving,\r\n"
        "\r\n"
        "Dan Brown,dan@example.com,,\r\n"
        "Dana Brown,DAN@example.com,Dock,\r\n"
    ).encode()

    report = run(sessions, site, guard, data)

    assert [(row.line, row.outcome) for row in report.rows] == [
        (2, "added"),
        (3, "refused"),
        (4, "refused"),
        (6, "added"),
        (7, "refused"),
    ]
    assert "valid email" in report.rows[1].message
    assert "Name is required" in report.rows[2].message
    assert "line 6" in report.rows[4].message
    assert directory(sessions, site) == {
        "ana@example.com": ("Ana López", "Shipping", True),
        "dan@example.com": ("Dan Brown", "", True),
    }
    assert report.counts == {"added": 2, "updated": 0, "unchanged": 0, "refused": 3}
    with sessions() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "hosts.imported")
        )
        assert json.loads(event.one().detail)["refused"] == 3


def test_a_known_email_updates_the_host_and_puts_them_back(sessions, site, guard):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        kept = sites.add_host(s, row, name="Grace Hopper", email="grace@example.com")
        kept.active = False
        sites.add_host(s, row, name="Alan Turing", email="alan@example.com")
        sites.add_host(s, row, name="Left Alone", email="left@example.com")

    report = run(
        sessions,
        site,
        guard,
        b"email;name;department\n"
        b"GRACE@example.com;Grace B. Hopper;Navy\n"
        b"alan@example.com;Alan Turing;\n",
    )

    assert [row.outcome for row in report.rows] == ["updated", "unchanged"]
    assert "name was Grace Hopper" in report.rows[0].message
    assert "back on the kiosk's list" in report.rows[0].message
    assert directory(sessions, site) == {
        "grace@example.com": ("Grace B. Hopper", "Navy", True),
        "alan@example.com": ("Alan Turing", "", True),
        "left@example.com": ("Left Alone", "", True),
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"name,department\nAna,Dock\n", "email is missing"),
        ("name,email\nJosé,jose@example.com\n".encode("cp1252"), "UTF-8"),
        (b'name,email\n"Ana,ana@example.com\n', "cannot be read"),
        (b"name,email\n" + b"Ana Lee,a@example.com\n" * 5001, "more than 5000"),
        (b"x" * (hosts_import.MAX_BYTES + 1), "larger than"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(
    sessions, site, guard, data, message
):
    with pytest.raises(hosts_import.HostFileError, match=message):
        run(sessions, site, guard, data)

    assert directory(sessions, site) == {}
