"""Roll calls: an evacuation muster of everyone on site, marked by guards on phones.

Starting a roll call takes a snapshot of the roster (gatekeeper.roster) into one
RollCallMark row per person, so the list no longer changes while people leave the
buildings: it is the list of who was inside when the alarm sounded. Guards then
mark each person accounted for. A mark is a conditional UPDATE of a row still
unmarked, so when two guards tap the same person at once one mark is recorded and
the other guard is told who got there first. Closing the roll call records who
closed it; it stays readable afterwards, with every mark, who made it and when.

A site has one open roll call at a time: a second guard pressing "Start" joins the
first one's list instead of splitting the muster in two. Someone who arrives after
the start is not added to it: the list is the snapshot on purpose, and the roster
page shows the newcomer. Every start, mark, undo and close is also in the audit
trail, so a mark undone by mistake is not lost.
"""

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gatekeeper import audit, roster
from gatekeeper.db import utcnow
from gatekeeper.models import RollCall, RollCallMark, Site, User
from gatekeeper.text import TextError, clean_text

logger = logging.getLogger(__name__)

NOTE_MAX = 500
RECENT = 20


class RollCallError(ValueError):
    """A roll call action that cannot be done; the message is for the person."""


@dataclass(frozen=True)
class Entry:
    """One line of a roll call: the mark and the person as they are now."""

    mark: RollCallMark
    person: roster.Person | None

    @property
    def marked(self) -> bool:
        return self.mark.marked_at is not None


@dataclass(frozen=True)
class Outcome:
    """What a guard's mark did: recorded now, or already done by someone."""

    recorded: bool
    mark: RollCallMark


def open_roll_call(session: Session, site_id: int) -> RollCall | None:
    """The site's roll call in progress, if one is."""
    query = (
        select(RollCall)
        .where(RollCall.site_id == site_id, RollCall.closed_at.is_(None))
        .order_by(RollCall.id)
    )
    return session.scalars(query).first()


