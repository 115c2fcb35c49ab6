"""A site's visitor types and their rules: escort, photo ID, badge validity (10.2).

The site's verification mode, the other rule of how a visitor is admitted, is set
here too. A change made by a person is kept in the audit trail.
"""

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gatekeeper import audit
from gatekeeper.models import (
    DEFAULT_TYPE_RULES,
    VERIFICATION_MODES,
    VISITOR_TYPES,
    Site,
    User,
    VisitorType,
)
from gatekeeper.text import TextError, clean_text

CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
MAX_VALID_HOURS = 72


def add_built_in(session: Session, site: Site) -> None:
    """Give a new site the visitor, vendor and service-provider types."""
    for position, (code, label) in enumerate(VISITOR_TYPES.items()):
        session.add(
            VisitorType(
                site_id=site.id,
                code=code,
                label=label,
                label_es="",
                position=position,
                active=True,
                badge_valid_hours=None,
                **DEFAULT_TYPE_RULES[code],
            )
        )
    session.flush()


def for_site(session: Session, site_id: int, *, active_only: bool = True):
    query = select(VisitorType).where(VisitorType.site_id == site_id)
    if active_only:
        query = query.where(VisitorType.active.is_(True))

    return list(session.scalars(query.order_by(VisitorType.position, VisitorType.id)))


def find(session: Session, site_id: int, code: str) -> VisitorType | None:
    """The site's active type with this code, or None."""
    return session.scalar(
        select(VisitorType).where(
            VisitorType.site_id == site_id,
            VisitorType.code == code,
            VisitorType.active.is_(True),
        )
    )


def save(
    session: Session,
    site: Site,
    *,
    code: str,
    label: str,
    label_es: str = "",
    escort_required: bool,
    id_required: bool,
    badge_valid_hours: int | None,
    active: bool = True,
    actor: User | None = None,
    address: str = "",
) -> VisitorType:
    """Add a type to a site, or change the one with this code.

    With an actor, the addition or change is recorded in the audit trail with the
    rules as they now stand.
    """
    code = (code or "").strip().lower()
    if not CODE.match(code):
        raise TextError(
            "Code: 2 to 32 lowercase letters, digits or underscores, "
            "starting with a letter."
        )

    if badge_valid_hours is not None and not 1 <= badge_valid_hours <= MAX_VALID_HOURS:
        raise TextError(f"Badge validity is 1 to {MAX_VALID_HOURS} hours.")

    label = clean_text(label, label="Label", max_length=60)
    label_es = clean_text(
        label_es, label="Spanish label", max_length=60, required=False
    )
    kind = session.scalar(
        select(VisitorType).where(
            VisitorType.site_id == site.id, VisitorType.code == code
        )
    )
    added = kind is None
    if kind is None:
        position = session.scalar(
            select(func.coalesce(func.max(VisitorType.position), -1)).where(
                VisitorType.site_id == site.id
            )
        )
        kind = VisitorType(site_id=site.id, code=code, position=position + 1)
        session.add(kind)

    kind.label = label
    kind.label_es = label_es
    kind.escort_required = bool(escort_required)
    kind.id_required = bool(id_required)
    kind.badge_valid_hours = badge_valid_hours
    kind.active = bool(active)
    session.flush()
    if actor is not None:
        audit.record(
            session,
            "visitor_type.added" if added else "visitor_type.changed",
            actor=actor,
            site_id=site.id,
            target=f"visitor_type:{kind.code}",
            address=address,
            label=kind.label,
            label_es=kind.label_es,
            escort_required=kind.escort_required,
            id_required=kind.id_required,
            badge_valid_hours=kind.badge_valid_hours,
            active=kind.active,
        )

    return kind


def set_verification_mode(
    session: Session, site: Site, mode: str, *, actor: User, address: str = ""
) -> None:
    """Choose how a site verifies photo IDs: attended or self-service (10.2).

    The change applies to check-ins from now on; visits already waiting at the
    front desk keep waiting for it.
    """
    if mode not in VERIFICATION_MODES:
        raise TextError("Choose attended or self-service.")

    if site.verification_mode == mode:
        return

    before = site.verification_mode
    site.verification_mode = mode
    audit.record(
        session,
        "site.verification_mode",
        actor=actor,
        site_id=site.id,
        target=f"site:{site.code}",
        address=address,
        before=before,
        after=mode,
    )


def valid_hours(kind: VisitorType | None, site: Site) -> int:
    if kind is not None and kind.badge_valid_hours:
        return kind.badge_valid_hours

    return site.badge_valid_hours
