"""Reading barcodes from camera frames: badges, invitations, pickup references, seals.

The browser only captures a frame and posts it; the server reads it with zxing-cpp
(a few milliseconds a frame), so the kiosk and the guard's phone need no decoder.
Each caller names the symbologies it expects and says which texts it accepts, so a
code that is not one of ours is never passed on.
"""

import logging
from collections.abc import Callable, Iterable

import zxingcpp

from gatekeeper import images

logger = logging.getLogger(__name__)

# A badge or invitation token is at most a few dozen characters; anything much longer
# in a QR code is not ours and is not passed on.
MAX_TEXT = 200
QR_CODE = (zxingcpp.BarcodeFormat.QRCode,)
# What shippers print on a bill of lading or pickup sheet for its number: mostly
# Code 128, some Code 39, and QR codes on documents printed from a TMS.
REFERENCE_SYMBOLOGIES = (
    zxingcpp.BarcodeFormat.Code128,
    zxingcpp.BarcodeFormat.Code39,
    zxingcpp.BarcodeFormat.QRCode,
)


def read_first(
    data: bytes,
    formats: Iterable[zxingcpp.BarcodeFormat],
    accept: Callable[[str], str | None],
) -> str | None:
    """The first code in an uploaded frame that `accept` turns into a value, or None.

    The frame goes through the same checks as any upload (size, format, pixel count)
    before it is decoded. `accept` gets each code's text, stripped, and returns the
    value to use or None to pass over it.
    """
    try:
        image = images.decode(data)
    except images.ImageRefused as refusal:
        logger.info("No code read: the frame was refused (%s)", refusal.code)
        return None

    symbols = zxingcpp.read_barcodes(
        image, formats=tuple(formats), text_mode=zxingcpp.TextMode.Plain
    )
    for symbol in symbols:
        text = symbol.text.strip()
        if not text or len(text) > MAX_TEXT or not text.isprintable():
            continue

        value = accept(text)
        if value:
            return value

    return None


def decode_qr(data: bytes) -> str | None:
    """The text of the first QR code in an uploaded frame, or None."""
    return read_first(data, QR_CODE, lambda text: text)
