"""A person's answers in progress at the kiosk: a visitor's check-in (CTPAT 10.2) or
a driver's arrival for a cargo pickup (10.3), and the record each becomes.

The kiosk asks one question a screen, and the answers wait in the session until the
review screen records the visit or the arrival. The session is a cookie that only
this kiosk's browser holds (HttpOnly, cleared by the idle reset and the start
screen). It is signed, not encrypted: the names and numbers typed are readable in
it, as they were in the one-page form it replaces, so it never carries an image or a
document number. A camera step keeps its picture sealed on the server under a random
capture key, and the draft holds only that key.

A screen serves one person at a time, so there is one draft, marked with its flow;
the start screen and the idle reset forget it, whichever flow it is.

Which steps a visitor goes through follows the site's rules, read afresh on every
request: the visitor type says whether photo ID is needed, and an exempt person
(CTPAT 10.2 guidance) skips it; only a driver's licence or a national ID card has a
barcode on the back worth reading. A driver always shows a government photo ID.
"""

import secrets
from dataclasses import dataclass, field

from flask import session
from sqlalchemy import select
from sqlalchemy.orm import Session

from gatekeeper import invitations, photos, pickups, screening, visitor_types, visits
from gatekeeper.models import (
    ID_TYPES,
    Exemption,
    Invitation,
    Kiosk,
    Pickup,
    Visit,
    VisitorType,
)

KEY = "draft"
VISIT = "visit"
PICKUP = "pickup"
STEPS = ("who", "identity", "id_type", "id_photo", "id_back", "face", "host", "review")
PICKUP_STEPS = (
    "reference",
    "name",
    "carrier",
    "vehicle",
    "id_type",
    "id_photo",
    "id_back",
    "review",
)
# US and Canadian licences and ID cards carry an AAMVA PDF417 on the back.
BARCODE_ID_TYPES = ("drivers_licence", "national_id")
# The camera step that takes each kind of photo.
PHOTO_STEPS = {"id": "id_photo", "id_back": "id_back", "face": "face"}


class CaptureGone(Exception):
    """A picture the draft names is no longer there to take: expired, or used."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class InvitationGone(Exception):
    """The draft's invitation was used or cancelled since it was scanned."""


@dataclass
class Plan:
    """The steps this visitor goes through, and the first one not yet done."""

    kind: VisitorType | None
    needs_id: bool
    steps: list[str] = field(default_factory=list)
    missing: str = "who"
    # The person's exemption from photo ID, looked up once the type and name are known.
    exemption: Exemption | None = None

    @property
    def photo_kinds(self) -> list[str]:
        """The kinds of photo this visit keeps, as its steps ask for them."""
        return [kind for kind, step in PHOTO_STEPS.items() if step in self.steps]

    def reached(self, step: str) -> bool:
        """True when the visitor may be on this step: it applies, and all before it
        are done."""
        if step not in self.steps:
            return False

        return self.steps.index(step) <= self.steps.index(self.missing)

    def before(self, step: str) -> str | None:
        """The step a Back button on this one returns to."""
        index = self.steps.index(step)
        return self.steps[index - 1] if index > 0 else None


def current(flow: str | None = None) -> dict:
    """This screen's draft of a flow, or an empty one; change it and pass it to save().

    Without a flow, whichever draft the screen holds: what the start screen and the
    reset forget.
    """
    draft = session.get(KEY)
    if not isinstance(draft, dict):
        return {}

    # Drafts begun before drafts had a flow are visitors'.
    if flow is not None and draft.get("flow", VISIT) != flow:
        return {}

    return {**draft, "captures": dict(draft.get("captures") or {})}


def begin(flow: str = VISIT) -> dict:
    """A new, empty draft with the key its submission will carry."""
    return {"flow": flow, "key": secrets.token_urlsafe(24), "captures": {}}


def fresh(db_session: Session, flow: str) -> dict:
    """A new draft for a flow, after deleting the pictures of the one it replaces.

    A person who opens the other flow's first step (a visitor's check-in left for a
    driver's arrival) leaves no capture behind; the caller commits.
    """
    photos.discard_captures(db_session, capture_keys(current()))
    return begin(flow)


