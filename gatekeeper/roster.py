"""Who is on site now: every visitor and driver, for the roster and a roll call.

In an evacuation the guards must know everyone who is inside the fence, not only
those whose paperwork is complete. So besides admitted visitors and registered
drivers, the roster lists people who are on the premises but not yet let in: a
visitor awaiting the ID check or held by the block list (waiting in the lobby), and
a driver who announced a pickup at the kiosk and waits at the gate. Those are
flagged, so a muster list says where each person most likely is.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatekeeper import pickups as pickup_rules
from gatekeeper import visits as visit_rules
from gatekeeper.models import Pickup, Site, Visit

# The visits and pickups that put a person on the premises.
PRESENT_ADMISSIONS = ("admitted", "awaiting_id", "held")
PRESENT_PICKUP_STATUSES = ("registered", "arrived")
# Why someone on the roster is flagged: not yet let in, and where they wait.
FLAGS = {
    "awaiting_id": "in the lobby: awaiting the ID check",
    "held": "in the lobby: held by the block list",
    "at_gate": "at the gate: not yet registered",
}


@dataclass(frozen=True)
class Person:
    """One person on site, as the roster and a roll call show them."""

    subject_type: str
    subject_id: int
    name: str
    # The visitor's company, or the carrier that employs the driver.
    organisation: str
    # The point of contact a visitor came to see; a driver has none.
    host: str
    # Who escorts a visitor: a name, "required" when none is named yet, or "".
    escort: str
    # The visitor's badge number, or the driver's truck and trailer.
    reference: str
    arrived_at: datetime
    flag: str | None
    overdue: bool
    # Set when the person has left since (shown on a roll call taken before).
    departed_at: datetime | None = None

    @property
    def key(self) -> tuple[str, int]:
        return self.subject_type, self.subject_id

    @property
    def flag_label(self) -> str:
        return FLAGS.get(self.flag, "") if self.flag else ""


def _sort_key(person: Person) -> tuple:
    return person.name.casefold(), person.subject_type, person.subject_id


def on_site(session: Session, site: Site, now: datetime) -> list[Person]:
    """Everyone on the site's premises now, by name: visitors and drivers."""
    visit_query = select(Visit).where(
        Visit.site_id == site.id,
        Visit.departed_at.is_(None),
        Visit.admission.in_(PRESENT_ADMISSIONS),
    )
    pickup_query = select(Pickup).where(
        Pickup.site_id == site.id,
        Pickup.status.in_(PRESENT_PICKUP_STATUSES),
    )
    people = [from_visit(visit, now) for visit in session.scalars(visit_query)]
    people += [from_pickup(pickup, now) for pickup in session.scalars(pickup_query)]
    return sorted(people, key=_sort_key)


def from_visit(visit: Visit, now: datetime) -> Person:
    """A visitor as the roster shows them."""
    if visit.escort_name:
        escort = visit.escort_name
    elif visit.escort_required:
        escort = "required"
    else:
        escort = ""

    flag = visit.admission if visit.admission in FLAGS else None
    return Person(
        subject_type="visit",
        subject_id=visit.id,
        name=visit.visitor_name,
        organisation=visit.company,
        host=visit.host_name,
        escort=escort,
        reference=f"badge {visit.badge_number}",
        arrived_at=visit.arrived_at,
        flag=flag,
        overdue=visit_rules.is_overdue(visit, now),
        departed_at=visit.departed_at,
    )


def from_pickup(pickup: Pickup, now: datetime) -> Person:
    """A driver as the roster shows them."""
    trailer = f", trailer {pickup.trailer_number}" if pickup.trailer_number else ""
    return Person(
        subject_type="pickup",
        subject_id=pickup.id,
        name=pickup.driver_name,
        organisation=pickup.carrier,
        host="",
        escort="",
        reference=f"truck {pickup.truck_number}{trailer}",
        arrived_at=pickup.arrived_at,
        flag="at_gate" if pickup.status == "arrived" else None,
        overdue=pickup_rules.is_overdue(pickup, now),
        departed_at=pickup.departed_at,
    )


def people_of(
    session: Session, keys: Iterable[tuple[str, int]], now: datetime
) -> dict[tuple[str, int], Person]:
    """The visitors and drivers these (subject type, id) pairs name, as they are now."""
    keys = list(keys)
    visit_ids = [subject_id for kind, subject_id in keys if kind == "visit"]
    pickup_ids = [subject_id for kind, subject_id in keys if kind == "pickup"]
    found = {}
    if visit_ids:
        for visit in session.scalars(select(Visit).where(Visit.id.in_(visit_ids))):
            person = from_visit(visit, now)
            found[person.key] = person

    if pickup_ids:
        query = select(Pickup).where(Pickup.id.in_(pickup_ids))
        for pickup in session.scalars(query):
            person = from_pickup(pickup, now)
            found[person.key] = person

    return found


def counts(people: Iterable[Person]) -> dict[str, int]:
    """How many visitors and drivers, and how many of them are flagged."""
    people = list(people)
    return {
        "visitors": sum(1 for p in people if p.subject_type == "visit"),
        "drivers": sum(1 for p in people if p.subject_type == "pickup"),
        "flagged": sum(1 for p in people if p.flag),
        "total": len(people),
    }
