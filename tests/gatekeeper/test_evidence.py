"""The evidence pack, opened and each part checked against the database."""

import csv
import hashlib
import io
import zipfile
from contextlib import contextmanager
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from gatekeeper import audit, cases, chain, evidence, pickups, screening, sites, visits
from gatekeeper.db import utcnow
from gatekeeper.models import (
    Appointment,
    AuditEvent,
    BadgeCheck,
    Case,
    ChainHead,
    Pickup,
    Review,
    RollCall,
    RollCallMark,
    Site,
    User,
    Visit,
)
from tests.support import pickups as gate

CONSIGNEE = "receiving@consignee.example"
PARTS = {
    "index.html",
    "report.css",
    "checksums.txt",
    "verify.txt",
    "10.2-visitors/visitor-log.csv",
    "10.2-visitors/visitor-log.html",
    "10.2-visitors/block-list-decisions.csv",
    "10.2-visitors/badge-checks.csv",
    "10.3-drivers/driver-identification.csv",
    "10.4-pickups/pickup-log.csv",
    "10.4-pickups/pickup-log.html",
    "10.7-appointments/appointments.csv",
    "6.7-seals/vvtt-inspections.csv",
    "7.27-cases/cases.csv",
    "7.29-consignee/seal-notices.csv",
    "4.7-staff-access/audit-trail.csv",
    "reviews/review-sign-offs.csv",
    "roll-calls/roll-calls.csv",
    "completeness/completeness.csv",
    "completeness/completeness.html",
}


@contextmanager
def clock_at(monkeypatch, moment):
    """Record what happens inside as if at `moment`: rows and log entries alike."""
    with monkeypatch.context() as patch:
        for module in (visits, chain):
            patch.setattr(module, "utcnow", lambda: moment)

        yield


def local_today(site) -> date:
    return utcnow().astimezone(ZoneInfo(site.timezone)).date()


@pytest.fixture
def scenario(sessions, site, guard, arrive, monkeypatch):
    """A site's last weeks: visits in every state, pickups, cases, checks, reviews,
    roll calls and audit events; and a visit too old for the pack and another site
    whose records must stay out of it."""
    earlier = utcnow() - timedelta(days=40)
    with clock_at(monkeypatch, earlier), sessions.begin() as s:
        last_month = arrive(s, "Ada Lovelace")
        visits.verify_id(s, last_month, "passport", actor=s.get(User, guard.id))
        visits.sign_out(
            s,
            site_id=site.id,
            badge_number=last_month.badge_number,
            actor=s.get(User, guard.id),
        )

    with clock_at(monkeypatch, utcnow() - timedelta(days=80)), sessions.begin() as s:
        arrive(s, "Too Early")

    with sessions.begin() as s:
        me = s.get(User, guard.id)
        row = s.get(Site, site.id)
        waiting = arrive(s, "Grace Hopper", company="@Risk <script>Ltd</script>")
        closed = arrive(s, "Katherine Johnson")
        visits.verify_id(s, closed, "drivers_licence", actor=me)
        visits.close_visit(s, closed, reason="Left by the side door", actor=me)
        screening.add_entry(s, row, kind="person", value="Mallory Doe", actor=me)
        held = arrive(s, "Mallory Doe")
        visits.decide_hold(s, held, "deny", reason="On the list since March", actor=me)
        s.add(
            BadgeCheck(
                site_id=site.id,
                visit_id=closed.id,
                verdict="valid",
                checked_by="Gina Guard",
                checked_at=utcnow(),
            )
        )
        audit.record(s, "photo.viewed", actor=me, site_id=site.id, target="visit:1")
        audit.record(s, "login.success", actor=me)

    gate.add_appointment(sessions, site, consignee_email=CONSIGNEE)
    departed = gate.on_site(sessions, site, guard.id)
    gate.depart(sessions, departed.id, guard.id)
    present = gate.on_site(sessions, site, guard.id, reference="W-2", truck_number="W2")
    gone = gate.on_site(sessions, site, guard.id, reference="W-3", truck_number="W3")
    with sessions.begin() as s:
        me = s.get(User, guard.id)
        pickups.mark_left(s, s.get(Pickup, gone.id), reason="Gate camera", actor=me)
        case = cases.open_case(
            s, site_id=site.id, kind="other", summary="Fence cut", actor=me
        )
        cases.add_note(s, case, "Police informed", actor=me)
        cases.close(s, case, "Fence repaired", actor=me)

    today = local_today(site)
    with sessions.begin() as s:
        s.add(
            Review(
                site_id=site.id,
                kind="access_review",
                period_start=today - timedelta(days=30),
                period_end=today,
                sampled="All 6 accounts",
                findings="One leaver still active",
                corrective_action="Disabled",
                recorded_by="Sam Manager",
            )
        )
        call = RollCall(site_id=site.id, started_by="Gina Guard", note="Fire drill")
        s.add(call)
        s.flush()
        s.add(
            RollCallMark(
                roll_call_id=call.id,
                subject_type="visit",
                subject_id=waiting.id,
                person="Grace Hopper",
                marked_by="Gina Guard",
                marked_at=utcnow(),
            )
        )
        elsewhere = sites.create_site(
            s, code="dock-b", name="Dock B", timezone="America/Chicago"
        )
        audit.record(s, "photo.viewed", actor="someone", site_id=elsewhere.id)

    return {
        "first": today - timedelta(days=45),
        "last": today,
        "earlier": earlier,
        "present": present,
    }


