"""Where a check-in stands afterwards: the site's rules, exemptions, the block list.

CTPAT 10.2 has every visitor's photo ID checked; each test here checks one rule that
decides whether a badge may print at once, waits for the front desk, or is held.
"""

import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from gatekeeper import chain, invitations, photos, screening, visitor_types, visits
from gatekeeper.db import utcnow
from gatekeeper.models import (
    Invitation,
    Kiosk,
    LogEntry,
    OutboxMessage,
    Photo,
    Site,
    User,
    Visit,
)
from tests.support import pictures
from tests.support.licences import TEXAS, payload, photo_of


@pytest.fixture
def photo_key() -> str:
    return Fernet.generate_key().decode("ascii")


@pytest.fixture
def kiosk(sessions, site) -> Kiosk:
    with sessions.begin() as s:
        row = Kiosk(site_id=site.id, name="Lobby")
        s.add(row)
        s.flush()
        return row


def set_mode(sessions, site, mode: str) -> None:
    with sessions.begin() as s:
        s.get(Site, site.id).verification_mode = mode


def entries(sessions, site_id: int, subject_id: int) -> list[LogEntry]:
    with sessions.begin() as s:
        query = (
            select(LogEntry)
            .where(LogEntry.site_id == site_id, LogEntry.subject_id == subject_id)
            .order_by(LogEntry.seq)
        )
        return list(s.scalars(query))


def log_is_whole(sessions, site) -> bool:
    with sessions.begin() as s:
        return chain.verify_site(s, s.get(Site, site.id)).ok


def outbox(sessions) -> list[OutboxMessage]:
    with sessions.begin() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_an_attended_site_keeps_a_kiosk_check_in_waiting_for_the_id_check(
    sessions, site, kiosk, arrive
):
    with sessions.begin() as s:
        visit = arrive(s, kiosk=s.get(Kiosk, kiosk.id))

    assert (visit.admission, visit.id_status) == ("awaiting_id", "unverified")
    assert outbox(sessions) == []
    assert log_is_whole(sessions, site)


def test_a_self_service_kiosk_check_in_is_admitted_with_the_id_captured(
    sessions, site, kiosk, arrive, photo_key
):
    set_mode(sessions, site, "self_service")
    with sessions.begin() as s:
        capture = photos.judge_and_keep(
            s,
            site=s.get(Site, site.id),
            kind="id",
            data=pictures.jpeg(pictures.framed(pictures.portrait())),
            photo_key=photo_key,
            kiosk_id=kiosk.id,
        )
        assert capture.ok, capture.advice
        taken = photos.take_capture(
            s,
            site_id=site.id,
            kind="id",
            capture_key=capture.capture_key,
            kiosk_id=kiosk.id,
        )
        visit = arrive(
            s,
            kiosk=s.get(Kiosk, kiosk.id),
            arrival=visits.Arrival(photos={"id": taken}),
        )

    assert (visit.admission, visit.id_status) == ("admitted", "captured")
    with sessions.begin() as s:
        stored = photos.photo_of(s, visit.id, "id")
        assert stored.capture_key_hash is None
        assert photos.image_of(stored, photo_key).startswith(b"\xff\xd8")

    [notice] = outbox(sessions)
    assert notice.recipient == "grace@example.com"
    assert visit.badge_number in notice.body


def test_the_escort_defaults_to_the_host_when_the_type_requires_one(
    sessions, site, arrive
):
    with sessions.begin() as s:
        escorted = arrive(s, visitor_type="visitor")
        alone = arrive(s, "Alan Turing", visitor_type="service_provider")

    assert (escorted.escort_required, escorted.escort_name) == (True, "Grace Hopper")
    assert (alone.escort_required, alone.escort_name) == (False, None)


def test_a_type_without_photo_id_is_admitted_and_says_so(sessions, site, arrive):
    with sessions.begin() as s:
        visitor_types.save(
            s,
            s.get(Site, site.id),
            code="courier",
            label="Courier",
            escort_required=False,
            id_required=False,
            badge_valid_hours=1,
        )
        visit = arrive(s, visitor_type="courier", id_type="")

    assert (visit.admission, visit.id_status, visit.id_type) == (
        "admitted",
        "not_required",
        "",
    )
    assert visit.valid_until - visit.arrived_at == timedelta(hours=1)


def test_an_inactive_or_unknown_type_is_refused(sessions, site, arrive):
    with sessions.begin() as s:
        visitor_types.save(
            s,
            s.get(Site, site.id),
            code="vendor",
            label="Vendor",
            escort_required=True,
            id_required=True,
            badge_valid_hours=None,
            active=False,
        )

    for code in ("vendor", "astronaut"):
        with (
            pytest.raises(visits.VisitError, match="who you are"),
            sessions.begin() as s,
        ):
            arrive(s, visitor_type=code)


