"""Who is on site, and roll calls: the snapshot, marks made once, closing."""

import threading

import pytest
from sqlalchemy import func, select

from gatekeeper import accounts, pickups, roll_calls, roster, screening, visits
from gatekeeper.db import utcnow
from gatekeeper.models import (
    AuditEvent,
    RollCall,
    RollCallMark,
    Site,
    User,
    Visit,
)


@pytest.fixture
def second_guard(sessions, site) -> User:
    with sessions.begin() as s:
        user, _ = accounts.create_user(
            s,
            username="gus.guard",
            display_name="Gus Guard",
            role="guard",
            sites=[s.get(Site, site.id)],
            actor="setup",
        )
        return user


def driver(name: str, truck: str) -> pickups.Driver:
    return pickups.Driver(
        reference=f"BOL-{truck}",
        driver_name=name,
        carrier="Swift Lines",
        truck_number=truck,
        trailer_number="53889",
    )


@pytest.fixture
def everyone(sessions, site, guard, arrive):
    """A visitor of each admission, one who left, a driver on site, one waiting."""
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        admitted = arrive(s, "Ada Lovelace")
        visits.verify_id(s, admitted, "passport", actor=s.get(User, guard.id))
        visits.set_escort(s, admitted, "Hedy Lamarr", actor=s.get(User, guard.id))
        waiting = arrive(s, "Blaise Pascal", visitor_type="service_provider")
        screening.add_entry(s, row, kind="person", value="Carl Gauss", actor="t")
        held = arrive(s, "Carl Gauss")
        gone = arrive(s, "Dora Left")
        visits.sign_out(
            s,
            site_id=site.id,
            badge_number=gone.badge_number,
            actor=s.get(User, guard.id),
        )
        on_site = pickups.arrive(
            s, site=row, kiosk=None, driver=driver("Eve Driver", "T1")
        )
        pickups.register(
            s,
            on_site,
            actor=s.get(User, guard.id),
            id_type="drivers_licence",
            decision="Walk-in accepted",
        )
        at_gate = pickups.arrive(
            s, site=row, kiosk=None, driver=driver("Fay Waiting", "T2")
        )
        return {
            "admitted": admitted.id,
            "waiting": waiting.id,
            "held": held.id,
            "gone": gone.id,
            "on_site": on_site.id,
            "at_gate": at_gate.id,
        }


def test_the_roster_lists_everyone_on_the_premises_and_flags_who_is_not_let_in(
    sessions, site, everyone
):
    with sessions.begin() as s:
        people = roster.on_site(s, s.get(Site, site.id), utcnow())

    by_name = {person.name: person for person in people}
    assert [person.name for person in people] == [
        "Ada Lovelace",
        "Blaise Pascal",
        "Carl Gauss",
        "Eve Driver",
        "Fay Waiting",
    ]
    assert by_name["Ada Lovelace"].flag is None
    assert by_name["Ada Lovelace"].escort == "Hedy Lamarr"
    assert by_name["Ada Lovelace"].host == "Grace Hopper"
    assert by_name["Blaise Pascal"].flag == "awaiting_id"
    assert by_name["Blaise Pascal"].escort == ""
    assert by_name["Carl Gauss"].escort == "Grace Hopper"
    assert by_name["Carl Gauss"].flag == "held"
    assert by_name["Eve Driver"].flag is None
    assert by_name["Eve Driver"].organisation == "Swift Lines"
    assert by_name["Eve Driver"].reference == "truck T1, trailer 53889"
    assert by_name["Fay Waiting"].flag == "at_gate"
    assert roster.counts(people) == {
        "visitors": 3,
        "drivers": 2,
        "flagged": 3,
        "total": 5,
    }


