"""Read a North American driver's licence or ID card from the PDF417 on its back.

The barcode follows the AAMVA DL/ID Card Design Standard. Its payload is a header

    @ <element separator> <record separator> <segment terminator> ANSI <IIN: 6 digits>
    <AAMVA version: 2> [<jurisdiction version: 2>, from version 2] <entries: 2>
    then per entry <subfile type: 2, e.g. DL or ID> <offset: 4> <length: 4>

followed by the subfiles: each starts with its type, holds elements that are a
three-letter ID and a value ended by the element separator (normally LF), and ends
with the segment terminator (normally CR). Issuers bend these rules, so the parser
trusts the separators the header declares, falls back to searching for a subfile
when its offset is wrong, and refuses only what holds no licence at all.
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import date

import cv2
import numpy as np
import zxingcpp

from gatekeeper import images

logger = logging.getLogger(__name__)

# PDF417 fails to decode once the card is turned by about 3° (TESTING.md; measured
# again in tests/gatekeeper/test_aamva.py: 2° reads, 3° does not), so a failed read
# is retried with the image turned back by these angles, each covering about ±2°.
RETRY_ANGLES = (3.0, -3.0, 6.0, -6.0)
# A barcode needs more pixels than a face; larger photos are scaled to this long side.
BARCODE_MAX_SIDE = 2000

# Values issuers write where an optional element has nothing to say.
_EMPTY_VALUES = {"", "NONE", "UNAVL", "UNAVAILABLE", "N/A"}
_HEADER = re.compile(
    r"@(?P<separators>[\s\S]{3})(?:ANSI ?|AAMVA)(?P<iin>\d{6})(?P<version>\d{2})"
)
_DESIGNATOR = re.compile(r"(?P<type>[A-Z]{2})(?P<offset>\d{4})(?P<length>\d{4})")
_SUBFILE_START = re.compile(r"(?:DL|ID)(?=D[A-Z]{2})")
_ELEMENT = re.compile(r"(?P<id>D[A-Z]{2})(?P<value>[^\n\r\x1e]*)")
_STANDARD_SEPARATORS = "\n\r\x1e"

_CANADIAN_JURISDICTIONS = {
    "AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"
}  # fmt: skip
# The AAMVA issuer identification numbers of U.S. and Canadian jurisdictions, as the
# association publishes them (aamva.org, "Issuer Identification Numbers (IIN)").
ISSUERS = {
    "604426": ("PE", "CAN"), "604427": ("AS", "USA"), "604428": ("QC", "CAN"),
    "604429": ("YT", "CAN"), "604430": ("MP", "USA"), "604431": ("PR", "USA"),
    "604432": ("AB", "CAN"), "604433": ("NU", "CAN"), "636000": ("VA", "USA"),
    "636001": ("NY", "USA"), "636002": ("MA", "USA"), "636003": ("MD", "USA"),
    "636004": ("NC", "USA"), "636005": ("SC", "USA"), "636006": ("CT", "USA"),
    "636007": ("LA", "USA"), "636008": ("MT", "USA"), "636009": ("NM", "USA"),
    "636010": ("FL", "USA"), "636011": ("DE", "USA"), "636012": ("ON", "CAN"),
    "636013": ("NS", "CAN"), "636014": ("CA", "USA"), "636015": ("TX", "USA"),
    "636016": ("NL", "CAN"), "636017": ("NB", "CAN"), "636018": ("IA", "USA"),
    "636019": ("GU", "USA"), "636020": ("CO", "USA"), "636021": ("AR", "USA"),
    "636022": ("KS", "USA"), "636023": ("OH", "USA"), "636024": ("VT", "USA"),
    "636025": ("PA", "USA"), "636026": ("AZ", "USA"), "636028": ("BC", "CAN"),
    "636029": ("OR", "USA"), "636030": ("MO", "USA"), "636031": ("WI", "USA"),
    "636032": ("MI", "USA"), "636033": ("AL", "USA"), "636034": ("ND", "USA"),
    "636035": ("IL", "USA"), "636036": ("NJ", "USA"), "636037": ("IN", "USA"),
    "636038": ("MN", "USA"), "636039": ("NH", "USA"), "636040": ("UT", "USA"),
    "636041": ("ME", "USA"), "636042": ("SD", "USA"), "636043": ("DC", "USA"),
    "636044": ("SK", "CAN"), "636045": ("WA", "USA"), "636046": ("KY", "USA"),
    "636047": ("HI", "USA"), "636048": ("MB", "CAN"), "636049": ("NV", "USA"),
    "636050": ("ID", "USA"), "636051": ("MS", "USA"), "636052": ("RI", "USA"),
    "636053": ("TN", "USA"), "636054": ("NE", "USA"), "636055": ("GA", "USA"),
    "636058": ("OK", "USA"), "636059": ("AK", "USA"), "636060": ("WY", "USA"),
    "636061": ("WV", "USA"), "636062": ("VI", "USA"),
}  # fmt: skip
_ROMAN_SUFFIXES = {"II", "III", "IV", "V", "VI", "VII", "VIII"}


class AamvaError(ValueError):
    """A barcode payload that is not a readable AAMVA licence; says what is wrong."""


@dataclass(frozen=True)
class LicenceData:
    """The holder and document as the licence's barcode states them."""

    first_name: str
    middle_name: str | None
    last_name: str
    full_name: str
    date_of_birth: date
    expiry: date
    document_number: str
    issuer: str
    jurisdiction: str | None
    country: str
    version: int
    # The values exactly as encoded (upper case, padding stripped), by element ID.
    raw: dict[str, str] = field(repr=False, compare=False)

    def expired(self, on: date) -> bool:
        """Whether the document is past its expiry date on the given day."""
        return self.expiry < on


