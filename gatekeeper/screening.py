"""Who is screened at check-in: the block list and the photo-ID exemptions (10.2).

Both are kept per site by a security manager. Entries are never deleted: removing
one stamps who removed it and when, so the list as it stood on any day can be told.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatekeeper import audit, matching
from gatekeeper.db import utcnow
from gatekeeper.models import BLOCK_KINDS, BlockListEntry, Exemption, Site, User
from gatekeeper.text import TextError, clean_name, clean_text

MAX_ALIASES = 20


def _label(actor: User | str) -> str:
    """Who to name as having changed a list: a person's name, or a process's."""
    return actor.display_name if isinstance(actor, User) else actor


# The block list


def active_entries(session: Session, site_id: int) -> list[BlockListEntry]:
    query = (
        select(BlockListEntry)
        .where(BlockListEntry.site_id == site_id, BlockListEntry.removed_at.is_(None))
        .order_by(BlockListEntry.kind, BlockListEntry.value, BlockListEntry.id)
    )
    return list(session.scalars(query))


def add_entry(
    session: Session,
    site: Site,
    *,
    kind: str,
    value: str,
    aliases: str = "",
    reason: str = "",
    actor: User | str,
    address: str = "",
) -> BlockListEntry:
    """List a person, company or ID number; aliases are one a line."""
    if kind not in BLOCK_KINDS:
        raise TextError("Choose a person, a company or an ID number.")

    value = _block_value(kind, value, "Name or number")
    alias_lines = [line for line in (aliases or "").splitlines() if line.strip()]
    if len(alias_lines) > MAX_ALIASES:
        raise TextError(f"At most {MAX_ALIASES} aliases.")

    cleaned = [_block_value(kind, line, "Alias") for line in alias_lines]
    entry = BlockListEntry(
        site_id=site.id,
        kind=kind,
        value=value,
        aliases="\n".join(cleaned),
        reason=clean_text(reason, label="Reason", max_length=500, required=False),
        added_by=_label(actor),
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        "block_list.added",
        actor=actor,
        site_id=site.id,
        target=f"block_list:{entry.id}",
        address=address,
        kind=kind,
    )
    return entry


def _block_value(kind: str, value: str, label: str) -> str:
    if kind == "person":
        return clean_name(value, label=label)

    text = clean_text(value, label=label, max_length=120)
    key = (
        matching.normalise_company(text)
        if kind == "company"
        else matching.normalise_id_number(text)
    )
    if not key:
        raise TextError(f"{label} must contain letters or digits.")

    return text


def remove_entry(
    session: Session, entry: BlockListEntry, *, actor: User | str, address: str = ""
) -> None:
    if entry.removed_at is not None:
        raise TextError("That entry is already removed.")

    entry.removed_at = utcnow()
    entry.removed_by = _label(actor)
    audit.record(
        session,
        "block_list.removed",
        actor=actor,
        site_id=entry.site_id,
        target=f"block_list:{entry.id}",
        address=address,
    )


def matches(
    session: Session,
    site_id: int,
    *,
    name: str,
    company: str,
    id_number: str | None = None,
) -> list[matching.Match]:
    """The site's block-list entries this visitor matches."""
    entries = [
        matching.BlockEntry(row.id, row.kind, row.value, row.alias_list)
        for row in active_entries(session, site_id)
    ]
    return matching.find_matches(
        entries, name=name, company=company, id_number=id_number
    )


# Exemptions from showing photo ID


def active_exemptions(session: Session, site_id: int) -> list[Exemption]:
    query = (
        select(Exemption)
        .where(Exemption.site_id == site_id, Exemption.revoked_at.is_(None))
        .order_by(Exemption.person_name, Exemption.id)
    )
    return list(session.scalars(query))


def grant_exemption(
    session: Session,
    site: Site,
    *,
    person_name: str,
    company: str = "",
    note: str = "",
    actor: User | str,
    address: str = "",
) -> Exemption:
    """Excuse a frequent, well-known person from showing photo ID at this site."""
    name = clean_name(person_name, label="Name")
    key = matching.normalise_name(name)
    existing = session.scalar(
        select(Exemption).where(
            Exemption.site_id == site.id,
            Exemption.name_key == key,
            Exemption.revoked_at.is_(None),
        )
    )
    if existing is not None:
        raise TextError(f"{existing.person_name} is already exempt.")

    exemption = Exemption(
        site_id=site.id,
        person_name=name,
        name_key=key,
        company=clean_text(company, label="Company", max_length=120, required=False),
        note=clean_text(note, label="Note", max_length=500, required=False),
        granted_by=_label(actor),
    )
    session.add(exemption)
    session.flush()
    audit.record(
        session,
        "exemption.granted",
        actor=actor,
        site_id=site.id,
        target=f"exemption:{exemption.id}",
        address=address,
    )
    return exemption


def revoke_exemption(
    session: Session, exemption: Exemption, *, actor: User | str, address: str = ""
) -> None:
    if exemption.revoked_at is not None:
        raise TextError("That exemption is already revoked.")

    exemption.revoked_at = utcnow()
    exemption.revoked_by = _label(actor)
    audit.record(
        session,
        "exemption.revoked",
        actor=actor,
        site_id=exemption.site_id,
        target=f"exemption:{exemption.id}",
        address=address,
    )


def exemption_for(
    session: Session, site_id: int, name: str, company: str = ""
) -> Exemption | None:
    """The active exemption of the person of this name, if any.

    The name is compared as the block list compares it (case, accents, spacing and
    word order ignored). An exemption that names a company applies only to a visitor
    from that company, so a namesake from elsewhere still shows ID.
    """
    key = matching.normalise_name(name)
    if not key:
        return None

    found = session.scalars(
        select(Exemption).where(
            Exemption.site_id == site_id,
            Exemption.name_key == key,
            Exemption.revoked_at.is_(None),
        )
    )
    for exemption in found:
        if not exemption.company:
            return exemption

        if matching.normalise_company(exemption.company) == matching.normalise_company(
            company
        ):
            return exemption

    return None
