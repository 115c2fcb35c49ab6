"""Reading AAMVA licences: PDF417 symbols made with pdf417gen, payloads built here."""

import contextlib
from datetime import date

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper import aamva
from tests.support.licences import NEW_YORK_V1, ONTARIO, TEXAS, payload, photo_of


@pytest.mark.parametrize("version", [8, 9, 10])
def test_a_texas_licence_is_read_from_its_barcode(version):
    text = aamva.decode_pdf417(photo_of(payload(TEXAS, version=version)))

    licence = aamva.parse(text)

    assert licence.first_name == "Sean"
    assert licence.middle_name == "Patrick"
    assert licence.last_name == "O'Brien"
    assert licence.full_name == "Sean Patrick O'Brien"
    assert licence.date_of_birth == date(1985, 3, 2)
    assert licence.expiry == date(2030, 7, 14)
    assert licence.document_number == "12345678"
    assert (licence.issuer, licence.jurisdiction, licence.country) == (
        "636015",
        "TX",
        "USA",
    )
    assert licence.version == version


def test_the_raw_values_are_kept_as_encoded():
    licence = aamva.parse(payload(TEXAS))

    assert licence.raw["DCS"] == "O'BRIEN"
    assert licence.raw["DAK"] == "787010000"


def test_an_ontario_licence_has_year_first_dates_and_keeps_accents():
    text = aamva.decode_pdf417(photo_of(payload(ONTARIO, iin="636012", version=8)))

    licence = aamva.parse(text)

    assert licence.full_name == "Élodie Marie Tremblay"
    assert licence.date_of_birth == date(1990, 6, 15)
    assert licence.expiry == date(2027, 6, 15)
    assert licence.document_number == "T1234-56789-00615"
    assert (licence.jurisdiction, licence.country) == ("ON", "CAN")


def test_a_version_1_licence_splits_its_full_name():
    text = aamva.decode_pdf417(photo_of(payload(NEW_YORK_V1, iin="636001", version=1)))

    licence = aamva.parse(text)

    assert (licence.first_name, licence.middle_name, licence.last_name) == (
        "Ronald",
        "Angus",
        "McDonald",
    )
    assert licence.expiry == date(2029, 12, 31)
    assert licence.date_of_birth == date(1970, 1, 1)
    assert licence.version == 1


def test_version_3_given_names_are_split_into_first_and_middle():
    elements = {**TEXAS, "DCT": "SEAN,PATRICK"}
    del elements["DAC"], elements["DAD"]

    licence = aamva.parse(payload(elements, version=3))

    assert (licence.first_name, licence.middle_name) == ("Sean", "Patrick")


@pytest.mark.parametrize(
    ("today", "expired"),
    [(date(2030, 7, 13), False), (date(2030, 7, 14), False), (date(2030, 7, 15), True)],
)
def test_a_licence_is_expired_only_after_its_expiry_date(today, expired):
    licence = aamva.parse(payload(TEXAS))

    assert licence.expired(on=today) is expired


def test_a_barcode_turned_by_2_degrees_is_still_read():
    text = aamva.decode_pdf417(photo_of(payload(TEXAS), angle=2))

    assert aamva.parse(text).document_number == "12345678"


@pytest.mark.parametrize("angle", [5, -5])
def test_a_barcode_turned_by_5_degrees_is_read_by_turning_it_back(angle):
    text = aamva.decode_pdf417(photo_of(payload(TEXAS), angle=angle))

    assert aamva.parse(text).document_number == "12345678"


def test_a_barcode_turned_by_5_degrees_is_not_read_without_turning_it_back(
    monkeypatch,
):
    """The reason for the retries: zxing-cpp gives up on PDF417 from about 3°."""
    monkeypatch.setattr(aamva, "RETRY_ANGLES", ())

    assert aamva.decode_pdf417(photo_of(payload(TEXAS), angle=5)) is None


def test_a_photo_without_a_barcode_gives_none():
    desk = np.full((720, 1280), 120, np.uint8)
    cv2.putText(desk, "NO BARCODE", (300, 360), cv2.FONT_HERSHEY_SIMPLEX, 3, 0, 6)

    assert aamva.decode_pdf417(cv2.imencode(".jpg", desk)[1].tobytes()) is None


