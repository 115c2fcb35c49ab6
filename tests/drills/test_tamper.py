"""The tamper drill: someone with the database owner's rights edits, deletes,
inserts and reorders log entries and current-state rows with plain SQL.

`kiosk verify-log` must name each change; the console must then show security
managers and administrators of that site a red banner, and keep showing it until
the rows are put back and a security manager records what was done (CTPAT 4.5,
7.23). tests/gatekeeper/test_chain.py checks the verification of each kind of
change on its own; here the whole path is walked, and random changes anywhere in a
log must each be named where they happened.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from gatekeeper import chain, visits
from gatekeeper.cli import main as kiosk_command
from gatekeeper.db import make_engine, make_sessionmaker, utcnow
from gatekeeper.models import (
    AuditEvent,
    ChainHead,
    LogEntry,
    Pickup,
    Site,
    User,
    Visit,
)
from tests.drills.rig import seed_site, sizes
from tests.fixtures.apps import csrf_token, sign_in
from tests.support import pickups as pickup_steps

ENTRIES = LogEntry.__table__
HEADS = ChainHead.__table__
VISITS = Visit.__table__
PICKUPS = Pickup.__table__
# The SQLite triggers of migration 0002 that keep the log append-only.
SQLITE_TRIGGERS = ("log_entries_no_update", "log_entries_no_delete")
BANNER = "failed verification"


@contextmanager
def as_database_owner(connection) -> Iterator[None]:
    """Go around the append-only triggers as the database's owner can.

    On PostgreSQL the triggers are disabled for the change and enabled again, so
    nothing shows but the change; SQLite has no such switch, so they are dropped.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE log_entries DISABLE TRIGGER USER"))
        yield
        connection.execute(text("ALTER TABLE log_entries ENABLE TRIGGER USER"))
        return

    for trigger in SQLITE_TRIGGERS:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))

    yield


def at(site_id: int, seq: int):
    return (ENTRIES.c.site_id == site_id) & (ENTRIES.c.seq == seq)


def edit_body(db, site_id: int, seq: int) -> None:
    """Change what an entry says, keeping its JSON well formed."""
    entry = db.execute(select(ENTRIES).where(at(site_id, seq))).one()
    body = json.loads(entry.body)
    body["actor"] = "user:someone.else"
    db.execute(
        update(ENTRIES).where(at(site_id, seq)).values(body=chain.canonical(body))
    )


def edit_column(db, site_id: int, seq: int) -> None:
    """Change the actor column the log pages show, leaving the hashed body."""
    db.execute(update(ENTRIES).where(at(site_id, seq)).values(actor="user:nobody"))


def delete_entry(db, site_id: int, seq: int) -> None:
    db.execute(delete(ENTRIES).where(at(site_id, seq)))


def swap_entries(db, site_id: int, seq: int) -> None:
    """Swap an entry with the next one, through a free sequence number."""
    db.execute(update(ENTRIES).where(at(site_id, seq)).values(seq=-1))
    db.execute(update(ENTRIES).where(at(site_id, seq + 1)).values(seq=seq))
    db.execute(update(ENTRIES).where(at(site_id, -1)).values(seq=seq + 1))


def insert_entry(db, site_id: int, seq: int) -> None:
    """Insert a well-formed forged entry at `seq`, linked to the one before it, and
    move the later entries up to make room, as a careful forger would."""
    later = (ENTRIES.c.site_id == site_id) & (ENTRIES.c.seq >= seq)
    db.execute(update(ENTRIES).where(later).values(seq=-ENTRIES.c.seq))
    moved = (ENTRIES.c.site_id == site_id) & (ENTRIES.c.seq < 0)
    db.execute(update(ENTRIES).where(moved).values(seq=1 - ENTRIES.c.seq))
    previous = chain.GENESIS
    if seq > 1:
        previous = db.scalar(select(ENTRIES.c.entry_hash).where(at(site_id, seq - 1)))

    recorded_at = utcnow()
    fields = {
        "kind": "visit.id_verified",
        "subject_type": "visit",
        "subject_id": 1,
        "actor": "user:forger",
    }
    body = chain.canonical(
        {
            "site": site_id,
            "seq": seq,
            "kind": fields["kind"],
            "subject": ["visit", 1],
            "actor": fields["actor"],
            "at": chain.to_log_value(recorded_at),
            "set": {},
            "details": {},
        }
    )
    db.execute(
        insert(ENTRIES).values(
            site_id=site_id,
            seq=seq,
            recorded_at=recorded_at,
            body=body,
            prev_hash=previous,
            entry_hash=chain.entry_hash(previous, body),
            **fields,
        )
    )
    db.execute(
        update(HEADS).where(HEADS.c.site_id == site_id).values(seq=HEADS.c.seq + 1)
    )


# Random tampering: each kind, and where verification must say it happened.
CHAIN_TAMPERING = {
    "edit an entry's body": (edit_body, "altered"),
    "edit an entry's column": (edit_column, "altered"),
    "delete an entry": (delete_entry, "removed"),
    "swap two entries": (swap_entries, "reordered"),
    "insert a forged entry": (insert_entry, "inserted"),
}


