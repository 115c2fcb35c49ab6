"""Cargo pickups for the console's tests: an appointment, a driver's arrival at the
kiosk, registration and departure, each committed as the apps would commit it."""

from gatekeeper import appointments, photos, pickups, seals
from gatekeeper.db import utcnow
from gatekeeper.models import Appointment, Photo, Pickup, Site, User

ALL_STEPS = dict.fromkeys(seals.VVTT_STEPS, True)
ASSIGNED_SEAL = "UL1234567"
OTHER_SEAL = "UL7654321"


def appointment_row(**overrides) -> dict:
    row = {
        "reference": "BOL-1001",
        "carrier": "Swift Lines",
        "driver_name": "Rosa Díaz",
        "truck_number": "TX-4411",
        "expected_at": utcnow().isoformat(),
        "seal_number": ASSIGNED_SEAL,
        "consignee_email": "receiving@consignee.example",
    }
    return {**row, **overrides}


def add_appointment(db_sessions, site: Site, **overrides) -> Appointment:
    with db_sessions.begin() as session:
        return appointments.add(
            session,
            session.get(Site, site.id),
            appointment_row(**overrides),
            actor="test",
            now=utcnow(),
        )


def driver(**overrides) -> pickups.Driver:
    fields = {
        "reference": "BOL-1001",
        "driver_name": "Rosa Díaz",
        "carrier": "Swift Lines",
        "truck_number": "TX-4411",
        "trailer_number": "53889",
    }
    return pickups.Driver(**{**fields, **overrides})


def arrive(db_sessions, site: Site, *, images=None, key=None, **overrides) -> Pickup:
    """A driver's arrival as the kiosk records it, with ID images (kind to JPEG)
    sealed with the photo key."""
    with db_sessions.begin() as session:
        kept = {}
        for kind, data in (images or {}).items():
            photo = Photo(site_id=site.id, kind=kind, sealed=photos.seal(key, data))
            session.add(photo)
            kept[kind] = photo

        session.flush()
        return pickups.arrive(
            session,
            site=session.get(Site, site.id),
            kiosk=None,
            driver=driver(**overrides),
            evidence=pickups.Evidence(photos=kept, id_type="drivers_licence"),
        )


def register(db_sessions, pickup_id: int, user_id: int, **fields) -> Pickup:
    with db_sessions.begin() as session:
        return pickups.register(
            session,
            session.get(Pickup, pickup_id),
            actor=session.get(User, user_id),
            **{"id_type": "drivers_licence", **fields},
        )


def depart(db_sessions, pickup_id: int, user_id: int, **fields) -> pickups.Outcome:
    values = {
        "seal_number": ASSIGNED_SEAL,
        "seal_confirmation": ASSIGNED_SEAL,
        "trailer_number": "53889",
        "vvtt": ALL_STEPS,
        **fields,
    }
    with db_sessions.begin() as session:
        return pickups.depart(
            session,
            session.get(Pickup, pickup_id),
            pickups.Departure(**values),
            actor=session.get(User, user_id),
        )


def on_site(db_sessions, site: Site, user_id: int, **overrides) -> Pickup:
    """A driver arrived and registered by the given employee; any difference from
    the appointment (or its absence) is accepted with a decision."""
    pickup = arrive(db_sessions, site, **overrides)
    return register(db_sessions, pickup.id, user_id, decision="Accepted at the gate")


def sign_in_page(page, url: str, person) -> None:
    """Sign a Playwright page in to the console, with the second factor if needed."""
    page.goto(url + "/login")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    if person.totp_secret:
        page.get_by_label("Code from your authenticator app").fill(person.totp())
        page.get_by_role("button", name="Continue").click()

    page.wait_for_url(lambda address: "/login" not in address)
