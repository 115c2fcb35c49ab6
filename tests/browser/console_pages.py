"""Every console page, for the browser walks that check them all: one site with a
full history whose free text holds script and markup, and the address of each
page the console serves, read from its route table.

The history is made through the domain layer (gatekeeper/*). Where a validator
refuses markup (names, truck numbers, seals), the value is written into the
stored row afterwards: output escaping must hold for whatever a row holds, from an
import, an older release or a corrected record, not only for what today's forms
let in.
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import url_for
from sqlalchemy import select

from admin.app import create_app as create_console
from gatekeeper import (
    accounts,
    appointments,
    cases,
    integrity,
    invitations,
    kiosks,
    mail,
    mfa,
    reviews,
    roll_calls,
    screening,
    sites,
    visitor_types,
    visits,
)
from gatekeeper.db import make_engine, make_sessionmaker, utcnow
from gatekeeper.models import (
    ROLES,
    Appointment,
    BlockListEntry,
    Case,
    Exemption,
    Host,
    Invitation,
    Kiosk,
    OutboxMessage,
    Pickup,
    RollCall,
    RollCallMark,
    Site,
    User,
    Visit,
)
from kiosk.app import create_app as create_kiosk
from tests.browser.conftest import LiveServer
from tests.fixtures.apps import PASSWORD, PHOTO_KEY, Person, close
from tests.support import checkins, pickups
from tests.support.pickups import sign_in_page

# The shapes of markup a stored value may carry, each calling the page's hook
# window.__xss with its token if it ever runs; the elements carry data-xss, so an
# element that reached the DOM is found even where the CSP stopped its script.
SHAPES = (
    "<script data-xss>__xss('{t}')</script>",
    "<img src=x data-xss onerror=\"__xss('{t}')\">",
    "<svg data-xss onload=__xss('{t}')>",
    "\"'><b data-xss onclick=__xss('{t}')>{t}</b>",
    "javascript:__xss('{t}')",
    "{{{{7*7}}}}{{% print('{t}') %}} {t}",
)
# For columns of 20 characters: truck, trailer and seal numbers.
SHORT_SHAPES = ("<i data-xss>{t}</i>", '"><b data-xss>{t}')
# Tokens start with letters no page prints, so a token in a page's text is a value.
TOKEN_PREFIX = "qz"


class Payloads:
    """Hands out a payload per stored field, each with a token of its own."""

    def __init__(self):
        self.by_token: dict[str, tuple[str, str]] = {}

    def __call__(self, field_name: str, *, short: bool = False, words: str = "") -> str:
        """A payload for the field; words before it keep a name a name."""
        shapes = SHORT_SHAPES if short else SHAPES
        token = f"{TOKEN_PREFIX}{len(self.by_token) + 1:02d}"
        text = shapes[len(self.by_token) % len(shapes)].format(t=token)
        text = f"{words} {text}" if words else text
        self.by_token[token] = (field_name, text)
        return text

    def stamp(self, row, *columns: str, short: bool = False) -> None:
        """Write payloads straight into a stored row's columns."""
        for column in columns:
            name = f"{type(row).__name__}.{column}"
            setattr(row, column, self(name, short=short))


@dataclass
class Seeded:
    """The ids of the records the console's pages show, by what they are."""

    site_id: int
    visits: dict[str, int] = field(default_factory=dict)
    pickups: dict[str, int] = field(default_factory=dict)
    appointments: list[int] = field(default_factory=list)
    cases: list[int] = field(default_factory=list)
    reviews: list[int] = field(default_factory=list)
    roll_calls: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    badge_tokens: dict[str, str] = field(default_factory=dict)
    host_id: int = 0
    host_words: str = ""


