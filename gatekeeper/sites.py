"""Sites and their host directories."""

import re
import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatekeeper import chain, visitor_types
from gatekeeper.models import Host, Site
from gatekeeper.text import TextError, clean_name, clean_text

SITE_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# The kiosk's host search: shortest query it answers, and the most of a query it reads.
SEARCH_MIN_LENGTH = 2
SEARCH_MAX_LENGTH = 60


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise TextError(f"{name!r} is not a known time zone.") from error

    return name


def check_email(value: str, *, label: str = "Email") -> str:
    text = clean_text(value, label=label, max_length=254)
    if not EMAIL.match(text):
        raise TextError(f"{label} is not a valid email address.")

    return text


def create_site(session: Session, *, code: str, name: str, timezone: str) -> Site:
    """Create a site and its empty log chain in the caller's transaction."""
    code = code.strip().lower()
    if not SITE_CODE.match(code):
        raise TextError("Site code: 2 to 32 lowercase letters, digits or hyphens.")

    if session.scalar(select(Site).where(Site.code == code)):
        raise TextError(f"A site with code {code!r} already exists.")

    site = Site(
        code=code,
        name=clean_text(name, label="Site name", max_length=120),
        timezone=check_timezone(timezone),
    )
    session.add(site)
    session.flush()
    chain.start_chain(session, site)
    visitor_types.add_built_in(session, site)
    return site


def add_host(
    session: Session, site: Site, *, name: str, email: str, department: str = ""
) -> Host:
    host = Host(
        site_id=site.id,
        name=clean_name(name, label="Host name"),
        email=check_email(email),
        department=clean_text(
            department, label="Department", max_length=120, required=False
        ),
    )
    session.add(host)
    session.flush()
    return host


def active_hosts(session: Session, site_id: int) -> list[Host]:
    query = (
        select(Host)
        .where(Host.site_id == site_id, Host.active.is_(True))
        .order_by(Host.name)
    )
    return list(session.scalars(query))


def fold(text: str) -> str:
    """Text as a search compares it: no accents, no case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _word_starts(name: str) -> list[int]:
    return [
        i
        for i, character in enumerate(name)
        if character.isalnum() and (i == 0 or not name[i - 1].isalnum())
    ]


def search_hosts(
    session: Session, site_id: int, query: str, limit: int = 8
) -> list[Host]:
    """The site's active hosts whose name has a word starting with the query.

    "lop" and "LÓP" both find "Ana López", and "ana lo" does too. The match runs in
    Python over the site's directory, which is a few hundred names at most, because
    SQLite and PostgreSQL disagree on folding accents.
    """
    wanted = fold(query.strip()[:SEARCH_MAX_LENGTH])
    if len(wanted) < SEARCH_MIN_LENGTH:
        return []

    found = []
    for host in active_hosts(session, site_id):
        name = fold(host.name)
        if any(name.startswith(wanted, start) for start in _word_starts(name)):
            found.append(host)

        if len(found) == limit:
            break

    return found


def site_by_code(session: Session, code: str) -> Site | None:
    return session.scalar(select(Site).where(Site.code == code))
