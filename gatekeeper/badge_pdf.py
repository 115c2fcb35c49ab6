"""A visitor badge as a PDF made on the server, for a desk that saves or mails it.

The page is one label of the site's stock, the same size the badge page prints on,
and it shows what the printed badge shows (CTPAT 10.2): the weekday band, the face
photo, name, company, host, date, valid-until, the visitor type, ESCORT REQUIRED
when it applies, and the QR code a guard scans.
"""

import io
import logging
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF
from PIL import Image

from gatekeeper.badges import Face, qr_png

logger = logging.getLogger(__name__)

# The page size of each label stock, width × height in millimetres.
PAGE_MM = {"62x100mm": (62.0, 100.0), "4x3in": (101.6, 76.2)}
# The band colours of static/badge/badge.css, with the text colour on each.
BANDS = {
    "monday": ((0x1F, 0x4E, 0x9C), (255, 255, 255)),
    "tuesday": ((0x1D, 0x6B, 0x2F), (255, 255, 255)),
    "wednesday": ((0xFF, 0xD4, 0x00), (0, 0, 0)),
    "thursday": ((0x6A, 0x1B, 0x9A), (255, 255, 255)),
    "friday": ((0xF5, 0x7C, 0x00), (0, 0, 0)),
    "saturday": ((0x6D, 0x4C, 0x41), (255, 255, 255)),
    "sunday": ((0xC6, 0x28, 0x28), (255, 255, 255)),
}
# Debian's fonts-dejavu-core, there wherever Chromium is; it covers the names of
# every European script. Without it the PDF falls back to Helvetica, which holds
# Latin-1 only, so a letter outside it is printed without its accent or as "?".
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
MARGIN = 3.0
PHOTO_PIXELS = 360
BAND_HEIGHT = 8.0


@dataclass(frozen=True)
class Layout:
    """Where the parts of one label stock go, in millimetres."""

    photo: tuple[float, float, float, float]
    text_x: float
    text_width: float
    qr: tuple[float, float, float]


LAYOUTS = {
    # Portrait: photo and words under the band, the code below them.
    "62x100mm": Layout(
        photo=(MARGIN, 10.5, 17.0, 21.0), text_x=22.5, text_width=36.5, qr=(14, 56, 34)
    ),
    # Landscape: photo and words on the left, the code on the right.
    "4x3in": Layout(
        photo=(MARGIN, 11.0, 19.0, 23.0), text_x=25.0, text_width=32.0, qr=(59, 14, 40)
    ),
}


def badge_pdf(face: Face, *, photo_jpeg: bytes | None = None) -> bytes:
    """One page, the size of the site's label, showing the badge of `face`."""
    width, height = PAGE_MM[face.size]
    layout = LAYOUTS[face.size]
    pdf = FPDF(unit="mm", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title("Visitor badge")
    pdf.set_creator("Gatekeeper")
    family = _fonts(pdf)
    pdf.add_page()
    text = _Text(pdf, family)

    _band(pdf, text, face, width)
    if photo_jpeg:
        _photo(pdf, photo_jpeg, layout.photo)

    _details(pdf, text, face, layout)
    _code(pdf, text, face, layout)
    return bytes(pdf.output())


class _Text:
    """Writes text in the badge's font, made printable in it when it is Helvetica."""

    def __init__(self, pdf: FPDF, family: str):
        self.pdf = pdf
        self.family = family

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def __call__(self, value: str) -> str:
        if self.family != "Helvetica":
            return value

        return _latin1(value)


def _fonts(pdf: FPDF) -> str:
    paths = _font_paths()
    if paths is None:
        return "Helvetica"

    for style, path in paths.items():
        pdf.add_font("DejaVu", style, str(path))

    return "DejaVu"


@cache
def _font_paths() -> dict[str, Path] | None:
    paths = {style: FONT_DIR / name for style, name in FONT_FILES.items()}
    if all(path.is_file() for path in paths.values()):
        return paths

    logger.warning("DejaVu fonts not found in %s; badge PDFs use Helvetica", FONT_DIR)
    return None


# European letters Latin-1 lacks that Unicode does not decompose into a base letter.
PLAIN_LETTERS = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ħ": "H",
        "ħ": "h",
        "ı": "i",
        "Œ": "OE",
        "œ": "oe",
    }
)


