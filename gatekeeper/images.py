"""Judge an uploaded photo before the kiosk keeps it: format, size, focus, light, face.

The browser only captures; every image is judged here, on the server. An upload is
refused cheaply, before any pixel is decoded, when it is too many bytes, not a JPEG,
PNG or WebP by its magic bytes, cut short, or declares more pixels than MAX_PIXELS in
its header (so a decompression bomb or a 50,000 × 50,000 header costs microseconds).
What passes is decoded by OpenCV, measured on a copy scaled to WORK_SIDE, and
re-encoded as a plain JPEG (`clean_jpeg`) that carries none of the upload's metadata
or trailing bytes; only that re-encoding should ever be stored or shown.
"""

import logging
import struct
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np
from flask_babel import lazy_gettext as _l

logger = logging.getLogger(__name__)

# A phone photo at full resolution is 2-6 MB; 8 MB leaves room without inviting abuse.
MAX_BYTES = 8 * 1024 * 1024
# 24 megapixels covers a 6000 × 4000 phone sensor; decoded as BGR that is 72 MB.
MAX_PIXELS = 24_000_000
# Measures are taken on a copy whose long side is this many pixels, so that the
# sharpness score does not depend on the camera's resolution. A kiosk camera gives at
# least 640 × 480; a smaller image cannot be measured on the same scale.
WORK_SIDE = 640
# The stored re-encoding is capped at this long side: enough to read an ID card.
CLEAN_MAX_SIDE = 1600
CLEAN_JPEG_QUALITY = 90

# Variance of the Laplacian on the WORK_SIDE copy. Measured on this machine (see
# tests/gatekeeper/test_images.py and /work/shared/TESTING.md): sharp camera frames
# 650-1400, the astronaut portrait padded to 1280 × 720 about 480 (390 at 640 × 480),
# the same after a Gaussian blur of sigma 1 px about 180, sigma 2 px about 50, sigma
# 3 px about 18, blurred camera frames under 10. 100 sits between readable and smeared.
MIN_SHARPNESS = 100.0
# Mean luminance (0-255) on the WORK_SIDE copy. Measured: the astronaut 115, a dusk
# photo (skimage rocket) 61, the astronaut at 40 % exposure 46, at 25 % 29.
MIN_BRIGHTNESS = 50.0
# Measured: the astronaut brightened to 1.5× + 60 averages 190; +100 averages 198.
MAX_BRIGHTNESS = 200.0
# Share of near-black (<= 16) pixels. The astronaut's black background is 18 %; a
# night-sky photo (skimage hubble_deep_field) is 76 %. A face in front of a dark wall
# can fill half the frame with black and still be a good photo.
MAX_DARK_SHARE = 0.6
DARK_LEVEL = 16
# Share of blown-out (>= 250) pixels: glare on a card or an overexposed face. The
# astronaut has 1 % (his white suit); brightened 2× it has 40 %; a scanned page 0.2 %.
MAX_GLARE_SHARE = 0.25
GLARE_LEVEL = 250

# Haar cascade: frontalface_alt2 found the face on every test image, where
# frontalface_default gave a false positive on a browser frame (TESTING.md).
CASCADE_FILE = "haarcascade_frontalface_alt2.xml"
# On the WORK_SIDE copy the astronaut's face in a 1280 × 720 frame is about 70 px
# across. The face in an ID card's portrait is about a fifth of the card's width, so
# a card that fills half the frame's width shows a face of about 60 px. Searching
# only from 40 px up keeps false positives and time down. Measured on the astronaut
# frame, detection took 29 ms at a scale step of 1.1 and 23 ms at 1.15, with the same
# faces found (and none on the faceless test photos) at both.
FACE_MIN_SIDE = 40
FACE_SCALE_FACTOR = 1.15
FACE_MIN_NEIGHBOURS = 4

ADVICE = {
    "too_large": _l("The picture is too large. Please take it again."),
    "too_many_pixels": _l("The picture is too large. Please take it again."),
    "not_an_image": _l("This is not a picture we can read. Please take it again."),
    "truncated": _l("The picture did not arrive complete. Please take it again."),
    "too_small": _l("The picture is too small. Move closer to the camera."),
    "too_dark": _l("The picture is too dark. Move into better light."),
    "too_bright": _l("The picture is too bright. Tilt the card to avoid glare."),
    "blurry": _l("Hold the card still and let the camera focus."),
    "no_face": _l("We cannot see a face. Look at the camera, or show the photo side."),
}

