"""Reading QR codes from camera frames: badges and invitations held to a camera.

The browser only captures a frame and posts it; the server reads it with zxing-cpp
(a few milliseconds a frame), so the kiosk and the guard's phone need no decoder.
"""

import logging

import zxingcpp

from gatekeeper import images

logger = logging.getLogger(__name__)

# A badge or invitation token is at most a few dozen characters; anything much longer
# in a QR code is not ours and is not passed on.
MAX_TEXT = 200


def decode_qr(data: bytes) -> str | None:
    """The text of the first QR code in an uploaded frame, or None.

    The frame goes through the same checks as any upload (size, format, pixel count)
    before it is decoded.
    """
    try:
        image = images.decode(data)
    except images.ImageRefused as refusal:
        logger.info("No QR read: the frame was refused (%s)", refusal.code)
        return None

    symbols = zxingcpp.read_barcodes(
        image,
        formats=zxingcpp.BarcodeFormat.QRCode,
        text_mode=zxingcpp.TextMode.Plain,
    )
    for symbol in symbols:
        text = symbol.text.strip()
        if text and len(text) <= MAX_TEXT and text.isprintable():
            return text

    return None