def recent(session: Session, site_id: int, limit: int = RECENT) -> list[RollCall]:
    """The site's latest roll calls, the newest first."""
    query = (
        select(RollCall)
        .where(RollCall.site_id == site_id)
        .order_by(RollCall.started_at.desc(), RollCall.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _note(note: str | None) -> str:
    try:
        return clean_text(note, label="Note", max_length=NOTE_MAX, required=False)
    except TextError as error:
        raise RollCallError(str(error)) from error


def start(
    session: Session, site: Site, *, actor: User, note: str = "", address: str = ""
) -> tuple[RollCall, bool]:
    """Start a roll call of everyone on site now, or return the one already open.

    The second value is True when this call started it. The site's row is locked
    first (PostgreSQL; SQLite writers already hold the database's lock), so two
    guards starting at once make one roll call.
    """
    note = _note(note)
    session.execute(select(Site.id).where(Site.id == site.id).with_for_update())
    existing = open_roll_call(session, site.id)
    if existing is not None:
        return existing, False

    now = utcnow()
    roll_call = RollCall(
        site_id=site.id, started_by=actor.display_name, started_at=now, note=note
    )
    session.add(roll_call)
    session.flush()
    people = roster.on_site(session, site, now)
    for person in people:
        session.add(
            RollCallMark(
                roll_call_id=roll_call.id,
                subject_type=person.subject_type,
                subject_id=person.subject_id,
                person=person.name[:120],
            )
        )

    audit.record(
        session,
        "roll_call.started",
        actor=actor,
        site_id=site.id,
        target=f"roll_call:{roll_call.id}",
        address=address,
        people=len(people),
    )
    logger.info("roll call %s started at site %s", roll_call.id, site.code)
    return roll_call, True


def _lock_open(session: Session, roll_call: RollCall) -> None:
    """Refuse a change to a closed roll call, holding off a close meanwhile.

    The shared row lock (PostgreSQL) makes a close wait for marks in progress, so
    no mark lands after the roll call was closed.
    """
    query = (
        select(RollCall.closed_at)
        .where(RollCall.id == roll_call.id)
        .with_for_update(read=True)
    )
    if session.execute(query).scalar_one() is not None:
        raise RollCallError("This roll call is closed; its marks can no longer change.")


def _mark_of(session: Session, roll_call: RollCall, mark_id: int) -> RollCallMark:
    mark = session.get(RollCallMark, mark_id)
    if mark is None or mark.roll_call_id != roll_call.id:
        raise RollCallError("That person is not on this roll call.")

    return mark


def mark(
    session: Session,
    roll_call: RollCall,
    mark_id: int,
    *,
    actor: User,
    address: str = "",
) -> Outcome:
    """Mark one person accounted for, once: a second mark changes nothing."""
    _lock_open(session, roll_call)
    row = _mark_of(session, roll_call, mark_id)
    now = utcnow()
    # The condition on marked_at is what makes the first guard's mark the one kept,
    # even when two guards send theirs at the same moment.
    result = session.execute(
        update(RollCallMark)
        .where(RollCallMark.id == row.id, RollCallMark.marked_at.is_(None))
        .values(marked_by=actor.display_name, marked_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    if result.rowcount != 1:
        return Outcome(recorded=False, mark=row)

    audit.record(
        session,
        "roll_call.marked",
        actor=actor,
        site_id=roll_call.site_id,
        target=f"roll_call:{roll_call.id}",
        address=address,
        mark=row.id,
        subject=f"{row.subject_type}:{row.subject_id}",
    )
    return Outcome(recorded=True, mark=row)


def unmark(
    session: Session,
    roll_call: RollCall,
    mark_id: int,
    *,
    actor: User,
    address: str = "",
) -> RollCallMark:
    """Undo a mark made by mistake, while the roll call is open; audited."""
    _lock_open(session, roll_call)
    row = _mark_of(session, roll_call, mark_id)
    was = {"marked_by": row.marked_by, "marked_at": row.marked_at}
    result = session.execute(
        update(RollCallMark)
        .where(RollCallMark.id == row.id, RollCallMark.marked_at.is_not(None))
        .values(marked_by=None, marked_at=None)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    if result.rowcount != 1:
        raise RollCallError("That person is not marked.")

    audit.record(
        session,
        "roll_call.unmarked",
        actor=actor,
        site_id=roll_call.site_id,
        target=f"roll_call:{roll_call.id}",
        address=address,
        mark=row.id,
        subject=f"{row.subject_type}:{row.subject_id}",
        **was,
    )
    return row


def close(
    session: Session,
    roll_call: RollCall,
    *,
    actor: User,
    note: str = "",
    address: str = "",
) -> RollCall:
    """Close a roll call, recording who closed it and how many were not found."""
    note = _note(note)
    now = utcnow()
    values = {"closed_by": actor.display_name, "closed_at": now}
    if note:
        values["note"] = "\n".join(filter(None, [roll_call.note, note]))[:NOTE_MAX]

    result = session.execute(
        update(RollCall)
        .where(RollCall.id == roll_call.id, RollCall.closed_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(roll_call)
    if result.rowcount != 1:
        raise RollCallError("This roll call is already closed.")

    tally = tallies(session, [roll_call.id])[roll_call.id]
    audit.record(
        session,
        "roll_call.closed",
        actor=actor,
        site_id=roll_call.site_id,
        target=f"roll_call:{roll_call.id}",
        address=address,
        marked=tally.marked,
        missing=tally.total - tally.marked,
    )
    logger.info(
        "roll call %s closed: %s of %s accounted for",
        roll_call.id,
        tally.marked,
        tally.total,
    )
    return roll_call


def marks_of(session: Session, roll_call_id: int) -> list[RollCallMark]:
    query = select(RollCallMark).where(RollCallMark.roll_call_id == roll_call_id)
    return list(session.scalars(query))


def entries(session: Session, roll_call: RollCall) -> list[Entry]:
    """The roll call's people by name, with what is known of each now."""
    marks = marks_of(session, roll_call.id)
    keys = [(mark.subject_type, mark.subject_id) for mark in marks]
    people = roster.people_of(session, keys, utcnow())
    found = [
        Entry(mark, people.get((mark.subject_type, mark.subject_id))) for mark in marks
    ]
    return sorted(found, key=lambda e: (e.mark.person.casefold(), e.mark.id))


@dataclass(frozen=True)
class Tally:
    total: int
    marked: int

    @property
    def missing(self) -> int:
        return self.total - self.marked


def tallies(session: Session, roll_call_ids: list[int]) -> dict[int, Tally]:
    """How many people each roll call listed and how many were marked."""
    found = {roll_call_id: Tally(0, 0) for roll_call_id in roll_call_ids}
    if not roll_call_ids:
        return found

    query = (
        select(
            RollCallMark.roll_call_id,
            func.count(RollCallMark.id),
            func.count(RollCallMark.marked_at),
        )
        .where(RollCallMark.roll_call_id.in_(roll_call_ids))
        .group_by(RollCallMark.roll_call_id)
    )
    for roll_call_id, total, marked in session.execute(query):
        found[roll_call_id] = Tally(total, marked)

    return found


def state(session: Session, roll_call: RollCall, zone: str) -> dict:
    """The marks of a roll call for the guards' pages to redraw, times in the
    site's zone: no personal data beyond the guards' own names, as the page
    already holds the list of people."""
    marks = marks_of(session, roll_call.id)
    return {
        "closed": roll_call.closed_at is not None,
        "closed_by": roll_call.closed_by,
        "marks": [_mark_state(mark, ZoneInfo(zone)) for mark in marks],
        "marked": sum(1 for mark in marks if mark.marked_at is not None),
        "total": len(marks),
    }


def _mark_state(mark: RollCallMark, zone: ZoneInfo) -> dict:
    at = mark.marked_at.astimezone(zone).strftime("%H:%M") if mark.marked_at else None
    return {"id": mark.id, "marked_by": mark.marked_by, "marked_at": at}
