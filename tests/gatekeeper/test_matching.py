"""Block-list matching: the spellings of one name meet, different names do not."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.matching import (
    BlockEntry,
    Match,
    find_matches,
    normalise_company,
    normalise_id_number,
    normalise_name,
)


@pytest.mark.parametrize(
    ("typed", "listed"),
    [
        ("JOSÉ  LUIS  o'brien", "Jose-Luis O'Brien"),
        ("García, Juan", "Juan García"),
        ("Dvořák Antonín", "antonin dvorak"),
        ("Straße", "STRASSE"),
        ("Søren Ærø", "soren aero"),
        ("Đorđe Łukasz", "Dorde Lukasz"),
        ("D’Angelo", "D'Angelo"),
        ("O´Neill", "ONeill"),
        ("Zoe\u0308 Ñúñez", "Zoë Ñúñez"),
        ("ＭＡＲＩＡ　ＬＯＰＥＺ", "María López"),
        ("  María\tLópez\u00a0 ", "López María"),
    ],
    ids=[
        "case-accents-spacing-hyphen-apostrophe",
        "surname-first-with-comma",
        "caron-and-order",
        "sharp-s",
        "slashed-o-and-ae",
        "stroked-d-and-l",
        "curly-apostrophe",
        "acute-typed-as-apostrophe",
        "decomposed-accents",
        "full-width",
        "tabs-and-no-break-spaces",
    ],
)
def test_spellings_of_one_name_normalise_alike(typed, listed):
    assert normalise_name(typed) == normalise_name(listed)


def test_a_name_normalises_to_sorted_plain_lowercase_words():
    assert normalise_name("García-Márquez, Gabriel José") == (
        "gabriel garcia jose marquez"
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Juana Pérez", "Juan Pérez"),
        ("Ana María", "Anamaría"),
        ("Lee Ann", "Leeann"),
        ("Jon Smith", "John Smith"),
    ],
)
def test_different_names_stay_different(one, other):
    assert normalise_name(one) != normalise_name(other)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ACME, Inc.", "acme"),
        ("Acme", "acme"),
        ("Acme Co., Ltd.", "acme"),
        ("Transportes del Norte, S.A. de C.V.", "transportes del norte"),
        ("Transportes del Norte SA DE CV", "transportes del norte"),
        ("Logística Ruiz, S. de R.L. de C.V.", "logistica ruiz"),
        ("Müller Spedition GmbH", "muller spedition"),
        ("Global Freight Corporation", "global freight"),
        ("AT&T Corp", "att"),
        ("Cocoa Company Inc", "cocoa"),
        ("The Company", "the"),
        ("Company Inc", "company"),
        ("Co", "co"),
    ],
)
def test_a_company_loses_case_punctuation_and_its_legal_form(typed, expected):
    assert normalise_company(typed) == expected


def test_a_legal_form_inside_a_company_name_stays():
    assert normalise_company("Co Transport Inc") == "co transport"


@pytest.mark.parametrize(
    "typed",
    [
        "D123-456-789",
        "d123456789",
        " D 123 456 789 ",
        "D.123.456.789",
        "Ｄ１２３４５６７８９",
    ],
)
def test_an_id_number_loses_case_spaces_and_punctuation(typed):
    assert normalise_id_number(typed) == "D123456789"


def test_empty_values_normalise_to_nothing():
    assert normalise_name(None) == normalise_name(" - , ") == ""
    assert normalise_company("") == ""
    assert normalise_id_number("--") == ""


LIST = [
    BlockEntry(1, "person", "Juan Pérez"),
    BlockEntry(2, "person", "Jose-Luis O'Brien", aliases=["Pepe O'Brien"]),
    BlockEntry(3, "person", "Madonna"),
    BlockEntry(4, "company", "Acme", aliases=["Acme Logistics"]),
    BlockEntry(5, "id_number", "D123-456-789"),
    BlockEntry(6, "person", "Juan Carlos Pérez García", aliases=["J. C. Pérez"]),
]


def _matches(**visitor) -> list[Match]:
    return find_matches(LIST, **visitor)


def test_a_listed_name_typed_differently_is_an_exact_match():
    assert _matches(name="JOSÉ  LUIS  o'brien") == [
        Match(2, "person", "Jose-Luis O'Brien", "exact")
    ]


def test_a_listed_name_written_surname_first_is_an_exact_match():
    assert _matches(name="Pérez, Juan") == [Match(1, "person", "Juan Pérez", "exact")]


def test_an_alias_matches_and_is_named():
    assert _matches(name="pepe obrien") == [Match(2, "person", "Pepe O'Brien", "exact")]


def test_a_visitor_with_every_word_of_a_listed_name_is_held():
    assert _matches(name="Juan Carlos Pérez García") == [
        Match(1, "person", "Juan Pérez", "all_words"),
        Match(6, "person", "Juan Carlos Pérez García", "exact"),
    ]


def test_a_similar_but_different_first_name_is_not_held():
    assert _matches(name="Juana Pérez") == []


def test_a_shortened_form_of_a_long_listed_name_needs_an_alias():
    assert _matches(name="Carlos Pérez") == []
    assert _matches(name="J C Pérez") == [Match(6, "person", "J. C. Pérez", "exact")]


def test_a_one_word_listed_name_matches_only_exactly():
    assert _matches(name="madonna") == [Match(3, "person", "Madonna", "exact")]
    assert _matches(name="Madonna Ciccone") == []


def test_a_company_matches_without_its_legal_form_or_spaces():
    assert _matches(company="ACME, Inc.") == [Match(4, "company", "Acme", "exact")]
    assert _matches(company="AcmeLogistics LLC") == [
        Match(4, "company", "Acme Logistics", "exact")
    ]


def test_a_company_containing_a_listed_name_is_not_held():
    assert _matches(company="Acme Freight de México") == []


def test_an_id_number_matches_whatever_its_separators():
    assert _matches(id_number="d123456789") == [
        Match(5, "id_number", "D123-456-789", "exact")
    ]


def test_a_visitors_name_is_not_checked_against_companies_or_numbers():
    assert _matches(name="Acme", company="Madonna", id_number="Juan Pérez") == []


def test_every_field_is_checked_at_once():
    matches = _matches(name="Juan Pérez", company="Acme", id_number="D 123 456 789")

    assert [match.entry_id for match in matches] == [1, 4, 5]


@pytest.mark.parametrize(
    "visitor",
    [
        {},
        {"name": "", "company": "", "id_number": ""},
        {"name": "Ana Torres", "company": "Transportes del Norte", "id_number": "X1"},
        {"name": "Pérez", "company": "Acm", "id_number": "D12345678"},
    ],
    ids=["nothing", "blanks", "other-visitor", "near-misses"],
)
def test_a_visitor_who_is_not_listed_matches_nothing(visitor):
    assert _matches(**visitor) == []


def test_an_entry_that_normalises_to_nothing_never_matches():
    entries = [BlockEntry(9, "person", "--"), BlockEntry(10, "company", "Inc.")]

    assert find_matches(entries, name="", company="") == []
    assert find_matches(entries, name="-", company=".") == []


def test_an_entry_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        BlockEntry(1, "vehicle", "ABC-123")


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_normalising_twice_changes_nothing(text):
    assert normalise_name(normalise_name(text)) == normalise_name(text)
    assert normalise_company(normalise_company(text)) == normalise_company(text)
    assert normalise_id_number(normalise_id_number(text)) == normalise_id_number(text)


@settings(max_examples=200)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=5), st.randoms())
def test_the_order_of_a_names_words_does_not_matter(words, random):
    shuffled = list(words)
    random.shuffle(shuffled)

    assert normalise_name(" ".join(shuffled)) == normalise_name(" ".join(words))
