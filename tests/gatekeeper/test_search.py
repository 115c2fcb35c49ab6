"""Searching the visitor log and the pickup log: prefixes in any case, the badge
number whole, states, the site's days, and pages that follow one another by key."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text, update

from gatekeeper import pickups, screening, seals, search, sites, visits
from gatekeeper.models import Pickup, Site, User, Visit
from gatekeeper.search import Criteria, Cursor, SearchError

# A Tuesday in March 2026: Chicago keeps daylight time (UTC-5) from the 8th.
NOW = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
DAY = NOW.date()


def visits_criteria(**options) -> Criteria:
    return Criteria(log="visits", first=DAY, last=DAY, **options)


def pickups_criteria(**options) -> Criteria:
    return Criteria(log="pickups", first=DAY, last=DAY, **options)


def found(sessions, site_id, criteria, **options) -> list[str]:
    with sessions() as s:
        page = search.search(s, s.get(Site, site_id), criteria, now=NOW, **options)
        return [_label(row) for row in page.rows]


def _label(row) -> str:
    return row.visitor_name if isinstance(row, Visit) else row.driver_name


def at(s, model, row_id: int, moment: datetime, **values) -> None:
    """Move a row's arrival (and a visit's badge validity with it) to a moment."""
    if model is Visit:
        values.setdefault("valid_until", moment + timedelta(hours=12))

    s.execute(
        update(model).where(model.id == row_id).values(arrived_at=moment, **values)
    )


@pytest.fixture
def visitors(sessions, arrive):
    """Four visits of the day, an hour apart, the first the oldest."""
    people = [
        ("Ada Lovelace", "Analytical Engines"),
        ("adam Smith", "Wealth & Nations"),
        ("Ángel Ruiz", "100% Cotton_Goods"),
        ("Bob Stone", "O'Brien Haulage"),
    ]
    ids = {}
    with sessions.begin() as s:
        for hour, (name, company) in enumerate(people):
            visit = arrive(s, name, company=company)
            at(s, Visit, visit.id, NOW - timedelta(hours=4 - hour))
            ids[name] = visit.id

    return ids


def test_a_name_matches_by_its_start_in_any_case(sessions, site, visitors):
    assert found(sessions, site.id, visits_criteria(terms={"name": "ADA"})) == [
        "adam Smith",
        "Ada Lovelace",
    ]
    assert found(sessions, site.id, visits_criteria(terms={"name": "ada l"})) == [
        "Ada Lovelace"
    ]
    assert found(sessions, site.id, visits_criteria(terms={"name": "Lovelace"})) == []


def test_an_accented_start_is_found(sessions, site, visitors):
    assert found(sessions, site.id, visits_criteria(terms={"name": "Án"})) == [
        "Ángel Ruiz"
    ]


def test_what_a_person_types_is_matched_literally_never_as_a_pattern(
    sessions, site, visitors
):
    # "%" and "_" are wildcards to LIKE, and a quote ends an SQL string.
    for company, expected in [
        ("100% Cotton_", ["Ángel Ruiz"]),
        ("100_", []),
        ("%", []),
        ("o'brien", ["Bob Stone"]),
        ("' OR 1=1 --", []),
    ]:
        criteria = visits_criteria(terms={"company": company})
        assert found(sessions, site.id, criteria) == expected, company


def test_the_host_and_the_badge_number_narrow_a_search(sessions, site, host, visitors):
    with sessions() as s:
        badge = s.get(Visit, visitors["Bob Stone"]).badge_number

    by_badge = visits_criteria(terms={"badge": badge})
    by_host = visits_criteria(terms={"host": "grace", "name": "a"})

    assert found(sessions, site.id, by_badge) == ["Bob Stone"]
    assert found(sessions, site.id, by_host) == ["adam Smith", "Ada Lovelace"]
    assert found(sessions, site.id, visits_criteria(terms={"host": "bob"})) == []


def test_the_days_are_the_sites_days(sessions, site, arrive):
    with sessions.begin() as s:
        late = arrive(s, "Late Evening")
        # 04:00 UTC on the 10th is 23:00 on the 9th in Chicago.
        at(s, Visit, late.id, datetime(2026, 3, 10, 4, 0, tzinfo=UTC))

    ninth = Criteria(log="visits", first=date(2026, 3, 9), last=date(2026, 3, 9))
    tenth = Criteria(log="visits", first=date(2026, 3, 10), last=date(2026, 3, 10))

    assert found(sessions, site.id, ninth) == ["Late Evening"]
    assert found(sessions, site.id, tenth) == []


def test_another_sites_visits_are_never_found(sessions, site, visitors, arrive):
    with sessions.begin() as s:
        other = sites.create_site(s, code="yard-b", name="Yard B", timezone="UTC")
        sites.add_host(s, other, name="Otto Host", email="otto@example.com")

    assert found(sessions, other.id, visits_criteria(terms={"name": "ada"})) == []


def test_pages_follow_one_another_newest_first_without_gap_or_repeat(
    sessions, site, arrive
):
    with sessions.begin() as s:
        for number in range(7):
            visit = arrive(s, f"Visitor {chr(65 + number)}")
            # Two pairs share an arrival time: the id orders them.
            at(s, Visit, visit.id, NOW - timedelta(minutes=10 * (number // 2)))

    seen, cursor, pages = [], None, 0
    while True:
        with sessions() as s:
            page = search.search(
                s,
                s.get(Site, site.id),
                visits_criteria(),
                now=NOW,
                after=cursor,
                size=3,
            )
            seen += [row.visitor_name for row in page.rows]

        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert pages == 3
    # Newest first; within one arrival time, the later record first.
    assert seen == [f"Visitor {letter}" for letter in "BADCFEG"]


def test_a_page_token_reads_back_and_a_forged_one_is_refused():
    cursor = Cursor(datetime(2026, 3, 10, 4, 0, 0, 123456, tzinfo=UTC), 42)

    assert Cursor.parse(cursor.token()) == cursor
    for token in ("", "12", "a.1", "1.b", "1.-2", "1;DROP TABLE visits.1", "9" * 30):
        with pytest.raises(SearchError):
            Cursor.parse(token)


@pytest.fixture
def visits_in_each_state(sessions, site, arrive, guard):
    """On site (unverified), overdue, signed out, held, exempt, verified."""
    names = {}
    with sessions.begin() as s:
        row = s.get(Site, site.id)
        screening.add_entry(s, row, kind="person", value="Held Person", actor="test")
        screening.grant_exemption(s, row, person_name="Exempt Person", actor="test")

    with sessions.begin() as s:
        for name in ("On Site", "Over Due", "Signed Out", "Held Person"):
            names[name] = arrive(s, name).id

        names["Exempt Person"] = arrive(s, "Exempt Person", id_type="").id
        names["Verified Person"] = arrive(s, "Verified Person").id
        for visit_id in names.values():
            at(s, Visit, visit_id, NOW - timedelta(hours=2))

        at(s, Visit, names["Over Due"], NOW - timedelta(hours=2), valid_until=NOW)
        visit = s.get(Visit, names["Verified Person"])
        visits.verify_id(s, visit, "passport", actor=s.get(User, guard.id))
        visits.sign_out(
            s,
            site_id=site.id,
            badge_number=s.get(Visit, names["Signed Out"]).badge_number,
            actor=s.get(User, guard.id),
        )

    return names


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            "on_site",
            {"On Site", "Over Due", "Held Person", "Exempt Person", "Verified Person"},
        ),
        ("overdue", {"Over Due"}),
        ("signed_out", {"Signed Out"}),
        ("held", {"Held Person"}),
        ("exempt", {"Exempt Person"}),
        ("unverified", {"On Site", "Over Due", "Signed Out", "Held Person"}),
    ],
)
def test_each_state_of_a_visit_is_a_filter(
    sessions, site, visits_in_each_state, state, expected
):
    later = NOW + timedelta(minutes=1)
    with sessions() as s:
        page = search.search(
            s, s.get(Site, site.id), visits_criteria(state=state), now=later
        )

    assert {row.visitor_name for row in page.rows} == expected


@pytest.fixture
def drivers(sessions, site, guard):
    """A driver waiting at the gate, one on site for hours, one departed."""
    ids = {}
    rows = [
        ("Rosa Díaz", "Swift Lines", "TX-4411", "53889"),
        ("Omar Haddad", "Prime Freight", "IL 902", "TRL-77"),
        ("Li Wei", "Swift Lines", "OH 55", "RT-1"),
    ]
    for name, carrier, truck, trailer in rows:
        with sessions.begin() as s:
            driver = pickups.Driver("REF-1", name, carrier, truck, trailer)
            pickup = pickups.arrive(
                s, site=s.get(Site, site.id), kiosk=None, driver=driver
            )
            ids[name] = pickup.id

    for name in ("Omar Haddad", "Li Wei"):
        with sessions.begin() as s:
            pickups.register(
                s,
                s.get(Pickup, ids[name]),
                actor=s.get(User, guard.id),
                id_type="passport",
                decision="No appointment; walk-in taken",
            )

    with sessions.begin() as s:
        pickup = s.get(Pickup, ids["Li Wei"])
        pickups.depart(
            s,
            pickup,
            pickups.Departure(
                seal_number="UL1234567",
                seal_confirmation="UL1234567",
                trailer_number="RT-1",
                vvtt=dict.fromkeys(seals.VVTT_STEPS, True),
            ),
            actor=s.get(User, guard.id),
        )
        at(s, Pickup, ids["Rosa Díaz"], NOW - timedelta(hours=1))
        at(s, Pickup, ids["Omar Haddad"], NOW - timedelta(hours=5))
        at(s, Pickup, ids["Li Wei"], NOW - timedelta(hours=3))

    return ids


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        ({"name": "rosa d"}, ["Rosa Díaz"]),
        ({"carrier": "swift"}, ["Rosa Díaz", "Li Wei"]),
        ({"truck": "tx-44"}, ["Rosa Díaz"]),
        ({"trailer": "trl"}, ["Omar Haddad"]),
        ({"seal": "ul123"}, ["Li Wei"]),
        ({"seal": "ul9"}, []),
    ],
)
def test_a_pickup_is_found_by_driver_carrier_truck_trailer_or_seal(
    sessions, site, drivers, terms, expected
):
    assert found(sessions, site.id, pickups_criteria(terms=terms)) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("on_site", {"Rosa Díaz", "Omar Haddad"}),
        ("overdue", {"Omar Haddad"}),
        ("signed_out", {"Li Wei"}),
        ("unverified", {"Rosa Díaz"}),
    ],
)
def test_each_state_of_a_pickup_is_a_filter(sessions, site, drivers, state, expected):
    assert set(found(sessions, site.id, pickups_criteria(state=state))) == expected


@pytest.mark.parametrize(
    "criteria",
    [
        Criteria(log="everything", first=DAY, last=DAY),
        Criteria(log="visits", first=DAY, last=DAY - timedelta(days=1)),
        Criteria(log="visits", first=DAY, last=DAY, terms={"seal": "UL1"}),
        Criteria(log="pickups", first=DAY, last=DAY, terms={"badge": "123456"}),
        Criteria(log="pickups", first=DAY, last=DAY, state="held"),
        Criteria(log="visits", first=DAY, last=DAY, terms={"name": ""}),
    ],
)
def test_criteria_no_form_makes_are_refused(sessions, site, criteria):
    with sessions() as s, pytest.raises(SearchError):
        search.search(s, s.get(Site, site.id), criteria, now=NOW)


def test_a_prefix_search_can_be_served_by_the_index_it_names(sessions, site, visitors):
    """The search's conditions are those the suggested expression index serves: with
    the index on arrival times out of the way, a name search reads that index.

    Everything happens in one transaction rolled back at the end, so the shared
    test database keeps its schema.
    """
    with sessions() as s:
        dialect = s.get_bind().dialect.name
        s.execute(text("DROP INDEX ix_visits_site_arrived"))
        for statement in search.index_statements(dialect):
            # A migration may have added them already.
            s.execute(text(statement.replace("INDEX", "INDEX IF NOT EXISTS", 1)))

        query = search.matching(
            s,
            s.get(Site, site.id),
            visits_criteria(terms={"name": "ada"}),
            now=NOW,
            columns=[Visit.id],
        )
        compiled = query.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
        if dialect == "postgresql":
            # A handful of rows makes reading the table cheaper; forbid that, to
            # see whether the index can serve the query at all.
            s.execute(text("SET LOCAL enable_seqscan = off"))
            plan = s.execute(text(f"EXPLAIN {compiled}")).scalars().all()
        else:
            explained = s.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            plan = [row[-1] for row in explained]

        s.rollback()

    assert any("ix_visits_site_visitor_name_key" in line for line in plan), plan


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_takes_a_pages_keys_from_the_prefix_index_alone(
    sessions, site, visitors
):
    """On PostgreSQL a prefix search reads the page's keys by an index-only scan of
    the prefix index, which carries arrival time and id (migration 0011), and
    reads from the table only the rows of the page. As above, in one transaction
    rolled back, with the index on arrival times out of the way."""
    with sessions() as s:
        s.execute(text("DROP INDEX ix_visits_site_arrived"))
        s.execute(text("SET LOCAL enable_seqscan = off"))
        s.execute(text("SET LOCAL enable_bitmapscan = off"))
        query = search.matching(
            s,
            s.get(Site, site.id),
            visits_criteria(terms={"name": "ada"}),
            now=NOW,
            columns=[Visit.id, Visit.arrived_at],
        ).limit(51)
        compiled = query.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
        plan = "\n".join(s.execute(text(f"EXPLAIN {compiled}")).scalars())
        s.rollback()

    assert "Index Only Scan using ix_visits_site_visitor_name_key" in plan, plan
