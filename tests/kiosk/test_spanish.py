"""A visitor who chose Español sees the check-in's steps and errors in Spanish."""

import pytest

from gatekeeper.config import PROJECT_ROOT
from tests.fixtures.apps import csrf_token

SPANISH = PROJECT_ROOT / "translations" / "es" / "LC_MESSAGES" / "messages.po"


@pytest.fixture
def spanish_visitor(visitor, spanish_mo):
    """The visitor after tapping Español on the first screen."""
    client = visitor.client
    token = csrf_token(client, "/")
    assert client.post("/language", data={"lang": "es", "csrf_token": token})
    return visitor


def test_identity_errors_are_in_spanish(spanish_visitor):
    spanish_visitor.reach("/check-in/identity")

    response = spanish_visitor.post(
        "/check-in/identity", visitor_name="", company="x" * 121
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Por favor, corrija los campos marcados abajo." in page
    assert "El campo “Su nombre completo” es obligatorio." in page
    assert "El campo “Su empresa” admite como máximo 120 caracteres." in page
    assert "is required" not in page


def test_a_visit_in_spanish_from_check_in_to_sign_out(spanish_visitor, self_service):
    spanish_visitor.check_in(
        visitor_type="vendor", name="María Pérez", company="Transportes del Norte"
    )
    client = spanish_visitor.client
    done = client.get("/check-in/done").get_data(as_text=True)
    badge = spanish_visitor.badge_number()

    assert '<html lang="es">' in done
    assert "Su entrada quedó registrada" in done

    sign_out = {"badge_number": badge, "csrf_token": csrf_token(client, "/")}
    first = client.post("/sign-out", data=sign_out).get_data(as_text=True)
    again = client.post("/sign-out", data=sign_out).get_data(as_text=True)

    assert "Su salida quedó registrada" in first
    assert "Ya se registró la salida de este gafete." in again
