"""Every route of both apps, as every kind of caller, against a written policy.

The policy tables below are the specification. The tests walk each app's route
table, so a route added without a line here fails, and a route whose guard does
not match its line fails too.
"""

import pytest
from flask import url_for

from gatekeeper import accounts, invitations, kiosks, mail
from gatekeeper.db import utcnow
from gatekeeper.models import Kiosk, Photo, Site, User, Visit
from tests.fixtures.apps import csrf_token, sign_in

PUBLIC = "public"
SIGNED_IN = "signed in"
STAFF = {"front_desk", "guard", "security_manager"}
ADMIN = {"administrator"}
MANAGERS = {"security_manager", "administrator"}
# The carrier endpoint's credential is its API key: no session opens it.
CARRIER_KEY = "carrier key"
LOG_READERS = {"guard", "security_manager"}

CONSOLE_POLICY = {
    "static": PUBLIC,
    "console.healthz": PUBLIC,
    "console.index": SIGNED_IN,
    "console.choose_site": SIGNED_IN,
    "auth.login": PUBLIC,
    "auth.second_factor": PUBLIC,
    "auth.enrol_mfa": PUBLIC,
    "auth.enrolment_qr": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.account": SIGNED_IN,
    "auth.change_password": SIGNED_IN,
    "auth.new_recovery_codes": SIGNED_IN,
    "visits.today": STAFF,
    "visits.verify_id": {"front_desk", "security_manager"},
    "visits.sign_out": STAFF,
    "badges.check": STAFF,
    "badges.reprint": {"front_desk", "security_manager"},
    "badges.revoke": {"front_desk", "security_manager"},
    "visits.close": STAFF,
    "users.index": ADMIN,
    "users.create": ADMIN,
    "users.edit": ADMIN,
    "users.disable": ADMIN,
    "users.enable": ADMIN,
    "users.reset_password": ADMIN,
    "users.reset_mfa": ADMIN,
    "kiosks.index": ADMIN,
    "kiosks.create": ADMIN,
    "kiosks.new_code": ADMIN,
    "kiosks.revoke": ADMIN,
    "kiosks.rename": ADMIN,
    "sites_admin.index": ADMIN,
    "sites_admin.create": ADMIN,
    "sites_admin.settings": ADMIN,
    "sites_admin.save_settings": ADMIN,
    "sites_admin.test_email": ADMIN,
    "sites_admin.hosts": ADMIN,
    "sites_admin.add_host": ADMIN,
    "sites_admin.deactivate_host": ADMIN,
    "sites_admin.reactivate_host": ADMIN,
    "sites_admin.import_hosts": ADMIN,
    "backups.index": ADMIN,
    "backups.download": ADMIN,
    "evidence.index": {"security_manager"},
    "evidence.download": {"security_manager"},
    "audit.index": MANAGERS,
    "integrity.index": MANAGERS,
    "integrity.verify": MANAGERS,
    "integrity.resolve": {"security_manager"},
    "visits.show": STAFF,
    "visits.decide_hold": {"front_desk", "security_manager"},
    "visits.set_escort": {"front_desk", "security_manager"},
    "front_desk.queue": {"front_desk", "security_manager"},
    "front_desk.queue_data": {"front_desk", "security_manager"},
    "front_desk.check_in": {"front_desk"},
    "photos.image": STAFF,
    "badges.scan": STAFF,
    "badges.confirm_id": STAFF,
    "badges.pdf": {"front_desk", "security_manager"},
    "screening.block_list": {"security_manager"},
    "screening.add_block": {"security_manager"},
    "screening.remove_block": {"security_manager"},
    "screening.exemptions": {"security_manager"},
    "screening.grant_exemption": {"security_manager"},
    "screening.revoke_exemption": {"security_manager"},
    "site_rules.index": MANAGERS,
    "site_rules.update_type": MANAGERS,
    "site_rules.add_type": MANAGERS,
    "site_rules.set_verification": MANAGERS,
    "invitations.index": {"front_desk", "security_manager", "administrator"},
    "invitations.create": {"front_desk", "security_manager", "administrator"},
    "invitations.cancel": {"front_desk", "security_manager", "administrator"},
    "outbox.index": {"front_desk", "security_manager", "administrator"},
    "outbox.retry": {"front_desk", "security_manager", "administrator"},
    "gate.queue": STAFF,
    "gate.register": STAFF,
    "gate.refuse": STAFF,
    "gate.walk_up": STAFF,
    "gate.depart": STAFF,
    "gate.scan_seal": STAFF,
    "gate.mark_left": STAFF,
    "gate.report": STAFF,
    "gate.pass_page": STAFF,
    "gate.pass_pdf": STAFF,
    "gate.photo": STAFF,
    "gate.settings": {"security_manager"},
    "appointments.index": STAFF,
    "appointments.create": STAFF,
    "appointments.cancel": STAFF,
    "appointments.edit": STAFF,
    "appointments.upload": STAFF,
    "appointments.carriers": STAFF,
    "appointments.add_carrier": STAFF,
    "appointments.issue_key": {"security_manager"},
    "appointments.revoke_key": {"security_manager"},
    "pickup_log.index": LOG_READERS,
    "pickup_log.show": LOG_READERS,
    "cases.index": LOG_READERS,
    "cases.show": LOG_READERS,
    "cases.add_note": LOG_READERS,
    "cases.close": {"security_manager"},
    "cases.decide_seal": {"security_manager"},
    "carrier_api.appointments": CARRIER_KEY,
    "roster.index": LOG_READERS,
    "roster.start_roll_call": LOG_READERS,
    "roster.roll_calls_index": LOG_READERS,
    "roster.roll_call": LOG_READERS,
    "roster.roll_call_marks": LOG_READERS,
    "roster.mark": LOG_READERS,
    "roster.unmark": LOG_READERS,
    "roster.close_roll_call": LOG_READERS,
    "dashboard.index": {"security_manager"},
    "reviews.index": {"security_manager"},
    "reviews.create": {"security_manager"},
    "reviews.show": {"security_manager"},
    "log_review.visits": {"security_manager"},
    "log_review.pickups": {"security_manager"},
    "log_review.export_visits": {"security_manager"},
    "log_review.export_pickups": {"security_manager"},
    "records.correct_visit": {"security_manager"},
    "records.correct_pickup": {"security_manager"},
}