def save(draft: dict) -> None:
    session[KEY] = draft


def capture_keys(draft: dict) -> list[str]:
    return [key for key in draft.get("captures", {}).values() if key]


def clear() -> None:
    """Forget the draft, and the visit a finished check-in left on this screen.

    The pictures the draft named are the caller's to delete (capture_keys first).
    """
    session.pop(KEY, None)
    session.pop("visit", None)


def drop_photos(db_session: Session, draft: dict, kinds) -> None:
    """Delete the draft's captures of these kinds, e.g. when the ID type changes."""
    keys = [draft["captures"].pop(kind, None) for kind in kinds]
    photos.discard_captures(db_session, [key for key in keys if key])
    if "id_back" in kinds:
        for name in ("no_barcode", "name_from_licence", "expired"):
            draft.pop(name, None)


def plan(db_session: Session, site_id: int, draft: dict) -> Plan:
    """Where this draft stands under the site's rules as they are now."""
    kind = None
    if draft.get("type"):
        kind = visitor_types.find(db_session, site_id, draft["type"])

    exemption = _exemption(db_session, site_id, draft, kind)
    needs_id = _needs_id(draft, kind, exemption)
    steps = ["who", "identity"]
    if needs_id:
        steps += ["id_type", "id_photo"]
        if draft.get("id_type") in BARCODE_ID_TYPES:
            steps.append("id_back")

    steps += ["face", "host", "review"]
    result = Plan(kind=kind, needs_id=needs_id, steps=steps, exemption=exemption)
    result.missing = next(step for step in steps if not _done(step, draft, kind))
    return result


def _exemption(db_session, site_id, draft, kind) -> Exemption | None:
    # Until the type (one that asks for photo ID) and the name are known, nobody
    # can be found exempt.
    if kind is None or not kind.id_required or not draft.get("name"):
        return None

    return screening.exemption_for(
        db_session, site_id, draft["name"], draft.get("company", "")
    )


def _needs_id(draft, kind, exemption) -> bool:
    # Until the type is chosen the usual path, with photo ID, is the one counted.
    if kind is None:
        return True

    if not kind.id_required:
        return False

    return not draft.get("name") or exemption is None


def _done(step: str, draft: dict, kind: VisitorType | None) -> bool:
    if step == "who":
        return kind is not None

    if step == "identity":
        return bool(draft.get("name") and draft.get("company"))

    if step == "host":
        return isinstance(draft.get("host"), int)

    return _photo_step_done(step, draft)


def _photo_step_done(step: str, draft: dict) -> bool:
    """The photo ID and camera steps, which both flows ask alike."""
    captures = draft.get("captures", {})
    if step == "id_type":
        return draft.get("id_type") in ID_TYPES

    if step == "id_back":
        return bool(captures.get("id_back") or draft.get("no_barcode"))

    if step in ("id_photo", "face"):
        kind_of_photo = "id" if step == "id_photo" else "face"
        return bool(captures.get(kind_of_photo))

    return False


def record(
    db_session: Session, kiosk: Kiosk, draft: dict, plan: Plan, photo_key: str
) -> Visit:
    """Record the arrival the draft describes, with the pictures its steps took.

    A draft already recorded (its submission key found) gives that visit back. A
    picture that can no longer be taken raises CaptureGone, an invitation no longer
    good InvitationGone, and a visit the rules refuse visits.VisitError; the caller
    commits, or rolls back so that nothing is half-written.
    """
    existing = visits.find_by_submission(db_session, draft["key"])
    if existing is not None:
        return existing

    taken = _take_captures(db_session, kiosk, draft, plan)
    licence = None
    if "id_back" in taken:
        licence = photos.licence_details(taken["id_back"], photo_key)

    visit = visits.check_in(
        db_session,
        site=kiosk.site,
        kiosk=kiosk,
        visitor_name=draft["name"],
        company=draft["company"],
        host_id=draft["host"],
        visitor_type=draft["type"],
        id_type=draft.get("id_type", "") if plan.needs_id else "",
        submission_key=draft["key"],
        arrival=visits.Arrival(
            photos=taken,
            # The barcode's document number is matched against the block list.
            id_number=licence["document_number"] if licence else None,
            id_document_expired=draft.get("expired") if licence else None,
            invitation=_invitation(db_session, kiosk, draft),
            # The plan read the type and the exemption in this transaction.
            rules=visits.Rules(plan.kind, plan.exemption),
        ),
    )
    # Pictures a later answer made useless (the ID photo of someone found exempt)
    # are deleted.
    unused = [key for kind, key in draft["captures"].items() if kind not in taken]
    photos.discard_captures(db_session, unused)
    return visit


