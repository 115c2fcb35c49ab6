"""The kiosk's check-in, one question a screen (CTPAT 10.2): the steps, their order,
what each refuses, and the visit the review records with its photos."""

import json
import re
from datetime import timedelta

import pytest

from gatekeeper import screening, sites, visitor_types
from gatekeeper.db import utcnow
from gatekeeper.models import (
    Exemption,
    Kiosk,
    LogEntry,
    OutboxMessage,
    Photo,
    Site,
    User,
    Visit,
)
from tests.fixtures.apps import csrf_token
from tests.functional import log_kinds, rows

STEPS_WITH_PASSPORT = [
    "/check-in",
    "/check-in/identity",
    "/check-in/id-type",
    "/check-in/id-photo",
    "/check-in/face",
    "/check-in/host",
]


def _manager(db_sessions, people) -> User:
    with db_sessions() as session:
        return session.get(User, people["security_manager"].id)


def test_a_walk_up_visitor_answers_one_screen_at_a_time_and_waits_for_the_desk(
    visitor, db_sessions, host_ids
):
    assert visitor.reach() == STEPS_WITH_PASSPORT
    response = visitor.confirm()

    assert response.location.endswith("/check-in/done")
    [visit] = rows(db_sessions, Visit)
    assert (visit.visitor_name, visit.company) == ("Jane Roe", "Acme Freight")
    assert (visit.visitor_type, visit.id_type) == ("visitor", "passport")
    assert (visit.host_id, visit.host_name) == (host_ids[0], "Ana López")
    # An attended site: the kiosk captured the ID, an employee must compare it.
    assert (visit.id_status, visit.admission) == ("captured", "awaiting_id")
    assert visit.escort_required is True
    assert visit.kiosk_id is not None
    photos = rows(db_sessions, Photo)
    assert sorted(p.kind for p in photos) == ["face", "id"]
    assert {p.visit_id for p in photos} == {visit.id}
    assert all(p.capture_key_hash is None for p in photos)
    [entry] = rows(db_sessions, LogEntry)
    assert entry.kind == "visit.arrived"
    assert json.loads(entry.body)["set"]["id_status"] == "captured"
    # Nobody is told of a visitor who has not been admitted yet.
    assert rows(db_sessions, OutboxMessage) == []

    done = visitor.client.get("/check-in/done")
    assert done.status_code == 302 and done.location.endswith("/check-in/wait")
    wait = visitor.client.get("/check-in/wait")
    assert "the front desk will check your ID" in wait.get_data(as_text=True)
    assert visitor.client.get("/check-in/status").get_json() == {
        "admission": "awaiting_id"
    }


@pytest.mark.usefixtures("self_service")
def test_at_a_self_service_site_the_visitor_is_admitted_and_the_host_told(
    visitor, db_sessions
):
    visitor.check_in()

    [visit] = rows(db_sessions, Visit)
    assert (visit.id_status, visit.admission) == ("captured", "admitted")
    [notice] = rows(db_sessions, OutboxMessage)
    assert notice.recipient == "ana@main.example"
    assert visitor.badge_number() == visit.badge_number
    assert visitor.client.get("/check-in/wait").location.endswith("/check-in/done")


def test_a_licence_adds_the_back_of_the_card_and_a_passport_does_not(visitor):
    with_licence = visitor.reach(target="/check-in/face", id_type="drivers_licence")
    assert with_licence[-2:] == ["/check-in/id-photo", "/check-in/id-back"]

    to_passport = visitor.post("/check-in/id-type", id_type="passport")
    assert to_passport.location.endswith("/check-in/id-photo")
    answer = visitor.photo("/check-in/id-photo", visitor.face).get_json()
    assert answer["next"] == "/check-in/face"
    assert visitor.client.get("/check-in/id-back").location.endswith("/check-in/face")


def test_a_national_id_card_without_a_barcode_can_skip_the_back(visitor, db_sessions):
    visitor.reach(id_type="national_id", no_barcode=True)
    visitor.confirm()

    [visit] = rows(db_sessions, Visit)
    assert visit.id_type == "national_id"
    assert visit.id_document_expired is None
    assert sorted(p.kind for p in rows(db_sessions, Photo)) == ["face", "id"]