def test_an_exempt_person_is_admitted_and_the_visit_names_who_granted_it(
    sessions, site, guard, arrive
):
    with sessions.begin() as s:
        screening.grant_exemption(
            s,
            s.get(Site, site.id),
            person_name="Ada Lovelace",
            company="Analytical Engines",
            actor=s.get(User, guard.id),
        )
        visit = arrive(s, "lovelace, ADA", id_type="")
        namesake = arrive(s, "Ada Lovelace", company="Other Co")

    assert (visit.admission, visit.id_status, visit.id_exemption_by) == (
        "admitted",
        "exempt",
        "Gina Guard",
    )
    assert namesake.id_status == "unverified" and namesake.id_exemption_by is None
    [arrived] = entries(sessions, site.id, visit.id)
    assert json.loads(arrived.body)["set"]["id_exemption_by"] == "Gina Guard"


def test_a_revoked_exemption_no_longer_applies(sessions, site, guard, arrive):
    with sessions.begin() as s:
        exemption = screening.grant_exemption(
            s,
            s.get(Site, site.id),
            person_name="Ada Lovelace",
            actor=s.get(User, guard.id),
        )
        screening.revoke_exemption(s, exemption, actor=s.get(User, guard.id))

    with pytest.raises(visits.VisitError, match="photo ID"), sessions.begin() as s:
        arrive(s, id_type="")


def test_a_block_list_match_holds_the_check_in_and_the_log_names_the_entry(
    sessions, site, guard, arrive
):
    with sessions.begin() as s:
        entry = screening.add_entry(
            s,
            s.get(Site, site.id),
            kind="person",
            value="Ada Lovelace",
            aliases="Augusta King",
            reason="Trespass notice",
            actor=s.get(User, guard.id),
        )
        visit = arrive(s, "KING, Augusta Ada")

    assert visit.admission == "held"
    assert outbox(sessions) == []
    [arrived] = entries(sessions, site.id, visit.id)
    held = json.loads(arrived.body)["details"]["block_list"]
    assert held == [
        {
            "entry": entry.id,
            "kind": "person",
            "matched": "Augusta King",
            "rule": "all_words",
        }
    ]


def test_an_id_number_from_the_barcode_is_matched_against_the_list(
    sessions, site, guard, arrive
):
    with sessions.begin() as s:
        screening.add_entry(
            s,
            s.get(Site, site.id),
            kind="id_number",
            value="1234-5678",
            actor=s.get(User, guard.id),
        )
        visit = arrive(s, arrival=visits.Arrival(id_number="12345678"))

    assert visit.admission == "held"


def test_approving_a_hold_at_an_attended_site_leaves_the_id_check(
    sessions, site, guard, kiosk, arrive
):
    with sessions.begin() as s:
        screening.add_entry(
            s,
            s.get(Site, site.id),
            kind="company",
            value="Analytical Engines Ltd",
            actor=s.get(User, guard.id),
        )
        visit = arrive(s, kiosk=s.get(Kiosk, kiosk.id))
        visit_id = visit.id

    with sessions.begin() as s:
        visits.decide_hold(
            s,
            s.get(Visit, visit_id),
            "approve",
            reason="Known supplier, cleared",
            actor=s.get(User, guard.id),
        )

    with sessions.begin() as s:
        assert s.get(Visit, visit_id).admission == "awaiting_id"
        visits.verify_id(
            s, s.get(Visit, visit_id), "passport", actor=s.get(User, guard.id)
        )

    with sessions.begin() as s:
        row = s.get(Visit, visit_id)
        assert (row.admission, row.id_status, row.id_verified_by) == (
            "admitted",
            "verified",
            "Gina Guard",
        )

    kinds = [e.kind for e in entries(sessions, site.id, visit_id)]
    assert kinds == ["visit.arrived", "visit.hold_approved", "visit.id_verified"]
    approved = entries(sessions, site.id, visit_id)[1]
    assert json.loads(approved.body)["details"] == {"reason": "Known supplier, cleared"}
    assert len(outbox(sessions)) == 1
    assert log_is_whole(sessions, site)


