"""Discrepancy and incident cases (CTPAT 7.27, 6.1): each change is a log entry,
so the log alone tells a case's history, and the chain stays whole."""

import pytest

from gatekeeper import cases, chain
from gatekeeper.models import Case, Site, User


def _open(sessions, site, kind="seal_tampered", **fields) -> Case:
    with sessions.begin() as s:
        return cases.open_case(
            s,
            site_id=site.id,
            kind=kind,
            summary=fields.pop("summary", "Bolt seal cut"),
            actor="gate",
            **fields,
        )


def test_a_case_is_opened_noted_and_closed_in_the_log(sessions, site, guard):
    case = _open(sessions, site, notified="Carrier dispatch")
    with sessions.begin() as s:
        row = s.get(Case, case.id)
        actor = s.get(User, guard.id)
        cases.add_note(s, row, "Photos taken", actor=actor, notified="CBP")
        cases.add_note(s, row, "Carrier replied", actor=actor)
        cases.close(s, row, "Reported to CBP; shipper re-sealed", actor=actor)

    with sessions.begin() as s:
        row = s.get(Case, case.id)
        notes = cases.notes(s, row)
        history = cases.history(s, row)
        report = chain.verify_site(s, s.get(Site, site.id))

    assert (row.status, row.notified, row.closed_by) == ("closed", "CBP", "Gina Guard")
    assert [n["note"] for n in notes] == ["Photos taken", "Carrier replied"]
    assert [e["kind"] for e in history] == [
        "case.opened",
        "case.noted",
        "case.noted",
        "case.closed",
    ]
    assert report.ok, report.problems


@pytest.mark.parametrize(
    ("kind", "summary", "message"),
    [("theft", "x", "kind of case"), ("other", "", "Summary is required")],
)
def test_a_case_needs_a_known_kind_and_a_summary(
    sessions, site, kind, summary, message
):
    with sessions.begin() as s, pytest.raises(cases.CaseError, match=message):
        cases.open_case(s, site_id=site.id, kind=kind, summary=summary, actor="gate")


def test_a_closed_case_cannot_close_again(sessions, site, guard):
    case = _open(sessions, site)
    with sessions.begin() as s:
        cases.close(s, s.get(Case, case.id), "Done", actor=s.get(User, guard.id))

    with sessions.begin() as s, pytest.raises(cases.CaseError, match="already"):
        cases.close(s, s.get(Case, case.id), "Again", actor=s.get(User, guard.id))


def test_a_seal_mismatch_waits_for_its_decision_before_closing(sessions, site, guard):
    case = _open(sessions, site, kind="seal_mismatch")
    with sessions.begin() as s:
        assert cases.decisions_waiting(s, {site.id}) == 1
        with pytest.raises(cases.CaseError, match="seal decision"):
            cases.close(s, s.get(Case, case.id), "Done", actor=s.get(User, guard.id))


def test_cases_are_grouped_by_pickup_for_the_log(sessions, site):
    _open(sessions, site, summary="Not of a pickup")
    with sessions.begin() as s:
        assert cases.cases_of_pickups(s, []) == {}
        assert cases.cases_of_pickups(s, [41]) == {41: []}
        assert [c.summary for c in cases.recent(s, site.id, status="open")] == [
            "Not of a pickup"
        ]
