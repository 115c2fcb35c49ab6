"""A site's check-in rules in the console (CTPAT 10.2): the security manager edits
visitor types, adds the site's own, and chooses attended or self-service ID checks;
check-ins follow the new rules, and every change is in the audit trail."""

import json
import re

import pytest

from gatekeeper import visits
from gatekeeper.models import AuditEvent, Site, VisitorType
from tests.functional import rows, submit


def _type(db_sessions, site, code: str) -> VisitorType:
    [kind] = rows(db_sessions, VisitorType, site_id=site.id, code=code)
    return kind


def _post(client, path: str, data: dict):
    return submit(client, path, data, token_page="/account")


def _type_fields(kind: VisitorType, **changes) -> dict:
    """The fields of a type's form, as its card on the page posts them."""
    prefix = f"type-{kind.id}-"
    fields = {
        "label": kind.label,
        "label_es": kind.label_es,
        "escort_required": "y" if kind.escort_required else None,
        "id_required": "y" if kind.id_required else None,
        "badge_valid_hours": kind.badge_valid_hours or "",
        "active": "y" if kind.active else None,
    } | changes
    return {prefix + name: value for name, value in fields.items() if value is not None}


def test_the_rules_page_shows_each_type_with_its_own_form(signed_in, site, db_sessions):
    page = signed_in("security_manager").get("/site-rules/").get_data(as_text=True)

    for code in ("visitor", "vendor", "service_provider"):
        kind = _type(db_sessions, site, code)
        assert f'action="/site-rules/types/{kind.id}"' in page
        assert f'id="type-{kind.id}-label"' in page
    assert 'value="attended" checked' in page or re.search(
        r'checked[^>]*value="attended"', page
    )


def test_a_manager_changes_a_types_rules_and_check_ins_follow_them(
    signed_in, site, db_sessions, make_visit, people
):
    vendor = _type(db_sessions, site, "vendor")
    client = signed_in("security_manager")

    response = _post(
        client,
        f"/site-rules/types/{vendor.id}",
        _type_fields(
            vendor,
            label="Supplier",
            label_es="Proveedor",
            escort_required=None,
            badge_valid_hours="4",
        ),
    )

    assert response.status_code == 302, response.data
    assert "Visitor type Supplier saved." in client.get(response.location).get_data(
        as_text=True
    )
    changed = _type(db_sessions, site, "vendor")
    assert (changed.label, changed.label_es) == ("Supplier", "Proveedor")
    assert changed.escort_required is False and changed.id_required is True
    assert changed.badge_valid_hours == 4
    visit = make_visit(site, visitor_type="vendor")
    assert visit.escort_required is False and visit.escort_name is None
    assert (visit.valid_until - visit.arrived_at).total_seconds() == 4 * 3600

    [event] = rows(db_sessions, AuditEvent, action="visitor_type.changed")
    assert (event.actor, event.site_id, event.target) == (
        people["security_manager"].username,
        site.id,
        "visitor_type:vendor",
    )
    assert json.loads(event.detail)["escort_required"] is False


def test_a_type_taken_off_the_kiosk_is_no_longer_offered(
    signed_in, site, db_sessions, make_visit
):
    provider = _type(db_sessions, site, "service_provider")

    _post(
        signed_in("security_manager"),
        f"/site-rules/types/{provider.id}",
        _type_fields(provider, active=None),
    )

    assert _type(db_sessions, site, "service_provider").active is False
    with pytest.raises(visits.VisitError):
        make_visit(site, visitor_type="service_provider")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": ""}, "Label is required."),
        ({"badge_valid_hours": "0"}, "Badge validity is 1 to 72 hours."),
        ({"badge_valid_hours": "many"}, "Not a valid integer value."),
        ({"label": "x" * 61}, "Label must be at most 60 characters."),
    ],
    ids=["no-label", "zero-hours", "not-a-number", "long-label"],
)
def test_a_bad_change_is_refused_on_the_same_page_and_nothing_changes(
    signed_in, site, db_sessions, changes, message
):
    visitor = _type(db_sessions, site, "visitor")

    response = _post(
        signed_in("security_manager"),
        f"/site-rules/types/{visitor.id}",
        _type_fields(visitor, **changes),
    )

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    unchanged = _type(db_sessions, site, "visitor")
    assert (unchanged.label, unchanged.badge_valid_hours) == ("Visitor", None)
    assert rows(db_sessions, AuditEvent, action="visitor_type.changed") == []