def test_a_roll_call_snapshots_the_roster_and_keeps_it_as_people_leave(
    sessions, site, guard, everyone
):
    with sessions.begin() as s:
        roll_call, started = roll_calls.start(
            s, s.get(Site, site.id), actor=s.get(User, guard.id), note="Fire alarm"
        )

    assert started
    assert roll_call.started_by == "Gina Guard"
    with sessions.begin() as s:
        visit = s.get(Visit, everyone["admitted"])
        visits.sign_out(
            s, site_id=site.id, badge_number=visit.badge_number, actor="kiosk:1"
        )

    with sessions.begin() as s:
        entries = roll_calls.entries(s, s.get(RollCall, roll_call.id))
        audit = s.scalar(
            select(AuditEvent).where(AuditEvent.action == "roll_call.started")
        )

    assert [entry.mark.person for entry in entries] == [
        "Ada Lovelace",
        "Blaise Pascal",
        "Carl Gauss",
        "Eve Driver",
        "Fay Waiting",
    ]
    assert [(e.mark.subject_type, e.mark.subject_id) for e in entries[3:]] == [
        ("pickup", everyone["on_site"]),
        ("pickup", everyone["at_gate"]),
    ]
    assert entries[0].person.departed_at is not None
    assert not any(entry.marked for entry in entries)
    assert audit.actor == "gina.guard" and '"people": 5' in audit.detail


def test_starting_while_one_is_open_joins_it(sessions, site, guard, second_guard):
    with sessions.begin() as s:
        first, started = roll_calls.start(
            s, s.get(Site, site.id), actor=s.get(User, guard.id)
        )

    with sessions.begin() as s:
        again, started_again = roll_calls.start(
            s, s.get(Site, site.id), actor=s.get(User, second_guard.id)
        )

    assert started and not started_again
    assert again.id == first.id


def _started(sessions, site, guard) -> RollCall:
    with sessions.begin() as s:
        roll_call, _ = roll_calls.start(
            s, s.get(Site, site.id), actor=s.get(User, guard.id)
        )
        return roll_call


def _mark_ids(sessions, roll_call) -> list[int]:
    with sessions.begin() as s:
        return [entry.mark.id for entry in roll_calls.entries(s, roll_call)]


def test_a_mark_records_who_found_the_person_and_a_second_mark_changes_nothing(
    sessions, site, guard, second_guard, everyone
):
    roll_call = _started(sessions, site, guard)
    first = _mark_ids(sessions, roll_call)[0]
    with sessions.begin() as s:
        outcome = roll_calls.mark(
            s, s.get(RollCall, roll_call.id), first, actor=s.get(User, guard.id)
        )

    with sessions.begin() as s:
        again = roll_calls.mark(
            s, s.get(RollCall, roll_call.id), first, actor=s.get(User, second_guard.id)
        )

    assert outcome.recorded and not again.recorded
    assert again.mark.marked_by == "Gina Guard"
    with sessions.begin() as s:
        row = s.get(RollCallMark, first)
        assert row.marked_by == "Gina Guard" and row.marked_at is not None
        marks_audited = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "roll_call.marked")
        )
        assert marks_audited == 1
        state = roll_calls.state(s, s.get(RollCall, roll_call.id), site.timezone)

    assert (state["marked"], state["total"], state["closed"]) == (1, 5, False)
    assert state["marks"][0]["marked_by"] in ("Gina Guard", None)
    assert "Ada Lovelace" not in str(state)


def test_two_guards_marking_one_person_at_once_record_one_mark(
    sessions, site, guard, second_guard, everyone
):
    roll_call = _started(sessions, site, guard)
    target = _mark_ids(sessions, roll_call)[2]
    barrier = threading.Barrier(2)
    results: list = []

    def guard_marks(user_id):
        barrier.wait()
        with sessions.begin() as s:
            outcome = roll_calls.mark(
                s, s.get(RollCall, roll_call.id), target, actor=s.get(User, user_id)
            )
            results.append((outcome.recorded, outcome.mark.marked_by))

    threads = [
        threading.Thread(target=guard_marks, args=(user.id,))
        for user in (guard, second_guard)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(recorded for recorded, _by in results) == [False, True]
    winner = next(by for recorded, by in results if recorded)
    assert all(by == winner for _recorded, by in results)
    with sessions.begin() as s:
        assert s.get(RollCallMark, target).marked_by == winner
        audited = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "roll_call.marked")
        )
        assert audited == 1


