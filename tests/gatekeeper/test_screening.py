"""The block list and photo-ID exemptions a security manager keeps (CTPAT 10.2):
entries are stamped, never deleted, each change audited with who and from where."""

import pytest
from sqlalchemy import select

from gatekeeper import screening
from gatekeeper.models import AuditEvent, Site, User
from gatekeeper.text import TextError


def _actions(sessions) -> list[tuple[str, str, str]]:
    """The audit events of the lists, leaving out the accounts' own."""
    with sessions.begin() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [
            (e.action, e.actor, e.address)
            for e in events
            if e.action.startswith(("block_list.", "exemption."))
        ]


def test_an_entry_is_listed_matched_then_removed_with_who_and_when(
    sessions, site, guard
):
    with sessions.begin() as s:
        row, actor = s.get(Site, site.id), s.get(User, guard.id)
        entry = screening.add_entry(
            s,
            row,
            kind="person",
            value="José Núñez",
            aliases="Pepe Nunez",
            actor=actor,
            address="10.1.1.1",
        )
        assert [
            m.matched
            for m in screening.matches(s, site.id, name="NUNEZ, jose", company="")
        ] == ["José Núñez"]
        assert screening.matches(s, site.id, name="pepe  nuñez", company="x")
        screening.remove_entry(s, entry, actor=actor, address="10.1.1.1")
        assert screening.active_entries(s, site.id) == []
        assert screening.matches(s, site.id, name="José Núñez", company="") == []
        assert entry.removed_by == "Gina Guard"

        with pytest.raises(TextError, match="already removed"):
            screening.remove_entry(s, entry, actor=actor)

    assert _actions(sessions) == [
        ("block_list.added", "gina.guard", "10.1.1.1"),
        ("block_list.removed", "gina.guard", "10.1.1.1"),
    ]


def test_a_process_may_list_and_exempt_in_its_own_name(sessions, site):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        entry = screening.add_entry(
            s, row, kind="company", value="Barred Ltd", actor="setup"
        )
        exemption = screening.grant_exemption(
            s, row, person_name="Rick Regular", actor="setup"
        )
        assert (entry.added_by, exemption.granted_by) == ("setup", "setup")

    assert [action for action, _, _ in _actions(sessions)] == [
        "block_list.added",
        "exemption.granted",
    ]


def test_an_exemption_naming_a_company_holds_only_there(sessions, site, guard):
    with sessions.begin() as s:
        row, actor = s.get(Site, site.id), s.get(User, guard.id)
        screening.grant_exemption(
            s, row, person_name="Rick Regular", company="Daily Dairy", actor=actor
        )

        assert screening.exemption_for(s, site.id, "regular rick", "DAILY DAIRY")
        assert screening.exemption_for(s, site.id, "Rick Regular", "Other Co") is None


def test_an_exemption_is_revoked_once(sessions, site, guard):
    with sessions.begin() as s:
        row, actor = s.get(Site, site.id), s.get(User, guard.id)
        exemption = screening.grant_exemption(
            s, row, person_name="Rick Regular", actor=actor
        )
        screening.revoke_exemption(s, exemption, actor=actor)
        assert screening.active_exemptions(s, site.id) == []
        with pytest.raises(TextError, match="already revoked"):
            screening.revoke_exemption(s, exemption, actor=actor)