def seed(db_sessions, site: Site, staff: dict[str, int], secret: str) -> tuple:
    """A site's full history, free text all payloads; returns (Seeded, Payloads).

    staff maps each role to the account that acts for it in the history (their
    names are payloads too); secret is the apps' SECRET_KEY, which signs badges.
    """
    make = Payloads()
    seeded = Seeded(site_id=site.id)
    with db_sessions.begin() as session:
        _site_setup(session, session.get(Site, site.id), staff, make, seeded)

    _visits(db_sessions, site, staff, make, seeded)
    _pickups(db_sessions, site, staff, make, seeded)
    with db_sessions.begin() as session:
        row = session.get(Site, site.id)
        _records(session, row, staff, make, seeded)
        for name, visit_id in seeded.visits.items():
            seeded.badge_tokens[name] = _token(session, visit_id, secret)

    integrity.verify_and_record(db_sessions, [site.id])
    with db_sessions.begin() as session:
        _stamp_stored_rows(session, site.id, make)

    return seeded, make


def _site_setup(session, site, staff, make, seeded) -> None:
    """Hosts, a visitor type, kiosks, carriers and accounts, named with payloads."""
    manager = session.get(User, staff["security_manager"])
    seeded.host_words = "Pat Quill"
    host = sites.add_host(
        session,
        site,
        name=seeded.host_words,
        email="pat.quill@main.example",
        department=make("Host.department"),
    )
    host.name = make("Host.name", words=seeded.host_words)
    session.flush()
    seeded.host_id = host.id
    visitor_types.save(
        session,
        site,
        code="contractor",
        label=make("VisitorType.label")[:60],
        label_es=make("VisitorType.label_es")[:60],
        escort_required=False,
        id_required=False,
        badge_valid_hours=8,
        actor=manager,
    )
    for words in ("Lobby", "Dock"):
        kiosks.create_kiosk(
            session, site, make("Kiosk.name", words=words)[:80], actor=manager
        )

    carrier = appointments.add_carrier(session, site, "Swift Lines", actor=manager)
    appointments.issue_key(session, carrier, actor=manager)
    make.stamp(carrier, "name")
    for role in ("front_desk", "guard"):
        user, _ = accounts.create_user(
            session,
            username=f"other{role.replace('_', '')}",
            display_name="Someone Else",
            role=role,
            sites=[site],
            email=f"other.{role}@main.example",
            actor=manager,
        )
        make.stamp(user, "display_name")
        seeded.users.append(user.id)

    screening.add_entry(
        session,
        site,
        kind="company",
        value=make("BlockListEntry.value", words="Shady Co"),
        aliases=make("BlockListEntry.aliases", words="Shady"),
        reason=make("BlockListEntry.reason"),
        actor=manager,
    )
    screening.add_entry(
        session,
        site,
        kind="person",
        value="Harold Held",
        reason=make("BlockListEntry.reason"),
        actor=manager,
    )
    screening.grant_exemption(
        session,
        site,
        person_name="Evan Exempt",
        company="Regular Supplies",
        note=make("Exemption.note"),
        actor=manager,
    )


def _visits(db_sessions, site, staff, make, seeded) -> None:
    """Visits in each state: on site, signed out, held, decided, exempt, waiting."""
    names = {
        "on_site": "Olive Onsite",
        "out": "Oscar Out",
        "held": "Harold Held",
        "approved": "Harold Held",
        "exempt": "Evan Exempt",
        "waiting": "Wanda Waiting",
        "closed": "Cleo Closed",
        "contractor": "Cora Contractor",
    }
    for state, name in names.items():
        visit = checkins.check_in_with_photos(
            db_sessions,
            site,
            name,
            kinds=("face", "id", "id_back") if state != "contractor" else ("face",),
            company="Regular Supplies" if state == "exempt" else "Acme Freight",
            visitor_type="contractor" if state == "contractor" else "visitor",
        )
        seeded.visits[state] = visit.id

    desk = staff["front_desk"]
    for state in ("on_site", "out", "closed"):
        checkins.admit(db_sessions, Visit(id=seeded.visits[state]), desk)

    with db_sessions.begin() as session:
        manager = session.get(User, staff["security_manager"])
        row = session.get(Visit, seeded.visits["approved"])
        visits.decide_hold(
            session, row, "approve", reason=make("hold.reason"), actor=manager
        )
        row = session.get(Visit, seeded.visits["on_site"])
        visits.set_escort(session, row, make("Visit.escort_name")[:120], actor=manager)
        visits.correct(
            session,
            row,
            column="company",
            value="Acme Freight Corrected",
            reason=make("correction.reason"),
            actor=manager,
        )
        row = session.get(Visit, seeded.visits["out"])
        visits.sign_out(
            session, site_id=site.id, badge_number=row.badge_number, actor=manager
        )
        row = session.get(Visit, seeded.visits["closed"])
        visits.close_visit(session, row, reason=make("close.reason"), actor=manager)


