"""Badge QR tokens: only genuine ones read, and a scan gives one deliberate answer."""

import base64
import io
import re
import string
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import zxingcpp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer
from PIL import Image

from gatekeeper import badges
from gatekeeper.badges import BadgeClaim, Status, Verdict
from gatekeeper.config import PROJECT_ROOT
from gatekeeper.models import BadgeCheck, Visit

SECRET = "correct horse battery staple"
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
UNTIL = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
SITE_A = 7
SITE_B = 8


def _token(secret=SECRET, **overrides) -> str:
    fields = {
        "site_id": SITE_A,
        "visit_id": 4821,
        "badge_number": "305117",
        "valid_until": UNTIL,
    }
    return badges.make_token(secret, **(fields | overrides))


def _visit(**overrides) -> SimpleNamespace:
    """A visit as the console would load it: the attributes verdict reads."""
    fields = {
        "id": 4821,
        "site_id": SITE_A,
        "badge_number": "305117",
        "departed_at": None,
        "badge_revoked_at": None,
    }
    return SimpleNamespace(**(fields | overrides))


def _scan(token, visit, *, now=NOW, site_id=SITE_A) -> Verdict:
    return badges.verdict(
        badges.read_token(SECRET, token), visit, now=now, site_id=site_id
    )


claims = st.builds(
    BadgeClaim,
    site_id=st.integers(1, 2**32 - 1),
    visit_id=st.integers(1, 2**32 - 1),
    badge_number=st.text(string.digits, min_size=1, max_size=16),
    valid_until=st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(2106, 2, 7),
        timezones=st.just(UTC),
    ).map(lambda moment: moment.replace(microsecond=0)),
)


def _token_for(claim: BadgeClaim) -> str:
    return badges.make_token(
        SECRET,
        site_id=claim.site_id,
        visit_id=claim.visit_id,
        badge_number=claim.badge_number,
        valid_until=claim.valid_until,
    )


def test_a_token_reads_back_as_the_claim_it_was_made_from():
    claim = badges.read_token(SECRET, _token())

    assert claim == BadgeClaim(
        site_id=SITE_A, visit_id=4821, badge_number="305117", valid_until=UNTIL
    )


@settings(max_examples=200)
@given(claim=claims)
def test_any_claim_survives_the_round_trip(claim):
    assert badges.read_token(SECRET, _token_for(claim)) == claim


def test_a_token_is_short_uppercase_and_safe_in_a_url():
    token = _token()

    assert len(token) <= 80
    assert set(token) <= set(string.ascii_uppercase + "234567")


def test_valid_until_is_kept_to_the_second_rounding_down():
    token = _token(valid_until=UNTIL + timedelta(microseconds=999_999))

    assert badges.read_token(SECRET, token).valid_until == UNTIL


@settings(max_examples=300)
@given(claim=claims, data=st.data())
def test_changing_any_one_character_makes_a_token_unreadable(claim, data):
    """Never another claim, and not even the same one: one spelling per token."""
    token = _token_for(claim)
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.characters() | st.sampled_from(token))
    altered = token[:position] + replacement + token[position + 1 :]
    assume(altered != token)

    assert badges.read_token(SECRET, altered) is None


def test_a_token_signed_with_another_secret_is_refused():
    assert badges.read_token(SECRET, _token(secret="another secret")) is None


def test_a_value_signed_for_another_purpose_with_the_same_secret_is_refused(
    monkeypatch,
):
    session_like = URLSafeSerializer(SECRET, salt="kiosk-device-credential")
    monkeypatch.setattr(badges, "PURPOSE", b"gatekeeper session v1")
    same_layout_other_purpose = _token()
    monkeypatch.undo()

    assert badges.read_token(SECRET, session_like.dumps([4821, "305117"])) is None
    assert badges.read_token(SECRET, same_layout_other_purpose) is None