ENROLLED = "enrolled kiosk"
KIOSK_POLICY = {
    "static": PUBLIC,
    "kiosk.healthz": PUBLIC,
    "kiosk.enrol": PUBLIC,
    "kiosk.start": ENROLLED,
    "kiosk.language": ENROLLED,
    "kiosk.reset": ENROLLED,
    "kiosk.hosts": ENROLLED,
    "kiosk.scan": ENROLLED,
    "kiosk.sign_out": ENROLLED,
    "check_in.who": ENROLLED,
    "check_in.identity": ENROLLED,
    "check_in.invitation": ENROLLED,
    "check_in.id_type": ENROLLED,
    "check_in.id_photo": ENROLLED,
    "check_in.id_back": ENROLLED,
    "check_in.no_barcode": ENROLLED,
    "check_in.face": ENROLLED,
    "check_in.host": ENROLLED,
    "check_in.review": ENROLLED,
    "check_in.done": ENROLLED,
    "check_in.wait": ENROLLED,
    "check_in.status": ENROLLED,
    "check_in.see_desk": ENROLLED,
    "check_in.badge": ENROLLED,
    "pickup.reference": ENROLLED,
    "pickup.scan": ENROLLED,
    "pickup.name": ENROLLED,
    "pickup.carrier": ENROLLED,
    "pickup.vehicle": ENROLLED,
    "pickup.id_type": ENROLLED,
    "pickup.id_photo": ENROLLED,
    "pickup.id_back": ENROLLED,
    "pickup.no_barcode": ENROLLED,
    "pickup.review": ENROLLED,
    "pickup.done": ENROLLED,
    "pickup.see_gate": ENROLLED,
}