OUT_OF_ORDER = {
    "review-first": ([], "/check-in/review", "/check-in"),
    "face-before-name": (["type"], "/check-in/face", "/check-in/identity"),
    "host-before-photo-id": (
        ["type", "identity", "id-type"],
        "/check-in/host",
        "/check-in/id-photo",
    ),
    "face-before-id-type": (
        ["type", "identity"],
        "/check-in/face",
        "/check-in/id-type",
    ),
}


@pytest.mark.parametrize(
    ("done", "opened", "sent_to"), OUT_OF_ORDER.values(), ids=OUT_OF_ORDER.keys()
)
def test_a_step_opened_out_of_order_sends_the_visitor_to_the_first_missing_one(
    visitor, done, opened, sent_to
):
    answers = {
        "type": ("/check-in", {"visitor_type": "visitor"}),
        "identity": (
            "/check-in/identity",
            {"visitor_name": "Jane Roe", "company": "Acme"},
        ),
        "id-type": ("/check-in/id-type", {"id_type": "passport"}),
    }
    for step in done:
        path, data = answers[step]
        assert visitor.post(path, **data).status_code == 302

    page = visitor.client.get(opened)
    assert page.status_code == 302
    assert page.location.endswith(sent_to)

    answer = visitor.client.post(opened, data={"csrf_token": visitor.token()})
    if opened == "/check-in/face":
        # A camera step answers its script in JSON, with where to go instead.
        assert answer.status_code == 409
        assert answer.get_json()["next"] == sent_to
    else:
        assert answer.status_code == 302
        assert answer.location.endswith(sent_to)


def test_a_photo_sent_out_of_order_is_refused_and_nothing_is_kept(
    visitor, db_sessions, face_jpeg
):
    visitor.post("/check-in", visitor_type="visitor")

    response = visitor.photo("/check-in/face", face_jpeg)

    assert response.status_code == 409
    assert response.get_json()["next"] == "/check-in/identity"
    assert rows(db_sessions, Photo) == []


NAME_REQUIRED = "Your full name is required."
NAME_REFUSED = "Your full name contains a character that is not allowed."
BAD_IDENTITIES = {
    "empty-name": ({"visitor_name": ""}, NAME_REQUIRED),
    "blank-name": ({"visitor_name": "   "}, NAME_REQUIRED),
    "bell-in-name": ({"visitor_name": "Jane\x07Roe"}, NAME_REFUSED),
    "zero-width-joiner": ({"visitor_name": "Jane\u200dRoe"}, NAME_REFUSED),
    "right-to-left-override": ({"visitor_name": "Jane \u202eeoR"}, NAME_REFUSED),
    "121-characters": (
        {"visitor_name": "J" * 121},
        "Your full name must be at most 120 characters.",
    ),
    "name-without-letters": (
        {"visitor_name": "1234"},
        "Your full name must contain letters.",
    ),
    "markup-in-company": (
        {"company": "Acme <b>"},
        "Your company contains a character that is not allowed.",
    ),
    "company-missing": ({"company": None}, "Your company is required."),
}


@pytest.mark.parametrize(
    ("changes", "message"), BAD_IDENTITIES.values(), ids=BAD_IDENTITIES.keys()
)
def test_a_bad_name_or_company_is_shown_on_the_same_screen_and_kept_nowhere(
    visitor, db_sessions, changes, message
):
    visitor.post("/check-in", visitor_type="visitor")
    data = {"visitor_name": "Jane Roe", "company": "Acme Freight", **changes}

    response = visitor.post(
        "/check-in/identity", **{k: v for k, v in data.items() if v is not None}
    )

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert message in text
    assert 'name="visitor_name"' in text
    assert "Acme &lt;b&gt;" in text or "<b>" not in text
    # The step is still missing: the next screen sends the visitor back to it.
    assert visitor.client.get("/check-in/id-type").location.endswith(
        "/check-in/identity"
    )
    assert rows(db_sessions, Visit) == []


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/check-in", {"visitor_type": "inspector"}, "Not a valid choice"),
        ("/check-in", {}, "Choose who you are."),
        ("/check-in/id-type", {"id_type": "library_card"}, "Not a valid choice"),
        ("/check-in/id-type", {}, "Choose the type of photo ID."),
        ("/check-in/host", {"host_id": "0"}, "Choose your point of contact."),
        ("/check-in/host", {}, "Choose your point of contact."),
        ("/check-in/host", {"host_id": "abc"}, "Invalid Choice"),
    ],
)
def test_a_choice_that_is_not_offered_is_refused_on_the_same_screen(
    visitor, path, data, message
):
    if path != "/check-in":
        target = "/check-in/host" if path.endswith("host") else path
        visitor.reach(target=target)

    response = visitor.post(path, **data)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_a_host_of_another_site_is_neither_offered_nor_accepted(
    visitor, other_host_ids, db_sessions
):
    visitor.reach(target="/check-in/host")
    page = visitor.client.get("/check-in/host").data
    for host_id in other_host_ids:
        assert f'<option value="{host_id}"'.encode() not in page

    response = visitor.post("/check-in/host", host_id=str(other_host_ids[0]))

    assert response.status_code == 200
    assert b"Not a valid choice" in response.data