def _latin1(value: str) -> str:
    """The text with each letter Latin-1 lacks replaced by its base letter, or ?."""
    kept = []
    for character in value.translate(PLAIN_LETTERS):
        try:
            character.encode("latin-1")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", character)[:1]
            character = base if base.isascii() and base.isprintable() else "?"

        kept.append(character)

    return "".join(kept)


def _band(pdf: FPDF, text: _Text, face: Face, width: float) -> None:
    fill, ink = BANDS[face.weekday]
    pdf.set_fill_color(*fill)
    pdf.rect(0, 0, width, BAND_HEIGHT, style="F")
    pdf.set_text_color(*ink)
    text.font(12, bold=True)
    pdf.set_xy(0, 0)
    weekday = face.arrived_at.astimezone(ZoneInfo(face.timezone)).strftime("%A")
    pdf.cell(width, BAND_HEIGHT, text(weekday.upper()), align="C")
    pdf.set_text_color(0, 0, 0)


def _photo(pdf: FPDF, jpeg: bytes, box: tuple[float, float, float, float]) -> None:
    """The face photo, scaled to fit its box without distortion."""
    x, y, w, h = box
    try:
        with Image.open(io.BytesIO(jpeg)) as image:
            picture = image.convert("RGB")
    except OSError:
        logger.warning("a stored face photo could not be read for a badge PDF")
        return

    # About 400 dpi at the photo's printed size: sharp on a label printer, and a
    # page of some tens of kilobytes instead of the full stored photo.
    picture.thumbnail((PHOTO_PIXELS, PHOTO_PIXELS))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)
    buffer.seek(0)
    pdf.image(buffer, x=x, y=y, w=w, h=h, keep_aspect_ratio=True)


def _details(pdf: FPDF, text: _Text, face: Face, layout: Layout) -> None:
    zone = ZoneInfo(face.timezone)
    arrived = face.arrived_at.astimezone(zone)
    until = face.valid_until.astimezone(zone)
    until_text = until.strftime("%d %b %H:%M" if face.ends_another_day else "%H:%M")
    x, w = layout.text_x, layout.text_width

    pdf.set_xy(x, layout.photo[1])
    text.font(7.5, bold=True)
    pdf.multi_cell(w, 3.2, text(face.visitor_type.upper()), align="L")
    pdf.set_x(x)
    text.font(12, bold=True)
    # Two lines at most, as the printed badge clamps the name.
    lines = pdf.multi_cell(w, 5, text(face.visitor_name), dry_run=True, output="LINES")
    pdf.multi_cell(w, 5, "\n".join(lines[:2]), align="L")
    pdf.set_x(x)
    text.font(8.5)
    pdf.multi_cell(w, 3.8, text(face.company), align="L")

    top = max(pdf.get_y(), layout.photo[1] + layout.photo[3]) + 1.5
    pdf.set_xy(MARGIN, top)
    facts = [
        ("Host", face.host_name),
        ("Date", arrived.strftime("%d %b %Y")),
        ("Valid until", until_text),
    ]
    fact_width = layout.qr[0] - 2 * MARGIN if layout.qr[1] < top else None
    for label, value in facts:
        pdf.set_x(MARGIN)
        text.font(8, bold=True)
        pdf.multi_cell(
            fact_width or pdf.w - 2 * MARGIN,
            3.6,
            f"**{text(label)}:** {text(value)}",
            markdown=True,
            align="L",
        )

    if face.escort_required:
        _escort(pdf, text, fact_width or pdf.w - 2 * MARGIN)


def _escort(pdf: FPDF, text: _Text, width: float) -> None:
    pdf.set_xy(MARGIN, pdf.get_y() + 1.2)
    pdf.set_fill_color(0, 0, 0)
    pdf.set_text_color(255, 255, 255)
    text.font(9.5, bold=True)
    pdf.cell(width, 5.5, "ESCORT REQUIRED", align="C", fill=True)
    pdf.set_text_color(0, 0, 0)


def _code(pdf: FPDF, text: _Text, face: Face, layout: Layout) -> None:
    x, y, side = layout.qr
    token = face.token
    # Eight-bit grey rather than one-bit: the PDF then holds the code as plain
    # deflated pixels that any reader, and the tests, can take back out.
    with Image.open(io.BytesIO(qr_png(token, box_size=10))) as code:
        pdf.image(code.convert("L"), x=x, y=y, w=side, h=side)

    pdf.set_xy(x - 6, y + side + 0.5)
    text.font(9)
    pdf.cell(side + 12, 4.5, f"Badge No. {face.badge_number}", align="C")
