"""The log integrity page and the red banner: who sees them, a verification on
demand, and a resolution only a security manager records."""

from sqlalchemy import update

from gatekeeper.models import Visit
from tests.fixtures.apps import csrf_token
from tests.functional import submit


def verify_now(client):
    return submit(client, "/integrity/verify", token_page="/integrity/")


def rename(db_sessions, visit_id: int, name: str) -> None:
    with db_sessions.begin() as session:
        session.execute(
            update(Visit).where(Visit.id == visit_id).values(visitor_name=name)
        )


def test_a_manager_verifies_the_log_on_demand(signed_in, site, make_visit):
    make_visit(site, "Olga Berg")
    manager = signed_in("security_manager")

    before = manager.get("/integrity/").get_data(as_text=True)
    response = verify_now(manager)
    after = manager.get(response.location).get_data(as_text=True)

    assert "has not been verified in full yet" in before
    assert response.status_code == 302
    assert "The log of Main Warehouse verified: 1 entries, head 1." in after
    assert "entry 1, hash" in after
    assert "failed verification" not in after


def test_an_administrator_sees_an_incident_but_a_manager_resolves_it(
    signed_in, db_sessions, site, make_visit
):
    visit = make_visit(site, "Olga Berg")
    rename(db_sessions, visit.id, "Eve Intruder")
    admin, manager = signed_in("administrator"), signed_in("security_manager")
    verify_now(admin)

    seen_by_admin = admin.get("/integrity/").get_data(as_text=True)
    seen_by_manager = manager.get("/integrity/").get_data(as_text=True)

    for page in (seen_by_admin, seen_by_manager):
        assert "The log of Main Warehouse failed verification" in page
        assert f"visit {visit.id}: visitor_name is &#39;Eve Intruder&#39;" in page

    assert "A security manager of this site resolves it." in seen_by_admin
    assert 'action="/integrity/resolve"' not in seen_by_admin
    assert 'action="/integrity/resolve"' in seen_by_manager


def test_what_verification_found_is_shown_escaped(
    signed_in, db_sessions, site, make_visit
):
    visit = make_visit(site, "Olga Berg")
    rename(db_sessions, visit.id, "<script>alert(1)</script>")
    manager = signed_in("security_manager")
    verify_now(manager)

    page = manager.get("/account").get_data(as_text=True)

    assert "failed verification" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_site_of_another_account_is_absent(signed_in, other_site):
    manager = signed_in("security_manager")

    assert manager.get(f"/integrity/?site_id={other_site.id}").status_code == 404
    response = manager.post(
        "/integrity/verify",
        data={
            "site_id": other_site.id,
            "csrf_token": csrf_token(manager, "/integrity/"),
        },
    )
    assert response.status_code == 404


def test_a_resolution_is_refused_on_the_same_page_while_the_log_is_broken(
    signed_in, db_sessions, site, make_visit
):
    visit = make_visit(site, "Olga Berg")
    rename(db_sessions, visit.id, "Eve Intruder")
    manager = signed_in("security_manager")
    verify_now(manager)

    response = submit(
        manager,
        "/integrity/resolve",
        {"note": "Restored the visits table from last night's backup."},
        token_page="/integrity/",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The log still fails verification, so the problem stays open" in page
    assert "Restored the visits table from last night&#39;s backup." in page