def test_a_manager_adds_a_type_of_the_sites_own(
    signed_in, site, db_sessions, make_visit
):
    client = signed_in("security_manager")
    fields = {
        "new-code": "Auditor",
        "new-label": "Auditor",
        "new-label_es": "Auditor",
        "new-id_required": "y",
        "new-active": "y",
    }

    response = _post(client, "/site-rules/types", fields)

    assert response.status_code == 302, response.data
    added = _type(db_sessions, site, "auditor")
    assert (added.escort_required, added.id_required, added.position) == (
        False,
        True,
        3,
    )
    assert make_visit(site, visitor_type="auditor").escort_required is False
    assert len(rows(db_sessions, AuditEvent, action="visitor_type.added")) == 1

    again = _post(client, "/site-rules/types", fields)
    assert again.status_code == 400
    assert "That code is taken" in again.get_data(as_text=True)

    bad = _post(client, "/site-rules/types", fields | {"new-code": "1 bad code"})
    assert bad.status_code == 400
    assert "Code: 2 to 32 lowercase letters" in bad.get_data(as_text=True)
    assert len(rows(db_sessions, VisitorType, site_id=site.id)) == 4


def test_a_type_of_another_site_cannot_be_changed(
    signed_in, site, other_site, db_sessions
):
    elsewhere = _type(db_sessions, other_site, "visitor")

    response = _post(
        signed_in("security_manager"),
        f"/site-rules/types/{elsewhere.id}",
        _type_fields(elsewhere, label="Hijacked"),
    )

    assert response.status_code == 404
    assert _type(db_sessions, other_site, "visitor").label == "Visitor"


def test_a_manager_switches_the_site_to_self_service_and_back(
    signed_in, site, db_sessions
):
    client = signed_in("security_manager")

    response = _post(client, "/site-rules/verification", {"mode": "self_service"})

    assert "at the guard&#39;s first scan" in client.get(response.location).get_data(
        as_text=True
    )
    assert rows(db_sessions, Site, id=site.id)[0].verification_mode == "self_service"
    [event] = rows(db_sessions, AuditEvent, action="site.verification_mode")
    assert json.loads(event.detail) == {"after": "self_service", "before": "attended"}

    refused = _post(client, "/site-rules/verification", {"mode": "honour_system"})
    assert refused.status_code == 400
    assert rows(db_sessions, Site, id=site.id)[0].verification_mode == "self_service"

    _post(client, "/site-rules/verification", {"mode": "attended"})
    assert rows(db_sessions, Site, id=site.id)[0].verification_mode == "attended"
    assert len(rows(db_sessions, AuditEvent, action="site.verification_mode")) == 2


@pytest.mark.parametrize("role", ["front_desk", "guard"])
def test_front_desk_and_guards_cannot_set_the_rules(signed_in, site, db_sessions, role):
    visitor = _type(db_sessions, site, "visitor")
    client = signed_in(role)

    assert client.get("/site-rules/").status_code == 403
    assert (
        _post(
            client, f"/site-rules/types/{visitor.id}", _type_fields(visitor, label="X")
        ).status_code
        == 403
    )
    assert (
        _post(client, "/site-rules/verification", {"mode": "self_service"}).status_code
        == 403
    )
    assert _type(db_sessions, site, "visitor").label == "Visitor"
    assert rows(db_sessions, Site, id=site.id)[0].verification_mode == "attended"