def make_pack(sessions, site, first, last) -> tuple[evidence.Pack, zipfile.ZipFile]:
    out = io.BytesIO()
    with sessions() as s:
        evidence.snapshot(s)
        pack = evidence.build(
            s, s.get(Site, site.id), first, last, out, generated_by="Sam Manager"
        )

    return pack, zipfile.ZipFile(out)


def read_csv(archive: zipfile.ZipFile, path: str) -> list[dict]:
    data = archive.read(path)
    assert data.startswith(b"\xef\xbb\xbf"), f"{path} has no byte-order mark"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_pack_holds_every_part_and_the_index_names_each(sessions, site, scenario):
    pack, archive = make_pack(sessions, site, scenario["first"], scenario["last"])

    assert set(archive.namelist()) == PARTS
    index = archive.read("index.html").decode()
    for part in pack.parts:
        assert f'href="{part.path}"' in index

    for criterion in ("10.2", "10.3", "10.4", "10.7", "6.7", "7.27", "7.29"):
        assert f"<h2>{criterion} ·" in index

    checksums = archive.read("checksums.txt").decode().splitlines()
    assert len(checksums) == len(PARTS) - 1
    for line in checksums:
        digest, path = line.split("  ", 1)
        assert hashlib.sha256(archive.read(path)).hexdigest() == digest


def test_the_visitor_log_is_the_visits_of_the_range(sessions, site, scenario):
    _pack, archive = make_pack(sessions, site, scenario["first"], scenario["last"])
    rows = read_csv(archive, "10.2-visitors/visitor-log.csv")

    zone = ZoneInfo(site.timezone)
    with sessions() as s:
        stored = s.scalars(
            select(Visit)
            .where(Visit.site_id == site.id, Visit.visitor_name != "Too Early")
            .order_by(Visit.arrived_at, Visit.id)
        ).all()

    assert [row["Visitor's name"] for row in rows] == [v.visitor_name for v in stored]
    for row, visit in zip(rows, stored, strict=True):
        local = visit.arrived_at.astimezone(zone)
        assert row["Time of arrival"] == local.strftime("%Y-%m-%d %H:%M:%S")
        assert row["Date"] == local.date().isoformat()
        assert row["Badge number"] == visit.badge_number
        assert row["Point of contact"] == visit.host_name
        departed = visit.departed_at
        expected = departed and departed.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        assert row["Time of departure"] == (expected or "")

    by_name = {row["Visitor's name"]: row for row in rows}
    assert by_name["Ada Lovelace"]["Photo ID type"] == "Passport"
    assert by_name["Ada Lovelace"]["ID verified by"] == "Gina Guard"
    assert by_name["Grace Hopper"]["Photo ID"] == "not verified"
    # A spreadsheet must not run a visitor's text as a formula.
    assert by_name["Grace Hopper"]["Company"] == "'@Risk <script>Ltd</script>"
    printable = archive.read("10.2-visitors/visitor-log.html").decode()
    assert "@Risk &lt;script&gt;Ltd&lt;/script&gt;" in printable
    assert "<script>" not in printable
    assert printable.count("<tr>") == len(stored) + 1


