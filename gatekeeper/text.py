"""Rules for the free text people type: names, companies, numbers."""

import unicodedata

# Messages go straight to the person at the screen, so they are translated where they
# are made; outside a request (the CLI) gettext returns the English text.
from flask_babel import gettext as _

# Unicode categories refused anywhere in a field: control characters, invisible
# formatting (zero-width joiners, bidirectional overrides), unassigned and private-use
# code points, and lone surrogates.
REFUSED_CATEGORIES = {"Cc", "Cf", "Cn", "Co", "Cs"}


class TextError(ValueError):
    """A value a person typed that the field cannot accept; the message is for them."""


def clean_text(value: str | None, *, label: str, max_length: int, required=True) -> str:
    """Normalise a one-line text field (NFC, single spaces) or raise a TextError."""
    text = unicodedata.normalize("NFC", value or "")
    for character in text:
        if unicodedata.category(character) in REFUSED_CATEGORIES:
            raise TextError(
                _("%(label)s contains a character that is not allowed.", label=label)
            )

    text = " ".join(text.split())
    if required and not text:
        raise TextError(_("%(label)s is required.", label=label))

    if len(text) > max_length:
        raise TextError(
            _("%(label)s must be at most %(n)s characters.", label=label, n=max_length)
        )

    return text


def clean_name(value: str | None, *, label: str, max_length: int = 120) -> str:
    """A person's or company's name: letters of any script, and a little punctuation."""
    text = clean_text(value, label=label, max_length=max_length)
    if not any(unicodedata.category(c).startswith("L") for c in text):
        raise TextError(_("%(label)s must contain letters.", label=label))

    for character in text:
        category = unicodedata.category(character)
        if category[0] in {"L", "M", "N", "Z"} or character in "'’.,-&()/":
            continue

        raise TextError(
            _("%(label)s contains a character that is not allowed.", label=label)
        )

    return text
