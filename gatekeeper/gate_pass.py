"""The gate pass a guard prints as a trailer leaves (CTPAT 10.4, 7.30).

It carries the seal number in large print and as a QR code, so the consignee or a
checkpoint can scan it and compare it with the seal on the trailer, and the other
fields of the pickup log: driver, carrier, truck, trailer, reference, the times,
and the employees who registered the driver and logged them out. The page is a
4 × 6 inch shipping label, the stock most gate printers take.
"""

import base64
import io
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF
from PIL import Image

from gatekeeper.badges import qr_png, qr_svg
from gatekeeper.models import Pickup

logger = logging.getLogger(__name__)

PAGE_MM = (101.6, 152.4)
MARGIN = 6.0
QR_SIDE = 38.0
# Debian's DejaVu fonts cover drivers' names in every European script; without
# them the pass falls back to Helvetica and prints only Latin-1 letters.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


@dataclass(frozen=True)
class GatePass:
    """What a gate pass shows, read from a departed pickup."""

    pickup_id: int
    site_name: str
    timezone: str
    seal_number: str
    trailer_number: str
    truck_number: str
    carrier: str
    driver_name: str
    reference: str
    arrived_at: datetime
    departed_at: datetime
    registered_by: str
    departed_by: str

    def local(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M")

    @property
    def facts(self) -> list[tuple[str, str]]:
        """The labelled lines under the seal number, in the order both forms print."""
        return [
            ("Trailer", self.trailer_number),
            ("Truck", self.truck_number),
            ("Carrier", self.carrier),
            ("Driver", self.driver_name),
            ("Reference", self.reference or "none"),
            ("Arrived", self.local(self.arrived_at)),
            ("Departed", self.local(self.departed_at)),
            ("Registered by", self.registered_by),
            ("Logged out by", self.departed_by),
        ]


def for_pickup(pickup: Pickup) -> GatePass:
    """The pass of a departed pickup; ValueError for one that has not left."""
    if pickup.status != "departed" or not pickup.seal_number:
        raise ValueError("only a departed pickup with a seal number has a gate pass")

    return GatePass(
        pickup_id=pickup.id,
        site_name=pickup.site.name,
        timezone=pickup.site.timezone,
        seal_number=pickup.seal_number,
        trailer_number=pickup.trailer_number,
        truck_number=pickup.truck_number,
        carrier=pickup.carrier,
        driver_name=pickup.driver_name,
        reference=pickup.reference,
        arrived_at=pickup.arrived_at,
        departed_at=pickup.departed_at,
        registered_by=pickup.registered_by or "",
        departed_by=pickup.departed_by or "",
    )


def qr_data_uri(seal_number: str) -> str:
    """The seal number's QR code as an SVG data URI, for the printable page."""
    svg = base64.b64encode(qr_svg(seal_number)).decode("ascii")
    return f"data:image/svg+xml;base64,{svg}"


def pdf(gate_pass: GatePass) -> bytes:
    """One 4 × 6 inch page: the seal number large and as a QR code, then the facts."""
    width, height = PAGE_MM
    document = FPDF(unit="mm", format=(width, height))
    document.set_auto_page_break(False)
    document.set_margins(MARGIN, MARGIN, MARGIN)
    document.set_title(f"Gate pass, seal {gate_pass.seal_number}")
    document.set_creator("Gatekeeper")
    family = _fonts(document)
    document.add_page()
    inner = width - 2 * MARGIN

    document.set_font(family, "B", 16)
    document.set_xy(MARGIN, MARGIN)
    document.cell(inner, 8, "GATE PASS", align="C")
    document.set_font(family, "", 10)
    document.set_xy(MARGIN, MARGIN + 8)
    document.cell(inner, 5, _printable(family, gate_pass.site_name), align="C")

    document.set_xy(MARGIN, MARGIN + 16)
    document.set_font(family, "", 9)
    document.cell(inner, 5, "SEAL NUMBER", align="C")
    document.set_xy(MARGIN, MARGIN + 21)
    document.set_font(family, "B", 22)
    document.cell(inner, 10, gate_pass.seal_number, align="C")

    _code(document, gate_pass.seal_number, x=(width - QR_SIDE) / 2, y=MARGIN + 33)
    _facts(document, family, gate_pass, top=MARGIN + 33 + QR_SIDE + 4)
    return bytes(document.output())


def _code(document: FPDF, seal_number: str, *, x: float, y: float) -> None:
    # Eight-bit grey, like the badge PDF's code: plain deflated pixels that any
    # reader can take back out of the file.
    with Image.open(io.BytesIO(qr_png(seal_number, box_size=10))) as code:
        document.image(code.convert("L"), x=x, y=y, w=QR_SIDE, h=QR_SIDE)


def _facts(document: FPDF, family: str, gate_pass: GatePass, *, top: float) -> None:
    document.set_xy(MARGIN, top)
    for label, value in gate_pass.facts:
        document.set_x(MARGIN)
        document.set_font(family, "B", 9.5)
        document.cell(30, 5.6, label)
        document.set_font(family, "", 9.5)
        document.multi_cell(
            document.w - 2 * MARGIN - 30, 5.6, _printable(family, value), align="L"
        )


def _fonts(document: FPDF) -> str:
    paths = _font_paths()
    if paths is None:
        return "Helvetica"

    for style, path in paths.items():
        document.add_font("DejaVu", style, str(path))

    return "DejaVu"


@cache
def _font_paths() -> dict[str, Path] | None:
    paths = {style: FONT_DIR / name for style, name in FONT_FILES.items()}
    if all(path.is_file() for path in paths.values()):
        return paths

    logger.warning("DejaVu fonts not found in %s; gate passes use Helvetica", FONT_DIR)
    return None


def _printable(family: str, value: str) -> str:
    """The text as the font can print it: Helvetica holds Latin-1 only."""
    if family != "Helvetica":
        return value

    return value.encode("latin-1", "replace").decode("latin-1")