@pytest.mark.parametrize(
    "token",
    [
        _token()[:-1],
        _token()[:-8],
        _token()[:20],
        "",
        "A",
        "=",
        _token().lower(),
        _token() + "A",
        _token() + "=" * 6,
        " " + _token(),
        "X" * 10_000,
        "Á" * 10,
        _token()[:-1] + "é",
        "GAFETE-305117",
        "\x00" * 58,
    ],
    ids=[
        "last-character-cut",
        "last-eight-cut",
        "cut-to-twenty",
        "empty",
        "one-character",
        "padding-only",
        "lowercase",
        "one-extra-character",
        "padded",
        "leading-space",
        "ten-kilobytes",
        "accented",
        "one-accented-character",
        "badge-number-text",
        "nul-bytes",
    ],
)
def test_a_malformed_token_reads_as_nothing(token):
    assert badges.read_token(SECRET, token) is None


@pytest.mark.parametrize("token", [None, 305117, b"AEAAAAAD"])
def test_a_value_that_is_not_text_reads_as_nothing(token):
    assert badges.read_token(SECRET, token) is None


def test_an_empty_secret_reads_nothing_and_signs_nothing():
    assert badges.read_token("", _token()) is None
    with pytest.raises(ValueError, match="secret"):
        _token(secret="")


def test_a_rotated_secret_reads_old_and_new_badges_by_key_id():
    old = _token(secret="old secret")
    new = badges.make_token(
        "new secret",
        site_id=SITE_A,
        visit_id=4821,
        badge_number="305117",
        valid_until=UNTIL,
        key_id=2,
    )
    both = {1: "old secret", 2: "new secret"}

    assert badges.read_token(both, old) == badges.read_token(both, new)
    assert badges.read_token(both, new).visit_id == 4821
    assert badges.read_token("new secret", new) is None
    assert badges.read_token({2: "new secret"}, old) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("site_id", 0),
        ("visit_id", -1),
        ("visit_id", 2**32),
        ("badge_number", ""),
        ("badge_number", "1" * 17),
        ("badge_number", "30 5117"),
        ("badge_number", "३०५११७"),
        ("valid_until", datetime(2026, 3, 2, 18, 0)),
        ("valid_until", datetime(1969, 12, 31, tzinfo=UTC)),
    ],
)
def test_a_badge_that_cannot_be_encoded_is_a_programming_error(field, value):
    with pytest.raises(ValueError, match=field.split("_")[0]):
        _token(**{field: value})


def test_a_badge_within_its_time_is_valid_with_the_time_it_has_left():
    result = _scan(_token(), _visit())

    assert result == Verdict(Status.VALID, time_left=timedelta(hours=4))
    assert (str(result.label), result.colour) == ("Valid badge", "green")


def test_a_badge_scanned_after_its_time_is_expired():
    result = _scan(_token(), _visit(), now=UNTIL)

    assert result == Verdict(Status.EXPIRED)
    assert result.colour == "amber"


def test_a_valid_badge_replayed_after_sign_out_is_signed_out():
    token = _token()
    assert _scan(token, _visit()).status is Status.VALID

    result = _scan(token, _visit(departed_at=NOW + timedelta(minutes=5)))

    assert result == Verdict(Status.SIGNED_OUT)
    assert result.colour == "grey"


def test_a_revoked_badge_is_revoked():
    result = _scan(_token(), _visit(badge_revoked_at=NOW - timedelta(minutes=1)))

    assert result == Verdict(Status.REVOKED)
    assert result.colour == "red"


def test_a_token_from_site_a_scanned_at_site_b_is_forged():
    result = _scan(_token(), _visit(), site_id=SITE_B)

    assert result == Verdict(Status.FORGED)
    assert result.colour == "red"