def test_a_mark_made_by_mistake_is_undone_and_the_audit_trail_keeps_it(
    sessions, site, guard, second_guard, everyone
):
    roll_call = _started(sessions, site, guard)
    first = _mark_ids(sessions, roll_call)[0]
    with sessions.begin() as s:
        roll_calls.mark(
            s, s.get(RollCall, roll_call.id), first, actor=s.get(User, guard.id)
        )

    with sessions.begin() as s:
        roll_calls.unmark(
            s, s.get(RollCall, roll_call.id), first, actor=s.get(User, second_guard.id)
        )

    with sessions.begin() as s:
        row = s.get(RollCallMark, first)
        undo = s.scalar(
            select(AuditEvent).where(AuditEvent.action == "roll_call.unmarked")
        )

    assert (row.marked_by, row.marked_at) == (None, None)
    assert undo.actor == "gus.guard" and "Gina Guard" in undo.detail
    with sessions.begin() as s, pytest.raises(roll_calls.RollCallError, match="not"):
        roll_calls.unmark(
            s, s.get(RollCall, roll_call.id), first, actor=s.get(User, guard.id)
        )


def test_closing_records_who_closed_and_then_marks_are_refused(
    sessions, site, guard, second_guard, everyone
):
    roll_call = _started(sessions, site, guard)
    first, second, *_rest = _mark_ids(sessions, roll_call)
    with sessions.begin() as s:
        roll_calls.mark(
            s, s.get(RollCall, roll_call.id), first, actor=s.get(User, guard.id)
        )

    with sessions.begin() as s:
        closed = roll_calls.close(
            s,
            s.get(RollCall, roll_call.id),
            actor=s.get(User, second_guard.id),
            note="Four reported to the fire brigade",
        )

    assert closed.closed_by == "Gus Guard" and closed.closed_at is not None
    assert closed.note == "Four reported to the fire brigade"
    with sessions.begin() as s, pytest.raises(roll_calls.RollCallError, match="closed"):
        roll_calls.mark(
            s, s.get(RollCall, roll_call.id), second, actor=s.get(User, guard.id)
        )

    with sessions.begin() as s, pytest.raises(roll_calls.RollCallError, match="closed"):
        roll_calls.close(s, s.get(RollCall, roll_call.id), actor=s.get(User, guard.id))

    with sessions.begin() as s:
        tally = roll_calls.tallies(s, [roll_call.id])[roll_call.id]
        closing = s.scalar(
            select(AuditEvent).where(AuditEvent.action == "roll_call.closed")
        )
        assert roll_calls.open_roll_call(s, site.id) is None

    assert (tally.total, tally.marked, tally.missing) == (5, 1, 4)
    assert '"missing": 4' in closing.detail


def test_a_mark_of_another_roll_call_is_refused(sessions, site, guard, everyone):
    roll_call = _started(sessions, site, guard)
    with sessions.begin() as s:
        roll_calls.close(s, s.get(RollCall, roll_call.id), actor=s.get(User, guard.id))

    later = _started(sessions, site, guard)
    old_mark = _mark_ids(sessions, roll_call)[0]
    with sessions.begin() as s, pytest.raises(roll_calls.RollCallError, match="not on"):
        roll_calls.mark(
            s, s.get(RollCall, later.id), old_mark, actor=s.get(User, guard.id)
        )


def test_a_note_with_control_characters_starts_nothing(sessions, site, guard):
    with sessions.begin() as s, pytest.raises(roll_calls.RollCallError, match="Note"):
        roll_calls.start(
            s, s.get(Site, site.id), actor=s.get(User, guard.id), note="drill\x00"
        )

    with sessions.begin() as s:
        assert s.scalar(select(func.count()).select_from(RollCall)) == 0