_JPEG = "jpeg"
_PNG = "png"
_WEBP = "webp"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG markers without a length field: TEM, RST0-7, SOI, EOI.
_STANDALONE_MARKERS = {0x01, *range(0xD0, 0xD8), 0xD8, 0xD9}
# SOF0-SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_SOF_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_SOS = 0xDA
_EOI = b"\xff\xd9"

_local = threading.local()


class ImageRefused(ValueError):
    """An upload refused before or while decoding; `code` is a key of ADVICE."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Judgement:
    """What judge() found: problem codes, measures, and the clean re-encoding."""

    problems: list[str]
    width: int | None = None
    height: int | None = None
    sharpness: float | None = None
    brightness: float | None = None
    dark_share: float | None = None
    glare_share: float | None = None
    face: tuple[int, int, int, int] | None = None
    clean_jpeg: bytes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def advice(self) -> list:
        """One lazy, translatable message per problem, in the problems' order."""
        return [ADVICE[code] for code in self.problems]


def judge(data: bytes, *, expect_face: bool) -> Judgement:
    """Decide whether an upload is a usable photo; never raises on bad input."""
    try:
        image = decode(data)
    except ImageRefused as refusal:
        logger.info("Upload refused before measuring: %s", refusal.code)
        return Judgement(problems=[refusal.code])

    height, width = image.shape[:2]
    if max(width, height) < WORK_SIDE:
        return Judgement(problems=["too_small"], width=width, height=height)

    grey = cv2.cvtColor(_working_copy(image), cv2.COLOR_BGR2GRAY)
    judgement = Judgement(problems=[], width=width, height=height)
    _measure_light(grey, judgement)
    judgement.sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    # The Laplacian score scales with contrast, so a dark or washed-out frame also
    # scores low; advising "hold still" then would send the user the wrong way.
    if not judgement.problems and judgement.sharpness < MIN_SHARPNESS:
        judgement.problems.append("blurry")

    if expect_face:
        judgement.face = _find_face(grey, scale=width / grey.shape[1])
        if judgement.face is None:
            judgement.problems.append("no_face")

    judgement.clean_jpeg = _clean_jpeg(image)
    return judgement


def decode(data: bytes) -> np.ndarray:
    """Decode an upload to a BGR array once its size and structure have been checked.

    Raises ImageRefused with the reason; EXIF orientation is applied by OpenCV.
    """
    if len(data) > MAX_BYTES:
        raise ImageRefused("too_large")

    kind = sniff(data)
    if kind is None:
        raise ImageRefused("not_an_image")

    width, height = _header_size(data, kind)
    if width <= 0 or height <= 0:
        raise ImageRefused("not_an_image")

    if width * height > MAX_PIXELS:
        raise ImageRefused("too_many_pixels")

    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as error:
        logger.warning("OpenCV could not decode a %s upload: %s", kind, error)
        raise ImageRefused("not_an_image") from error

    if image is None or image.size == 0:
        raise ImageRefused("not_an_image")

    # The header said the size; a decoder that disagrees is reading something else.
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise ImageRefused("too_many_pixels")

    return image


def sniff(data: bytes) -> str | None:
    """The accepted format the magic bytes announce, whatever the file is called."""
    if data.startswith(b"\xff\xd8\xff"):
        return _JPEG

    if data.startswith(_PNG_SIGNATURE):
        return _PNG

    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _WEBP

    return None


def _header_size(data: bytes, kind: str) -> tuple[int, int]:
    """Width and height from the header alone, checking the file is not cut short."""
    if kind == _JPEG:
        return _jpeg_size(data)

    if kind == _PNG:
        return _png_size(data)

    return _webp_size(data)


def _jpeg_size(data: bytes) -> tuple[int, int]:
    size = None
    position = 2
    while True:
        if position >= len(data):
            raise ImageRefused("truncated")

        if data[position] != 0xFF:
            raise ImageRefused("not_an_image")

        # A marker may be preceded by any number of 0xFF fill bytes.
        while position < len(data) and data[position] == 0xFF:
            position += 1

        if position >= len(data):
            raise ImageRefused("truncated")

        marker = data[position]
        position += 1
        if marker in _STANDALONE_MARKERS:
            continue

        if position + 2 > len(data):
            raise ImageRefused("truncated")

        (length,) = struct.unpack_from(">H", data, position)
        if length < 2:
            raise ImageRefused("not_an_image")

        if marker in _SOF_MARKERS:
            if position + 7 > len(data):
                raise ImageRefused("truncated")

            height, width = struct.unpack_from(">HH", data, position + 3)
            size = (width, height)

        if marker == _SOS:
            break

        position += length

    if size is None:
        raise ImageRefused("not_an_image")

    # Entropy-coded data escapes 0xFF, so the end marker cannot occur inside it: its
    # absence means the scan was cut short. Bytes after it are ignored.
    if data.find(_EOI, position) < 0:
        raise ImageRefused("truncated")

    return size


