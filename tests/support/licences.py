"""AAMVA licences for tests: element sets, payloads with true offsets, card photos.

The PDF417 symbols are made with pdf417gen, so no real person's licence is used.
"""

import cv2
import numpy as np
import pdf417gen

TEXAS = {
    "DCA": "C",
    "DCB": "NONE",
    "DCD": "NONE",
    "DBA": "07142030",
    "DCS": "O'BRIEN",
    "DAC": "SEAN",
    "DAD": "PATRICK",
    "DBD": "07142022",
    "DBB": "03021985",
    "DBC": "1",
    "DAY": "BRO",
    "DAU": "070 IN",
    "DAG": "100 MAIN ST",
    "DAI": "AUSTIN",
    "DAJ": "TX",
    "DAK": "787010000  ",
    "DAQ": "12345678",
    "DCF": "83D9BN217QO983B1",
    "DCG": "USA",
    "DDE": "N",
    "DDF": "N",
    "DDG": "N",
}
ONTARIO = {
    "DCA": "G",
    "DCS": "TREMBLAY",
    "DAC": "ÉLODIE",
    "DAD": "MARIE",
    "DBB": "19900615",
    "DBA": "20270615",
    "DBD": "20220615",
    "DAJ": "ON",
    "DAQ": "T1234-56789-00615",
    "DCG": "CAN",
}
NEW_YORK_V1 = {
    "DAA": "MCDONALD,RONALD,ANGUS",
    "DAG": "1 MAIN ST",
    "DAJ": "NY",
    "DAQ": "987654321",
    "DBA": "20291231",
    "DBB": "19700101",
}


def payload(
    elements: dict[str, str],
    *,
    iin: str = "636015",
    version: int = 9,
    subfile: str = "DL",
    separator: str = "\n",
    offset_error: int = 0,
    jurisdiction_elements: dict[str, str] | None = None,
) -> str:
    """An AAMVA payload with its subfiles' offsets and lengths counted properly.

    The licence subfile comes first; jurisdiction_elements, when given, make a second,
    jurisdiction-specific "ZT" subfile after it.
    """
    subfiles = [(subfile, elements)]
    if jurisdiction_elements:
        subfiles.append(("ZT", jurisdiction_elements))

    bodies = [
        kind + separator.join(f"{key}{value}" for key, value in fields.items()) + "\r"
        for kind, fields in subfiles
    ]
    jurisdiction_version = "00" if version >= 2 else ""
    fields = f"{iin}{version:02d}{jurisdiction_version}{len(bodies):02d}"
    offset = len("@\n\x1e\rANSI ") + len(fields) + 10 * len(bodies)
    designators = []
    for (kind, _), body in zip(subfiles, bodies, strict=True):
        designators.append(f"{kind}{offset + offset_error:04d}{len(body):04d}")
        offset += len(body)

    return "@\n\x1e\rANSI " + fields + "".join(designators) + "".join(bodies)


def photo_of(text: str, *, angle: float = 0.0) -> bytes:
    """A 1280 × 720 PNG of a licence's back: the symbol on a white card, on a desk."""
    codes = pdf417gen.encode(text.encode("utf-8"), columns=12, security_level=4)
    symbol = np.array(pdf417gen.render_image(codes, scale=2, padding=0).convert("L"))
    height, width = symbol.shape
    assert width < 1000 and height < 500

    desk = np.full((720, 1280), 70, np.uint8)
    top, left = (720 - height) // 2, (1280 - width) // 2
    desk[top - 60 : top + height + 60, left - 60 : left + width + 60] = 235
    desk[top : top + height, left : left + width] = symbol
    turn = cv2.getRotationMatrix2D((640, 360), angle, 1.0)
    desk = cv2.warpAffine(desk, turn, (1280, 720), borderValue=70)
    return cv2.imencode(".png", desk)[1].tobytes()
