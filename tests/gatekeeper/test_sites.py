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


@pytest.fixture
def directory(sessions, site, host):
    """Dock A's directory: Grace Hopper, two more, and one who has left."""
    with sessions.begin() as s:
        live = s.get(Site, site.id)
        sites.add_host(s, live, name="Ana López", email="ana@example.com")
        sites.add_host(
            s, live, name="José Ñúñez-Pérez", email="jn@example.com", department="Yard"
        )
        gone = sites.add_host(s, live, name="Ana Lopes", email="al@example.com")
        gone.active = False

    return site


def _found(sessions, site_id: int, query: str, **options) -> list[str]:
    with sessions.begin() as s:
        return [h.name for h in sites.search_hosts(s, site_id, query, **options)]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("lop", ["Ana López"]),
        ("LÓPEZ", ["Ana López"]),
        ("ana l", ["Ana López"]),
        ("nunez", ["José Ñúñez-Pérez"]),
        ("perez", ["José Ñúñez-Pérez"]),
        ("JOSE", ["José Ñúñez-Pérez"]),
        ("gr", ["Grace Hopper"]),
        ("opper", []),
        ("pez", []),
    ],
)
def test_search_hosts_matches_the_start_of_any_word_without_accents_or_case(
    sessions, directory, query, names
):
    assert _found(sessions, directory.id, query) == names


@pytest.mark.parametrize("query", ["", " ", "a", " ó ", "\t\n"])
def test_search_hosts_needs_two_characters(sessions, directory, query):
    assert _found(sessions, directory.id, query) == []


def test_search_hosts_skips_hosts_who_have_left(sessions, directory):
    assert _found(sessions, directory.id, "lopes") == []


def test_search_hosts_reads_only_the_given_site(sessions, directory):
    with sessions.begin() as s:
        other = sites.create_site(s, code="yard-b", name="Yard B", timezone="UTC")
        sites.add_host(s, other, name="Ana Lozano", email="lozano@example.com")

    assert _found(sessions, directory.id, "ana") == ["Ana López"]
    assert _found(sessions, other.id, "ana") == ["Ana Lozano"]


def test_search_hosts_reads_sixty_characters_of_the_query(sessions, directory):
    assert _found(sessions, directory.id, "grace" + " " * 54 + "x") == []
    assert _found(sessions, directory.id, "grace" + " " * 55 + "x") == ["Grace Hopper"]


def test_search_hosts_returns_at_most_the_limit_in_name_order(sessions, site):
    with sessions.begin() as s:
        live = s.get(Site, site.id)
        for n in range(12):
            sites.add_host(
                s, live, name=f"Sam Tester {n:02}", email=f"s{n}@example.com"
            )

    assert len(_found(sessions, site.id, "sam")) == 8
    assert _found(sessions, site.id, "sam", limit=3) == [
        "Sam Tester 00",
        "Sam Tester 01",
        "Sam Tester 02",
    ]
