"""Invitations: creating one and its email, the code's shape, lookup at the kiosk,
cancelling, and the lists the console shows."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from gatekeeper import badges, invitations, sites, visits
from gatekeeper.models import AuditEvent, Host, Invitation, OutboxMessage, Site
from gatekeeper.text import TextError


@pytest.fixture
def today(site) -> date:
    return invitations.site_today(site)


@pytest.fixture
def invite(sessions, site, host, today):
    """Create an invitation in its own transaction; returns it and its code."""

    def invite(name: str = "Katherine Johnson", *, on: date | None = None, **fields):
        values = {
            "visitor_name": name,
            "company": "Langley Research",
            "email": "katherine@example.org",
            "expected_on": today if on is None else on,
            "host_id": host.id,
            "actor": "front desk",
        }
        values.update(fields)
        with sessions.begin() as s:
            return invitations.create(s, s.get(Site, site.id), **values)

    return invite


def _rows(sessions, model) -> list:
    with sessions() as s:
        return list(s.scalars(select(model).order_by(model.id)))


def test_an_invitation_keeps_only_the_hash_of_its_code(sessions, invite, host, today):
    invitation, code = invite()

    [row] = _rows(sessions, Invitation)
    assert code not in (row.code_hash, row.visitor_name, row.email, row.created_by)
    assert len(row.code_hash) == 64
    assert (row.visitor_name, row.company, row.email) == (
        "Katherine Johnson",
        "Langley Research",
        "katherine@example.org",
    )
    assert (row.expected_on, row.host_id, row.created_by) == (
        today,
        host.id,
        "front desk",
    )


def test_creating_queues_the_visitor_email_with_the_code_and_its_qr(
    sessions, invite, site
):
    invitation, code = invite()

    [message] = _rows(sessions, OutboxMessage)
    assert message.site_id == site.id
    assert message.recipient == "katherine@example.org"
    assert message.subject.startswith("Your visit to Dock A on ")
    assert invitations.printable(code) in message.body
    assert "Grace Hopper expects you at Dock A" in message.body
    assert message.attachment == badges.qr_png(code, box_size=8)
    assert message.sent_at is None


def test_creating_and_cancelling_are_audited(sessions, invite):
    invitation, _code = invite()
    with sessions.begin() as s:
        invitations.cancel(s, s.get(Invitation, invitation.id), "front desk")

    events = _rows(sessions, AuditEvent)
    assert [(e.action, e.target, e.actor) for e in events] == [
        ("invitation.created", f"invitation:{invitation.id}", "front desk"),
        ("invitation.cancelled", f"invitation:{invitation.id}", "front desk"),
    ]


@pytest.fixture
def other_host(sessions):
    """A host of another site."""
    with sessions.begin() as s:
        other = sites.create_site(s, code="dock-b", name="Dock B", timezone="UTC")
        return sites.add_host(s, other, name="Alan Turing", email="alan@example.com")


@pytest.fixture
def retired_host(sessions, site):
    with sessions.begin() as s:
        host = sites.add_host(
            s, s.get(Site, site.id), name="Old Timer", email="old@example.com"
        )
        s.get(Host, host.id).active = False
        return host


BAD_FIELDS = {
    "a name without letters": ({"visitor_name": "12345"}, "must contain letters"),
    "an empty company": ({"company": "  "}, "Company is required"),
    "an email without a domain": ({"email": "katherine@"}, "not a valid email"),
    "an email with two addresses": (
        {"email": "a@example.com b@example.com"},
        "not a valid email",
    ),
    "a day that has passed": ({"days": -1}, "has passed"),
    "a day too far ahead": (
        {"days": invitations.MAX_DAYS_AHEAD + 1},
        f"at most {invitations.MAX_DAYS_AHEAD} days",
    ),
    "a date and time instead of a day": ({"expected_on": "datetime"}, "Enter the date"),
    "a date as text": ({"expected_on": "2030-01-01"}, "Enter the date"),
    "an unknown host": ({"host_id": 999_999}, "Choose the host"),
}


@pytest.mark.parametrize("case", sorted(BAD_FIELDS))
def test_a_bad_field_is_refused_and_nothing_is_written(sessions, invite, today, case):
    fields, message = BAD_FIELDS[case]
    fields = dict(fields)
    if "days" in fields:
        fields["on"] = today + timedelta(days=fields.pop("days"))

    if fields.get("expected_on") == "datetime":
        fields["expected_on"] = datetime.now(UTC)

    with pytest.raises(TextError, match=message):
        invite(**fields)

    assert _rows(sessions, Invitation) == []
    assert _rows(sessions, OutboxMessage) == []
    assert _rows(sessions, AuditEvent) == []


@pytest.mark.parametrize("which", ["other_host", "retired_host"])
def test_the_host_must_be_active_and_of_the_site(request, sessions, invite, which):
    host = request.getfixturevalue(which)

    with pytest.raises(TextError, match="Choose the host"):
        invite(host_id=host.id)

    assert _rows(sessions, Invitation) == []


def test_today_and_the_last_day_allowed_are_accepted(sessions, invite, today):
    invite(on=today)
    invite(on=today + timedelta(days=invitations.MAX_DAYS_AHEAD))

    assert len(_rows(sessions, Invitation)) == 2


def test_today_is_the_date_at_the_site():
    chicago = Site(code="x", name="X", timezone="America/Chicago")
    tokyo = Site(code="y", name="Y", timezone="Asia/Tokyo")
    late_evening_in_chicago = datetime(2026, 3, 2, 3, 30, tzinfo=UTC)

    assert invitations.site_today(chicago, late_evening_in_chicago) == date(2026, 3, 1)
    assert invitations.site_today(tokyo, late_evening_in_chicago) == date(2026, 3, 2)


# The code's shape


def test_a_code_is_letters_and_digits_after_a_fixed_prefix(invite):
    _invitation, code = invite()

    assert code.startswith(invitations.PREFIX)
    assert len(code) == invitations.CODE_LENGTH
    assert code.isalnum() and code.isupper()
    assert invitations.looks_like_code(code)


def test_a_code_is_recognised_as_typed_from_the_email(invite):
    _invitation, code = invite()
    printed = invitations.printable(code)

    assert "-" in printed
    assert invitations.looks_like_code(printed)
    assert invitations.looks_like_code(f"  {printed.lower()}  ")
    assert invitations.looks_like_code(code.replace("I", "1").replace("O", "0"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "INV",
        "INV" + "A" * 15,  # one character short
        "INV" + "A" * 17,  # one character long
        "ABC" + "A" * 16,  # no prefix
        "INV" + "A" * 15 + "!",
        "INV" + "A" * 15 + "9",  # 9 is no base32 digit
        "INV" + "A" * 2000,
        "https://example.com/INVABCDEFGHABCDEFGHA",
    ],
)
def test_other_text_does_not_look_like_a_code(text):
    assert not invitations.looks_like_code(text)


def test_a_badge_token_does_not_look_like_an_invitation_code():
    token = "A" * badges.TOKEN_MIN_LENGTH

    assert badges.looks_like_token(token)
    assert not invitations.looks_like_code(token)


# Lookup at the kiosk


def _lookup(sessions, site, text, today=None):
    with sessions() as s:
        return invitations.lookup(s, s.get(Site, site.id), text, today)


def test_lookup_finds_today_s_invitation(sessions, invite, site):
    invitation, code = invite()

    found = _lookup(sessions, site, code)

    assert found is not None and found.id == invitation.id
    assert _lookup(sessions, site, invitations.printable(code).lower()).id == found.id


def test_lookup_ignores_an_invitation_for_another_day(sessions, invite, site, today):
    _invitation, code = invite(on=today + timedelta(days=1))

    assert _lookup(sessions, site, code) is None
    assert _lookup(sessions, site, code, today + timedelta(days=1)) is not None


def test_lookup_ignores_an_invitation_of_another_site(sessions, invite, other_host):
    _invitation, code = invite()
    with sessions() as s:
        other = s.get(Site, other_host.site_id)
        today_there = invitations.site_today(other)
        assert invitations.lookup(s, other, code, today_there) is None


def test_lookup_ignores_a_cancelled_invitation(sessions, invite, site):
    invitation, code = invite()
    with sessions.begin() as s:
        invitations.cancel(s, s.get(Invitation, invitation.id), "front desk")

    assert _lookup(sessions, site, code) is None


def test_lookup_ignores_an_invitation_used_by_a_check_in(sessions, invite, site):
    invitation, code = invite()
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        found = invitations.lookup(s, row, code)
        visits.check_in(
            s,
            site=row,
            kiosk=None,
            visitor_name=found.visitor_name,
            company=found.company,
            host_id=found.host_id,
            visitor_type="visitor",
            id_type="passport",
            arrival=visits.Arrival(invitation=found),
        )

    assert _lookup(sessions, site, code) is None
    with sessions() as s:
        assert s.get(Invitation, invitation.id).used_at is not None


@pytest.mark.parametrize(
    "text",
    ["", "hello", "INV" + "A" * 16, "A" * badges.TOKEN_MIN_LENGTH, "INV\x00" * 5],
)
def test_lookup_ignores_garbage_and_unknown_codes(sessions, invite, site, text):
    invite()

    assert _lookup(sessions, site, text) is None


# Cancelling and the lists


def test_a_used_or_cancelled_invitation_cannot_be_cancelled(sessions, invite):
    used, _code = invite("Mary Jackson")
    cancelled, _code = invite("Dorothy Vaughan")
    with sessions.begin() as s:
        s.get(Invitation, used.id).used_at = datetime.now(UTC)
        invitations.cancel(s, s.get(Invitation, cancelled.id), "front desk")

    with sessions.begin() as s:
        with pytest.raises(TextError, match="already used"):
            invitations.cancel(s, s.get(Invitation, used.id), "front desk")

        with pytest.raises(TextError, match="already cancelled"):
            invitations.cancel(s, s.get(Invitation, cancelled.id), "front desk")


def test_upcoming_and_past_split_the_site_s_invitations(sessions, invite, site, today):
    later, _ = invite("Later Visitor", on=today + timedelta(days=3))
    now, _ = invite("Today Visitor")
    used, _ = invite("Used Visitor")
    cancelled, _ = invite("Cancelled Visitor", on=today + timedelta(days=1))
    missed, _ = invite("Missed Visitor")
    with sessions.begin() as s:
        s.get(Invitation, used.id).used_at = datetime.now(UTC)
        invitations.cancel(s, s.get(Invitation, cancelled.id), "front desk")
        s.get(Invitation, missed.id).expected_on = today - timedelta(days=2)

    with sessions() as s:
        row = s.get(Site, site.id)
        upcoming = [i.visitor_name for i in invitations.upcoming(s, row)]
        past = {i.visitor_name: i for i in invitations.past(s, row)}

    assert upcoming == ["Today Visitor", "Later Visitor"]
    assert set(past) == {"Used Visitor", "Cancelled Visitor", "Missed Visitor"}
    states = {name: invitations.status(i, today) for name, i in past.items()}
    assert states == {
        "Used Visitor": "used",
        "Cancelled Visitor": "cancelled",
        "Missed Visitor": "missed",
    }
