"""A demo site for trying the product on one machine (`make run`), safe to repeat.

Running it again adds only what is missing. One-time secrets are stored only as
hashes, so a repeat run cannot show the old ones: it issues a fresh admin password
while the admin has never signed in, and a fresh enrolment code while the kiosk
waits for enrolment.
"""

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatekeeper import accounts, audit, kiosks, migrate, sites
from gatekeeper.config import Settings, write_instance_secrets
from gatekeeper.db import make_engine, make_sessionmaker
from gatekeeper.models import Host, Kiosk, Site, User

logger = logging.getLogger(__name__)

SITE_CODE = "demo"
SITE_NAME = "Demo Warehouse"
SITE_TIMEZONE = "America/Chicago"
KIOSK_NAME = "Lobby kiosk"
ADMIN_USERNAME = "admin"
ADMIN_NAME = "Demo Administrator"
ADMIN_EMAIL = "admin@example.com"

# The staff who work the demo site besides the administrator, who sees no visitor's
# photos: a front desk that verifies IDs and a guard who checks badges. Security
# managers need a second factor, so the administrator makes one when wanted.
STAFF = (
    ("desk", "Demo Front Desk", "front_desk"),
    ("guard", "Demo Guard", "guard"),
)

# Names from several scripts, so the kiosk's host list shows them from the start.
HOSTS = (
    ("Zoë Fernández", "zoe.fernandez@example.com", "Receiving"),
    ("Łukasz Wiśniewski", "lukasz.wisniewski@example.com", "Shipping"),
    ("Nguyễn Thị Hương", "huong.nguyen@example.com", "Quality"),
    ("Søren Ødegård", "soren.odegard@example.com", "Security"),
    ("Renée O’Brien", "renee.obrien@example.com", "Front office"),
)


class DemoError(RuntimeError):
    """The demo cannot be set up here; the message is for the person running it."""


@dataclass
class DemoResult:
    """What a run of the demo set-up found, made, and the one-time secrets it issued."""

    site: Site
    site_created: bool
    hosts_added: int
    hosts_total: int
    kiosk: Kiosk
    enrolment_code: str | None
    admin: User
    admin_password: str | None
    # username -> one-time password, or None for an account already signed in to.
    staff_passwords: dict[str, str | None]


def set_up(settings: Settings, *, actor: str) -> DemoResult:
    """Write the instance secrets, migrate the database, then seed the demo data."""
    if settings.is_production:
        raise DemoError(
            "The demo set-up is for development: it would add a fictitious site to a "
            "real log. Set GATEKEEPER_ENV=development to use it."
        )

    write_instance_secrets(settings.instance)
    engine = make_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        with make_sessionmaker(engine).begin() as session:
            return seed(session, actor=actor)
    finally:
        engine.dispose()


def seed(session: Session, *, actor: str) -> DemoResult:
    """Create the demo site, hosts, kiosk and admin where they are missing."""
    site = sites.site_by_code(session, SITE_CODE)
    site_created = site is None
    if site is None:
        site = sites.create_site(
            session, code=SITE_CODE, name=SITE_NAME, timezone=SITE_TIMEZONE
        )

    added = _add_missing_hosts(session, site)
    kiosk, code = _kiosk_with_code(session, site, actor=actor)
    admin, password = _user_with_password(
        session,
        site,
        (ADMIN_USERNAME, ADMIN_NAME, "administrator"),
        email=ADMIN_EMAIL,
        actor=actor,
    )
    staff = {
        username: _user_with_password(
            session, site, (username, name, role), actor=actor
        )[1]
        for username, name, role in STAFF
    }
    result = DemoResult(
        site=site,
        site_created=site_created,
        hosts_added=added,
        hosts_total=len(sites.active_hosts(session, site.id)),
        kiosk=kiosk,
        enrolment_code=code,
        admin=admin,
        admin_password=password,
        staff_passwords=staff,
    )
    logger.info("demo site ready: %d hosts added", added)
    return result


def _add_missing_hosts(session: Session, site: Site) -> int:
    known = set(session.scalars(select(Host.email).where(Host.site_id == site.id)))
    added = 0
    for name, email, department in HOSTS:
        if email in known:
            continue

        sites.add_host(session, site, name=name, email=email, department=department)
        added += 1

    return added


def _kiosk_with_code(
    session: Session, site: Site, *, actor: str
) -> tuple[Kiosk, str | None]:
    kiosk = session.scalar(
        select(Kiosk).where(Kiosk.site_id == site.id, Kiosk.name == KIOSK_NAME)
    )
    if kiosk is None:
        return kiosks.create_kiosk(session, site, KIOSK_NAME, actor=actor)

    if kiosk.state != "awaiting enrolment":
        return kiosk, None

    code = kiosks.issue_code(kiosk)
    audit.record(
        session,
        "kiosk.new_code",
        actor=actor,
        site_id=site.id,
        target=f"kiosk {kiosk.id} {kiosk.name}",
    )
    return kiosk, code


def _user_with_password(
    session: Session,
    site: Site,
    who: tuple[str, str, str],
    *,
    email: str = "",
    actor: str,
) -> tuple[User, str | None]:
    username, display_name, role = who
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return accounts.create_user(
            session,
            username=username,
            display_name=display_name,
            role=role,
            sites=[site],
            email=email,
            actor=actor,
        )

    if user.last_login_at is not None:
        return user, None

    return user, accounts.reset_password(session, user, actor=actor)
