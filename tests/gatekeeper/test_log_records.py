"""One record read back for review: its entries in order, each correction with the
value before and after, its discrepancies; and corrections checked as check-in
checks the same fields."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from gatekeeper import cases, chain, log_records, pickups, screening, visits
from gatekeeper.db import utcnow
from gatekeeper.models import LogEntry, Pickup, Site, User, Visit, VisitorType


def correct(sessions, visit_id: int, user_id: int, column: str, value, reason="Typo"):
    with sessions.begin() as s:
        visits.correct(
            s,
            s.get(Visit, visit_id),
            column=column,
            value=value,
            reason=reason,
            actor=s.get(User, user_id),
        )


def log_kinds(sessions, site_id: int) -> list[str]:
    with sessions() as s:
        query = select(LogEntry.kind).where(LogEntry.site_id == site_id)
        return list(s.scalars(query.order_by(LogEntry.seq)))


@pytest.fixture
def visit(sessions, arrive) -> Visit:
    with sessions.begin() as s:
        return arrive(s, "Ada Lovelace")


@pytest.mark.parametrize(
    ("column", "value", "stored"),
    [
        ("visitor_name", "  Ada   King ", "Ada King"),
        ("company", "Difference Engines", "Difference Engines"),
        ("host_name", "Charles Babbage", "Charles Babbage"),
        ("id_type", "drivers_licence", "drivers_licence"),
        ("visitor_type", "vendor", "vendor"),
    ],
)
def test_a_correction_stores_the_value_cleaned_as_at_check_in(
    sessions, site, guard, visit, column, value, stored
):
    correct(sessions, visit.id, guard.id, column, value)

    with sessions() as s:
        assert getattr(s.get(Visit, visit.id), column) == stored
        assert chain.verify_site(s, s.get(Site, site.id)).ok


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("visitor_name", "=HYPERLINK(1)", "not allowed"),
        ("visitor_name", "   ", "required"),
        ("company", "1234", "must contain letters"),
        ("host_name", "A" * 121, "at most 120"),
        ("company", "Acme\u202eFreight", "not allowed"),
        ("id_type", "library_card", "type of photo ID"),
        ("visitor_type", "astronaut", "visitor types"),
        ("company", "Analytical Engines", "already recorded"),
    ],
)
def test_a_correction_the_check_in_would_refuse_is_refused(
    sessions, site, guard, visit, column, value, message
):
    with pytest.raises(visits.VisitError, match=message):
        correct(sessions, visit.id, guard.id, column, value)

    assert log_kinds(sessions, site.id) == ["visit.arrived"]


def test_a_retired_visitor_type_is_not_a_correction(sessions, site, guard, visit):
    with sessions.begin() as s:
        kind = s.scalar(select(VisitorType).where(VisitorType.code == "vendor"))
        kind.active = False

    with pytest.raises(visits.VisitError, match="visitor types"):
        correct(sessions, visit.id, guard.id, "visitor_type", "vendor")


@pytest.mark.parametrize("reason", ["", "  ", "ok", None])
def test_a_correction_needs_a_reason_of_a_few_characters(
    sessions, site, guard, visit, reason
):
    with pytest.raises(visits.VisitError):
        correct(sessions, visit.id, guard.id, "company", "New Co", reason=reason)

    assert log_kinds(sessions, site.id) == ["visit.arrived"]


def test_the_record_shows_each_correction_with_both_values(sessions, guard, visit):
    correct(sessions, visit.id, guard.id, "company", "Difference Engines", "Misread")
    correct(sessions, visit.id, guard.id, "company", "Babbage & Co", "Misread again")

    with sessions() as s:
        log = log_records.entries(s, s.get(Visit, visit.id))

    found = log_records.corrections(log)
    assert [entry.kind for entry in log] == [
        "visit.arrived",
        "visit.corrected",
        "visit.corrected",
    ]
    assert [entry.seq for entry in log] == sorted(entry.seq for entry in log)
    assert log[0].changes["company"] == "Analytical Engines"
    assert [(c.field, c.before, c.after, c.reason) for c in found] == [
        ("company", "Analytical Engines", "Difference Engines", "Misread"),
        ("company", "Difference Engines", "Babbage & Co", "Misread again"),
    ]
    assert found[0].actor == "gina.guard"


def test_a_visits_discrepancies_are_listed(sessions, site, arrive, guard):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        screening.add_entry(s, row, kind="company", value="Shady Ltd", actor="test")

    with sessions.begin() as s:
        held = arrive(s, "Carl Held", company="Shady Ltd")
        held.id_document_expired = True

    with sessions.begin() as s:
        visit = s.get(Visit, held.id)
        user = s.get(User, guard.id)
        visits.decide_hold(s, visit, "approve", reason="Known courier", actor=user)
        visit.valid_until = utcnow() - timedelta(minutes=5)
        cases.open_case(
            s,
            site_id=site.id,
            kind="other",
            summary="Tailgated at the door",
            visit_id=visit.id,
            actor=user,
        )

    with sessions.begin() as s:
        visit = s.get(Visit, held.id)
        visits.close_visit(s, visit, reason="Left by the back door", actor=user)

    with sessions() as s:
        visit = s.get(Visit, held.id)
        log = log_records.entries(s, visit)
        found = log_records.visit_discrepancies(s, visit, log, utcnow())

    text = "\n".join(item.summary for item in found)
    assert "Matched the block list at check-in: company Shady Ltd." in text
    assert "gina.guard approved the held check-in: Known courier" in text
    assert "Closed by gina.guard without a sign-out: Left by the back door" in text
    assert "document had expired" in text
    assert "photo ID never compared" in text
    assert "stayed past the badge's validity" in text
    assert "Other incident: Tailgated at the door" in text
    assert [item.case_id is not None for item in found].count(True) == 1


def test_a_visit_with_nothing_amiss_has_no_discrepancy(sessions, guard, visit):
    with sessions.begin() as s:
        row = s.get(Visit, visit.id)
        visits.verify_id(s, row, "passport", actor=s.get(User, guard.id))

    with sessions() as s:
        row = s.get(Visit, visit.id)
        log = log_records.entries(s, row)
        assert log_records.visit_discrepancies(s, row, log, utcnow()) == []


def test_a_pickups_corrections_at_registration_and_its_discrepancies(
    sessions, site, guard
):
    with sessions.begin() as s:
        driver = pickups.Driver("REF-9", "Rosa Diaz", "Swift Lines", "TX 1", "T 9")
        pickup = pickups.arrive(s, site=s.get(Site, site.id), kiosk=None, driver=driver)

    with sessions.begin() as s:
        pickups.register(
            s,
            s.get(Pickup, pickup.id),
            actor=s.get(User, guard.id),
            id_type=pickups.CARRIER_ID,
            fallback_reason="Licence left in the cab",
            corrections={"driver_name": "Rosa Díaz"},
            decision="Known driver, no appointment",
        )

    with sessions() as s:
        row = s.get(Pickup, pickup.id)
        log = log_records.entries(s, row)
        found = log_records.pickup_discrepancies(s, row, log, utcnow())
        fixed = log_records.corrections(log)

    assert [(c.field, c.before, c.after) for c in fixed] == [
        ("driver_name", "Rosa Diaz", "Rosa Díaz")
    ]
    text = "\n".join(item.summary for item in found)
    assert "although no appointment had the reference" in text
    assert "Known driver, no appointment" in text
    assert "carrier-issued photo ID was accepted" in text
    assert "Licence left in the cab" in text