# Callers that are not a signed-in account of the main site.
NOT_SIGNED_IN = ("anonymous", "kiosk", "revoked kiosk", "disabled account")
OTHER_SITE = {
    "security manager elsewhere": "security_manager",
    "administrator elsewhere": "administrator",
}
CALLERS = (
    *NOT_SIGNED_IN,
    "front_desk",
    "guard",
    "security_manager",
    "administrator",
    *OTHER_SITE,
)


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_console_route_has_a_written_access_rule(console_app):
    endpoints = {rule.endpoint for rule in console_app.url_map.iter_rules()}
    assert endpoints == set(CONSOLE_POLICY)


def test_every_kiosk_route_has_a_written_access_rule(kiosk_app):
    endpoints = {rule.endpoint for rule in kiosk_app.url_map.iter_rules()}
    assert endpoints == set(KIOSK_POLICY)


@pytest.fixture
def world(
    console_app,
    db_sessions,
    site,
    other_site,
    people,
    make_person,
    kiosk_client,
    revoked_kiosk_credential,
    make_visit,
):
    """Every caller of the matrix, and one record of each kind at the main site."""
    visit = make_visit(site, "Matrix Visitor")
    with db_sessions.begin() as session:
        spare = Kiosk(site_id=site.id, name="Spare")
        session.add(spare)
        session.flush()
        ids = {"visit_id": visit.id, "kiosk_id": spare.id}
        ids.update(site_id=site.id, host_id=visit.host_id)
        ids.update(_invitation_records(session, site, visit))
        ids.update(_screening_records(session, site, visit))
        ids.update(_pickup_records(session, site))
        ids.update(_manager_records(session, site, visit))

    target = make_person("front_desk", site, username="target")
    ids["user_id"] = target.id
    others = {
        label: make_person(role, other_site, username=label.replace(" ", ""))
        for label, role in OTHER_SITE.items()
    }
    disabled = make_person("guard", site, username="leaver")
    callers = {}
    for role, person in people.items():
        callers[role] = _signed_in(console_app, person)

    for label, person in others.items():
        callers[label] = _signed_in(console_app, person)

    callers["disabled account"] = _signed_in(console_app, disabled)
    with db_sessions.begin() as session:
        admin = session.get(User, people["administrator"].id)
        accounts.set_active(session, session.get(User, disabled.id), False, actor=admin)

    callers["anonymous"] = console_app.test_client()
    device = kiosk_client.get_cookie("gk_kiosk_device")
    kiosk_caller = console_app.test_client()
    kiosk_caller.set_cookie("gk_kiosk_device", device.value)
    callers["kiosk"] = kiosk_caller
    revoked_caller = console_app.test_client()
    revoked_caller.set_cookie("gk_kiosk_device", revoked_kiosk_credential)
    callers["revoked kiosk"] = revoked_caller
    # CSRF has its own tests; here a refused token would hide what the guard does.
    console_app.config["WTF_CSRF_ENABLED"] = False
    return callers, ids


def _invitation_records(session, site: Site, visit) -> dict:
    """An invitation to the site and a waiting email, for the routes that act on
    them."""
    invitation, _code = invitations.create(
        session,
        session.get(Site, site.id),
        visitor_name="Matrix Guest",
        company="Matrix Company",
        email="guest@example.com",
        expected_on=utcnow().date(),
        host_id=visit.host_id,
        actor="test",
    )
    message = mail.queue(
        session, site_id=site.id, recipient="a@b.example", subject="s", body="b"
    )
    session.flush()
    return {"invitation_id": invitation.id, "message_id": message.id}