def _pickups(db_sessions, site, staff, make, seeded) -> None:
    """Pickups: waiting, on site, departed, refused, gone, and a seal mismatch."""
    guard = staff["guard"]
    plan = {
        "waiting": ("BOL-2001", "TX-1001"),
        "on_site": ("BOL-2002", "TX-1002"),
        "departed": ("BOL-1001", "TX-4411"),
        "mismatch": ("BOL-2004", "TX-1004"),
        "refused": ("BOL-2005", "TX-1005"),
        "left": ("BOL-2006", "TX-1006"),
    }
    for state, (reference, truck) in plan.items():
        appointment = pickups.add_appointment(
            db_sessions, site, reference=reference, truck_number=truck
        )
        seeded.appointments.append(appointment.id)
        pickup = pickups.arrive(
            db_sessions, site, reference=reference, truck_number=truck
        )
        seeded.pickups[state] = pickup.id
        if state not in ("waiting", "refused"):
            pickups.register(db_sessions, pickup.id, guard, decision=make("decision"))

    # One still to come, which the console may change.
    upcoming = pickups.add_appointment(db_sessions, site, reference="BOL-3001")
    seeded.appointments.append(upcoming.id)
    pickups.depart(db_sessions, seeded.pickups["departed"], guard)
    outcome = pickups.depart(
        db_sessions,
        seeded.pickups["mismatch"],
        guard,
        seal_number=pickups.OTHER_SEAL,
        seal_confirmation=pickups.OTHER_SEAL,
    )
    assert not outcome.departed, "the other seal should have opened a case"
    with db_sessions.begin() as session:
        guard_row = session.get(User, guard)
        manager = session.get(User, staff["security_manager"])
        from gatekeeper import pickups as domain

        domain.refuse(
            session,
            session.get(Pickup, seeded.pickups["refused"]),
            reason=make("refuse.reason"),
            actor=guard_row,
        )
        domain.mark_left(
            session,
            session.get(Pickup, seeded.pickups["left"]),
            reason=make("left.reason"),
            actor=guard_row,
        )
        domain.correct(
            session,
            session.get(Pickup, seeded.pickups["on_site"]),
            column="trailer_number",
            value="53890",
            reason=make("pickup correction.reason"),
            actor=manager,
        )
        case = domain.waiting_seal_decision(session, seeded.pickups["mismatch"])
        cases.add_note(
            session,
            case,
            make("case.note"),
            actor=manager,
            notified=make("case.notified"),
        )
        seeded.cases.append(case.id)


