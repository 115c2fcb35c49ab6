"""Sites, their settings and their host directories."""

import re
import unicodedata
from dataclasses import dataclass, fields
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gatekeeper import audit, badges, chain, retention, visitor_types
from gatekeeper.models import VERIFICATION_MODES, Host, Site, User
from gatekeeper.text import TextError, clean_name, clean_text

SITE_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# The kiosk's host search: shortest query it answers, and the most of a query it reads.
SEARCH_MIN_LENGTH = 2
SEARCH_MAX_LENGTH = 60
# How long a kiosk screen waits untouched before it returns to the start: long
# enough to read and photograph an ID, short enough that the next person does not
# find the last one's answers.
IDLE_LIMITS = (30, 600)
# The languages the kiosk is translated into; a site offers one or both.
KIOSK_LANGUAGES = {"en": "English", "es": "Spanish"}


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


def create_site(
    session: Session,
    *,
    code: str,
    name: str,
    timezone: str,
    actor: User | str | None = None,
    address: str = "",
) -> Site:
    """Create a site and its empty log chain in the caller's transaction.

    With an actor (the console's administrator) the creation is audited.
    """
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
    if actor is not None:
        audit.record(
            session,
            "site.created",
            actor=actor,
            site_id=site.id,
            target=f"site:{site.code}",
            address=address,
            name=site.name,
            timezone=site.timezone,
        )

    return site


# Site settings, set by administrators


@dataclass
class SiteSettings:
    """What an administrator sets about a site; pickup rules are set elsewhere."""

    name: str
    timezone: str
    idle_seconds: int
    verification_mode: str
    badge_size: str
    badge_valid_hours: int
    driver_overdue_hours: int
    languages: str
    photo_retention_days: int
    log_retention_years: int


class SettingsError(ValueError):
    """Settings refused: `errors` maps each refused setting to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def settings_of(site: Site) -> SiteSettings:
    return SiteSettings(**{f.name: getattr(site, f.name) for f in fields(SiteSettings)})


def check_languages(value: str) -> str:
    """The kiosk's languages as "en,es": known codes, each once, the default first."""
    codes = [code.strip().lower() for code in (value or "").split(",") if code.strip()]
    if not codes:
        raise TextError("Choose at least one language for the kiosk.")

    unknown = [code for code in codes if code not in KIOSK_LANGUAGES]
    if unknown:
        raise TextError(f"The kiosk is not translated into {', '.join(unknown)}.")

    if len(set(codes)) != len(codes):
        raise TextError("Name each language once.")

    return ",".join(codes)


def _check_range(value: int, low: int, high: int, message: str) -> int:
    if not isinstance(value, int) or not low <= value <= high:
        raise TextError(message)

    return value


def check_settings(wanted: SiteSettings) -> SiteSettings:
    """Every setting checked; a SettingsError names each one refused."""
    # pickups imports this module (through appointments), so its limits are read
    # here rather than at import time.
    from gatekeeper import pickups

    low, high = IDLE_LIMITS
    overdue_low, overdue_high = pickups.OVERDUE_LIMITS
    checks = {
        "name": lambda v: clean_text(v, label="Site name", max_length=120),
        "timezone": lambda v: check_timezone((v or "").strip()),
        "idle_seconds": lambda v: _check_range(
            v, low, high, f"The kiosk resets after {low} to {high} seconds idle."
        ),
        "verification_mode": lambda v: _choice(
            v, VERIFICATION_MODES, "Choose attended or self-service verification."
        ),
        "badge_size": lambda v: _choice(v, badges.SIZES, "Choose a badge size."),
        "badge_valid_hours": lambda v: _check_range(
            v,
            1,
            visitor_types.MAX_VALID_HOURS,
            f"A badge is valid 1 to {visitor_types.MAX_VALID_HOURS} hours.",
        ),
        "driver_overdue_hours": lambda v: _check_range(
            v,
            overdue_low,
            overdue_high,
            f"A driver is flagged after {overdue_low} to {overdue_high} hours.",
        ),
        "languages": check_languages,
    }
    values, errors = {}, {}
    for name, check in checks.items():
        try:
            values[name] = check(getattr(wanted, name))
        except TextError as error:
            errors[name] = str(error)

    # Each retention setting is checked beside the least valid value of the other,
    # so that each message lands on its own field.
    photo_days, log_years = wanted.photo_retention_days, wanted.log_retention_years
    for name, pair in (
        ("photo_retention_days", (photo_days, retention.MIN_LOG_YEARS)),
        ("log_retention_years", (retention.MIN_PHOTO_DAYS, log_years)),
    ):
        try:
            if not all(isinstance(value, int) for value in pair):
                raise ValueError("Enter a whole number.")

            retention.check_settings(*pair)
        except ValueError as error:
            errors[name] = str(error)

    if errors:
        raise SettingsError(errors)

    return SiteSettings(
        **values, photo_retention_days=photo_days, log_retention_years=log_years
    )


