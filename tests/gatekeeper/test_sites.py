"""Sites, their log chains and their host directories."""

import pytest
from sqlalchemy import select

from gatekeeper import chain, sites
from gatekeeper.models import ChainHead, Host, Site
from gatekeeper.text import TextError


def count_hosts(sessions) -> int:
    with sessions.begin() as s:
        return len(s.scalars(select(Host)).all())


def test_a_new_site_starts_an_empty_chain(sessions, site):
    with sessions.begin() as s:
        head = s.get(ChainHead, site.id)

    assert site.code == "dock-a"
    assert (head.seq, head.hash) == (0, chain.GENESIS)


def test_a_site_code_is_lowered_and_trimmed(sessions):
    with sessions.begin() as s:
        site = sites.create_site(s, code=" Yard-B ", name="Yard B", timezone="UTC")

    assert site.code == "yard-b"
    with sessions.begin() as s:
        assert sites.site_by_code(s, "yard-b").id == site.id


@pytest.mark.parametrize("code", ["a", "-yard", "yard b", "yard_b", "y" * 33, "ÿard"])
def test_a_bad_site_code_is_refused(sessions, code):
    with pytest.raises(TextError, match="Site code"), sessions.begin() as s:
        sites.create_site(s, code=code, name="Yard", timezone="UTC")


def test_a_site_code_already_taken_is_refused(sessions, site):
    with pytest.raises(TextError, match="already exists"), sessions.begin() as s:
        sites.create_site(s, code="DOCK-A", name="Another", timezone="UTC")


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused(sessions, timezone):
    with pytest.raises(TextError), sessions.begin() as s:
        sites.create_site(s, code="yard-b", name="Yard B", timezone=timezone)

    with sessions.begin() as s:
        assert s.scalar(select(Site).where(Site.code == "yard-b")) is None


@pytest.mark.parametrize(
    "email", ["grace", "grace@", "@example.com", "grace@example", "gr ace@example.com"]
)
def test_a_host_needs_a_valid_email_address(sessions, site, email):
    with pytest.raises(TextError, match="email"), sessions.begin() as s:
        sites.add_host(s, s.get(Site, site.id), name="Grace Hopper", email=email)


def test_only_active_hosts_are_offered_in_name_order(sessions, site, host):
    with sessions.begin() as s:
        live = s.get(Site, site.id)
        sites.add_host(s, live, name="Alan Turing", email="alan@example.com")
        gone = sites.add_host(s, live, name="Barbara Liskov", email="bl@example.com")
        gone.active = False

    with sessions.begin() as s:
        offered = [host.name for host in sites.active_hosts(s, site.id)]

    assert offered == ["Alan Turing", "Grace Hopper"]
    assert count_hosts(sessions) == 3
