"""Binding a kiosk's browser to a site with a one-time code, and revoking it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from gatekeeper import kiosks
from gatekeeper.db import utcnow
from gatekeeper.models import AuditEvent, Kiosk, Site


@pytest.fixture
def created(sessions, site) -> tuple[Kiosk, str]:
    """A kiosk awaiting enrolment, and its one-time code."""
    with sessions.begin() as s:
        return kiosks.create_kiosk(s, s.get(Site, site.id), "Lobby", actor="setup")


@pytest.fixture
def enrolled(sessions, created) -> tuple[Kiosk, str]:
    """An enrolled kiosk, and the device token its browser keeps."""
    with sessions.begin() as s:
        return kiosks.enrol(s, created[1])


def enrol(sessions, code: str) -> tuple[Kiosk, str]:
    with sessions.begin() as s:
        return kiosks.enrol(s, code, address="192.0.2.9")


def authenticate(sessions, kiosk_id: int, token: str) -> Kiosk | None:
    with sessions.begin() as s:
        return kiosks.authenticate(s, kiosk_id, token)


def revoke(sessions, kiosk_id: int) -> None:
    with sessions.begin() as s:
        kiosks.revoke(s, s.get(Kiosk, kiosk_id), actor="ada.admin")


def audit_actions(sessions) -> list[str]:
    with sessions.begin() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_new_kiosk_gets_a_one_time_code_and_awaits_enrolment(created):
    kiosk, code = created

    assert len(code) == 9
    assert code[4] == "-"
    assert set(code.replace("-", "")) <= set(kiosks.CODE_ALPHABET)
    assert kiosk.state == "awaiting enrolment"
    assert code.replace("-", "") not in (kiosk.enrolment_code_hash or "")
    assert kiosk.enrolment_expires_at > utcnow() + timedelta(hours=23)


def test_a_site_cannot_have_two_kiosks_of_the_same_name(sessions, site, created):
    with pytest.raises(kiosks.EnrolmentError), sessions.begin() as s:
        kiosks.create_kiosk(s, s.get(Site, site.id), " Lobby ", actor="setup")


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code,
        lambda code: code.lower(),
        lambda code: code.replace("-", ""),
        lambda code: code.lower().replace("-", " "),
        lambda code: f"  {code[:2]} {code[2:]}  ",
    ],
    ids=["as-shown", "lower-case", "no-hyphen", "spaced", "padded"],
)
def test_enrolment_accepts_the_code_however_it_is_typed(sessions, created, typed):
    kiosk, code = created

    enrolled, token = enrol(sessions, typed(code))

    assert enrolled.id == kiosk.id
    assert enrolled.state == "enrolled"
    assert len(token) >= 40
    assert enrolled.device_token_hash != token
    assert enrolled.enrolment_code_hash is None


def test_an_enrolment_code_cannot_be_used_twice(sessions, created, enrolled):
    with pytest.raises(kiosks.EnrolmentError, match="not valid"):
        enrol(sessions, created[1])


def test_an_expired_enrolment_code_is_refused(sessions, created):
    kiosk, code = created
    with sessions.begin() as s:
        s.get(Kiosk, kiosk.id).enrolment_expires_at = utcnow() - timedelta(seconds=1)

    with pytest.raises(kiosks.EnrolmentError, match="expired"):
        enrol(sessions, code)


@pytest.mark.parametrize("code", ["", "ABCD", "ABCD-EFGH-J", "0000-1111"])
def test_a_code_of_the_wrong_shape_is_refused(sessions, created, code):
    with pytest.raises(kiosks.EnrolmentError, match="8-character"):
        enrol(sessions, code)


def test_a_made_up_code_is_refused(sessions, created):
    made_up = "2222-3333" if created[1] != "2222-3333" else "4444-5555"

    with pytest.raises(kiosks.EnrolmentError, match="not valid"):
        enrol(sessions, made_up)


def test_the_device_token_authenticates_its_kiosk(sessions, enrolled):
    kiosk, token = enrolled

    found = authenticate(sessions, kiosk.id, token)

    assert found is not None
    assert found.id == kiosk.id


def test_a_wrong_token_or_kiosk_authenticates_nothing(sessions, site, enrolled):
    kiosk, token = enrolled
    with sessions.begin() as s:
        other, code = kiosks.create_kiosk(s, s.get(Site, site.id), "Gate", actor="x")

    _, other_token = enrol(sessions, code)

    assert authenticate(sessions, kiosk.id, token[:-1]) is None
    assert authenticate(sessions, kiosk.id, "") is None
    assert authenticate(sessions, kiosk.id, other_token) is None
    assert authenticate(sessions, other.id, token) is None
    assert authenticate(sessions, kiosk.id + 1000, token) is None


def test_a_kiosk_awaiting_enrolment_authenticates_nothing(sessions, created):
    assert authenticate(sessions, created[0].id, "") is None


def test_a_revoked_kiosk_is_refused(sessions, enrolled):
    kiosk, token = enrolled

    revoke(sessions, kiosk.id)

    assert authenticate(sessions, kiosk.id, token) is None
    with sessions.begin() as s:
        assert s.get(Kiosk, kiosk.id).state == "revoked"


def test_a_revoked_kiosk_cannot_get_a_new_code(sessions, enrolled):
    revoke(sessions, enrolled[0].id)

    with pytest.raises(kiosks.EnrolmentError, match="revoked"), sessions.begin() as s:
        kiosks.issue_code(s.get(Kiosk, enrolled[0].id))


def test_revoking_a_kiosk_voids_its_unused_code(sessions, created):
    kiosk, code = created

    revoke(sessions, kiosk.id)

    with pytest.raises(kiosks.EnrolmentError, match="not valid"):
        enrol(sessions, code)


def test_a_new_code_for_a_kiosk_replaces_the_old_one(sessions, created):
    kiosk, old = created
    with sessions.begin() as s:
        new = kiosks.issue_code(s.get(Kiosk, kiosk.id))

    with pytest.raises(kiosks.EnrolmentError, match="not valid"):
        enrol(sessions, old)

    assert enrol(sessions, new)[0].id == kiosk.id


def test_creating_enrolling_and_revoking_a_kiosk_are_audited(sessions, enrolled):
    kiosk, _ = enrolled
    revoke(sessions, kiosk.id)
    revoke(sessions, kiosk.id)

    with sessions.begin() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action.like("kiosk.%"))
        ).all()

    assert [event.action for event in events] == [
        "kiosk.create",
        "kiosk.enrol",
        "kiosk.revoke",
    ]
    assert {event.site_id for event in events} == {kiosk.site_id}
    assert all(event.target == f"kiosk {kiosk.id} Lobby" for event in events)
    assert [event.actor for event in events] == [
        "setup",
        f"kiosk:{kiosk.id}",
        "ada.admin",
    ]
