"""The Spanish catalogue: complete, current with the code, and what the kiosk shows.

The kiosk is read by visitors and drivers who may not read English, so a string
marked for translation but missing from the catalogue fails here, not at the gate.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from gatekeeper.config import PROJECT_ROOT
from tests.fixtures.apps import csrf_token

TRANSLATIONS = PROJECT_ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
SPANISH = TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po"
# The command documented at the top of babel.cfg, writing to a file of the test's.
EXTRACT = [
    str(Path(sys.executable).with_name("pybabel")),
    "extract",
    "-F",
    "babel.cfg",
    "--ignore-dirs",
    ".*",
    "-o",
]
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z]")


def _read_catalog(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def _texts(value) -> tuple[str, ...]:
    """A message's singular and plural forms, or its one text."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _placeholders(texts: tuple[str, ...]) -> set[str]:
    return {match for text in texts for match in PLACEHOLDER.findall(text)}


def _message_ids(catalog) -> set:
    return {message.id for message in catalog if message.id}


@pytest.fixture
def spanish_kiosk(spanish_mo, kiosk_client):
    """The enrolled lobby kiosk after the visitor chose Español."""
    token = csrf_token(kiosk_client, "/")
    response = kiosk_client.post("/language", data={"lang": "es", "csrf_token": token})
    assert response.status_code == 302
    return kiosk_client


def _form_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no {name} on the page"
    return match.group(1)


def test_spanish_catalogue_is_marked_as_spanish():
    catalog = _read_catalog(SPANISH)

    assert str(catalog.locale) == "es"
    assert catalog.num_plurals == 2
    assert not catalog.fuzzy


def test_every_string_has_a_spanish_translation():
    spanish = _read_catalog(SPANISH)
    untranslated = []
    fuzzy = []
    for message_id in sorted(_message_ids(_read_catalog(TEMPLATE)), key=str):
        message = spanish.get(message_id)
        if message is None or not all(_texts(message.string)):
            untranslated.append(message_id)
        elif message.fuzzy:
            fuzzy.append(message_id)

    assert untranslated == [], "translate these in " + str(SPANISH)
    assert fuzzy == [], "check these and remove their fuzzy flag"


def test_translations_keep_the_placeholders_of_the_english():
    mismatched = [
        (message.id, message.string)
        for message in _read_catalog(SPANISH)
        if message.id
        and _placeholders(_texts(message.id)) != _placeholders(_texts(message.string))
    ]

    assert mismatched == []


def test_template_lists_every_string_the_code_marks(tmp_path):
    extracted = tmp_path / "messages.pot"
    result = subprocess.run(
        [*EXTRACT, str(extracted), "."],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr

    current = _message_ids(_read_catalog(extracted))
    recorded = _message_ids(_read_catalog(TEMPLATE))

    hint = "re-extract and update the catalogues as the top of babel.cfg says"
    assert sorted(current - recorded, key=str) == [], hint
    assert sorted(recorded - current, key=str) == [], hint


@pytest.mark.parametrize(
    ("path", "spanish", "english"),
    [
        (
            "/",
            ["Le damos la bienvenida", "Registrar entrada", "Registrar salida"],
            ["Welcome", "Check in", "Sign out"],
        ),
        (
            "/check-in",
            ["¿Quién es usted?", "Visitante", "Proveedor"],
            ["Who are you?", "Visitor", "Vendor or supplier"],
        ),
        (
            "/sign-out",
            ["Número de gafete", "El número de 6 dígitos de su gafete."],
            ["Badge number", "The 6-digit number on your badge.", "Cancel"],
        ),
    ],
)
def test_kiosk_pages_are_in_spanish_once_chosen(spanish_kiosk, path, spanish, english):
    page = spanish_kiosk.get(path).get_data(as_text=True)

    assert '<html lang="es">' in page
    for text in spanish:
        assert text in page

    # Whole element texts, so "Cancel" does not match inside "Cancelar".
    for text in english:
        assert f">{text}<" not in page


def test_kiosk_stays_in_english_until_spanish_is_chosen(spanish_mo, kiosk_client):
    page = kiosk_client.get("/").get_data(as_text=True)

    assert '<html lang="en">' in page
    assert ">Check in<" in page
    assert "Registrar entrada" not in page
