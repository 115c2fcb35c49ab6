"""Cases in the console (CTPAT 7.27, 6.1): notes and who was told, a security
manager's seal decision and closing, all kept in the log."""

import pytest
from sqlalchemy import select

from gatekeeper import cases
from gatekeeper.models import Case, LogEntry
from tests.fixtures.apps import csrf_token
from tests.support.pickups import OTHER_SEAL, add_appointment, depart, on_site


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def mismatch(db_sessions, site, people) -> Case:
    add_appointment(db_sessions, site)
    pickup = on_site(db_sessions, site, people["guard"].id)
    outcome = depart(
        db_sessions,
        pickup.id,
        people["guard"].id,
        seal_number=OTHER_SEAL,
        seal_confirmation=OTHER_SEAL,
    )
    return outcome.blocked_by


def _post(client, case_id: int, action: str, data: dict, **kwargs):
    token = csrf_token(client, f"/cases/{case_id}")
    return client.post(
        f"/cases/{case_id}/{action}", data={"csrf_token": token, **data}, **kwargs
    )


def _case(db_sessions, case_id: int) -> Case:
    with db_sessions() as session:
        return session.get(Case, case_id)


def test_the_cases_page_lists_open_cases_with_the_waiting_decision(signed_in, mismatch):
    page = _text(signed_in("guard").get("/cases/"))

    assert f"Case {mismatch.id}" in page
    assert "seal decision waiting" in page


def test_a_guard_adds_a_note_and_who_was_told(signed_in, db_sessions, mismatch):
    response = _post(
        signed_in("guard"),
        mismatch.id,
        "notes",
        {"note": "Driver says the shipper resealed", "notified": "Carrier dispatch"},
    )

    assert response.status_code == 302
    assert _case(db_sessions, mismatch.id).notified == "Carrier dispatch"
    page = _text(signed_in("guard").get(f"/cases/{mismatch.id}"))
    assert "Driver says the shipper resealed" in page


def test_an_empty_note_is_refused(signed_in, db_sessions, mismatch):
    response = _post(signed_in("guard"), mismatch.id, "notes", {"note": "  "})

    assert response.status_code == 400
    assert "Note is required." in _text(response)
    with db_sessions() as session:
        assert cases.notes(session, session.get(Case, mismatch.id)) == []


def test_a_guard_can_neither_decide_nor_close(signed_in, mismatch):
    guard = signed_in("guard")

    assert (
        _post(guard, mismatch.id, "seal-decision", {"decision": "release"}).status_code
        == 403
    )
    assert _post(guard, mismatch.id, "close", {"resolution": "x"}).status_code == 403
    assert "Release with seal" not in _text(guard.get(f"/cases/{mismatch.id}"))


def test_a_seal_case_closes_only_after_its_decision(signed_in, db_sessions, mismatch):
    manager = signed_in("security_manager")

    early = _post(manager, mismatch.id, "close", {"resolution": "Resealed"})
    no_reason = _post(
        manager,
        mismatch.id,
        "seal-decision",
        {"decision": "hold", "note": ""},
        follow_redirects=True,
    )
    _post(
        manager,
        mismatch.id,
        "seal-decision",
        {"decision": "hold", "note": "Seal number not on the BOL; reseal"},
    )
    closed = _post(
        manager, mismatch.id, "close", {"resolution": "Resealed with UL1234567"}
    )

    assert early.status_code == 400 and "before closing" in _text(early)
    assert "Nothing was decided. Say why." in _text(no_reason)
    assert closed.status_code == 302
    case = _case(db_sessions, mismatch.id)
    assert (case.decision, case.status, case.closed_by) == (
        "hold",
        "closed",
        "Test Security Manager",
    )
    with db_sessions() as session:
        kinds = list(
            session.scalars(
                select(LogEntry.kind)
                .where(LogEntry.subject_type == "case")
                .order_by(LogEntry.seq)
            )
        )
    assert kinds == ["case.opened", "case.updated", "case.updated", "case.closed"]


def test_the_banner_tells_a_manager_of_waiting_seal_decisions(
    signed_in, db_sessions, site, mismatch
):
    manager = signed_in("security_manager")

    assert "1 seal mismatch</strong> blocks a departure" in _text(manager.get("/gate/"))
    assert "seal mismatch</strong>" not in _text(signed_in("guard").get("/gate/"))


def test_a_case_of_another_site_is_absent(signed_in, db_sessions, other_site):
    with db_sessions.begin() as session:
        case = cases.open_case(
            session, site_id=other_site.id, kind="other", summary="x", actor="t"
        )

    assert signed_in("guard").get(f"/cases/{case.id}").status_code == 404