def test_an_inactive_visitor_type_is_not_offered(visitor, db_sessions, site):
    with db_sessions.begin() as session:
        visitor_types.find(session, site.id, "vendor").active = False

    page = visitor.client.get("/check-in").get_data(as_text=True)
    response = visitor.post("/check-in", visitor_type="vendor")

    assert 'value="vendor"' not in page
    assert "Not a valid choice" in response.get_data(as_text=True)


@pytest.fixture
def delivery_type(db_sessions, site):
    """A site's own type that needs no photo ID and no escort: couriers at the dock."""
    with db_sessions.begin() as session:
        visitor_types.save(
            session,
            session.get(Site, site.id),
            code="courier",
            label="Parcel courier",
            label_es="Mensajero",
            escort_required=False,
            id_required=False,
            badge_valid_hours=2,
        )


@pytest.mark.usefixtures("delivery_type")
def test_a_type_that_needs_no_id_skips_the_id_steps_and_is_admitted(
    visitor, db_sessions
):
    seen = visitor.reach(visitor_type="courier")
    visitor.confirm()

    assert seen == [
        "/check-in",
        "/check-in/identity",
        "/check-in/face",
        "/check-in/host",
    ]
    [visit] = rows(db_sessions, Visit)
    assert (visit.visitor_type, visit.id_type) == ("courier", "")
    assert (visit.id_status, visit.admission) == ("not_required", "admitted")
    assert visit.escort_required is False
    assert [p.kind for p in rows(db_sessions, Photo)] == ["face"]
    badge = visitor.client.get("/check-in/badge").get_data(as_text=True)
    assert "Parcel courier" in badge
    assert "ESCORT REQUIRED" not in badge


@pytest.mark.usefixtures("delivery_type")
def test_a_sites_own_type_is_shown_with_its_spanish_label_in_spanish(visitor):
    english = visitor.client.get("/check-in").get_data(as_text=True)
    token = csrf_token(visitor.client, "/")
    visitor.client.post("/language", data={"lang": "es", "csrf_token": token})
    spanish = visitor.client.get("/check-in").get_data(as_text=True)

    assert ">Parcel courier<" in english
    assert ">Mensajero<" in spanish
    assert ">Parcel courier<" not in spanish


def test_an_exempt_person_checks_in_without_photo_id_and_the_visit_says_who_excused(
    visitor, db_sessions, site, people
):
    with db_sessions.begin() as session:
        screening.grant_exemption(
            session,
            session.get(Site, site.id),
            person_name="Jane Roe",
            company="Acme Freight",
            actor=session.get(User, people["security_manager"].id),
        )

    seen = visitor.reach()
    page = visitor.client.get("/check-in/review").get_data(as_text=True)
    visitor.confirm()

    assert seen == [
        "/check-in",
        "/check-in/identity",
        "/check-in/face",
        "/check-in/host",
    ]
    assert "regular visitors" in page
    [visit] = rows(db_sessions, Visit)
    assert (visit.id_status, visit.admission) == ("exempt", "admitted")
    assert visit.id_exemption_by == "Test Security Manager"
    assert [p.kind for p in rows(db_sessions, Photo)] == ["face"]


def test_an_exemption_revoked_during_the_check_in_sends_the_visitor_to_the_id_steps(
    visitor, db_sessions, site, people
):
    with db_sessions.begin() as session:
        screening.grant_exemption(
            session,
            session.get(Site, site.id),
            person_name="Jane Roe",
            actor=session.get(User, people["security_manager"].id),
        )

    visitor.reach()
    key = visitor.review_key()
    with db_sessions.begin() as session:
        exemption = session.query(Exemption).one()
        manager = session.get(User, people["security_manager"].id)
        screening.revoke_exemption(session, exemption, actor=manager)

    response = visitor.confirm(key)

    assert response.location.endswith("/check-in/id-type")
    assert rows(db_sessions, Visit) == []


