"""Reading back what a server-made PDF holds: its page size, and its grey images.

fpdf2 writes page and image dictionaries uncompressed, so regular expressions find
them; an 8-bit grey image is stored as PNG-predicted deflate, which is exactly a
PNG's image data, so wrapping it in a PNG lets Pillow decode it.
"""

import io
import re
import zlib

from PIL import Image

MM_PER_POINT = 25.4 / 72
MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s*\]")
STREAM = re.compile(rb"<<(.*?)>>\s*stream\r?\n", re.S)


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    """The width and height of each page, in millimetres."""
    sizes = []
    for box in MEDIA_BOX.findall(pdf):
        x0, y0, x1, y1 = (float(value) for value in box)
        sizes.append(((x1 - x0) * MM_PER_POINT, (y1 - y0) * MM_PER_POINT))

    return sizes


def grey_images(pdf: bytes) -> list[Image.Image]:
    """Every 8-bit grey image of the PDF, decoded."""
    found = []
    for match in STREAM.finditer(pdf):
        head = match.group(1)
        if b"/Subtype /Image" not in head or b"/DeviceGray" not in head:
            continue

        length = int(re.search(rb"/Length (\d+)", head).group(1))
        width = int(re.search(rb"/Width (\d+)", head).group(1))
        height = int(re.search(rb"/Height (\d+)", head).group(1))
        data = pdf[match.end() : match.end() + length]
        found.append(_as_png(width, height, data))

    return found


def _as_png(width: int, height: int, idat: bytes) -> Image.Image:
    header = (
        width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    )
    png = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body).to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + kind + body + crc
