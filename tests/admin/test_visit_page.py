"""One visit's page in the console (CTPAT 10.2): its photos, served only to the staff
who compare them and every ID image view audited; the block-list matches that held
it; and the decisions taken there (ID verified, hold approved or denied, escort
changed), each written to the log with who and why."""

import json

import pytest

from gatekeeper import chain, screening
from gatekeeper.models import AuditEvent, LogEntry, Site, User, Visit
from tests.functional import log_kinds, rows, submit


def _post(client, path: str, data: dict | None = None):
    return submit(client, path, data, token_page="/account")


def _visit(db_sessions, visit_id: int) -> Visit:
    return rows(db_sessions, Visit, id=visit_id)[0]


def _last_entry(db_sessions) -> tuple[str, str, dict, dict]:
    entry = rows(db_sessions, LogEntry)[-1]
    body = json.loads(entry.body)
    return entry.kind, entry.actor, body["set"], body["details"]


def test_the_visit_page_shows_its_photos_and_what_was_recorded(
    signed_in, visit_with_photos, site
):
    visit = visit_with_photos(site, kinds=("face", "id", "id_back"))

    page = signed_in("front_desk").get(f"/visits/{visit.id}")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for kind in ("face", "id", "id_back"):
        assert f'src="/photos/{visit.id}/{kind}.jpg"' in text
    assert "Awaiting the ID check." in text
    assert "images captured at the kiosk" in text
    assert "in date" in text
    assert "Name on the barcode: Sean Patrick O&#39;Brien · expires 2030-07-14" in text
    assert "required</span> Ana López" in text
    assert 'name="id_type"' in text and ">Verified</button>" in text


def test_a_face_photo_is_served_audited_and_never_cached(
    signed_in, visit_with_photos, site, db_sessions, face_jpeg
):
    visit = visit_with_photos(site)

    image = signed_in("guard").get(f"/photos/{visit.id}/face.jpg")

    assert image.status_code == 200
    assert image.mimetype == "image/jpeg"
    assert image.data.startswith(b"\xff\xd8") and image.data != face_jpeg
    assert image.headers["Cache-Control"] == "no-store"
    [viewed] = rows(db_sessions, AuditEvent, action="photo.viewed")
    assert (viewed.target, json.loads(viewed.detail)) == (
        f"visit:{visit.id}",
        {"kind": "face"},
    )


@pytest.mark.parametrize("role", ["front_desk", "guard", "security_manager"])
def test_each_view_of_an_id_image_is_audited(
    signed_in, visit_with_photos, site, db_sessions, people, role
):
    visit = visit_with_photos(site, kinds=("id", "id_back"))
    client = signed_in(role)

    for kind in ("id", "id_back", "id"):
        response = client.get(f"/photos/{visit.id}/{kind}.jpg")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"

    events = rows(db_sessions, AuditEvent, action="photo.viewed")
    assert [json.loads(e.detail)["kind"] for e in events] == ["id", "id_back", "id"]
    assert {(e.actor, e.site_id, e.target) for e in events} == {
        (people[role].username, site.id, f"visit:{visit.id}")
    }


def test_administrators_see_no_photos(signed_in, visit_with_photos, site, db_sessions):
    visit = visit_with_photos(site)
    client = signed_in("administrator")

    for kind in ("face", "id"):
        assert client.get(f"/photos/{visit.id}/{kind}.jpg").status_code == 403
    assert client.get(f"/visits/{visit.id}").status_code == 403
    assert rows(db_sessions, AuditEvent, action="photo.viewed") == []


def test_photos_of_another_site_or_of_no_kind_are_absent(
    signed_in, visit_with_photos, site, other_site, db_sessions
):
    elsewhere = visit_with_photos(other_site)
    here = visit_with_photos(site, kinds=("face",))
    client = signed_in("front_desk")

    assert client.get(f"/photos/{elsewhere.id}/id.jpg").status_code == 404
    assert client.get(f"/visits/{elsewhere.id}").status_code == 404
    assert client.get(f"/photos/{here.id}/id.jpg").status_code == 404
    assert client.get(f"/photos/{here.id}/passport.jpg").status_code == 404
    assert client.get(f"/photos/{here.id + 99}/face.jpg").status_code == 404
    assert rows(db_sessions, AuditEvent, action="photo.viewed") == []


def test_verifying_on_the_visit_page_admits_the_visit_and_returns_there(
    signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site)
    client = signed_in("front_desk")

    response = _post(
        client,
        f"/visits/{visit.id}/verify-id",
        {"id_type": "national_id", "back": "visit"},
    )

    assert response.location.endswith(f"/visits/{visit.id}")
    page = client.get(response.location).get_data(as_text=True)
    assert "ID verified for Jane Roe." in page
    assert "Print badge" in page and "Download badge PDF" in page
    verified = _visit(db_sessions, visit.id)
    assert (verified.admission, verified.id_type) == ("admitted", "national_id")
    kind, actor, changed, _ = _last_entry(db_sessions)
    assert (kind, actor) == ("visit.id_verified", "user:frontdeskmain")
    assert changed["admission"] == "admitted"
    assert changed["id_verified_by"] == "Test Front Desk"


def test_a_form_cannot_send_the_desk_to_another_address(signed_in, make_visit, site):
    visit = make_visit(site)

    response = _post(
        signed_in("front_desk"),
        f"/visits/{visit.id}/verify-id",
        {"id_type": "passport", "back": "https://evil.example/"},
    )

    assert response.location.endswith("/visits/today")