def _png_size(data: bytes) -> tuple[int, int]:
    position = len(_PNG_SIGNATURE)
    size = None
    while position + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        if size is None:
            if kind != b"IHDR" or length < 8 or position + 16 > len(data):
                raise ImageRefused("not_an_image")

            size = struct.unpack_from(">II", data, position + 8)

        if kind == b"IEND":
            return size

        # Length, type, data and CRC.
        position += 12 + length

    raise ImageRefused("truncated" if size is not None else "not_an_image")


def _webp_size(data: bytes) -> tuple[int, int]:
    if len(data) < 30:
        raise ImageRefused("truncated")

    (riff_size,) = struct.unpack_from("<I", data, 4)
    if len(data) < 8 + riff_size:
        raise ImageRefused("truncated")

    chunk = data[12:16]
    payload = 20
    if chunk == b"VP8 ":
        if data[payload + 3 : payload + 6] != b"\x9d\x01\x2a":
            raise ImageRefused("not_an_image")

        width, height = struct.unpack_from("<HH", data, payload + 6)
        return width & 0x3FFF, height & 0x3FFF

    if chunk == b"VP8L":
        if data[payload] != 0x2F:
            raise ImageRefused("not_an_image")

        (bits,) = struct.unpack_from("<I", data, payload + 1)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1

    if chunk == b"VP8X":
        width = int.from_bytes(data[payload + 4 : payload + 7], "little") + 1
        height = int.from_bytes(data[payload + 7 : payload + 10], "little") + 1
        return width, height

    raise ImageRefused("not_an_image")


def _working_copy(image: np.ndarray) -> np.ndarray:
    """The image scaled so its long side is WORK_SIDE (never enlarged)."""
    height, width = image.shape[:2]
    scale = WORK_SIDE / max(width, height)
    if scale >= 1:
        return image

    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _measure_light(grey: np.ndarray, judgement: Judgement) -> None:
    """Mean luminance and the shares of crushed and blown pixels."""
    judgement.brightness = float(grey.mean())
    histogram = np.bincount(grey.ravel(), minlength=256) / grey.size
    judgement.dark_share = float(histogram[: DARK_LEVEL + 1].sum())
    judgement.glare_share = float(histogram[GLARE_LEVEL:].sum())

    too_dark = judgement.brightness < MIN_BRIGHTNESS
    if too_dark or judgement.dark_share > MAX_DARK_SHARE:
        judgement.problems.append("too_dark")
    elif (
        judgement.brightness > MAX_BRIGHTNESS or judgement.glare_share > MAX_GLARE_SHARE
    ):
        judgement.problems.append("too_bright")


def _find_face(grey: np.ndarray, *, scale: float) -> tuple[int, int, int, int] | None:
    """The largest frontal face in the working copy, in the original's pixels."""
    faces = _cascade().detectMultiScale(
        grey,
        scaleFactor=FACE_SCALE_FACTOR,
        minNeighbors=FACE_MIN_NEIGHBOURS,
        minSize=(FACE_MIN_SIDE, FACE_MIN_SIDE),
    )
    if len(faces) == 0:
        return None

    x, y, w, h = max(faces, key=lambda box: box[2] * box[3])
    return tuple(round(float(value) * scale) for value in (x, y, w, h))


def _cascade() -> cv2.CascadeClassifier:
    """This thread's face classifier: detectMultiScale is not documented thread-safe."""
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE_FILE)
        if cascade.empty():
            raise RuntimeError(f"OpenCV's {CASCADE_FILE} could not be loaded")

        _local.cascade = cascade

    return cascade


def _clean_jpeg(image: np.ndarray) -> bytes:
    """A fresh baseline JPEG of the pixels only: no EXIF, comments or trailing bytes."""
    height, width = image.shape[:2]
    scale = CLEAN_MAX_SIDE / max(width, height)
    if scale < 1:
        size = (round(width * scale), round(height * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    ok, encoded = cv2.imencode(
        ".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, CLEAN_JPEG_QUALITY]
    )
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")

    return encoded.tobytes()
