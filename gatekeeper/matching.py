"""Matching a visitor against the block list a security manager keeps.

CTPAT 10.2 has every visitor identified on arrival; a site's security manager lists
people, companies and ID numbers that must not pass unchecked, each with aliases. A
match holds the check-in for a person to review, so the rules lean towards holding:
a needless hold costs a visitor a few minutes at the desk, a missed one lets a
listed person in.

The rules, for each list entry (its value and each alias):

- A person matches when the visitor's name, normalised, equals the listed name; or
  when the listed name has at least two words and every one of them is among the
  visitor's words, in any order. So a listed "Juan Pérez" holds "Juan Carlos Pérez
  García" and "Pérez, Juan", but not "Juana Pérez": words are compared whole, never
  as prefixes. A listed single word ("Madonna") matches only a visitor of exactly
  that name, or every María and Juan would be held. The rule does not run the other
  way: a listed "Juan Carlos Pérez García" does not hold a visitor who writes only
  "Juan Pérez", because then one long listed name would hold every visitor with two
  common words from it. The manager adds the shortened forms a person goes by as
  aliases instead, and so decides how wide each entry reaches.
- A company matches when the names are equal after normalisation, legal suffixes
  dropped and spaces ignored ("ACME, Inc." is "Acme"; "Acme Logistics" is
  "AcmeLogistics"). A company containing a listed name is not held.
- An ID number matches when the two are equal with case, spaces and punctuation
  ignored ("D123-456-789" is "d123456789"). Look-alike characters (O and 0, I and 1)
  are not folded together: a misread number slips through, a weakness a person at
  the desk should know of.

A value that normalises to nothing, on either side, never matches.
"""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

KINDS = frozenset({"person", "company", "id_number"})

# Letters that carry no combining mark to strip, written as the letters people type
# on an English keyboard. Case folding has already turned ß into ss and capitals
# into these small letters.
_FOLDS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "ı": "i"}
)
# Apostrophes join what they separate: O'Brien is one word, OBrien. The acute accent
# is here because people type it as an apostrophe and NFKD would turn it into a
# space and a combining mark.
_APOSTROPHES = frozenset("'’‘ʼʹ`´")
# In a company's name a full stop or an ampersand joins too, so S.A. is SA and AT&T
# is ATT; in a person's name a full stop separates ("J.Pérez" is J and Pérez).
_COMPANY_JOINERS = _APOSTROPHES | frozenset(".&")

# Legal forms dropped from the end of a company's name, as whole words after
# normalisation (so "S.A. de C.V." is sa de cv), longest first.
LEGAL_SUFFIXES = tuple(
    sorted(
        (
            tuple(suffix.split())
            for suffix in (
                "inc",
                "incorporated",
                "llc",
                "ltd",
                "limited",
                "co",
                "corp",
                "company",
                "corporation",
                "gmbh",
                "sa",
                "sa de cv",
                "sab de cv",
                "sapi de cv",
                "s de rl",
                "s de rl de cv",
            )
        ),
        key=len,
        reverse=True,
    )
)


@dataclass
class BlockEntry:
    """One line of a site's block list: a person, company or ID number, and aliases."""

    id: int
    kind: str
    value: str
    aliases: list[str] = field(default_factory=list)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, not {self.kind!r}")

    @property
    def values(self) -> list[str]:
        return [self.value, *self.aliases]


@dataclass(frozen=True)
class Match:
    """A block-list entry the visitor matched, and which of its values matched how.

    `matched` is the listed value or alias as the manager wrote it; `rule` is
    "exact" or "all_words" (every word of a listed name is in the visitor's).
    """

    entry_id: int
    kind: str
    matched: str
    rule: str


def normalise_name(text: str | None) -> str:
    """A person's name as a key: no case, accents or punctuation, words sorted."""
    return " ".join(sorted(_words(text, _APOSTROPHES)))


def normalise_company(text: str | None) -> str:
    """A company's name as a key: as a person's, in order, without its legal form."""
    words = _words(text, _COMPANY_JOINERS)
    stripped = True
    while stripped:
        stripped = False
        for suffix in LEGAL_SUFFIXES:
            # A name that is nothing but legal forms ("Company Inc") keeps its first.
            if len(words) > len(suffix) and tuple(words[-len(suffix) :]) == suffix:
                words = words[: -len(suffix)]
                stripped = True
                break

    return " ".join(words)


def normalise_id_number(text: str | None) -> str:
    """An ID number as a key: uppercase letters and digits only."""
    folded = unicodedata.normalize("NFKD", text or "").upper()
    return "".join(ch for ch in folded if ch.isalnum() and not _is_mark(ch))


def find_matches(
    entries: Iterable[BlockEntry],
    *,
    name: str | None = None,
    company: str | None = None,
    id_number: str | None = None,
) -> list[Match]:
    """Every entry the visitor matches, at most once each, in the list's order."""
    visitor = {
        "person": normalise_name(name),
        "company": normalise_company(company).replace(" ", ""),
        "id_number": normalise_id_number(id_number),
    }
    matches = []
    for entry in entries:
        match = _match(entry, visitor[entry.kind])
        if match is not None:
            matches.append(match)

    return matches


def _match(entry: BlockEntry, visitor_key: str) -> Match | None:
    if not visitor_key:
        return None

    for value in entry.values:
        if _key(entry.kind, value) == visitor_key:
            return Match(entry.id, entry.kind, value, "exact")

    if entry.kind != "person":
        return None

    visitor_words = set(visitor_key.split())
    for value in entry.values:
        listed_words = set(normalise_name(value).split())
        if len(listed_words) >= 2 and listed_words <= visitor_words:
            return Match(entry.id, entry.kind, value, "all_words")

    return None


def _key(kind: str, value: str) -> str:
    if kind == "person":
        return normalise_name(value)

    if kind == "company":
        return normalise_company(value).replace(" ", "")

    return normalise_id_number(value)


def _words(text: str | None, joiners: frozenset[str]) -> list[str]:
    """Lowercase, unaccented words; joiners vanish, other non-letters separate."""
    text = "".join(ch for ch in text or "" if ch not in joiners)
    # Decomposed again after case folding, which can itself leave a combining mark
    # (İ folds to i and a dot above).
    text = unicodedata.normalize("NFKD", text).casefold()
    text = unicodedata.normalize("NFKD", text)
    kept = []
    for ch in text:
        if _is_mark(ch) or ch in joiners:
            continue

        kept.append(ch if ch.isalnum() or _is_spacing_mark(ch) else " ")

    return "".join(kept).translate(_FOLDS).split()


def _is_mark(ch: str) -> bool:
    """A non-spacing or enclosing mark: an accent, which a key ignores."""
    return unicodedata.category(ch) in {"Mn", "Me"}


def _is_spacing_mark(ch: str) -> bool:
    """A spacing mark (Devanagari vowel signs, say), which is part of its word."""
    return unicodedata.category(ch) == "Mc"