def decode_pdf417(image_bytes: bytes) -> str | None:
    """The text of the first PDF417 symbol in a photo, or None when none is read.

    An upload that images.decode refuses (not an image, too large, cut short) also
    gives None: the kiosk judges the photo separately.
    """
    try:
        image = images.decode(image_bytes)
    except images.ImageRefused as refusal:
        logger.info("No barcode read: the image was refused (%s)", refusal.code)
        return None

    grey = _barcode_copy(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    for angle in (0.0, *RETRY_ANGLES):
        symbols = zxingcpp.read_barcodes(
            _rotated(grey, angle) if angle else grey,
            formats=zxingcpp.BarcodeFormat.PDF417,
            text_mode=zxingcpp.TextMode.Plain,
        )
        if symbols:
            return _text(symbols[0].bytes)

    return None


def parse(payload: str) -> LicenceData:
    """Read the holder's names, dates and document number from an AAMVA payload."""
    header = _HEADER.search(payload)
    if header is None:
        raise AamvaError("This barcode does not hold an AAMVA licence header.")

    # Offsets in the header count from the compliance indicator "@".
    payload = payload[header.start() :]
    header = _HEADER.match(payload)
    version = int(header["version"])
    elements = _elements(payload, header.end(), version, header["separators"])
    if not elements:
        raise AamvaError("This barcode holds no licence data.")

    iin = header["iin"]
    known_jurisdiction, known_country = ISSUERS.get(iin, (None, None))
    jurisdiction = _value(elements, "DAJ") or known_jurisdiction
    country = _country(_value(elements, "DCG"), jurisdiction, known_country)
    # Version 1 (DL/ID-2000) and Canada write CCYYMMDD; U.S. issuers since write
    # MMDDCCYY.
    year_first = version <= 1 or country == "CAN"

    first, middle, last = _names(elements)
    suffix = _value(elements, "DCU")
    full = " ".join(part for part in (first, middle, last, suffix) if part)
    return LicenceData(
        first_name=title_case(first),
        middle_name=title_case(middle) if middle else None,
        last_name=title_case(last),
        full_name=title_case(full),
        date_of_birth=_date(elements, "DBB", "date of birth", year_first),
        expiry=_date(elements, "DBA", "expiry date", year_first),
        document_number=_required(elements, "DAQ", "document number"),
        issuer=iin,
        jurisdiction=jurisdiction,
        country=country,
        version=version,
        raw=elements,
    )


def title_case(name: str) -> str:
    """An upper-case AAMVA name written for people: O'BRIEN becomes O'Brien.

    MCDONALD becomes McDonald, letters keep their accents, and Roman-numeral
    suffixes (III) stay capitals. The raw value stays in LicenceData.raw.
    """
    words = []
    for word in name.split():
        if word.upper() in _ROMAN_SUFFIXES:
            words.append(word.upper())
            continue

        # Capitalise the first letter after anything that is not a letter: O'Brien,
        # Smith-Jones.
        letters = []
        after_letter = False
        for character in word:
            letters.append(character.lower() if after_letter else character.upper())
            after_letter = character.isalpha()

        word = "".join(letters)
        if len(word) > 3 and word.startswith("Mc"):
            word = "Mc" + word[2].upper() + word[3:]

        words.append(word)

    return " ".join(words)


def _elements(payload: str, start: int, version: int, separators: str) -> dict:
    """Every element of the DL and ID subfiles, by ID; DL wins where both give one."""
    subfiles = _subfiles(payload, start, version)
    if not subfiles:
        match = _SUBFILE_START.search(payload, start)
        if match:
            subfiles = [payload[match.end() :]]

    # Some issuers declare one separator and use another; accept the standard ones too.
    splitter = re.compile("[" + re.escape(separators + _STANDARD_SEPARATORS) + "]")
    elements: dict[str, str] = {}
    for text in subfiles:
        for piece in splitter.split(text):
            match = _ELEMENT.fullmatch(piece)
            if match:
                elements.setdefault(match["id"], match["value"].strip())

    return elements


def _subfiles(payload: str, start: int, version: int) -> list[str]:
    """The text of the DL and ID subfiles the header's designators point to."""
    # The jurisdiction version field appeared with AAMVA version 2.
    position = start + (2 if version >= 2 else 0)
    count = payload[position : position + 2]
    if not count.isdigit():
        return []

    position += 2
    found = []
    for _ in range(int(count)):
        designator = _DESIGNATOR.match(payload, position)
        if designator is None:
            break

        position = designator.end()
        kind = designator["type"]
        if kind not in ("DL", "ID"):
            continue

        offset = int(designator["offset"])
        end = offset + int(designator["length"])
        if payload[offset : offset + 2] == kind:
            found.append(payload[offset + 2 : end])
            continue

        # A wrong offset is a common issuer mistake: look for the subfile's start.
        match = re.compile(kind + r"(?=D[A-Z]{2})").search(payload, position)
        if match:
            found.append(payload[match.end() :])

    return found


def _value(elements: dict, element_id: str) -> str | None:
    value = elements.get(element_id, "")
    return None if value.upper() in _EMPTY_VALUES else value


def _required(elements: dict, element_id: str, label: str) -> str:
    value = _value(elements, element_id)
    if value is None:
        raise AamvaError(f"The barcode gives no {label} ({element_id}).")

    return value


def _names(elements: dict) -> tuple[str, str | None, str]:
    """First, middle and family name, from whichever elements the version uses."""
    last = _value(elements, "DCS") or _value(elements, "DAB")
    first = _value(elements, "DAC")
    middle = _value(elements, "DAD")
    given = _value(elements, "DCT")
    # Versions 2 and 3 put all given names in DCT, separated by commas or spaces.
    if first is None and given:
        parts = [part for part in re.split(r"[,\s]+", given) if part]
        first, middle = parts[0], " ".join(parts[1:]) or middle

    full = _value(elements, "DAA")
    # Version 1's DAA holds the whole name as "LAST,FIRST,MIDDLE".
    if full and (last is None or first is None):
        family, _, given = full.partition(",")
        given_names = given.replace(",", " ").split()
        if not family.strip() or not given_names:
            raise AamvaError("The barcode's full name (DAA) is not LAST,FIRST.")

        last = last or family.strip()
        first = first or given_names[0]
        middle = middle or " ".join(given_names[1:]) or None

    if not last or not first:
        raise AamvaError("The barcode gives no family and first name.")

    return first, middle, last


def _country(declared: str | None, jurisdiction: str | None, known: str | None) -> str:
    if declared:
        return declared.upper()

    if jurisdiction in _CANADIAN_JURISDICTIONS:
        return "CAN"

    return known or "USA"


def _date(elements: dict, element_id: str, label: str, year_first: bool) -> date:
    """A date in the issuer's order, or the other order when that one is impossible.

    Issuers do get the order wrong; the two cannot be confused, because a year from
    1900 to 2199 starts with 19, 20 or 21, which no month does.
    """
    value = _required(elements, element_id, label)
    orders = ("ymd", "mdy") if year_first else ("mdy", "ymd")
    if len(value) == 8 and value.isdigit():
        for order in orders:
            parsed = _date_in_order(value, order)
            if parsed is not None:
                return parsed

    raise AamvaError(f"The barcode's {label} ({element_id}) is not a date: {value!r}.")


def _date_in_order(value: str, order: str) -> date | None:
    if order == "ymd":
        year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
    else:
        month, day, year = int(value[:2]), int(value[2:4]), int(value[4:])

    if not 1900 <= year <= 2199:
        return None

    try:
        return date(year, month, day)
    except ValueError:
        return None


def _text(raw: bytes) -> str:
    """The payload as text: AAMVA is ASCII, but some issuers write Latin-1 accents."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _barcode_copy(grey: np.ndarray) -> np.ndarray:
    height, width = grey.shape
    scale = BARCODE_MAX_SIDE / max(width, height)
    if scale >= 1:
        return grey

    size = (round(width * scale), round(height * scale))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def _rotated(grey: np.ndarray, angle: float) -> np.ndarray:
    """The image turned about its centre, enlarged so no corner is cut off."""
    height, width = grey.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_width = int(height * sin + width * cos) + 1
    new_height = int(height * cos + width * sin) + 1
    matrix[0, 2] += new_width / 2 - width / 2
    matrix[1, 2] += new_height / 2 - height / 2
    return cv2.warpAffine(
        grey, matrix, (new_width, new_height), borderMode=cv2.BORDER_REPLICATE
    )
