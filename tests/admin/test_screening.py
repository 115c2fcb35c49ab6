"""The security manager's block list and photo-ID exemptions in the console (10.2):
entries added and removed for the site the console shows, bad input answered on the
same page with nothing written, every change audited, nobody else let in."""

import json

import pytest

from gatekeeper.models import AuditEvent, BlockListEntry, Exemption, LogEntry, Visit
from tests.functional import rows, submit


def _post(client, path: str, data: dict | None = None, page: str = "/account"):
    return submit(client, path, data, token_page=page)


def test_a_manager_lists_a_person_with_aliases_and_check_ins_are_held(
    signed_in, site, db_sessions, make_visit, people
):
    client = signed_in("security_manager")

    response = _post(
        client,
        "/screening/block-list",
        {
            "kind": "person",
            "value": "Harold Q. Held",
            "aliases": "Hal Held\n\n  Harry   Held \n",
            "reason": "Trespass notice of 2025",
        },
    )

    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Harold Q. Held is on the block list of Main Warehouse." in page
    assert "Hal Held<br>Harry Held" in page
    [entry] = rows(db_sessions, BlockListEntry)
    assert (entry.site_id, entry.kind, entry.value) == (
        site.id,
        "person",
        "Harold Q. Held",
    )
    assert entry.alias_list == ["Hal Held", "Harry Held"]
    assert entry.added_by == "Test Security Manager"
    [event] = rows(db_sessions, AuditEvent, action="block_list.added")
    assert (event.actor, event.site_id) == (
        people["security_manager"].username,
        site.id,
    )
    assert event.address == "127.0.0.1"

    assert make_visit(site, "HELD, harry").admission == "held"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "person", "value": ""}, "Name or number is required."),
        ({"kind": "person", "value": "12345"}, "must contain letters"),
        ({"kind": "id_number", "value": "---"}, "must contain letters or digits"),
        ({"kind": "martian", "value": "Zork"}, "Not a valid choice"),
        (
            {"kind": "person", "value": "Ok Name", "aliases": "\n".join(["A B"] * 21)},
            "At most 20 aliases.",
        ),
        ({"kind": "company", "value": "Evil\u202eCorp"}, "not allowed"),
    ],
    ids=["empty", "digits-for-a-name", "blank-number", "kind", "aliases", "control"],
)
def test_a_bad_entry_is_refused_on_the_same_page_and_nothing_is_written(
    signed_in, site, db_sessions, data, message
):
    response = _post(signed_in("security_manager"), "/screening/block-list", data)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert rows(db_sessions, BlockListEntry) == []
    assert rows(db_sessions, AuditEvent, action="block_list.added") == []


def test_removing_an_entry_keeps_it_stamped_and_audited(
    signed_in, site, db_sessions, block, make_visit
):
    entry = block(site, "Harold Held")
    client = signed_in("security_manager")

    response = _post(client, f"/screening/block-list/{entry.id}/remove")

    assert "Harold Held is off the block list." in client.get(
        response.location
    ).get_data(as_text=True)
    [kept] = rows(db_sessions, BlockListEntry)
    assert kept.removed_by == "Test Security Manager" and kept.removed_at
    assert len(rows(db_sessions, AuditEvent, action="block_list.removed")) == 1
    assert make_visit(site, "Harold Held").admission == "awaiting_id"

    again = _post(client, f"/screening/block-list/{entry.id}/remove")
    assert "already removed" in client.get(again.location).get_data(as_text=True)


def test_entries_of_another_site_are_neither_shown_nor_removable(
    signed_in, site, other_site, db_sessions, block
):
    elsewhere = block(other_site, "Northern Ned")
    client = signed_in("security_manager")

    assert "Northern Ned" not in client.get("/screening/block-list").get_data(
        as_text=True
    )
    assert (
        _post(client, f"/screening/block-list/{elsewhere.id}/remove").status_code == 404
    )
    assert rows(db_sessions, BlockListEntry)[0].removed_at is None


def test_a_manager_grants_and_revokes_an_exemption(
    signed_in, site, db_sessions, make_visit
):
    client = signed_in("security_manager")

    response = _post(
        client,
        "/screening/exemptions",
        {"person_name": "Rick Regular", "company": "Daily Dairy", "note": "Milk run"},
    )

    page = client.get(response.location).get_data(as_text=True)
    assert "Rick Regular is exempt from showing photo ID at Main Warehouse." in page
    [exemption] = rows(db_sessions, Exemption)
    assert (exemption.company, exemption.note) == ("Daily Dairy", "Milk run")
    used = make_visit(site, "Rick Regular", company="Daily Dairy", id_type="")
    assert (used.id_status, used.id_exemption_by) == ("exempt", "Test Security Manager")

    twice = _post(client, "/screening/exemptions", {"person_name": "regular rick"})
    assert twice.status_code == 400
    assert "Rick Regular is already exempt." in twice.get_data(as_text=True)

    revoked = _post(client, f"/screening/exemptions/{exemption.id}/revoke")
    assert "Rick Regular must show photo ID again." in client.get(
        revoked.location
    ).get_data(as_text=True)
    assert rows(db_sessions, Exemption)[0].revoked_by == "Test Security Manager"
    actions = [e.action for e in rows(db_sessions, AuditEvent)]
    assert actions.count("exemption.granted") == 1
    assert actions.count("exemption.revoked") == 1
    after = make_visit(site, "Rick Regular", company="Daily Dairy")
    assert after.id_status == "unverified"


def test_an_exemption_without_a_name_is_refused(signed_in, site, db_sessions):
    response = _post(
        signed_in("security_manager"), "/screening/exemptions", {"person_name": " "}
    )

    assert response.status_code == 400
    assert "Name is required." in response.get_data(as_text=True)
    assert rows(db_sessions, Exemption) == []


@pytest.mark.parametrize("role", ["front_desk", "guard", "administrator"])
def test_only_security_managers_keep_the_lists(
    signed_in, site, db_sessions, block, role
):
    entry = block(site, "Harold Held")
    client = signed_in(role)

    for path in ("/screening/block-list", "/screening/exemptions"):
        assert client.get(path).status_code == 403
    assert (
        _post(
            client, "/screening/block-list", {"kind": "person", "value": "X Y"}
        ).status_code
        == 403
    )
    assert _post(client, f"/screening/block-list/{entry.id}/remove").status_code == 403
    assert (
        _post(client, "/screening/exemptions", {"person_name": "A B"}).status_code
        == 403
    )
    assert rows(db_sessions, BlockListEntry)[0].removed_at is None
    assert rows(db_sessions, Exemption) == []


def test_the_lists_are_escaped_on_the_page(signed_in, site, block):
    block(site, "<script>alert(1)</script> Corp", kind="company")

    page = signed_in("security_manager").get("/screening/block-list").data

    assert b"<script>alert(1)</script>" not in page
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; Corp" in page


def test_a_held_visit_records_which_entry_it_matched(
    block, make_visit, site, db_sessions
):
    entry = block(site, "D1234-5678", kind="id_number")
    block(site, "Acme Freight", kind="company")

    visit = make_visit(site)

    assert visit.admission == "held"
    assert rows(db_sessions, Visit)[0].admission == "held"
    details = json.loads(rows(db_sessions, LogEntry)[0].body)["details"]
    assert [m["kind"] for m in details["block_list"]] == ["company"]
    assert entry.id not in [m["entry"] for m in details["block_list"]]
