"""Roll call in the console: started from the roster, marked by guards with or
without the page's script, closed, and readable afterwards."""

import re

import pytest
from sqlalchemy import func, select

from gatekeeper.models import AuditEvent, RollCall, RollCallMark
from tests.fixtures.apps import csrf_token, sign_in
from tests.support.pickups import on_site

JSON = {"Accept": "application/json"}


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def present(site, people, make_visit, admit, db_sessions):
    admit(make_visit(site, "Ada Lovelace"))
    make_visit(site, "Blaise Pascal")
    on_site(db_sessions, site, people["guard"].id, driver_name="Eve Driver")


@pytest.fixture
def second_guard(console_app, make_person, site):
    client = console_app.test_client()
    sign_in(client, make_person("guard", site, username="gus"))
    return client


def _start(client, note: str = "Fire alarm, dock 3") -> int:
    token = csrf_token(client, "/roster/")
    response = client.post(
        "/roster/roll-calls", data={"csrf_token": token, "note": note}
    )
    assert response.status_code == 302, response.data
    return int(response.location.rsplit("/", 1)[1])


def _marks(db_sessions, roll_call_id: int) -> dict[str, RollCallMark]:
    with db_sessions() as session:
        rows = session.scalars(
            select(RollCallMark).where(RollCallMark.roll_call_id == roll_call_id)
        )
        return {row.person: row for row in rows}


def _post(client, roll_call_id: int, path: str, **kwargs):
    token = csrf_token(client, f"/roster/roll-calls/{roll_call_id}")
    return client.post(
        f"/roster/roll-calls/{roll_call_id}/{path}",
        data={"csrf_token": token, **kwargs.pop("data", {})},
        **kwargs,
    )


def test_a_guard_starts_a_roll_call_of_everyone_on_site(
    signed_in, db_sessions, present
):
    client = signed_in("guard")
    roll_call_id = _start(client)

    page = _text(client.get(f"/roster/roll-calls/{roll_call_id}"))

    cards = re.findall(r'<h2 class="roll-card-name">([^<]+)</h2>', page)
    assert cards == ["Ada Lovelace", "Blaise Pascal", "Eve Driver"]
    assert "Started by Test Guard" in page and "Fire alarm, dock 3" in page
    assert (
        '<strong id="rc-marked">0</strong> of <strong id="rc-total">3</strong>' in page
    )
    assert "console/roster-roll-call.js" in page
    with db_sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("roll_call%"))
        ).all()

    assert actions == ["roll_call.started", "roll_call.viewed"]


def test_a_second_start_joins_the_open_roll_call(signed_in, second_guard, present):
    roll_call_id = _start(signed_in("guard"))

    assert _start(second_guard) == roll_call_id
    page = _text(second_guard.get(f"/roster/roll-calls/{roll_call_id}"))
    assert "you joined it" in page
    assert "Open the roll call in progress" in _text(second_guard.get("/roster/"))


def test_a_mark_without_the_script_returns_to_the_persons_line(
    signed_in, db_sessions, present
):
    client = signed_in("guard")
    roll_call_id = _start(client)
    ada = _marks(db_sessions, roll_call_id)["Ada Lovelace"]

    response = _post(client, roll_call_id, f"marks/{ada.id}")

    assert response.status_code == 302
    assert response.location.endswith(f"/roster/roll-calls/{roll_call_id}#m{ada.id}")
    page = _text(client.get(f"/roster/roll-calls/{roll_call_id}"))
    assert "Ada Lovelace is accounted for." in page
    assert 'Found by <span class="marked-by">Test Guard</span>' in page
    assert _marks(db_sessions, roll_call_id)["Ada Lovelace"].marked_by == "Test Guard"


def test_two_guards_marking_one_person_keep_the_first_mark(
    signed_in, second_guard, db_sessions, present
):
    first = signed_in("guard")
    roll_call_id = _start(first)
    blaise = _marks(db_sessions, roll_call_id)["Blaise Pascal"]

    mine = _post(first, roll_call_id, f"marks/{blaise.id}", headers=JSON)
    theirs = _post(second_guard, roll_call_id, f"marks/{blaise.id}", headers=JSON)

    assert mine.status_code == 200 and mine.json["message"].endswith("accounted for.")
    assert theirs.status_code == 200
    assert "already accounted for by Test Guard at" in theirs.json["message"]
    marked = {mark["id"]: mark for mark in theirs.json["marks"]}
    assert marked[blaise.id]["marked_by"] == "Test Guard"
    assert (theirs.json["marked"], theirs.json["total"]) == (1, 3)
    with db_sessions() as session:
        audited = session.scalar(
            select(func.count()).where(AuditEvent.action == "roll_call.marked")
        )

    assert audited == 1


