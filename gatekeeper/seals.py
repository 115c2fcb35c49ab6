"""Seal numbers and the VVTT inspection at a trailer's departure (CTPAT 6.7, 7.30).

A high-security bolt seal meeting ISO 17712 carries a unique number, usually the
manufacturer's letter prefix and a serial. The standard does not fix one format, so
each site sets the pattern its seals follow; numbers are compared after removing
spaces and hyphens and folding case, as guards type them from the seal or a scanner
reads them from its barcode.
"""

import logging
import re

import zxingcpp
from flask_babel import lazy_gettext as _l

from gatekeeper import scanning

logger = logging.getLogger(__name__)

MAX_LENGTH = 20
# The symbologies bolt-seal makers print beside the number: mostly Code 128, some
# Code 39 or Interleaved 2 of 5, and QR or Data Matrix on newer seals.
SEAL_SYMBOLOGIES = (
    zxingcpp.BarcodeFormat.Code128,
    zxingcpp.BarcodeFormat.Code39,
    zxingcpp.BarcodeFormat.ITF,
    zxingcpp.BarcodeFormat.QRCode,
    zxingcpp.BarcodeFormat.DataMatrix,
)
# View the seal and locking mechanism; Verify the number against the documents;
# Tug the seal; Twist and turn it. Each step is confirmed by the guard.
VVTT_STEPS = {
    "view": _l("View the seal and the container's locking mechanism"),
    "verify": _l("Verify the seal number against the shipping documents"),
    "tug": _l("Tug on the seal to make sure it is affixed properly"),
    "twist": _l("Twist and turn the seal to make sure it does not unscrew"),
}


class SealError(ValueError):
    """A seal number or inspection refused; the message is for the guard."""


def normalise(text: str | None) -> str:
    """Upper case, no spaces or hyphens: how seal numbers are compared and stored."""
    return re.sub(r"[\s\-]", "", text or "").upper()


def check_pattern(pattern: str) -> str:
    """A site's seal pattern, refused if it is not a usable regular expression."""
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        message = f"The seal pattern is not a valid expression: {error}"
        raise SealError(message) from error

    if compiled.fullmatch(""):
        raise SealError("The seal pattern must not accept an empty seal number.")

    return pattern


def check_number(entered: str, confirmed: str, *, pattern: str) -> str:
    """The seal number typed twice, normalised and checked against the site's format."""
    number = normalise(entered)
    if not number:
        raise SealError(_l("Enter the seal number."))

    if number != normalise(confirmed):
        raise SealError(_l("The two seal numbers differ. Enter the number again."))

    if len(number) > MAX_LENGTH or not number.isascii() or not number.isalnum():
        raise SealError(_l("A seal number is letters and digits, at most 20."))

    if not re.fullmatch(pattern, number):
        raise SealError(
            _l("This is not a seal number of this site's format. Check it again.")
        )

    return number


def check_vvtt(confirmed: dict[str, bool]) -> None:
    """Every VVTT step confirmed, or the names of the missing ones in the error."""
    missing = [step for step in VVTT_STEPS if not confirmed.get(step)]
    if missing:
        raise SealError(
            _l("Confirm every inspection step: %(steps)s.", steps=", ".join(missing))
        )


def matches_assigned(number: str, assigned: str | None) -> bool:
    """True when no seal was assigned to the shipment or the numbers agree."""
    return not assigned or normalise(assigned) == number


def read_code(data: bytes) -> str | None:
    """The seal number in the first barcode of a camera frame that reads as one.

    Whatever is read is only a suggestion: the guard still sees it in the form and
    the departure checks it against the site's pattern like a typed number.
    """
    return scanning.read_first(data, SEAL_SYMBOLOGIES, _as_seal_number)


def _as_seal_number(text: str) -> str | None:
    number = normalise(text)
    if 0 < len(number) <= MAX_LENGTH and number.isascii() and number.isalnum():
        return number

    return None