def _records(session, site, staff, make, seeded) -> None:
    """Cases, invitations, mail, reviews and roll calls of the site."""
    manager = session.get(User, staff["security_manager"])
    guard = session.get(User, staff["guard"])
    case = cases.open_case(
        session,
        site_id=site.id,
        kind="other",
        summary=make("Case.summary"),
        actor=manager,
        visit_id=seeded.visits["on_site"],
        notified=make("Case.notified"),
    )
    cases.add_note(session, case, make("case.note"), actor=manager)
    cases.close(session, case, make("Case.resolution"), actor=manager)
    seeded.cases.append(case.id)
    today = invitations.site_today(site)
    for offset in (0, 1):
        invitation, _ = invitations.create(
            session,
            site,
            visitor_name="Ivy Invited",
            company="Invited Inc",
            email="ivy@guest.example",
            expected_on=today + timedelta(days=offset),
            host_id=seeded.host_id,
            actor=manager,
        )
        make.stamp(invitation, "visitor_name", "company")

    message = mail.queue(
        session,
        site_id=site.id,
        recipient="receiving@consignee.example",
        subject=make("OutboxMessage.subject"),
        body=make("OutboxMessage.body"),
    )
    message.last_error = make("OutboxMessage.last_error")
    review = reviews.record(
        session,
        site,
        reviews.Submission(
            kind="log_review",
            period_start=today - timedelta(days=30),
            period_end=today,
            sampled=make("Review.sampled"),
            findings=make("Review.findings"),
            corrective_action=make("Review.corrective_action"),
        ),
        actor=manager,
        now=utcnow(),
    )
    seeded.reviews.append(review.id)
    first, _ = roll_calls.start(session, site, actor=guard, note=make("RollCall.note"))
    marks = roll_calls.marks_of(session, first.id)
    roll_calls.mark(session, first, marks[0].id, actor=guard)
    roll_calls.close(session, first, actor=guard, note=make("RollCall.close note"))
    second, _ = roll_calls.start(session, site, actor=guard, note=make("RollCall.note"))
    roll_calls.mark(
        session, second, roll_calls.marks_of(session, second.id)[0].id, actor=guard
    )
    seeded.roll_calls += [first.id, second.id]


def _token(session, visit_id: int, secret: str) -> str:
    from gatekeeper import badges

    return badges.token_for(secret, session.get(Visit, visit_id))


def _stamp_stored_rows(session, site_id: int, make: Payloads) -> None:
    """Payloads in the stored columns that the validators keep markup out of."""
    session.get(Site, site_id).name = make("Site.name", words="Main")[:120]
    for visit in session.scalars(select(Visit).where(Visit.site_id == site_id)):
        visit.visitor_name = make("Visit.visitor_name", words=visit.visitor_name)
        make.stamp(visit, "company", "host_name", "id_verified_by", "departed_by")

    for pickup in session.scalars(select(Pickup).where(Pickup.site_id == site_id)):
        pickup.driver_name = make("Pickup.driver_name", words=pickup.driver_name)
        make.stamp(
            pickup, "carrier", "registered_by", "departed_by", "id_fallback_reason"
        )
        make.stamp(pickup, "reference", "truck_number", "trailer_number", short=True)
        if pickup.seal_number:
            make.stamp(pickup, "seal_number", short=True)

    for appointment in session.scalars(select(Appointment)):
        make.stamp(appointment, "carrier_name", "driver_name", "created_by")
        make.stamp(appointment, "truck_number", "seal_number", short=True)

    for case in session.scalars(select(Case)):
        make.stamp(case, "opened_by")
        if case.seal_number:
            make.stamp(case, "seal_number", short=True)

    for row in session.scalars(
        select(BlockListEntry).where(BlockListEntry.kind == "person")
    ):
        make.stamp(row, "added_by")

    for row in session.scalars(select(Exemption)):
        make.stamp(row, "company", "granted_by")

    for row in session.scalars(select(RollCall)):
        make.stamp(row, "started_by")

    for row in session.scalars(select(RollCallMark)):
        row.person = make("RollCallMark.person", words=row.person)

    for row in session.scalars(select(Invitation)):
        make.stamp(row, "created_by")

    for row in session.scalars(select(User).where(User.username.like("other%"))):
        make.stamp(row, "display_name")

    for row in session.scalars(select(Host).where(Host.site_id == site_id)):
        if TOKEN_PREFIX not in row.department:
            make.stamp(row, "department")

    for row in session.scalars(select(OutboxMessage)):
        if TOKEN_PREFIX not in row.subject:
            make.stamp(row, "subject")