def _take_captures(db_session, kiosk: Kiosk, draft: dict, plan: Plan) -> dict:
    taken = {}
    for kind in plan.photo_kinds:
        key = draft["captures"].get(kind)
        if kind == "id_back" and not key and draft.get("no_barcode"):
            continue

        photo = photos.take_capture(
            db_session,
            site_id=kiosk.site_id,
            kind=kind,
            capture_key=key,
            kiosk_id=kiosk.id,
        )
        if photo is None:
            raise CaptureGone(kind)

        taken[kind] = photo

    return taken


def _invitation(db_session, kiosk: Kiosk, draft: dict) -> Invitation | None:
    """The draft's invitation, refused if it was used or cancelled meanwhile."""
    if not draft.get("invitation"):
        return None

    found = db_session.get(Invitation, draft["invitation"])
    if (
        found is None
        or found.site_id != kiosk.site_id
        or found.used_at is not None
        or found.cancelled_at is not None
        or found.expected_on != invitations.site_today(kiosk.site)
    ):
        raise InvitationGone()

    return found


# A driver's arrival for a cargo pickup (CTPAT 10.3): what the driver types about the
# pickup and the truck, and the government photo ID the gate staff will compare.


def pickup_plan(draft: dict) -> Plan:
    """Where a driver's draft stands: every driver shows a photo ID."""
    steps = [step for step in PICKUP_STEPS if step != "id_back"]
    if draft.get("id_type") in BARCODE_ID_TYPES:
        steps.insert(steps.index("review"), "id_back")

    result = Plan(kind=None, needs_id=True, steps=steps)
    result.missing = next(step for step in steps if not _pickup_done(step, draft))
    return result


def _pickup_done(step: str, draft: dict) -> bool:
    if step in ("reference", "name", "carrier"):
        return bool(draft.get(step))

    if step == "vehicle":
        return bool(draft.get("truck") and draft.get("trailer"))

    return _photo_step_done(step, draft)


def record_pickup(db_session: Session, kiosk: Kiosk, draft: dict, plan: Plan) -> Pickup:
    """Record the driver's arrival the draft describes, with its ID pictures.

    The arrival waits at the gate for an employee to register the driver; whether
    the reference names an appointment is the gate's business, not the kiosk's. A
    draft already recorded gives its pickup back; a picture that can no longer be
    taken raises CaptureGone, and an arrival the rules refuse pickups.PickupError.
    The caller commits, or rolls back so that nothing is half-written.
    """
    existing = db_session.scalar(
        select(Pickup).where(Pickup.submission_key == draft["key"])
    )
    if existing is not None:
        return existing

    taken = _take_captures(db_session, kiosk, draft, plan)
    return pickups.arrive(
        db_session,
        site=kiosk.site,
        kiosk=kiosk,
        driver=pickups.Driver(
            reference=draft["reference"],
            driver_name=draft["name"],
            carrier=draft["carrier"],
            truck_number=draft["truck"],
            trailer_number=draft["trailer"],
        ),
        evidence=pickups.Evidence(
            photos=taken,
            id_type=draft["id_type"],
            # Only the back's barcode tells; a passport's expiry is the staff's to see.
            id_document_expired=draft.get("expired") if "id_back" in taken else None,
        ),
        submission_key=draft["key"],
    )
