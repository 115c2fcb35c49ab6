"""Hostile input for the fuzz tests: text, numbers, dates, whole form bodies, and
pictures that are not what they claim to be.

Every text strategy may carry MARKER, a piece of markup that must never come back
raw in an HTML page: if it does, something was rendered without escaping.
"""

import io
import struct
import zlib
from functools import cache

from hypothesis import strategies as st
from PIL import Image

MARKER = "<b data-fuzz>"
MARKER_BYTES = MARKER.encode()

MARKUP = [
    MARKER,
    f"{MARKER}</b>",
    f'"><script>alert(1)</script>{MARKER}',
    f"'><img src=x onerror=alert(1)>{MARKER}",
    f"javascript:alert(1)//{MARKER}",
    f"{{{{ 7*7 }}}}{MARKER}{{% raw %}}",
    f"<svg onload=alert(1)>{MARKER}",
    f"</textarea>{MARKER}<!--",
]
SQLISH = [
    "' OR '1'='1",
    "'; DROP TABLE visits; --",
    '" OR ""="',
    "1; SELECT * FROM users",
    "Robert'); DELETE FROM log_entries;--",
    "%' AND 1=0 UNION SELECT username, password_hash FROM users --",
    "\\'; \\x00",
    "1 OR 1=1",
]
ODD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n\r\n",
    "\u202eevil\u202c",
    "\ufeff",
    "\u0000\u0001\u0002\u001b[31m",
    "\ud7ff\ue000\uffff",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🚚👩🏽‍✈️",
    "Zoë Ñandú Łódź",
    "名前",
    "ﷺ" * 50,
    "A" * 10_000,
    "é" * 70_000,
    "%s%s%n",
    "../../../../etc/passwd",
    "${jndi:ldap://x}",
    "-1",
    "NaN",
    "1e309",
]

# Ordinary looking values that pass most validators, so fuzzing also reaches the
# code behind them and not only the validation in front.
PLAIN = [
    "Jane Roe",
    "Acme Freight",
    "BOL-1001",
    "TX-4411",
    "53889",
    "UL1234567",
    "Test note",
    "guest@example.com",
]

hostile_text = st.one_of(
    st.sampled_from(MARKUP),
    st.sampled_from(SQLISH),
    st.sampled_from(ODD),
    st.sampled_from(PLAIN),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.builds(lambda a, b: a + MARKER + b, st.text(max_size=20), st.text(max_size=20)),
    st.integers(min_value=1, max_value=100_000).map(lambda n: "x" * n),
)

NUMBERS = [
    "0",
    "-1",
    "1",
    "24",
    "2147483648",
    "-9223372036854775809",
    "99999999999999999999999999",
    "1.5",
    "1e3",
    "0x10",
    "٣",
    "+7",
    " 12 ",
]
numbers = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    hostile_text,
)

DATES = [
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "1970-01-01",
    "2026-1-1",
    "31/12/2026",
    "2026-12-03T25:61:00",
    "2026-12-03T10:00:00+99:00",
    "-2026-01-01",
    "99999-01-01",
]
dates = st.one_of(
    st.sampled_from(DATES),
    st.dates().map(str),
    st.datetimes().map(lambda moment: moment.isoformat()),
    hostile_text,
)
booleans = st.one_of(st.sampled_from(["y", "on", "true", "1", "", "0", "n"]), numbers)


def choice_of(values) -> st.SearchStrategy:
    """A field with a list of choices: mostly one of them, sometimes anything."""
    valid = [str(value) for value in values]
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), numbers)


def value_for(kind) -> st.SearchStrategy:
    """The strategy for one form value of a kind the targets table names."""
    if isinstance(kind, st.SearchStrategy):
        return kind

    if isinstance(kind, (list, tuple)):
        return choice_of(kind)

    return {
        "text": hostile_text,
        "int": numbers,
        "date": dates,
        "bool": booleans,
    }[kind]


@st.composite
def form_body(draw, fields: dict) -> list[tuple[str, object]]:
    """A form as (name, value) pairs: fields left out, sent twice, or added."""
    pairs = []
    for name, kind in fields.items():
        presence = draw(st.sampled_from(["once", "once", "once", "missing", "twice"]))
        if presence == "missing":
            continue

        for _ in range(1 if presence == "once" else 2):
            pairs.append((name, draw(value_for(kind))))

    if draw(st.booleans()):
        extra = draw(st.sampled_from(["id", "site_id", "role", "__proto__", MARKER]))
        pairs.append((extra, draw(hostile_text)))

    return pairs


def json_value(depth: int = 2) -> st.SearchStrategy:
    """Any JSON value: the wrong types for every field of a JSON body."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False),
        hostile_text,
    )
    if depth == 0:
        return scalars

    inner = json_value(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    )


# Pictures ------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_claiming(width: int, height: int, body: bytes = b"") -> bytes:
    """A PNG whose header declares width × height, with body as its pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", body or zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def png_bomb() -> bytes:
    """About 20 kB that inflates to 20 MB and declares 20,000 × 40,000 pixels (2.4 GB
    decoded): only its header may be read."""
    return png_claiming(20_000, 40_000, zlib.compress(bytes(20_000_000), 9))


def small_jpeg(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 90, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def small_png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (60, 90, 120)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header is rewritten to say width × height."""
    data = bytearray(small_jpeg())
    start = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, start + 5, height, width)
    return bytes(data)


def webp_claiming(width: int, height: int) -> bytes:
    """A VP8X WebP header declaring a canvas of width × height."""
    chunk = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
    chunk += (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(chunk)) + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


HTML_TAIL = f"<html><script>alert(1)</script>{MARKER}</html>".encode()
ZIP_TAIL = b"PK\x03\x04" + b"\x00" * 26 + b"evil.html" + HTML_TAIL + b"PK\x05\x06"
GIF_JS = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00;*/=1;alert(1);" + MARKER_BYTES
SVG_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
    b'width="50000" height="50000"><script>alert(1)</script>' + MARKER_BYTES + b"</svg>"
)


@cache
def bad_pictures() -> dict[str, bytes]:
    """Named uploads that must each be refused: never a 5xx, nothing kept."""
    jpeg, png = small_jpeg(), small_png()
    return {
        "empty": b"",
        "truncated jpeg": jpeg[: len(jpeg) // 2],
        "jpeg without end": jpeg[:-2],
        "truncated png": png[: len(png) // 2],
        "jpeg 50000 x 50000": jpeg_claiming(50_000, 50_000),
        "png 50000 x 50000": png_claiming(50_000, 50_000),
        "webp 16000 x 16000": webp_claiming(16_000, 16_000),
        "png bomb": png_bomb(),
        "jpeg + html": jpeg + HTML_TAIL,
        "jpeg + zip": jpeg + ZIP_TAIL,
        "png + script": png + HTML_TAIL,
        "gif/js polyglot": GIF_JS,
        "svg with script": SVG_SCRIPT,
        "html named .jpg": HTML_TAIL,
        "jpeg magic then junk": b"\xff\xd8\xff" + b"\x00" * 100,
        "png signature only": b"\x89PNG\r\n\x1a\n",
        "png zero size": png_claiming(0, 0),
        "tiny jpeg": small_jpeg(8, 8),
    }


random_bytes = st.one_of(
    st.binary(max_size=2048),
    st.binary(max_size=64).map(lambda tail: b"\xff\xd8\xff\xe0" + tail),
    st.binary(max_size=64).map(lambda tail: b"\x89PNG\r\n\x1a\n" + tail),
    st.sampled_from(list(bad_pictures().values())),
)