@pytest.mark.parametrize("examples", sizes(30, 1000))
@pytest.mark.timeout(600)
def test_any_single_change_to_a_log_is_named_where_it_was_made(
    drill_database_url, examples, figures
):
    """Each example changes one entry or row in a transaction rolled back after."""
    # A log long enough that the examples do not run out of places to change.
    history = seed_site(drill_database_url, visitors=max(4, examples // 8))
    engine = make_engine(drill_database_url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        for visit_id in history.visit_ids[::2]:
            visit = session.get(Visit, visit_id)
            visits.sign_out(
                session,
                site_id=history.site_id,
                badge_number=visit.badge_number,
                actor="drill",
            )

    entries = len(history.visit_ids) + len(history.visit_ids[::2])
    tried = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        kind=st.sampled_from([*CHAIN_TAMPERING, "edit a visit row"]),
        seq=st.integers(1, entries),
        visitor=st.sampled_from(history.visit_ids),
    )
    def change_and_verify(kind: str, seq: int, visitor: int) -> None:
        if kind == "swap two entries":
            seq = min(seq, entries - 1)

        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                with as_database_owner(connection):
                    if kind == "edit a visit row":
                        connection.execute(
                            update(VISITS)
                            .where(VISITS.c.id == visitor)
                            .values(visitor_name="Eve Intruder")
                        )
                    else:
                        CHAIN_TAMPERING[kind][0](connection, history.site_id, seq)

                with Session(bind=connection) as session:
                    site = session.get(Site, history.site_id)
                    report = chain.verify_site(session, site)
            finally:
                transaction.rollback()

        if kind == "edit a visit row":
            assert report.chain_problem is None
            [problem] = report.state_problems
            assert problem.message.startswith(f"visit {visitor}: visitor_name is ")
        else:
            expected = CHAIN_TAMPERING[kind][1]
            assert report.chain_problem is not None, kind
            assert (report.chain_problem.kind, report.chain_problem.seq) == (
                expected,
                seq,
            ), (kind, report.chain_problem.message)

        tried.append(kind)

    try:
        change_and_verify()
        # The rollbacks left the log as it was.
        [report] = _reports(sessions)
        assert report.ok
    finally:
        engine.dispose()

    assert len(tried) >= examples // 2
    figures.add("random changes to a log named where they were made", len(tried))


def _reports(sessions) -> list[chain.Report]:
    with sessions() as session:
        return chain.verify_all(session)


# The end-to-end drill, on the apps' database.


@pytest.fixture
def app_settings(app_settings, drill_database_url):
    return {**app_settings, "DATABASE_URL": drill_database_url}


@pytest.fixture(autouse=True)
def _restore_logging():
    """The `kiosk` command configures the root logger; put it back after each test."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture
def verify_log(app_settings, tmp_path):
    """`kiosk verify-log` against the apps' database; returns its exit and output."""

    def run() -> tuple[int, str]:
        env = {
            "DATABASE_URL": app_settings["DATABASE_URL"],
            "GATEKEEPER_ENV": "testing",
            "INSTANCE_PATH": str(tmp_path / "cli-instance"),
        }
        result = CliRunner().invoke(kiosk_command, ["verify-log"], env=env)
        assert "Traceback" not in result.output
        return result.exit_code, result.output

    return run


@pytest.fixture
def logged_site(db_sessions, site, people, make_visit):
    """Six entries at the main site: two arrivals, a departure, and a driver's
    arrival, registration and departure. Returns the ids the drill changes."""
    first = make_visit(site, "Olga Berg")
    second = make_visit(site, "Sam Reyes")
    with db_sessions.begin() as session:
        visits.sign_out(
            session,
            site_id=site.id,
            badge_number=first.badge_number,
            actor=session.get(User, people["guard"].id),
        )

    pickup_steps.add_appointment(db_sessions, site)
    pickup = pickup_steps.on_site(db_sessions, site, people["guard"].id)
    pickup_steps.depart(db_sessions, pickup.id, people["guard"].id)
    return {"site_id": site.id, "visit_id": second.id, "pickup_id": pickup.id}


def edit_visit_row(db, ids) -> None:
    db.execute(
        update(VISITS)
        .where(VISITS.c.id == ids["visit_id"])
        .values(visitor_name="Eve Intruder")
    )


def delete_visit_row(db, ids) -> None:
    db.execute(delete(VISITS).where(VISITS.c.id == ids["visit_id"]))


def edit_pickup_row(db, ids) -> None:
    db.execute(
        update(PICKUPS)
        .where(PICKUPS.c.id == ids["pickup_id"])
        .values(seal_number="ZZ0000001")
    )


# Each kind of change, and what `kiosk verify-log` must print about it.
TAMPERING = {
    "edit an entry": (
        lambda db, ids: edit_body(db, ids["site_id"], 2),
        "chain problem: entry 2 altered",
    ),
    "delete an entry": (
        lambda db, ids: delete_entry(db, ids["site_id"], 3),
        "chain problem: entry 3 removed",
    ),
    "insert a forged entry": (
        lambda db, ids: insert_entry(db, ids["site_id"], 3),
        "chain problem: entry 3 was inserted",
    ),
    "swap two entries": (
        lambda db, ids: swap_entries(db, ids["site_id"], 2),
        "chain problem: entry 3 was moved to position 2",
    ),
    "edit a visit row": (
        edit_visit_row,
        "state problem: visit {visit_id}: visitor_name is 'Eve Intruder'",
    ),
    "delete a visit row": (
        delete_visit_row,
        "state problem: visit {visit_id} is in the log only",
    ),
    "edit a pickup row": (
        edit_pickup_row,
        "state problem: pickup {pickup_id}: seal_number is 'ZZ0000001'",
    ),
}
# The tables a repair puts back, and the column that identifies a row of each.
REPAIRED = {
    "log_entries": (ENTRIES, "id"),
    "chain_heads": (HEADS, "site_id"),
    "visits": (VISITS, "id"),
    "pickups": (PICKUPS, "id"),
}


def rows_as_backed_up(engine) -> dict[str, list[dict]]:
    """The rows a repair puts back, as a backup of this moment holds them."""
    with engine.connect() as connection:
        return {
            name: [dict(row._mapping) for row in connection.execute(select(table))]
            for name, (table, _key) in REPAIRED.items()
        }


def put_back(engine, saved: dict[str, list[dict]]) -> None:
    """Undo the change as a database administrator would, from the backup's rows:
    the entries replaced whole, the other rows updated or inserted again."""
    with engine.begin() as connection, as_database_owner(connection):
        connection.execute(delete(ENTRIES))
        connection.execute(insert(ENTRIES), saved["log_entries"])
        for name in ("chain_heads", "visits", "pickups"):
            table, key = REPAIRED[name]
            for row in saved[name]:
                match = table.c[key] == row[key]
                if connection.execute(select(table.c[key]).where(match)).first():
                    connection.execute(update(table).where(match).values(row))
                else:
                    connection.execute(insert(table).values(row))


def banner(client) -> bool:
    response = client.get("/account")
    assert response.status_code == 200
    return BANNER in response.get_data(as_text=True)


def resolve(client, note: str):
    return client.post(
        "/integrity/resolve",
        data={"note": note, "csrf_token": csrf_token(client, "/integrity/")},
    )


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_each_change_is_named_and_bannered_until_a_manager_resolves_it(
    console_app,
    db_sessions,
    logged_site,
    people,
    signed_in,
    make_person,
    other_site,
    verify_log,
    kind,
    figures,
):
    engine = console_app.extensions["gatekeeper.engine"]
    manager, admin = signed_in("security_manager"), signed_in("administrator")
    desk, guard = signed_in("front_desk"), signed_in("guard")
    elsewhere = console_app.test_client()
    sign_in(elsewhere, make_person("security_manager", other_site, username="north"))
    status, output = verify_log()
    assert status == 0 and "Site main: OK" in output, output
    saved = rows_as_backed_up(engine)

    change, named = TAMPERING[kind]
    with engine.begin() as connection, as_database_owner(connection):
        change(connection, logged_site)

    status, output = verify_log()
    assert status == 1, output
    assert "Site main: FAILED" in output
    assert named.format(**logged_site) in output
    assert "Site north: OK" in output
    # Those who answer for the log see it; the desk, the guards and another site's
    # manager do not.
    assert banner(manager) and banner(admin)
    assert not any(banner(client) for client in (desk, guard, elsewhere))

    refused = resolve(manager, "Restored the visitor rows from last night's backup.")
    assert refused.status_code == 400
    assert "still fails verification" in refused.get_data(as_text=True)
    assert banner(manager)

    # Put right, the log verifies; the incident stays open until someone says how.
    put_back(engine, saved)
    status, output = verify_log()
    assert status == 0, output
    assert banner(manager) and banner(admin)
    assert resolve(manager, "Restored.").status_code == 400

    note = f"{kind}: rows put back from the nightly backup; DBA account disabled."
    assert resolve(manager, note).status_code == 302
    assert not banner(manager) and not banner(admin)
    with db_sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "integrity.resolved")
        ).one()

    assert json.loads(event.detail)["note"] == note
    assert named.format(**logged_site).split(": ", 1)[1] in event.detail
    figures.add("kinds of tampering named, bannered and resolved")


def test_a_change_after_the_last_verification_is_bannered_before_any_runs(
    console_app, db_sessions, logged_site, people, signed_in, make_visit, site
):
    """The quick check of the newest entries needs no verification to have run."""
    engine = console_app.extensions["gatekeeper.engine"]
    manager = signed_in("security_manager")
    assert (
        manager.post(
            "/integrity/verify",
            data={"csrf_token": csrf_token(manager, "/integrity/")},
        ).status_code
        == 302
    )
    make_visit(site, "Late Arrival")
    make_visit(site, "Later Arrival")
    assert not banner(manager)

    with engine.begin() as connection, as_database_owner(connection):
        delete_entry(connection, logged_site["site_id"], 7)

    page = manager.get("/integrity/").get_data(as_text=True)
    assert BANNER in page
    assert "entry 7 removed" in page