def _choice(value: str, allowed, message: str) -> str:
    if value not in allowed:
        raise TextError(message)

    return value


def update_settings(
    session: Session,
    site: Site,
    wanted: SiteSettings,
    *,
    actor: User,
    address: str = "",
) -> dict[str, tuple[object, object]]:
    """Apply checked settings to a site, audited with the values before and after.

    Returns what changed, setting by setting; nothing is changed or audited when a
    setting is refused or when every one is as it was.
    """
    checked = check_settings(wanted)
    changed = {}
    for setting in fields(SiteSettings):
        before, after = getattr(site, setting.name), getattr(checked, setting.name)
        if before != after:
            changed[setting.name] = (before, after)
            setattr(site, setting.name, after)

    if changed:
        audit.record(
            session,
            "site.settings_changed",
            actor=actor,
            site_id=site.id,
            target=f"site:{site.code}",
            address=address,
            before={name: old for name, (old, _new) in changed.items()},
            after={name: new for name, (_old, new) in changed.items()},
        )

    return changed


# The host directory


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


def host_by_email(session: Session, site_id: int, email: str) -> Host | None:
    """The site's host with this email, whatever its case: one person, one row."""
    query = select(Host).where(
        Host.site_id == site_id, func.lower(Host.email) == email.strip().lower()
    )
    return session.scalars(query.order_by(Host.id)).first()


def add_directory_host(
    session: Session,
    site: Site,
    *,
    name: str,
    email: str,
    department: str = "",
    actor: User,
    address: str = "",
) -> Host:
    """Add a host from the console, refusing an email the directory already has."""
    email = check_email(email)
    if host_by_email(session, site.id, email) is not None:
        raise TextError(f"The directory already has a host with the email {email}.")

    host = add_host(session, site, name=name, email=email, department=department)
    audit.record(
        session,
        "host.added",
        actor=actor,
        site_id=site.id,
        target=f"host:{host.id}",
        address=address,
        name=host.name,
        email=host.email,
    )
    return host


def set_host_active(
    session: Session, host: Host, active: bool, *, actor: User, address: str = ""
) -> bool:
    """Take a host off the kiosk's list, or put one back; False when already so.

    A host is never deleted: visits and invitations name them, and the log keeps
    the name as it was.
    """
    if host.active == active:
        return False

    host.active = active
    audit.record(
        session,
        "host.reactivated" if active else "host.deactivated",
        actor=actor,
        site_id=host.site_id,
        target=f"host:{host.id}",
        address=address,
        email=host.email,
    )
    return True


def directory(session: Session, site_id: int) -> list[Host]:
    """Every host of a site, active ones first, by name."""
    query = (
        select(Host)
        .where(Host.site_id == site_id)
        .order_by(Host.active.desc(), Host.name, Host.id)
    )
    return list(session.scalars(query))


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
