"""Check-ins with real photos, for the console's tests and its browser tests.

The photos are judged and kept as the kiosk's are (gatekeeper.photos), so a visit
made here carries the same sealed images a visitor's would.
"""

from functools import cache

from gatekeeper import photos, sites, visits
from gatekeeper.models import Kiosk, Site, User, Visit
from tests.fixtures.apps import PHOTO_KEY
from tests.support import pictures
from tests.support.licences import TEXAS, payload, photo_of


@cache
def face_jpeg() -> bytes:
    """The portrait as a camera would frame it: passes the judge as a face photo."""
    return pictures.jpeg(pictures.framed(pictures.portrait()))


@cache
def licence_back() -> bytes:
    """The back of a Texas licence, its PDF417 barcode readable; it expires in 2030."""
    return photo_of(payload(TEXAS))


def check_in_with_photos(
    db_sessions,
    site: Site,
    name: str = "Jane Roe",
    *,
    kinds=("face", "id"),
    kiosk: bool = False,
    visitor_type: str = "visitor",
    company: str = "Acme Freight",
) -> Visit:
    """A check-in whose photos of `kinds` are kept and attached.

    With kiosk=True it comes through a kiosk of the site, so a self-service site
    admits the visit with its ID only captured.
    """
    data = {"face": face_jpeg(), "id": face_jpeg(), "id_back": licence_back()}
    with db_sessions.begin() as session:
        row = session.get(Site, site.id)
        device = _kiosk(session, row) if kiosk else None
        device_id = device.id if device else None
        kept, back = {}, None
        for kind in kinds:
            capture = photos.judge_and_keep(
                session,
                site=row,
                kind=kind,
                data=data[kind],
                photo_key=PHOTO_KEY,
                kiosk_id=device_id,
            )
            assert capture.ok, capture.advice
            kept[kind] = photos.take_capture(
                session,
                site_id=row.id,
                kind=kind,
                capture_key=capture.capture_key,
                kiosk_id=device_id,
            )
            back = capture if kind == "id_back" else back

        return visits.check_in(
            session,
            site=row,
            kiosk=device,
            visitor_name=name,
            company=company,
            host_id=sites.active_hosts(session, row.id)[0].id,
            visitor_type=visitor_type,
            id_type="drivers_licence",
            arrival=visits.Arrival(
                photos=kept,
                id_number=back.licence.document_number if back else None,
                id_document_expired=back.expired if back else None,
            ),
        )


def admit(db_sessions, visit: Visit, user_id: int, id_type: str = "passport"):
    """Record a visit's ID as verified by this employee, which admits it."""
    with db_sessions.begin() as session:
        row = session.get(Visit, visit.id)
        visits.verify_id(session, row, id_type, actor=session.get(User, user_id))
        return row


def _kiosk(session, site: Site) -> Kiosk:
    kiosk = session.query(Kiosk).filter_by(site_id=site.id, name="Lobby").first()
    if kiosk is None:
        kiosk = Kiosk(site_id=site.id, name="Lobby")
        session.add(kiosk)
        session.flush()

    return kiosk