def _screening_records(session, site, visit) -> dict:
    """An ID photo of the visit, a block-list entry, an exemption, a visitor type."""
    from gatekeeper import photos, screening, visitor_types
    from tests.fixtures.apps import PHOTO_KEY

    row = session.get(Site, site.id)
    session.add(
        Photo(
            site_id=site.id,
            visit_id=visit.id,
            kind="id",
            sealed=photos.seal(PHOTO_KEY, b"\xff\xd8\xff\xd9"),
        )
    )
    entry = screening.add_entry(
        session, row, kind="company", value="Matrix Barred", actor="test"
    )
    exemption = screening.grant_exemption(
        session, row, person_name="Matrix Regular", actor="test"
    )
    return {
        "kind": "id",
        "entry_id": entry.id,
        "exemption_id": exemption.id,
        "type_id": visitor_types.find(session, site.id, "visitor").id,
    }


def _pickup_records(session, site) -> dict:
    """A driver waiting at the gate with an ID photo, an appointment, a carrier with
    an API key, and a case."""
    from gatekeeper import appointments, cases, photos, pickups
    from tests.fixtures.apps import PHOTO_KEY

    row = session.get(Site, site.id)
    photo = Photo(site_id=site.id, kind="id", sealed=photos.seal(PHOTO_KEY, b"jpg"))
    session.add(photo)
    session.flush()
    driver = pickups.Driver("MATRIX-1", "Matrix Driver", "Matrix Lines", "MX 1", "T 1")
    pickup = pickups.arrive(
        session,
        site=row,
        kiosk=None,
        driver=driver,
        evidence=pickups.Evidence(photos={"id": photo}),
    )
    appointment = appointments.add(
        session,
        row,
        {
            "reference": "MATRIX-2",
            "carrier": "Matrix Lines",
            "driver_name": "Other Driver",
            "truck_number": "MX 2",
            "expected_at": utcnow().isoformat(),
        },
        actor="test",
        now=utcnow(),
    )
    carrier = appointments.add_carrier(session, row, "Matrix Lines", actor="test")
    appointments.issue_key(session, carrier, actor="test")
    case = cases.open_case(
        session, site_id=site.id, kind="other", summary="Matrix", actor="test"
    )
    return {
        "pickup_id": pickup.id,
        "photo_id": photo.id,
        "appointment_id": appointment.id,
        "carrier_id": carrier.id,
        "case_id": case.id,
    }


def _manager_records(session, site, visit) -> dict:
    """An open roll call listing the visit, and a periodic review."""
    from gatekeeper.models import Review, RollCall, RollCallMark

    roll_call = RollCall(site_id=site.id, started_by="test")
    session.add(roll_call)
    session.flush()
    mark = RollCallMark(
        roll_call_id=roll_call.id,
        subject_type="visit",
        subject_id=visit.id,
        person=visit.visitor_name,
    )
    today = utcnow().date()
    review = Review(
        site_id=site.id,
        kind="log_review",
        period_start=today,
        period_end=today,
        sampled="s",
        findings="f",
        recorded_by="test",
    )
    session.add_all([mark, review])
    session.flush()
    return {"roll_call_id": roll_call.id, "mark_id": mark.id, "review_id": review.id}


@pytest.fixture
def revoked_kiosk_credential(kiosk_app, db_sessions, site):
    """The device cookie of a second kiosk, enrolled and then revoked."""
    with db_sessions.begin() as session:
        _, code = kiosks.create_kiosk(
            session, session.get(Site, site.id), "Old gate", actor="test"
        )

    client = kiosk_app.test_client()
    client.post(
        "/enrol", data={"code": code, "csrf_token": csrf_token(client, "/enrol")}
    )
    credential = client.get_cookie("gk_kiosk_device").value
    with db_sessions.begin() as session:
        kiosk = session.query(Kiosk).filter_by(name="Old gate").one()
        kiosks.revoke(session, kiosk, actor="test")

    return credential


def _signed_in(app, person):
    client = app.test_client()
    response = sign_in(client, person)
    assert response.status_code == 302, response.data
    return client