def test_block_list_decisions_and_badge_checks(sessions, site, scenario):
    _pack, archive = make_pack(sessions, site, scenario["first"], scenario["last"])

    [decision] = read_csv(archive, "10.2-visitors/block-list-decisions.csv")
    assert decision["Visitor's name"] == "Mallory Doe"
    assert decision["Decision"] == "denied"
    assert decision["Decided by"] == "gina.guard"
    assert decision["Reason"] == "On the list since March"
    assert "Mallory Doe" in decision["Matched on the block list"]

    [check] = read_csv(archive, "10.2-visitors/badge-checks.csv")
    with sessions() as s:
        stored = s.scalars(select(BadgeCheck)).one()
        visit = s.get(Visit, stored.visit_id)

    assert (check["Verdict"], check["Checked by"]) == ("valid", "Gina Guard")
    assert check["Badge number"] == visit.badge_number


def test_the_pickup_parts_match_the_pickups(sessions, site, scenario):
    _pack, archive = make_pack(sessions, site, scenario["first"], scenario["last"])
    with sessions() as s:
        stored = s.scalars(select(Pickup).order_by(Pickup.arrived_at, Pickup.id)).all()
        appointments = s.scalars(select(Appointment)).all()

    log = read_csv(archive, "10.4-pickups/pickup-log.csv")
    assert len(log) == len(stored) == 3
    for row, pickup in zip(log, stored, strict=True):
        assert row["Driver's name"] == pickup.driver_name
        assert row["Employer (carrier)"] == pickup.carrier
        assert row["Truck number"] == pickup.truck_number
        assert row["Trailer number"] == pickup.trailer_number
        assert row["Seal number at departure"] == (pickup.seal_number or "")
        assert row["Status"] == pickup.status

    ids = read_csv(archive, "10.3-drivers/driver-identification.csv")
    assert [row["Photo ID checked"] for row in ids] == ["Driver's licence"] * 3
    assert {row["Registered by"] for row in ids} == {"Gina Guard"}

    [appointment] = read_csv(archive, "10.7-appointments/appointments.csv")
    assert appointment["Reference"] == appointments[0].reference
    assert appointment["Driver's name (at the gate)"] == stored[0].driver_name

    inspections = read_csv(archive, "6.7-seals/vvtt-inspections.csv")
    assert [(row["Status"], row["Seal number"]) for row in inspections] == [
        ("departed", gate.ASSIGNED_SEAL),
        ("left", ""),
    ]
    assert inspections[0]["VVTT inspection by"] == "Gina Guard"
    assert inspections[0]["Trailer number checked again"] == "yes"

    [notice] = read_csv(archive, "7.29-consignee/seal-notices.csv")
    assert (notice["Consignee"], notice["Seal number"]) == (
        CONSIGNEE,
        gate.ASSIGNED_SEAL,
    )
    assert notice["Notice state"] == "waiting"