# Console routes that answer with something other than a page, and why the walk
# leaves them out; every other GET route must have an address in the walk.
NOT_PAGES = {
    "static": "stylesheets, scripts and images",
    "console.index": "a redirect to the role's first page",
    "console.healthz": "JSON for the load balancer",
    "auth.enrolment_qr": "an SVG image of the enrolment QR code",
    "badges.pdf": "a PDF of the badge",
    "gate.pass_pdf": "a PDF of the gate pass",
    "gate.photo": "a JPEG photo",
    "photos.image": "a JPEG photo",
    "log_review.export_visits": "a CSV export",
    "log_review.export_pickups": "a CSV export",
    "front_desk.queue_data": "JSON that desk-queue.js writes as text on /desk/",
    "roster.roll_call_marks": "JSON that roster-roll-call.js writes as text",
}
# Pages met on the way in, walked by signing in rather than by address.
SIGN_IN_PAGES = ("auth.login", "auth.second_factor", "auth.enrol_mfa")
# Who views a page that several roles may see: the role seeing most of it.
ROLE_ORDER = ("security_manager", "guard", "front_desk", "administrator")


@dataclass(frozen=True)
class Page:
    """One console page to walk: its endpoint, address and who signs in to see it."""

    endpoint: str
    path: str
    role: str


def arguments(seeded: Seeded) -> dict[str, list[dict]]:
    """The values of each parameterised route's parameters, from the seeded records."""
    return {
        "sites_admin.settings": [{"site_id": seeded.site_id}],
        "sites_admin.hosts": [{"site_id": seeded.site_id}],
        "users.edit": [{"user_id": user_id} for user_id in seeded.users],
        "badges.reprint": [
            {"visit_id": seeded.visits[k]} for k in ("on_site", "contractor", "exempt")
        ],
        "cases.show": [{"case_id": case_id} for case_id in seeded.cases],
        "gate.register": [{"pickup_id": seeded.pickups["waiting"]}],
        "gate.depart": [
            {"pickup_id": seeded.pickups[k]} for k in ("on_site", "mismatch")
        ],
        "gate.pass_page": [{"pickup_id": seeded.pickups["departed"]}],
        "pickup_log.show": [{"pickup_id": p} for p in seeded.pickups.values()],
        "records.correct_visit": [{"visit_id": seeded.visits["on_site"]}],
        "records.correct_pickup": [{"pickup_id": seeded.pickups["on_site"]}],
        "appointments.edit": [{"appointment_id": a} for a in seeded.appointments[-2:]],
        "reviews.show": [{"review_id": review_id} for review_id in seeded.reviews],
        "roster.roll_call": [{"roll_call_id": r} for r in seeded.roll_calls],
        "visits.show": [{"visit_id": v} for v in seeded.visits.values()],
    }


def console_pages(app, seeded: Seeded) -> tuple[list[Page], list[str]]:
    """Every page of the console's route table with its addresses, and the GET
    routes that have none (a new page the walk does not know yet)."""
    values = arguments(seeded)
    pages, unknown = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        endpoint = rule.endpoint
        if "GET" not in rule.methods or endpoint in NOT_PAGES:
            continue

        if endpoint in SIGN_IN_PAGES:
            continue

        allowed = app.view_functions[endpoint].allowed
        role = next((r for r in ROLE_ORDER if r in allowed), "security_manager")
        if not rule.arguments:
            pages.append(Page(endpoint, rule.rule, role))
            continue

        if endpoint not in values:
            unknown.append(f"{rule.rule} ({endpoint})")
            continue

        with app.test_request_context():
            for each in values[endpoint]:
                pages.append(Page(endpoint, url_for(endpoint, **each), role))

    return pages, unknown


def guard_pages(app, pages: list[Page]) -> list[Page]:
    """The pages a guard reaches, to walk again as a guard on a phone."""
    return [
        Page(page.endpoint, page.path, "guard")
        for page in pages
        if "guard" in app.view_functions[page.endpoint].allowed
    ]