def test_a_double_tap_on_check_in_records_one_visit(visitor, db_sessions):
    visitor.reach()
    key = visitor.review_key()

    first = visitor.confirm(key)
    second = visitor.confirm(key)

    assert first.location.endswith("/check-in/done")
    assert second.location.endswith("/check-in/done")
    assert len(rows(db_sessions, Visit)) == 1
    assert log_kinds(db_sessions) == ["visit.arrived"]


def test_a_double_tap_sent_with_the_same_cookie_finds_the_first_visit(
    visitor, db_sessions
):
    """Both taps left before the first answer came back, so both carry the draft."""
    visitor.reach()
    key = visitor.review_key()
    cookie = visitor.client.get_cookie("gk_kiosk_session").value

    visitor.confirm(key)
    visitor.client.set_cookie("gk_kiosk_session", cookie)
    second = visitor.confirm(key)

    assert second.location.endswith("/check-in/done")
    assert len(rows(db_sessions, Visit)) == 1


def test_a_submission_key_not_of_this_draft_records_nothing(visitor, db_sessions):
    visitor.reach()

    response = visitor.confirm("x" * 32)

    assert response.location.endswith("/check-in/review")
    assert rows(db_sessions, Visit) == []


def test_captures_already_used_by_a_visit_cannot_be_used_again(visitor, db_sessions):
    """A replayed cookie still names the used captures; they are spent."""
    visitor.reach()
    cookie = visitor.client.get_cookie("gk_kiosk_session").value
    visitor.confirm()

    visitor.client.set_cookie("gk_kiosk_session", cookie)
    with visitor.client.session_transaction() as session:
        session["draft"] = {**session["draft"], "key": "another-key-of-32-chars-xyz"}

    response = visitor.confirm()

    assert response.location.endswith("/check-in/id-photo")
    assert len(rows(db_sessions, Visit)) == 1
    page = visitor.client.get("/check-in/id-photo").get_data(as_text=True)
    assert "Please take it again." in page


def test_a_capture_taken_at_another_kiosk_is_refused(visitor, db_sessions, site):
    visitor.reach()
    with db_sessions.begin() as session:
        other = Kiosk(site_id=site.id, name="Gate")
        session.add(other)
        session.flush()
        face = session.query(Photo).filter_by(kind="face").one()
        face.kiosk_id = other.id

    response = visitor.confirm()

    assert response.location.endswith("/check-in/face")
    assert rows(db_sessions, Visit) == []
    assert all(p.visit_id is None for p in rows(db_sessions, Photo))


def test_a_capture_older_than_an_hour_sends_the_visitor_back_to_retake_it(
    visitor, db_sessions
):
    visitor.reach()
    with db_sessions.begin() as session:
        photo = session.query(Photo).filter_by(kind="id").one()
        photo.created_at = utcnow() - timedelta(hours=2)

    response = visitor.confirm()

    assert response.location.endswith("/check-in/id-photo")
    assert rows(db_sessions, Visit) == []
    retake = visitor.client.get(response.location).get_data(as_text=True)
    assert "That picture is too old to use. Please take it again." in retake


def test_choosing_another_id_type_forgets_the_pictures_of_the_first(
    visitor, db_sessions
):
    visitor.reach(target="/check-in/host")
    assert len(rows(db_sessions, Photo)) == 2

    visitor.post("/check-in/id-type", id_type="national_id")

    assert [p.kind for p in rows(db_sessions, Photo)] == ["face"]
    assert visitor.client.get("/check-in/host").location.endswith("/check-in/id-photo")


@pytest.mark.parametrize("how", ["reset", "start screen"])
def test_leaving_a_check_in_unfinished_deletes_its_pictures(visitor, db_sessions, how):
    visitor.reach(target="/check-in/host")
    assert len(rows(db_sessions, Photo)) == 2

    if how == "reset":
        visitor.post("/reset")
    else:
        visitor.client.get("/")

    assert rows(db_sessions, Photo) == []
    assert visitor.client.get("/check-in/face").location.endswith("/check-in")