def test_cases_reviews_roll_calls_and_the_audit_trail(sessions, site, guard, scenario):
    _pack, archive = make_pack(sessions, site, scenario["first"], scenario["last"])
    with sessions() as s:
        stored = s.scalars(select(Case).order_by(Case.opened_at, Case.id)).all()
        events = s.scalars(
            select(AuditEvent).where(
                (AuditEvent.site_id == site.id) | AuditEvent.site_id.is_(None)
            )
        ).all()

    rows = read_csv(archive, "7.27-cases/cases.csv")
    assert [int(row["Case"]) for row in rows] == [case.id for case in stored]
    fence = next(row for row in rows if row["Summary"] == "Fence cut")
    assert fence["Status"] == "closed" and fence["Resolution"] == "Fence repaired"
    assert fence["Notes"].endswith("gina.guard: Police informed")

    [review] = read_csv(archive, "reviews/review-sign-offs.csv")
    assert review["Findings"] == "One leaver still active"
    assert review["Review"] == "Access review (CTPAT 4.7)"
    [mark] = read_csv(archive, "roll-calls/roll-calls.csv")
    assert (mark["Person"], mark["Note"]) == ("Grace Hopper", "Fire drill")

    trail = read_csv(archive, "4.7-staff-access/audit-trail.csv")
    # The site's events, and the sign-ins of its staff, which name no site; not
    # the setup's account creation, which no account of the site did.
    expected = [e for e in events if e.site_id == site.id or e.actor_id == guard.id]
    assert [row["Action"] for row in trail] == [e.action for e in expected]
    assert {"photo.viewed", "login.success"} <= {row["Action"] for row in trail}
    assert "someone" not in {row["By"] for row in trail}


def test_the_completeness_summary_counts_each_gap_per_month(sessions, site, scenario):
    _pack, archive = make_pack(sessions, site, scenario["first"], scenario["last"])
    rows = {
        row["Month"]: row for row in read_csv(archive, "completeness/completeness.csv")
    }

    zone = ZoneInfo(site.timezone)
    earlier = scenario["earlier"].astimezone(zone).strftime("%Y-%m")
    now = utcnow().astimezone(zone).strftime("%Y-%m")
    assert list(rows) == evidence.months_between(scenario["first"], scenario["last"])
    assert rows[earlier]["Visits"] == "1"
    assert rows[earlier]["Visits without a time of departure"] == "0"
    current = rows[now]
    expected = {
        "Visits": "3",
        "Visits without a time of departure": "1",
        "Photo IDs not verified": "1",
        "Badges not returned (visit closed by staff)": "1",
        "Pickups": "3",
        "Drivers registered and not logged out": "1",
        "Departures": "2",
        "Departures without a seal number": "1",
        "Departures without the VVTT inspection": "1",
    }
    assert {name: current[name] for name in expected} == expected


def test_verify_txt_gives_the_verification_and_the_head_hash(sessions, site, scenario):
    pack, archive = make_pack(sessions, site, scenario["first"], scenario["last"])
    text = archive.read("verify.txt").decode()

    with sessions() as s:
        head = s.get(ChainHead, site.id)

    assert pack.report.ok
    assert text.startswith("Site dock-a (Dock A): OK")
    assert f"head hash:   {head.hash}" in text
    assert f"head seq:    {head.seq}" in text
    assert head.hash in archive.read("index.html").decode()


def test_a_pack_of_a_tampered_log_says_it_failed(sessions, site, scenario):
    with sessions.begin() as s:
        s.execute(
            update(Visit)
            .where(Visit.visitor_name == "Ada Lovelace")
            .values(company="Changed")
        )

    pack, archive = make_pack(sessions, site, scenario["first"], scenario["last"])

    assert not pack.report.ok
    text = archive.read("verify.txt").decode()
    assert text.startswith("Site dock-a (Dock A): FAILED")
    assert "company is 'Changed' in the table" in text
    assert "FAILED" in archive.read("index.html").decode()


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 3, 2), date(2026, 3, 1)), (date(2024, 1, 1), date(2025, 1, 1))],
)
def test_a_range_backwards_or_over_a_year_is_refused(first, last):
    with pytest.raises(evidence.RangeError):
        evidence.check_range(first, last)


def test_a_range_of_a_leap_year_is_one_pack():
    evidence.check_range(date(2024, 1, 1), date(2024, 12, 31))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ana López", "Ana López"),
        (None, ""),
        (True, "yes"),
        (7, "7"),
    ],
)
def test_csv_cells_cannot_start_a_formula(value, written):
    assert evidence.cell(value) == written


def test_months_between_spans_years():
    months = evidence.months_between(date(2025, 11, 20), date(2026, 2, 1))
    assert months == ["2025-11", "2025-12", "2026-01", "2026-02"]