@dataclass
class SeededConsole:
    """Both apps served on one seeded site, and who may sign in to them."""

    console_app: object
    console_url: str
    kiosk_url: str
    people: dict[str, Person]
    seeded: Seeded
    payloads: Payloads
    enrolment_code: str
    # A security manager who has not enrolled a second factor yet.
    newcomer: Person
    # Each role's signed-in cookies: a second factor's code is taken only once.
    states: dict[str, dict] = field(default_factory=dict)

    def context(self, browser, role: str, **options):
        """A new browser context signed in as the role; each role signs in once."""
        if role not in self.states:
            context = browser.new_context()
            sign_in_page(context.new_page(), self.console_url, self.people[role])
            self.states[role] = context.storage_state()
            context.close()

        context = browser.new_context(storage_state=self.states[role], **options)
        context.add_init_script(NO_PRINT)
        return context


@contextmanager
def seeded_console(sqlite_template, folder: Path) -> Iterator[SeededConsole]:
    """Seed a copy of the migrated database and serve both apps on it."""
    database = folder / "gatekeeper.sqlite3"
    shutil.copyfile(sqlite_template, database)
    settings = {
        "GATEKEEPER_ENV": "testing",
        "INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "PHOTO_KEY": PHOTO_KEY,
        "COOKIE_SECURE": False,
        "LOG_LEVEL": "WARNING",
    }
    engine = make_engine(settings["DATABASE_URL"])
    db_sessions = make_sessionmaker(engine)
    with db_sessions.begin() as session:
        site = sites.create_site(session, code="main", name="Main", timezone="UTC")
        sites.add_host(session, site, name="Ana López", email="ana@main.example")

    people = {role: _account(db_sessions, site, role) for role in ROLES}
    newcomer = _account(db_sessions, site, "security_manager", enrol=False)
    seeded, payloads = seed(
        db_sessions,
        site,
        {role: person.id for role, person in people.items()},
        settings["SECRET_KEY"],
    )
    with db_sessions.begin() as session:
        lobby = session.scalars(select(Kiosk).order_by(Kiosk.id)).first()
        code = kiosks.issue_code(lobby)
        session.get(User, people["administrator"].id).display_name = payloads(
            "User.display_name (signed in)", words="Ada"
        )

    console_app = create_console(settings)
    kiosk_app = create_kiosk(settings)
    try:
        with LiveServer(console_app) as console, LiveServer(kiosk_app) as kiosk:
            yield SeededConsole(
                console_app,
                console.url,
                kiosk.url,
                people,
                seeded,
                payloads,
                code,
                newcomer,
            )
    finally:
        close(console_app)
        close(kiosk_app)
        engine.dispose()


def _account(db_sessions, site: Site, role: str, *, enrol: bool = True) -> Person:
    """An account of the role ready to sign in, its second factor enrolled if it
    needs one (unless enrol is False)."""
    username = f"{role.replace('_', '')}{'' if enrol else 'new'}"
    with db_sessions.begin() as session:
        user, _ = accounts.create_user(
            session,
            username=username,
            display_name=f"Test {role.replace('_', ' ').title()}",
            role=role,
            sites=[session.get(Site, site.id)],
            password=PASSWORD,
            actor="test",
        )
        user.must_change_password = False
        secret = None
        if user.needs_mfa and enrol:
            secret = mfa.new_secret()
            user.totp_secret = mfa.seal_secret(PHOTO_KEY, secret)
            user.mfa_enrolled_at = utcnow()

        return Person(user.id, user.username, role, PASSWORD, secret)


# The badge page prints itself on load; a walk has no printer.
NO_PRINT = "window.print = () => {};"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def walk(
    browser, console: SeededConsole, pages, look, *, viewport=DESKTOP, prepare=None
):
    """Open each page signed in as its role and hand it to look(page, Page).

    Each role has a context of its own, which prepare(context) may set up; a page
    that answers with an error or sends the browser elsewhere fails the walk.
    """
    problems = []
    for role in dict.fromkeys(page.role for page in pages):
        context = console.context(browser, role, viewport=viewport)
        if prepare:
            prepare(context)

        tab = context.new_page()
        for each in (page for page in pages if page.role == role):
            response = tab.goto(console.console_url + each.path)
            if response.status != 200 or not tab.url.endswith(each.path):
                problems.append(f"{role} {each.path}: {response.status} at {tab.url}")
                continue

            look(tab, each)

        context.close()

    return problems
