"""The check-in's host step and its search (CTPAT 10.2's point of contact, found as
visitor types): the kiosk's own site only, a name and department, never an email."""

import pytest

from gatekeeper import sites
from gatekeeper.models import Site


def _names(kiosk_client, query: str) -> list[str]:
    response = kiosk_client.get("/hosts", query_string={"q": query})
    assert response.status_code == 200
    return [host["name"] for host in response.get_json()]


@pytest.mark.parametrize("query", ["lop", "LÓP", "lóp", "ana", "ANA LO", "  ana  "])
def test_a_host_is_found_by_any_word_whatever_the_accents_and_case(kiosk_client, query):
    assert _names(kiosk_client, query) == ["Ana López"]


def test_a_query_must_match_the_start_of_a_word(kiosk_client):
    assert _names(kiosk_client, "pez") == []
    assert _names(kiosk_client, "ton") == []
    assert _names(kiosk_client, "sto") == ["Bob Stone"]


def test_the_hosts_of_another_site_are_never_found(
    kiosk_client, db_sessions, other_site
):
    with db_sessions.begin() as session:
        north = session.get(Site, other_site.id)
        sites.add_host(session, north, name="Carla Northman", email="c@north.example")

    assert _names(kiosk_client, "carla") == []
    assert _names(kiosk_client, "northman") == []


def test_a_match_names_the_host_and_department_and_never_the_email(
    kiosk_client, db_sessions, site
):
    with db_sessions.begin() as session:
        sites.add_host(
            session,
            session.get(Site, site.id),
            name="Dana Shipping",
            email="dana@main.example",
            department="Receiving",
        )

    response = kiosk_client.get("/hosts?q=dana")
    [host] = response.get_json()
    assert set(host) == {"id", "name", "department"}
    assert (host["name"], host["department"]) == ("Dana Shipping", "Receiving")
    assert b"@" not in response.data
    assert b"example" not in response.data


def test_an_inactive_host_is_not_found(kiosk_client, db_sessions, site):
    with db_sessions.begin() as session:
        ana = sites.active_hosts(session, site.id)[0]
        ana.active = False

    assert _names(kiosk_client, "ana") == []


@pytest.mark.parametrize("query", ["", "a", " a ", "ó", "  "])
def test_fewer_than_two_characters_find_nobody(kiosk_client, query):
    assert _names(kiosk_client, query) == []


def test_a_missing_query_finds_nobody(kiosk_client):
    response = kiosk_client.get("/hosts")
    assert response.status_code == 200
    assert response.get_json() == []


@pytest.mark.parametrize(
    "query",
    [
        "ana" + "x" * 58,
        "a" * 10_000,
        "%",
        "%%",
        "_%",
        "' OR 1=1 --",
        "<script>",
        "\x00\x00",
        "Ana López" * 20,
    ],
)
def test_long_or_odd_queries_are_answered_safely(kiosk_client, query):
    assert _names(kiosk_client, query) == []


def test_a_query_is_read_to_sixty_characters(kiosk_client):
    assert _names(kiosk_client, "ana" + " " * 56 + "x") == []
    assert _names(kiosk_client, "ana" + " " * 57 + "x") == ["Ana López"]


def test_an_unenrolled_browser_is_sent_to_enrolment(kiosk_app, site):
    response = kiosk_app.test_client().get("/hosts?q=ana")
    assert response.status_code == 302
    assert response.location.endswith("/enrol")


def test_the_host_step_carries_the_search_words_and_keeps_the_list(visitor):
    visitor.reach(target="/check-in/host")
    page = visitor.client.get("/check-in/host").data.decode()
    assert 'id="host-search" hidden' in page
    assert 'data-url="/hosts"' in page
    assert 'data-label="Type the name of the person you are visiting"' in page
    assert 'src="/static/kiosk/host-search.js"' in page
    assert page.index("kiosk/idle.js") < page.index("kiosk/host-search.js")
    assert '<select id="host_id"' in page
