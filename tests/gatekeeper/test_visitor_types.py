"""A site's visitor types and verification mode: the rules a check-in follows, and
the audit trail of who changed them (CTPAT 10.2)."""

import json

import pytest
from sqlalchemy import select

from gatekeeper import visitor_types
from gatekeeper.models import AuditEvent, Site, User
from gatekeeper.text import TextError


def _events(sessions, action: str) -> list[AuditEvent]:
    with sessions.begin() as s:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(s.scalars(query.order_by(AuditEvent.id)))


def test_a_new_site_has_the_three_built_in_types(sessions, site):
    with sessions.begin() as s:
        kinds = visitor_types.for_site(s, site.id)

    assert [(k.code, k.escort_required, k.id_required) for k in kinds] == [
        ("visitor", True, True),
        ("vendor", True, True),
        ("service_provider", False, True),
    ]


def test_a_change_by_a_person_is_audited_with_the_rules_it_set(sessions, site, guard):
    with sessions.begin() as s:
        visitor_types.save(
            s,
            s.get(Site, site.id),
            code="vendor",
            label="Supplier",
            escort_required=False,
            id_required=True,
            badge_valid_hours=6,
            actor=s.get(User, guard.id),
            address="10.0.0.8",
        )

    [event] = _events(sessions, "visitor_type.changed")
    assert (event.actor, event.site_id, event.target, event.address) == (
        "gina.guard",
        site.id,
        "visitor_type:vendor",
        "10.0.0.8",
    )
    detail = json.loads(event.detail)
    assert detail["label"] == "Supplier"
    assert detail["escort_required"] is False
    assert detail["badge_valid_hours"] == 6


def test_adding_a_type_is_audited_as_an_addition(sessions, site, guard):
    with sessions.begin() as s:
        kind = visitor_types.save(
            s,
            s.get(Site, site.id),
            code="auditor",
            label="Auditor",
            escort_required=True,
            id_required=True,
            badge_valid_hours=None,
            actor=s.get(User, guard.id),
        )
        assert kind.position == 3

    assert len(_events(sessions, "visitor_type.added")) == 1
    assert _events(sessions, "visitor_type.changed") == []


def test_a_change_made_by_setup_code_is_not_audited(sessions, site):
    with sessions.begin() as s:
        visitor_types.save(
            s,
            s.get(Site, site.id),
            code="visitor",
            label="Guest",
            escort_required=True,
            id_required=True,
            badge_valid_hours=None,
        )

    assert _events(sessions, "visitor_type.changed") == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "X"}, "Code: 2 to 32"),
        ({"badge_valid_hours": 73}, "1 to 72 hours"),
        ({"label": ""}, "Label is required."),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_audited(
    sessions, site, guard, changes, message
):
    fields = {
        "code": "auditor",
        "label": "Auditor",
        "escort_required": True,
        "id_required": True,
        "badge_valid_hours": None,
    } | changes
    with sessions.begin() as s, pytest.raises(TextError, match=message):
        visitor_types.save(
            s, s.get(Site, site.id), actor=s.get(User, guard.id), **fields
        )

    assert _events(sessions, "visitor_type.added") == []


def test_the_verification_mode_changes_once_and_is_audited(sessions, site, guard):
    with sessions.begin() as s:
        row, actor = s.get(Site, site.id), s.get(User, guard.id)
        visitor_types.set_verification_mode(s, row, "self_service", actor=actor)
        visitor_types.set_verification_mode(s, row, "self_service", actor=actor)

    with sessions.begin() as s:
        assert s.get(Site, site.id).verification_mode == "self_service"

    [event] = _events(sessions, "site.verification_mode")
    assert json.loads(event.detail) == {"before": "attended", "after": "self_service"}


def test_an_unknown_verification_mode_is_refused(sessions, site, guard):
    with sessions.begin() as s, pytest.raises(TextError):
        visitor_types.set_verification_mode(
            s, s.get(Site, site.id), "honour_system", actor=s.get(User, guard.id)
        )

    with sessions.begin() as s:
        assert s.get(Site, site.id).verification_mode == "attended"
