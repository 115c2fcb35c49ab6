"""The kiosk speaks its site's languages (Site.languages, the default first): it
offers only those, starts in the first, and a choice it does not offer falls back
to the default. Every language a site may choose has a catalogue."""

import re

import pytest
from babel.messages.pofile import read_po

from admin.sites_admin import LANGUAGE_CHOICES
from gatekeeper import sites, web
from gatekeeper.config import PROJECT_ROOT
from gatekeeper.models import Site
from tests.fixtures.apps import csrf_token


def _set_languages(db_sessions, site, languages: str) -> None:
    with db_sessions.begin() as session:
        session.get(Site, site.id).languages = languages


def _page_language(client, path: str = "/") -> str:
    return re.search(r'<html lang="(\w+)">', client.get(path).get_data(as_text=True))[1]


def _offered(client) -> list[str]:
    page = client.get("/").get_data(as_text=True)
    return re.findall(r'name="lang" value="(\w+)"', page)


def _choose(client, lang: str) -> None:
    token = csrf_token(client, "/")
    response = client.post("/language", data={"lang": lang, "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("languages", "offered", "default"),
    [("en,es", ["en", "es"], "en"), ("es,en", ["es", "en"], "es"), ("es", [], "es")],
)
def test_the_kiosk_offers_its_sites_languages_and_starts_in_the_first(
    kiosk_client, db_sessions, site, spanish_mo, languages, offered, default
):
    _set_languages(db_sessions, site, languages)

    assert _offered(kiosk_client) == offered
    assert _page_language(kiosk_client) == default
    assert _page_language(kiosk_client, "/check-in") == default


def test_a_spanish_first_site_greets_in_spanish(
    kiosk_client, db_sessions, site, spanish_mo
):
    _set_languages(db_sessions, site, "es,en")

    page = kiosk_client.get("/").get_data(as_text=True)

    assert "Le damos la bienvenida" in page
    assert 'aria-pressed="true">Español</button>' in page


def test_a_language_the_site_does_not_offer_is_not_taken(
    kiosk_client, db_sessions, site
):
    _set_languages(db_sessions, site, "en")

    _choose(kiosk_client, "es")

    assert _page_language(kiosk_client) == "en"
    assert _page_language(kiosk_client, "/pickup/") == "en"


def test_a_choice_the_site_has_since_withdrawn_falls_back_to_its_default(
    kiosk_client, db_sessions, site, spanish_mo
):
    _choose(kiosk_client, "es")
    assert _page_language(kiosk_client) == "es"

    _set_languages(db_sessions, site, "en")

    assert _page_language(kiosk_client) == "en"


def test_starting_again_returns_to_the_sites_default(
    kiosk_client, db_sessions, site, spanish_mo
):
    _set_languages(db_sessions, site, "es,en")
    _choose(kiosk_client, "en")
    assert _page_language(kiosk_client) == "en"

    token = csrf_token(kiosk_client, "/")
    kiosk_client.post("/reset", data={"csrf_token": token})

    assert _page_language(kiosk_client) == "es"


def test_every_language_a_site_may_choose_has_a_catalogue(spanish_mo):
    catalogues = {
        path.parent.parent.name
        for path in (PROJECT_ROOT / "translations").glob("*/LC_MESSAGES/messages.po")
    }

    # English is the language the code is written in; every other has a catalogue.
    assert set(sites.KIOSK_LANGUAGES) == {"en"} | catalogues
    assert set(web.LANGUAGES) == set(sites.KIOSK_LANGUAGES)
    for path in (PROJECT_ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        with path.open("rb") as file:
            assert len(read_po(file)) > 100, path

    for value in LANGUAGE_CHOICES:
        assert sites.check_languages(value) == value
