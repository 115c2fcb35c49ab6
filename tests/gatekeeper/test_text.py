"""The rules for free text people type: names and one-line fields."""

import pytest

from gatekeeper.text import TextError, clean_name, clean_text


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Ñúñez",
        "李小龍",
        "O'Brien-Smith",
        "Ørjan Ødegård",
        "Nguyễn Thị Minh Khai",
        "محمد الأمين",
        "Δημήτρης Παπαδόπουλος",
        "Jean-Luc Picard Jr.",
        "AT&T (Logistics) / Dock 4",
        "D’Angelo",
    ],
)
def test_a_name_in_any_script_is_accepted_as_typed(name):
    assert clean_name(name, label="Name") == name


def test_a_name_is_normalised_to_composed_characters():
    decomposed = "Zoe\u0308 N\u0303u\u0301n\u0303ez"

    assert clean_name(decomposed, label="Name") == "Zoë Ñúñez"


def test_spaces_are_trimmed_and_collapsed():
    assert clean_text("  Dock \u00a0 A   North ", label="Site", max_length=40) == (
        "Dock A North"
    )


@pytest.mark.parametrize(
    "value",
    [
        "Ada\x00Lovelace",
        "Ada\tLovelace",
        "Ada\nLovelace",
        "Ada\x1b[31mLovelace",
        "Ada\u200dLovelace",
        "Ada\u200bLovelace",
        "Ada \u202eecalevoL",
        "Ada\ufeff",
        "Ada\ue000",
    ],
    ids=[
        "nul",
        "tab",
        "newline",
        "escape",
        "zero-width-joiner",
        "zero-width-space",
        "right-to-left-override",
        "byte-order-mark",
        "private-use",
    ],
)
def test_control_and_invisible_characters_are_refused(value):
    with pytest.raises(TextError, match="not allowed"):
        clean_text(value, label="Name", max_length=120)

    with pytest.raises(TextError, match="not allowed"):
        clean_name(value, label="Name")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_an_empty_required_field_is_refused(value):
    with pytest.raises(TextError, match="Name is required"):
        clean_text(value, label="Name", max_length=120)


def test_an_empty_optional_field_is_an_empty_string():
    assert clean_text("  ", label="Department", max_length=120, required=False) == ""


def test_a_value_longer_than_the_field_is_refused():
    assert clean_name("A" * 120, label="Name") == "A" * 120
    with pytest.raises(TextError, match="at most 120"):
        clean_name("A" * 121, label="Name")


def test_length_is_counted_after_spaces_are_collapsed():
    assert clean_text("a" + " " * 50 + "b", label="Name", max_length=3) == "a b"


@pytest.mark.parametrize("name", ["12345", "-- --", "'", "()"])
def test_a_name_without_letters_is_refused(name):
    with pytest.raises(TextError, match="letters"):
        clean_name(name, label="Name")


@pytest.mark.parametrize(
    "name", ["Ada <script>", "Ada; DROP TABLE", "Ada $", "Ada 😀", "Ada @home"]
)
def test_a_name_with_symbols_is_refused(name):
    with pytest.raises(TextError, match="not allowed"):
        clean_name(name, label="Name")


def test_free_text_may_hold_symbols_that_names_may_not():
    assert clean_text("Ada @home 😀", label="Note", max_length=40) == "Ada @home 😀"