@pytest.mark.parametrize(
    "visit",
    [
        None,
        _visit(id=4822),
        _visit(site_id=SITE_B),
        _visit(badge_number="305118"),
    ],
    ids=["no-such-visit", "other-visit", "visit-of-other-site", "other-badge-number"],
)
def test_a_claim_that_does_not_match_its_visit_is_forged(visit):
    assert _scan(_token(), visit) == Verdict(Status.FORGED)


def test_an_unreadable_token_is_forged():
    assert _scan(_token(secret="guessed"), _visit()) == Verdict(Status.FORGED)


@pytest.mark.parametrize(
    ("visit", "now", "expected"),
    [
        (_visit(departed_at=NOW, badge_revoked_at=NOW), NOW, Status.REVOKED),
        (_visit(badge_revoked_at=NOW), UNTIL, Status.REVOKED),
        (_visit(departed_at=NOW), UNTIL, Status.SIGNED_OUT),
        (_visit(id=1, departed_at=NOW, badge_revoked_at=NOW), UNTIL, Status.FORGED),
    ],
    ids=[
        "revoked-beats-signed-out",
        "revoked-beats-expired",
        "signed-out-beats-expired",
        "forged-beats-everything",
    ],
)
def test_when_several_answers_apply_the_gravest_wins(visit, now, expected):
    assert _scan(_token(), visit, now=now).status is expected


def test_a_visit_cut_short_expires_its_badge_without_reprinting():
    visit = _visit(valid_until=NOW + timedelta(minutes=30))

    assert _scan(_token(), visit) == Verdict(
        Status.VALID, time_left=timedelta(minutes=30)
    )
    assert _scan(_token(), visit, now=NOW + timedelta(minutes=30)).status is (
        Status.EXPIRED
    )


def test_a_visit_lengthened_still_needs_a_new_badge():
    visit = _visit(valid_until=UNTIL + timedelta(hours=2))

    assert _scan(_token(), visit, now=UNTIL).status is Status.EXPIRED


def test_verdict_reads_the_columns_of_a_visit_row():
    visit = Visit(
        id=4821,
        site_id=SITE_A,
        badge_number="305117",
        valid_until=UNTIL,
        badge_revoked_at=None,
    )
    assert _scan(_token(), visit).status is Status.VALID

    visit.departed_at = NOW
    assert _scan(_token(), visit).status is Status.SIGNED_OUT

    visit.badge_revoked_at = NOW
    assert _scan(_token(), visit).status is Status.REVOKED


def test_every_status_fits_the_verdict_column_of_a_badge_check():
    width = BadgeCheck.__table__.c.verdict.type.length

    assert all(len(status.value) <= width for status in Status)


def test_every_status_has_a_label_and_a_colour():
    shown = {status: (str(status.label), status.colour) for status in Status}

    assert shown == {
        Status.VALID: ("Valid badge", "green"),
        Status.EXPIRED: ("Badge expired", "amber"),
        Status.SIGNED_OUT: ("Visitor already signed out", "grey"),
        Status.REVOKED: ("Badge revoked", "red"),
        Status.FORGED: ("Forged or unknown badge", "red"),
    }


def test_the_qr_png_scans_back_to_the_token():
    token = _token()

    image = Image.open(io.BytesIO(badges.qr_png(token)))
    results = zxingcpp.read_barcodes(image)

    assert image.format == "PNG"
    assert [(r.format, r.text) for r in results] == [
        (zxingcpp.BarcodeFormat.QRCode, token)
    ]


def test_the_qr_code_is_small_enough_for_a_badge():
    image = Image.open(io.BytesIO(badges.qr_png(_token(), box_size=1)))

    # Version 3 is 29 modules across, plus the 4-module quiet zone on each side.
    assert image.size == (37, 37)


def test_the_qr_svg_is_a_standalone_svg_image():
    svg = badges.qr_svg(_token())

    assert svg.startswith(b"<svg ")
    assert b'xmlns="http://www.w3.org/2000/svg"' in svg
    assert b'viewBox="0 0 37 37"' in svg