def _url(app, rule, ids):
    values = {name: ids[name] for name in rule.arguments if name in ids}
    if rule.endpoint == "static":
        values["filename"] = "common/base.css"

    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _expected(policy, caller: str, has_record: bool) -> set[str]:
    """What a caller may get: served, login (sent to sign in), refused, absent.

    A public page may itself send a caller on to the sign-in page (the second
    factor without a password first), but never refuses or hides anything.
    """
    if policy == PUBLIC:
        return {"served", "login"}

    if policy == CARRIER_KEY:
        return {"unauthorised"}

    if caller in NOT_SIGNED_IN:
        return {"login"}

    role = OTHER_SITE.get(caller, caller)
    if policy != SIGNED_IN and role not in policy:
        return {"refused"}

    if caller in OTHER_SITE and has_record:
        return {"absent"}

    return {"served"}


def _outcome(response) -> str:
    if response.status_code == 302 and "/login" in response.location:
        return "login"

    if response.status_code == 403:
        return "refused"

    if response.status_code == 404:
        return "absent"

    if response.status_code == 401:
        return "unauthorised"

    assert response.status_code < 500, response.data
    return "served"


@pytest.mark.parametrize("endpoint", sorted(CONSOLE_POLICY))
def test_console_route_answers_each_caller_as_its_policy_says(
    console_app, world, endpoint
):
    callers, ids = world
    rules = [r for r in console_app.url_map.iter_rules() if r.endpoint == endpoint]
    for rule in rules:
        url = _url(console_app, rule, ids)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for caller in CALLERS:
                response = callers[caller].open(url, method=method)
                expected = _expected(
                    CONSOLE_POLICY[endpoint],
                    caller,
                    bool(rule.arguments - {"filename"}),
                )
                got = _outcome(response)
                response.close()
                assert got in expected, f"{method} {url} as {caller}: {got}"


@pytest.mark.parametrize("endpoint", sorted(KIOSK_POLICY))
def test_kiosk_route_answers_only_an_enrolled_kiosk(
    kiosk_app, kiosk_client, revoked_kiosk_credential, endpoint
):
    kiosk_app.config["WTF_CSRF_ENABLED"] = False
    revoked = kiosk_app.test_client()
    revoked.set_cookie("gk_kiosk_device", revoked_kiosk_credential)
    callers = {
        "anonymous": kiosk_app.test_client(),
        "revoked kiosk": revoked,
        "kiosk": kiosk_client,
    }
    for rule in (r for r in kiosk_app.url_map.iter_rules() if r.endpoint == endpoint):
        url = _url(kiosk_app, rule, {})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for name, client in callers.items():
                response = client.open(url, method=method)
                response.close()
                sent_to_enrol = (
                    response.status_code == 302 and response.location.endswith("/enrol")
                )
                assert response.status_code < 500
                if KIOSK_POLICY[endpoint] == PUBLIC or name == "kiosk":
                    assert not sent_to_enrol, f"{method} {url} as {name}"
                else:
                    assert sent_to_enrol, f"{method} {url} as {name}"


def test_a_revoked_kiosk_is_sent_to_enrolment_at_its_next_request(
    revoked_kiosk_client,
):
    for path in ("/", "/check-in", "/sign-out"):
        response = revoked_kiosk_client.get(path)
        assert response.status_code == 302
        assert response.location.endswith("/enrol")

    page = revoked_kiosk_client.get("/enrol")
    assert b"revoked" in page.data


def test_the_kiosk_never_shows_a_record_it_did_not_just_take(
    kiosk_app, kiosk_client, db_sessions, make_visit, site
):
    """CTPAT 10.4: what the kiosk serves holds nothing of other people's visits."""
    badge = make_visit(site, "Somebody Else", company="Hidden Company").badge_number

    for rule in kiosk_app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue

        body = kiosk_client.get(_url(kiosk_app, rule, {})).data
        for secret in (b"Somebody Else", b"Hidden Company", badge.encode()):
            assert secret not in body, f"{rule.rule} shows {secret!r}"

    with db_sessions() as session:
        assert session.query(Visit).count() == 1