def test_bytes_that_are_not_an_image_give_none():
    assert aamva.decode_pdf417(b"%PDF-1.7 not a photo") is None


def test_a_missing_middle_name_and_country_are_tolerated():
    elements = {**TEXAS, "DAD": "NONE"}
    del elements["DCG"], elements["DAJ"]

    licence = aamva.parse(payload(elements))

    assert licence.middle_name is None
    assert licence.full_name == "Sean O'Brien"
    # Both follow from the issuer's identification number.
    assert (licence.jurisdiction, licence.country) == ("TX", "USA")


def test_a_canadian_issuer_without_a_country_element_still_reads_year_first():
    elements = dict(ONTARIO)
    del elements["DCG"], elements["DAJ"]

    licence = aamva.parse(payload(elements, iin="636012", version=8))

    assert (licence.jurisdiction, licence.country) == ("ON", "CAN")
    assert licence.date_of_birth == date(1990, 6, 15)


def test_dates_in_the_other_order_than_the_country_uses_are_still_read():
    licence = aamva.parse(payload({**TEXAS, "DBB": "19850302"}))

    assert licence.date_of_birth == date(1985, 3, 2)


@pytest.mark.parametrize("separator", ["\r\n", "\x1e", "\r"])
def test_unusual_element_separators_are_tolerated(separator):
    licence = aamva.parse(payload(TEXAS, separator=separator))

    assert (licence.last_name, licence.document_number) == ("O'Brien", "12345678")


def test_a_wrong_subfile_offset_is_tolerated():
    licence = aamva.parse(payload(TEXAS, offset_error=7))

    assert licence.document_number == "12345678"


def test_a_jurisdiction_subfile_after_the_licence_is_ignored():
    text = payload(TEXAS, jurisdiction_elements={"ZTA": "FEE PAID", "ZTB": "X"})

    licence = aamva.parse(text)

    assert licence.document_number == "12345678"
    assert not any(key.startswith("Z") for key in licence.raw)


def test_an_id_card_subfile_is_read_like_a_licence():
    licence = aamva.parse(payload(TEXAS, subfile="ID"))

    assert licence.last_name == "O'Brien"


def test_a_payload_after_scanner_noise_is_read():
    licence = aamva.parse("]L0" + payload(TEXAS))

    assert licence.document_number == "12345678"


@pytest.mark.parametrize(
    ("raw", "readable"),
    [
        ("O'BRIEN", "O'Brien"),
        ("MCDONALD", "McDonald"),
        ("SMITH-JONES", "Smith-Jones"),
        ("ÉLODIE", "Élodie"),
        ("JOSÉ MARÍA", "José María"),
        ("VAN DER BERG", "Van Der Berg"),
        ("JOHN III", "John III"),
    ],
)
def test_names_are_written_for_people(raw, readable):
    assert aamva.title_case(raw) == readable


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "@\n\x1e\rANSI not a licence",
        "@\n\x1e\rANSI 636015090001ZZ00310010ZZZZA1\r",
        payload({"DAQ": "12345678", "DBA": "07142030", "DBB": "03021985"}),
        payload({**TEXAS, "DBA": "13452030"}),
        payload({**TEXAS, "DBB": "yesterday"}),
        payload({key: value for key, value in TEXAS.items() if key != "DAQ"}),
        payload({key: value for key, value in TEXAS.items() if key != "DBA"}),
        payload({**NEW_YORK_V1, "DAA": "MCDONALD"}, version=1),
    ],
    ids=[
        "empty",
        "prose",
        "header only",
        "no licence subfile",
        "no name",
        "impossible expiry",
        "words for a date",
        "no number",
        "no expiry",
        "full name without a comma",
    ],
)
def test_payloads_that_hold_no_readable_licence_are_refused(text):
    with pytest.raises(aamva.AamvaError):
        aamva.parse(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="latin-1"), max_size=300))
def test_arbitrary_text_is_parsed_or_refused_with_an_aamva_error(text):
    with contextlib.suppress(aamva.AamvaError):
        aamva.parse("@\n\x1e\rANSI 636015090001DL00310200DL" + text)
