"""Seal numbers and the VVTT inspection (CTPAT 6.7, 7.30): the site's format, the
number typed twice, every step confirmed, the assigned seal, and a scanned code."""

import numpy as np
import pytest
import zxingcpp

from gatekeeper import seals
from tests.support import pictures

PATTERN = r"[A-Z]{0,4}[0-9]{6,10}"
ALL_STEPS = dict.fromkeys(seals.VVTT_STEPS, True)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("ul 123-4567", "UL1234567"), (" UL1234567\t", "UL1234567"), ("", "")],
)
def test_seal_numbers_are_compared_without_spaces_hyphens_or_case(typed, stored):
    assert seals.normalise(typed) == stored


def test_a_seal_number_typed_twice_alike_and_in_format_is_accepted():
    assert (
        seals.check_number("ul-1234567", "UL 1234567", pattern=PATTERN) == "UL1234567"
    )


@pytest.mark.parametrize(
    ("entered", "confirmed", "message"),
    [
        ("", "", "Enter the seal number"),
        ("UL1234567", "UL1234576", "two seal numbers differ"),
        ("UL12*34567", "UL12*34567", "letters and digits"),
        ("UL" + "1" * 19, "UL" + "1" * 19, "at most 20"),
        ("UL١٢٣٤٥٦٧", "UL١٢٣٤٥٦٧", "letters and digits"),
        ("12345", "12345", "format"),
        ("ABCDE123456", "ABCDE123456", "format"),
    ],
)
def test_a_bad_seal_number_is_refused_with_the_reason(entered, confirmed, message):
    with pytest.raises(seals.SealError, match=message):
        seals.check_number(entered, confirmed, pattern=PATTERN)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("UL[0-9", "not a valid expression"), ("[0-9]*", "empty seal number")],
)
def test_a_site_pattern_that_cannot_work_is_refused(pattern, message):
    with pytest.raises(seals.SealError, match=message):
        seals.check_pattern(pattern)


def test_a_usable_site_pattern_is_kept_as_written():
    assert seals.check_pattern(r"UL[0-9]{7}") == r"UL[0-9]{7}"


def test_vvtt_needs_every_step_and_names_the_missing_ones_in_order():
    seals.check_vvtt(ALL_STEPS)

    with pytest.raises(seals.SealError, match="view, twist"):
        seals.check_vvtt({**ALL_STEPS, "twist": False, "view": False})

    with pytest.raises(seals.SealError, match="view, verify, tug, twist"):
        seals.check_vvtt({})


def test_the_vvtt_steps_are_view_verify_tug_twist():
    assert list(seals.VVTT_STEPS) == ["view", "verify", "tug", "twist"]


@pytest.mark.parametrize(
    ("number", "assigned", "matches"),
    [
        ("UL1234567", None, True),
        ("UL1234567", "", True),
        ("UL1234567", "ul-123 4567", True),
        ("UL7654321", "UL1234567", False),
    ],
)
def test_a_seal_matches_the_shipment_when_none_was_assigned_or_it_is_the_same(
    number, assigned, matches
):
    assert seals.matches_assigned(number, assigned) is matches


def _frame_with(symbol: np.ndarray) -> bytes:
    frame = np.full((720, 1280), 255, dtype=np.uint8)
    frame[100 : 100 + symbol.shape[0], 200 : 200 + symbol.shape[1]] = symbol
    return pictures.png(np.dstack([frame] * 3))


@pytest.mark.parametrize(
    "symbology",
    [zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.QRCode],
)
def test_a_seal_barcode_in_a_camera_frame_reads_as_its_number(symbology):
    code = zxingcpp.create_barcode("ul-1234567", symbology)

    assert seals.read_code(_frame_with(np.array(code.to_image(scale=4)))) == (
        "UL1234567"
    )


def test_a_frame_without_a_seal_code_reads_as_nothing():
    blank = pictures.png(np.full((720, 1280, 3), 128, dtype=np.uint8))
    long_text = zxingcpp.create_barcode("X" * 40, zxingcpp.BarcodeFormat.Code128)

    assert seals.read_code(blank) is None
    assert seals.read_code(b"not an image") is None
    assert seals.read_code(_frame_with(np.array(long_text.to_image(scale=2)))) is None