def test_denying_a_hold_ends_the_visit_with_no_badge(sessions, site, guard, arrive):
    with sessions.begin() as s:
        screening.add_entry(
            s,
            s.get(Site, site.id),
            kind="person",
            value="Ada Lovelace",
            actor=s.get(User, guard.id),
        )
        visit_id = arrive(s).id

    with sessions.begin() as s:
        visits.decide_hold(
            s,
            s.get(Visit, visit_id),
            "deny",
            reason="Listed person",
            actor=s.get(User, guard.id),
        )

    with sessions.begin() as s:
        row = s.get(Visit, visit_id)
        assert row.admission == "denied"
        assert row.departed_at is not None and row.departed_by == "user:gina.guard"
        with pytest.raises(visits.VisitError, match="not held"):
            visits.decide_hold(
                s, row, "approve", reason="Changed my mind", actor=s.get(User, guard.id)
            )

    assert outbox(sessions) == []
    assert log_is_whole(sessions, site)


@pytest.mark.parametrize(
    ("decision", "reason", "message"),
    [("maybe", "A fine reason", "approve or deny"), ("approve", " ", "why")],
)
def test_a_hold_decision_needs_a_choice_and_a_reason(
    sessions, site, guard, arrive, decision, reason, message
):
    with sessions.begin() as s:
        screening.add_entry(
            s,
            s.get(Site, site.id),
            kind="person",
            value="Ada Lovelace",
            actor=s.get(User, guard.id),
        )
        visit_id = arrive(s).id

    with pytest.raises(visits.VisitError, match=message), sessions.begin() as s:
        visits.decide_hold(
            s,
            s.get(Visit, visit_id),
            decision,
            reason=reason,
            actor=s.get(User, guard.id),
        )

    with sessions.begin() as s:
        assert s.get(Visit, visit_id).admission == "held"


def test_an_id_cannot_be_verified_while_the_check_in_is_held(
    sessions, site, guard, arrive
):
    with sessions.begin() as s:
        screening.add_entry(
            s,
            s.get(Site, site.id),
            kind="person",
            value="Ada Lovelace",
            actor=s.get(User, guard.id),
        )
        visit_id = arrive(s).id

    with pytest.raises(visits.VisitError, match="held"), sessions.begin() as s:
        visits.verify_id(
            s, s.get(Visit, visit_id), "passport", actor=s.get(User, guard.id)
        )


def test_a_desk_check_in_verified_by_an_employee_is_admitted(
    sessions, site, guard, arrive
):
    with sessions.begin() as s:
        visit = arrive(s, arrival=visits.Arrival(verified_by=s.get(User, guard.id)))

    assert (visit.admission, visit.id_status, visit.id_verified_by) == (
        "admitted",
        "verified",
        "Gina Guard",
    )
    assert visit.id_verified_at == visit.arrived_at
    [arrived] = entries(sessions, site.id, visit.id)
    assert arrived.actor == "user:gina.guard"


def test_changing_the_escort_is_logged_and_replays(sessions, site, guard, arrive):
    with sessions.begin() as s:
        visit_id = arrive(s).id

    with sessions.begin() as s:
        visits.set_escort(
            s, s.get(Visit, visit_id), "  Alan   Turing ", actor=s.get(User, guard.id)
        )

    with sessions.begin() as s:
        assert s.get(Visit, visit_id).escort_name == "Alan Turing"
        with pytest.raises(visits.VisitError, match="Escort"):
            visits.set_escort(
                s, s.get(Visit, visit_id), "", actor=s.get(User, guard.id)
            )

    assert entries(sessions, site.id, visit_id)[-1].kind == "visit.escort_changed"
    assert log_is_whole(sessions, site)


def test_an_expired_licence_read_from_the_barcode_is_flagged(
    sessions, site, kiosk, arrive, photo_key
):
    expired = {**TEXAS, "DBA": "01012020"}
    with sessions.begin() as s:
        capture = photos.judge_and_keep(
            s,
            site=s.get(Site, site.id),
            kind="id_back",
            data=photo_of(payload(expired)),
            photo_key=photo_key,
            kiosk_id=kiosk.id,
        )

    assert capture.ok, capture.advice
    assert capture.expired is True
    assert capture.licence.full_name == "Sean Patrick O'Brien"
    with sessions.begin() as s:
        stored = s.scalar(select(Photo).where(Photo.kind == "id_back"))
        details = photos.licence_details(stored, photo_key)
        # The document number is kept sealed, not in the clear.
        assert "12345678" not in stored.details
        assert details["document_number"] == "12345678"


def test_the_back_of_an_id_without_a_readable_barcode_gets_advice(
    sessions, site, kiosk, photo_key
):
    with sessions.begin() as s:
        capture = photos.judge_and_keep(
            s,
            site=s.get(Site, site.id),
            kind="id_back",
            data=pictures.jpeg(pictures.framed(pictures.portrait())),
            photo_key=photo_key,
            kiosk_id=kiosk.id,
        )
        assert not capture.ok and capture.capture_key is None
        assert "barcode" in str(capture.advice[0])
        assert s.scalar(select(Photo)) is None