def test_a_block_list_match_holds_the_check_in_until_the_desk_decides(
    visitor, db_sessions, site, people
):
    with db_sessions.begin() as session:
        screening.add_entry(
            session,
            session.get(Site, site.id),
            kind="company",
            value="Acme Freight",
            reason="Unpaid damages",
            actor=session.get(User, people["security_manager"].id),
        )

    visitor.check_in()

    [visit] = rows(db_sessions, Visit)
    assert visit.admission == "held"
    wait = visitor.client.get("/check-in/wait").get_data(as_text=True)
    assert "Please wait, someone will be with you" in wait
    # Nothing of why: the block list is the desk's business, not the screen's.
    assert "Unpaid" not in wait and "block" not in wait.lower()
    assert visitor.client.get("/check-in/status").get_json() == {"admission": "held"}
    assert visitor.client.get("/check-in/badge").status_code == 302


def test_a_denied_check_in_sends_the_visitor_to_the_front_desk(
    visitor, db_sessions, site, people
):
    from gatekeeper import visits

    with db_sessions.begin() as session:
        screening.add_entry(
            session,
            session.get(Site, site.id),
            kind="person",
            value="Jane Roe",
            actor=session.get(User, people["security_manager"].id),
        )

    visitor.check_in()
    with db_sessions.begin() as session:
        visit = session.query(Visit).one()
        manager = session.get(User, people["security_manager"].id)
        visits.decide_hold(session, visit, "deny", reason="Banned", actor=manager)

    assert visitor.client.get("/check-in/status").get_json() == {"admission": "denied"}
    for path in ("/check-in/done", "/check-in/wait"):
        response = visitor.client.get(path)
        assert response.location.endswith("/check-in/see-desk")

    page = visitor.client.get("/check-in/see-desk").get_data(as_text=True)
    assert "Please see the front desk" in page
    assert "Banned" not in page
    assert visitor.client.get("/check-in/badge").status_code == 302


def test_a_visit_verified_at_the_desk_moves_the_waiting_screen_on(
    visitor, db_sessions, people
):
    from gatekeeper import visits

    visitor.check_in()
    with db_sessions.begin() as session:
        visit = session.query(Visit).one()
        desk = session.get(User, people["front_desk"].id)
        visits.verify_id(session, visit, "passport", actor=desk)

    assert visitor.client.get("/check-in/status").get_json() == {
        "admission": "admitted"
    }
    assert visitor.client.get("/check-in/wait").location.endswith("/check-in/done")
    assert visitor.client.get("/check-in/badge").status_code == 200


def test_the_status_is_of_this_screens_visit_only(
    visitor, kiosk_app, db_sessions, make_visit, site
):
    make_visit(site, "Somebody Else")
    stranger_screen = visitor.client.get("/check-in/status")
    assert stranger_screen.status_code == 404
    assert stranger_screen.get_json() == {"admission": None}

    visitor.check_in()
    answer = visitor.client.get("/check-in/status", query_string={"visit_id": 1})

    assert answer.get_json() == {"admission": "awaiting_id"}
    assert b"Somebody Else" not in answer.data


def test_the_waiting_screens_wait_longer_than_the_idle_time_but_not_for_ever(visitor):
    visitor.check_in()

    page = visitor.client.get("/check-in/wait").get_data(as_text=True)

    assert 'data-idle-seconds="900"' in page
    assert '<script src="/static/kiosk/wait.js">' in page


def test_an_inactive_host_chosen_before_the_review_is_refused_on_the_review(
    visitor, db_sessions, site
):
    visitor.reach()
    with db_sessions.begin() as session:
        sites.active_hosts(session, site.id)[0].active = False

    response = visitor.confirm()

    assert response.status_code == 200
    assert "Choose your point of contact from the list." in response.get_data(
        as_text=True
    )
    assert rows(db_sessions, Visit) == []
    assert all(p.visit_id is None for p in rows(db_sessions, Photo))


def test_going_back_shows_the_answers_given_and_keeps_them(visitor):
    visitor.reach(
        target="/check-in/id-photo", visitor_type="vendor", id_type="passport"
    )

    who = visitor.client.get("/check-in").get_data(as_text=True)
    identity = visitor.client.get("/check-in/identity").get_data(as_text=True)
    id_type = visitor.client.get("/check-in/id-type").get_data(as_text=True)

    current = r'value="{}"\s+class="button button-choice is-current"'
    assert re.search(current.format("vendor"), who)
    assert 'value="Jane Roe"' in identity and 'value="Acme Freight"' in identity
    assert re.search(current.format("passport"), id_type)
    assert visitor.client.get("/check-in/face").location.endswith("/check-in/id-photo")
