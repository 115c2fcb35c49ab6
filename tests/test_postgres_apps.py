"""The first slice through both apps with PostgreSQL underneath, as a company with
many sites and kiosks runs it: enrol, check in, verify, sign out, verify the log."""

import re

import pytest

from admin.app import create_app as create_console
from gatekeeper import chain
from gatekeeper.models import Site, Visit
from kiosk.app import create_app as create_kiosk
from tests.fixtures.apps import close, csrf_token, sign_in
from tests.kiosk.conftest import Visitor
from tests.support.pictures import framed, jpeg, portrait

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_settings(app_settings, pg_url):
    """The shared settings, on the run's PostgreSQL database instead of SQLite."""
    return {**app_settings, "DATABASE_URL": pg_url}


def test_the_first_slice_runs_on_postgresql(
    app_settings, enrolment_code, people, db_sessions, site
):
    kiosk_app, console_app = create_kiosk(app_settings), create_console(app_settings)
    try:
        _walk_the_first_slice(kiosk_app, console_app, enrolment_code, people)
    finally:
        close(kiosk_app)
        close(console_app)

    with db_sessions() as session:
        visit = session.query(Visit).one()
        assert visit.visitor_name == "Renée Dubois"
        assert visit.id_status == "verified" and visit.departed_at is not None
        report = chain.verify_site(session, session.get(Site, site.id))
        assert report.ok, report
        assert report.entries == 3


def _walk_the_first_slice(kiosk_app, console_app, enrolment_code, people):
    kiosk = kiosk_app.test_client()
    response = kiosk.post(
        "/enrol",
        data={"code": enrolment_code, "csrf_token": csrf_token(kiosk, "/enrol")},
    )
    assert response.status_code == 302

    # The kiosk's steps, pictures included; the review is tapped twice.
    visitor = Visitor(kiosk, [1], jpeg(framed(portrait())), licence=b"")
    visitor.reach(
        name="Renée Dubois",
        company="Transportes Ñandú",
        id_type="national_id",
        no_barcode=True,
    )
    key = visitor.review_key()
    for _attempt in range(2):
        assert visitor.confirm(key).status_code == 302

    console = console_app.test_client()
    assert sign_in(console, people["front_desk"]).status_code == 302
    today = console.get("/visits/today").data.decode()
    assert "Renée Dubois" in today and "Transportes Ñandú" in today

    visit_id = int(re.search(r"/visits/(\d+)/verify-id", today).group(1))
    token = csrf_token(console, "/visits/today")
    console.post(
        f"/visits/{visit_id}/verify-id",
        data={"id_type": "national_id", "csrf_token": token},
    )
    console.post(f"/visits/{visit_id}/sign-out", data={"csrf_token": token})