def test_a_held_check_in_shows_its_matches_and_can_be_approved_with_a_reason(
    signed_in, make_visit, block, site, db_sessions
):
    block(site, "Harold Q Held", aliases="Hal Held")
    visit = make_visit(site, "held hal")
    client = signed_in("front_desk")

    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "Check-in held." in page
    assert "<strong>Hal Held</strong>" in page
    assert "Approve check-in" in page and "Deny check-in" in page
    assert ">Verified</button>" not in page

    response = _post(
        client,
        f"/visits/{visit.id}/hold",
        {"decision": "approve", "reason": "Namesake: born 1990, not 1960"},
    )

    after = client.get(response.location).get_data(as_text=True)
    assert "The check-in of held hal is approved." in after
    assert "Namesake: born 1990, not 1960" in after
    assert _visit(db_sessions, visit.id).admission == "awaiting_id"
    kind, actor, changed, details = _last_entry(db_sessions)
    assert (kind, actor) == ("visit.hold_approved", "user:frontdeskmain")
    assert changed == {"admission": "awaiting_id"}
    assert details == {"reason": "Namesake: born 1990, not 1960"}


def test_a_denied_check_in_ends_the_visit_and_the_log_keeps_why(
    signed_in, make_visit, block, site, db_sessions
):
    block(site, "Acme Freight", kind="company")
    visit = make_visit(site)

    _post(
        signed_in("security_manager"),
        f"/visits/{visit.id}/hold",
        {"decision": "deny", "reason": "Company barred by corporate security"},
    )

    denied = _visit(db_sessions, visit.id)
    assert denied.admission == "denied"
    assert denied.departed_by == "user:securitymanagermain"
    kind, _, changed, details = _last_entry(db_sessions)
    assert kind == "visit.hold_denied"
    assert changed["admission"] == "denied"
    assert details == {"reason": "Company barred by corporate security"}
    with db_sessions() as session:
        assert chain.verify_site(session, session.get(Site, site.id)).ok


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "approve", "reason": "  "}, "Say why you approve or deny."),
        ({"decision": "maybe", "reason": "Because"}, "Choose approve or deny."),
        ({"decision": "deny", "reason": "ok"}, "at least 3 characters"),
    ],
    ids=["no-reason", "no-decision", "short-reason"],
)
def test_a_hold_decision_needs_a_decision_and_a_reason(
    signed_in, make_visit, block, site, db_sessions, data, message
):
    block(site, "Harold Held")
    visit = make_visit(site, "Harold Held")
    client = signed_in("front_desk")

    response = _post(client, f"/visits/{visit.id}/hold", data)

    assert message in client.get(response.location).get_data(as_text=True)
    assert _visit(db_sessions, visit.id).admission == "held"
    assert log_kinds(db_sessions) == ["visit.arrived"]


def test_a_guard_cannot_decide_a_hold_or_change_an_escort(
    signed_in, make_visit, block, site, db_sessions
):
    block(site, "Harold Held")
    visit = make_visit(site, "Harold Held")
    guard = signed_in("guard")

    page = guard.get(f"/visits/{visit.id}")
    assert page.status_code == 200
    assert b"Approve check-in" not in page.data
    assert (
        _post(guard, f"/visits/{visit.id}/hold", {"decision": "approve"}).status_code
        == 403
    )
    assert (
        _post(guard, f"/visits/{visit.id}/escort", {"escort_name": "Me"}).status_code
        == 403
    )
    assert log_kinds(db_sessions) == ["visit.arrived"]


def test_the_front_desk_changes_the_escort_and_the_log_records_it(
    signed_in, make_visit, site, db_sessions
):
    visit = make_visit(site)
    client = signed_in("front_desk")

    response = _post(
        client, f"/visits/{visit.id}/escort", {"escort_name": "  Bob   Stone "}
    )

    page = client.get(response.location).get_data(as_text=True)
    assert "Jane Roe is escorted by Bob Stone." in page
    assert _visit(db_sessions, visit.id).escort_name == "Bob Stone"
    kind, actor, changed, _ = _last_entry(db_sessions)
    assert (kind, actor, changed) == (
        "visit.escort_changed",
        "user:frontdeskmain",
        {"escort_name": "Bob Stone"},
    )

    blank = _post(client, f"/visits/{visit.id}/escort", {"escort_name": ""})
    assert "The escort was not changed." in client.get(blank.location).get_data(
        as_text=True
    )
    assert _visit(db_sessions, visit.id).escort_name == "Bob Stone"


def test_a_visit_using_an_exemption_says_so_and_who_granted_it(
    signed_in, make_visit, site, db_sessions, people
):
    with db_sessions.begin() as session:
        screening.grant_exemption(
            session,
            session.get(Site, site.id),
            person_name="Jane Roe",
            actor=session.get(User, people["security_manager"].id),
        )
    visit = make_visit(site, "ROE, Jane", id_type="")

    page = signed_in("front_desk").get(f"/visits/{visit.id}").get_data(as_text=True)

    assert "exemption used" in page
    assert "granted by Test Security Manager" in page
    assert ">Verified</button>" not in page

    today = signed_in("guard").get("/visits/today").get_data(as_text=True)
    assert "exempt</span> from showing ID, granted by Test Security Manager" in today


def test_todays_log_links_each_visit_and_shows_where_it_stands(
    signed_in, make_visit, block, site
):
    block(site, "Harold Held")
    held = make_visit(site, "Harold Held")
    waiting = make_visit(site, "Waiting Walter")

    page = signed_in("front_desk").get("/visits/today").get_data(as_text=True)

    assert f'href="/visits/{held.id}"' in page
    assert f'href="/visits/{waiting.id}"' in page
    assert "held: block list" in page
    assert "awaiting ID check" in page
    assert "escort: Ana López" in page