def test_a_capture_is_taken_once_by_its_own_kiosk_within_the_hour(
    sessions, site, kiosk, photo_key
):
    with sessions.begin() as s:
        capture = photos.judge_and_keep(
            s,
            site=s.get(Site, site.id),
            kind="face",
            data=pictures.jpeg(pictures.framed(pictures.portrait())),
            photo_key=photo_key,
            kiosk_id=kiosk.id,
        )
        key = capture.capture_key

    def take(**overrides):
        fields = {
            "site_id": site.id,
            "kind": "face",
            "capture_key": key,
            "kiosk_id": kiosk.id,
        }
        with sessions.begin() as s:
            return photos.take_capture(s, **{**fields, **overrides})

    assert take(kiosk_id=kiosk.id + 1) is None
    assert take(kind="id") is None
    assert take(capture_key="x" * 32) is None
    assert take() is not None
    with sessions.begin() as s:
        s.scalar(select(Photo)).created_at = utcnow() - timedelta(hours=2)

    assert take() is None
    with sessions.begin() as s:
        assert photos.purge_stale_captures(s) == 1


def test_discarding_captures_keeps_photos_already_attached(
    sessions, site, kiosk, arrive, photo_key
):
    data = pictures.jpeg(pictures.framed(pictures.portrait()))
    with sessions.begin() as s:
        kept = photos.judge_and_keep(
            s,
            site=s.get(Site, site.id),
            kind="face",
            data=data,
            photo_key=photo_key,
            kiosk_id=kiosk.id,
        ).capture_key
        dropped = photos.judge_and_keep(
            s,
            site=s.get(Site, site.id),
            kind="id",
            data=data,
            photo_key=photo_key,
            kiosk_id=kiosk.id,
        ).capture_key
        face = photos.take_capture(
            s, site_id=site.id, kind="face", capture_key=kept, kiosk_id=kiosk.id
        )
        arrive(
            s,
            kiosk=s.get(Kiosk, kiosk.id),
            arrival=visits.Arrival(photos={"face": face}),
        )

    with sessions.begin() as s:
        assert photos.discard_captures(s, [kept, dropped, ""]) == 1
        assert [p.kind for p in s.scalars(select(Photo))] == ["face"]


def test_entries_written_before_the_new_columns_still_verify(sessions, site, host):
    """A visit logged before admission and escort existed replays to their defaults,
    and a row that differs from those defaults is still caught."""
    old_columns = [
        c for c in visits.LOGGED_COLUMNS if c not in chain.LATER_DEFAULTS["visit"]
    ]
    with sessions.begin() as s:
        now = utcnow()
        visit = Visit(
            site_id=site.id,
            badge_number="123456",
            visitor_name="Ada Lovelace",
            company="Analytical Engines",
            visitor_type="visitor",
            host_id=host.id,
            host_name=host.name,
            id_type="passport",
            id_status="unverified",
            arrived_at=now,
            valid_until=now + timedelta(hours=12),
        )
        s.add(visit)
        s.flush()
        chain.append(
            s,
            site_id=site.id,
            kind="visit.arrived",
            subject_type="visit",
            subject_id=visit.id,
            actor="console",
            changes={name: getattr(visit, name) for name in old_columns},
        )

    assert log_is_whole(sessions, site)
    with sessions.begin() as s:
        s.get(Visit, visit.id).admission = "held"

    with sessions.begin() as s:
        report = chain.verify_site(s, s.get(Site, site.id))
    assert not report.ok
    assert any("admission" in problem.message for problem in report.state_problems)


def test_an_invitation_starts_one_visit_only(sessions, site, host, arrive):
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        invitation, code = invitations.create(
            s,
            row,
            visitor_name="Ada Lovelace",
            company="Analytical Engines",
            email="ada@example.com",
            expected_on=invitations.site_today(row),
            host_id=host.id,
            actor="front desk",
        )

    with sessions.begin() as s:
        found = invitations.lookup(s, s.get(Site, site.id), code)
        visit = arrive(s, arrival=visits.Arrival(invitation=found))

    assert visit.invitation_id == invitation.id
    # A second kiosk that looked the code up before the first one used it holds
    # the invitation too; spending it again is refused.
    with (
        pytest.raises(visits.VisitError, match="already been used"),
        sessions.begin() as s,
    ):
        stale = s.get(Invitation, invitation.id)
        arrive(s, "Ada Lovelace", arrival=visits.Arrival(invitation=stale))

    with sessions.begin() as s:
        assert invitations.lookup(s, s.get(Site, site.id), code) is None