def test_the_marks_feed_names_the_guards_but_no_one_on_site(
    signed_in, second_guard, db_sessions, present
):
    client = signed_in("guard")
    roll_call_id = _start(client)
    eve = _marks(db_sessions, roll_call_id)["Eve Driver"]
    _post(client, roll_call_id, f"marks/{eve.id}", headers=JSON)

    response = second_guard.get(f"/roster/roll-calls/{roll_call_id}/marks.json")

    assert response.status_code == 200
    assert response.json["marked"] == 1 and response.json["closed"] is False
    body = response.get_data(as_text=True)
    assert "Test Guard" in body
    assert "Eve Driver" not in body and "Ada" not in body


def test_a_mark_is_undone_and_the_person_is_missing_again(
    signed_in, db_sessions, present
):
    client = signed_in("guard")
    roll_call_id = _start(client)
    ada = _marks(db_sessions, roll_call_id)["Ada Lovelace"]
    _post(client, roll_call_id, f"marks/{ada.id}", headers=JSON)

    response = _post(client, roll_call_id, f"marks/{ada.id}/undo", headers=JSON)

    assert response.status_code == 200 and response.json["marked"] == 0
    assert _marks(db_sessions, roll_call_id)["Ada Lovelace"].marked_at is None
    again = _post(client, roll_call_id, f"marks/{ada.id}/undo", headers=JSON)
    assert (
        again.status_code == 409
        and again.json["message"] == "That person is not marked."
    )


def test_closing_keeps_the_roll_call_readable_and_ends_marking(
    signed_in, second_guard, db_sessions, present
):
    client = signed_in("guard")
    roll_call_id = _start(client)
    marks = _marks(db_sessions, roll_call_id)
    _post(client, roll_call_id, f"marks/{marks['Ada Lovelace'].id}", headers=JSON)

    response = _post(
        second_guard, roll_call_id, "close", data={"note": "Two reported missing"}
    )

    assert response.status_code == 302
    page = _text(second_guard.get(f"/roster/roll-calls/{roll_call_id}"))
    assert "Roll call closed: 1 of 3 accounted for, 2 not accounted for." in page
    assert "Closed by Test Guard at" in page
    assert "Two reported missing" in page
    assert 'class="mark-form"' not in page and "roster-roll-call.js" not in page
    late = _post(client, roll_call_id, f"marks/{marks['Eve Driver'].id}", headers=JSON)
    assert late.status_code == 409 and "closed" in late.json["message"]
    assert _marks(db_sessions, roll_call_id)["Eve Driver"].marked_at is None
    with db_sessions() as session:
        row = session.get(RollCall, roll_call_id)
        assert (row.closed_by, row.note) == (
            "Test Guard",
            "Fire alarm, dock 3\nTwo reported missing",
        )

    history = _text(client.get("/roster/roll-calls"))
    assert "1 of 3" in history and "2 not found" in history


def test_a_mark_without_its_csrf_token_is_refused(signed_in, db_sessions, present):
    client = signed_in("guard")
    roll_call_id = _start(client)
    ada = _marks(db_sessions, roll_call_id)["Ada Lovelace"]

    response = client.post(f"/roster/roll-calls/{roll_call_id}/marks/{ada.id}")

    assert response.status_code == 400
    assert _marks(db_sessions, roll_call_id)["Ada Lovelace"].marked_at is None


def test_a_mark_of_another_roll_call_is_not_found(signed_in, db_sessions, present):
    client = signed_in("guard")
    first = _start(client)
    _post(client, first, "close")
    second = _start(client)
    old = _marks(db_sessions, first)["Ada Lovelace"]

    response = _post(client, second, f"marks/{old.id}")

    assert response.status_code == 404


def test_a_guard_of_another_site_cannot_open_the_roll_call(
    signed_in, console_app, make_person, other_site, present
):
    roll_call_id = _start(signed_in("guard"))
    stranger = console_app.test_client()
    sign_in(stranger, make_person("guard", other_site, username="northguard"))

    assert stranger.get(f"/roster/roll-calls/{roll_call_id}").status_code == 404
    feed = stranger.get(f"/roster/roll-calls/{roll_call_id}/marks.json")
    assert feed.status_code == 404