@pytest.mark.parametrize(
    ("text", "shaped"),
    [
        (_token(), True),
        (_token(badge_number="1"), True),
        (_token(badge_number="1" * 16), True),
        ("A" * 49, False),
        ("A" * 75, False),
        (_token().lower(), False),
        (_token() + "\n", False),
        ("305117", False),
        ("", False),
    ],
    ids=[
        "token",
        "shortest-token",
        "longest-token",
        "too-short",
        "too-long",
        "lowercase",
        "trailing-newline",
        "badge-number",
        "empty",
    ],
)
def test_a_token_is_told_from_a_badge_number_by_its_shape(text, shaped):
    assert badges.looks_like_token(text) is shaped


def _printed(**overrides) -> SimpleNamespace:
    """A visit with its site, as the badge page loads it."""
    site = SimpleNamespace(
        timezone=overrides.pop("timezone", "America/Chicago"),
        badge_size=overrides.pop("badge_size", "62x100mm"),
        badge_valid_hours=12,
    )
    fields = {
        "id": 4821,
        "site_id": SITE_A,
        "site": site,
        "badge_number": "305117",
        "visitor_name": "Ada Lovelace",
        "company": "Analytical Engines",
        "host_name": "Grace Hopper",
        "visitor_type": "service_provider",
        # A Monday evening in Chicago, already Tuesday in UTC and in Tokyo.
        "arrived_at": datetime(2026, 3, 3, 2, 30, tzinfo=UTC),
        "valid_until": datetime(2026, 3, 3, 14, 30, tzinfo=UTC),
    }
    return SimpleNamespace(**(fields | overrides))


def test_the_badge_band_follows_the_weekday_of_arrival_in_the_sites_zone():
    assert badges.face(SECRET, _printed()).weekday == "monday"
    assert badges.face(SECRET, _printed(timezone="UTC")).weekday == "tuesday"
    assert badges.face(SECRET, _printed(timezone="Asia/Tokyo")).weekday == "tuesday"


def test_each_weekday_has_its_own_band_colour():
    css = (PROJECT_ROOT / "static" / "badge" / "badge.css").read_text()
    colours = {
        day: re.search(rf"\.day-{day} \.badge-band {{ background: (#\w+);", css)
        for day in badges.WEEKDAYS
    }

    assert all(colours.values()), "a weekday without a band colour"
    assert len({match.group(1) for match in colours.values()}) == 7


def test_the_badge_face_holds_the_printed_fields_and_the_token_of_the_visit():
    face = badges.face(SECRET, _printed())

    assert (face.visitor_name, face.company, face.host_name) == (
        "Ada Lovelace",
        "Analytical Engines",
        "Grace Hopper",
    )
    assert (face.visitor_type, face.badge_number, face.size) == (
        "Service provider",
        "305117",
        "62x100mm",
    )
    assert face.escort_required is False
    assert face.ends_another_day is True
    prefix = "data:image/svg+xml;base64,"
    assert face.qr_data_uri.startswith(prefix)
    svg = base64.b64decode(face.qr_data_uri.removeprefix(prefix))
    assert svg == badges.qr_svg(badges.token_for(SECRET, _printed()))


def test_a_badge_says_escort_required_only_when_the_visit_does():
    assert badges.face(SECRET, _printed(escort_required=True)).escort_required
    assert not badges.face(SECRET, _printed(escort_required=None)).escort_required


def test_an_unknown_label_stock_prints_on_the_default_one():
    assert badges.face(SECRET, _printed(badge_size="4x3in")).size == "4x3in"
    assert badges.face(SECRET, _printed(badge_size="A4")).size == "62x100mm"


def test_a_visit_without_its_own_validity_gets_the_sites_badge_hours():
    visit = _printed(valid_until=None)
    claim = badges.read_token(SECRET, badges.token_for(SECRET, visit))

    assert claim.valid_until == visit.arrived_at + timedelta(hours=12)
