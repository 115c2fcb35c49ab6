"""Judging uploaded photos: what is refused before decoding, and what is measured after.

The portrait is scikit-image's astronaut (public domain, bundled in its wheel); the
other variants are derived from it in memory, so no image is committed.
"""

import struct
import threading
import time
import zlib

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage import data

from gatekeeper import images

MAGIC_PREFIXES = [
    b"\xff\xd8\xff",
    b"\xff\xd8\xff\xc0\x00\x11\x08",
    b"\x89PNG\r\n\x1a\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"RIFF\xff\xff\x00\x00WEBPVP8X",
]
GREY = (128, 128, 128)


def encode(image: np.ndarray, extension: str = ".jpg") -> bytes:
    ok, encoded = cv2.imencode(extension, image)
    assert ok
    return encoded.tobytes()


def framed(portrait: np.ndarray, width: int, height: int) -> np.ndarray:
    """The portrait scaled to the frame's height and centred on a grey background."""
    side = height
    square = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA)
    margin = (width - side) // 2
    return cv2.copyMakeBorder(
        square, 0, 0, margin, width - side - margin, cv2.BORDER_CONSTANT, value=GREY
    )


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    """The astronaut as OpenCV holds images: BGR."""
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


@pytest.fixture(scope="module")
def frame_hd(portrait) -> np.ndarray:
    return framed(portrait, 1280, 720)


@pytest.fixture(scope="module")
def jpeg_hd(frame_hd) -> bytes:
    return encode(frame_hd)


@pytest.fixture(scope="module")
def coffee() -> np.ndarray:
    """A cup of coffee on a table, 960 × 640: sharp, well lit, and nobody in it."""
    cup = np.ascontiguousarray(data.coffee()[:, :, ::-1])
    return cv2.resize(cup, (960, 640), interpolation=cv2.INTER_CUBIC)


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if OpenCV is asked to decode anything."""

    def refuse(*args, **kwargs):
        raise AssertionError("the upload reached the decoder")

    monkeypatch.setattr(images.cv2, "imdecode", refuse)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body))
    )


def png_header(width: int, height: int, *, bit_depth: int = 8) -> bytes:
    """PNG signature and IHDR of a greyscale image of the given size."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)


def black_png(width: int, height: int) -> bytes:
    """A valid, all-black 1-bit PNG, compressed row by row without building it whole."""
    row = bytes(1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    compressed = []
    rows_per_batch = 1000
    for first_row in range(0, height, rows_per_batch):
        batch = min(rows_per_batch, height - first_row)
        compressed.append(compressor.compress(row * batch))

    compressed.append(compressor.flush())
    return (
        png_header(width, height, bit_depth=1)
        + png_chunk(b"IDAT", b"".join(compressed))
        + png_chunk(b"IEND", b"")
    )


def huge_png() -> bytes:
    """A 50,000 × 50,000 header with a token IDAT: 2.5 gigapixels if decoded."""
    return (
        png_header(50_000, 50_000)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def huge_jpeg() -> bytes:
    """SOI, a baseline frame header of 60,000 × 60,000, a scan header and EOI."""
    frame = struct.pack(">BHHB", 8, 60_000, 60_000, 1) + b"\x01\x11\x00"
    scan = b"\x01\x01\x00\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xc0"
        + struct.pack(">H", len(frame) + 2)
        + frame
        + b"\xff\xda"
        + struct.pack(">H", len(scan) + 2)
        + scan
        + b"\x00" * 16
        + b"\xff\xd9"
    )


def huge_webp() -> bytes:
    """An extended WebP header announcing a 16,000 × 16,000 canvas."""
    size = (16_000 - 1).to_bytes(3, "little")
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + size + size
    body = b"WEBP" + vp8x + b"VP8L" + struct.pack("<I", 6) + b"\x2f" + bytes(5)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_a_portrait_at_1280_by_720_is_accepted_with_its_face(jpeg_hd):
    judgement = images.judge(jpeg_hd, expect_face=True)

    assert judgement.ok, judgement
    assert (judgement.width, judgement.height) == (1280, 720)
    x, y, w, h = judgement.face
    # The face is reported in the upload's pixels: the portrait spans x 280-1000.
    assert x > 280 and x + w < 1000 and y < 360 and w > 100


def test_a_portrait_at_640_by_480_is_accepted_with_its_face(portrait):
    judgement = images.judge(encode(framed(portrait, 640, 480)), expect_face=True)

    assert judgement.ok, judgement
    assert judgement.face is not None


@pytest.mark.parametrize("extension", [".png", ".webp"])
def test_png_and_webp_portraits_are_accepted(frame_hd, extension):
    judgement = images.judge(encode(frame_hd, extension), expect_face=True)

    assert judgement.ok, judgement


def test_a_sharp_portrait_scores_well_above_the_blur_threshold(jpeg_hd):
    judgement = images.judge(jpeg_hd, expect_face=True)

    # Measured about 480; the threshold must not sit near what a sharp frame gives.
    assert judgement.sharpness > 3 * images.MIN_SHARPNESS


@pytest.mark.parametrize("sigma", [2, 3, 6])
def test_a_blurred_portrait_is_blurry(frame_hd, sigma):
    blurred = cv2.GaussianBlur(frame_hd, (0, 0), sigma)

    judgement = images.judge(encode(blurred), expect_face=True)

    assert judgement.problems == ["blurry"]
    assert judgement.sharpness < images.MIN_SHARPNESS


def test_sharpness_does_not_depend_on_the_resolution(portrait):
    small = images.judge(encode(framed(portrait, 1280, 720)), expect_face=False)
    large = images.judge(encode(framed(portrait, 2560, 1440)), expect_face=False)

    assert large.sharpness == pytest.approx(small.sharpness, rel=0.15)


def test_a_darkened_portrait_is_too_dark_and_not_called_blurry(frame_hd):
    dark = cv2.convertScaleAbs(frame_hd, alpha=0.3)

    judgement = images.judge(encode(dark), expect_face=True)

    assert judgement.problems == ["too_dark"]
    assert judgement.brightness < images.MIN_BRIGHTNESS


@pytest.mark.parametrize(
    ("alpha", "beta"), [(1.5, 80), (2.0, 0)], ids=["overexposed", "glare"]
)
def test_a_brightened_portrait_is_too_bright(frame_hd, alpha, beta):
    bright = cv2.convertScaleAbs(frame_hd, alpha=alpha, beta=beta)

    judgement = images.judge(encode(bright), expect_face=True)

    assert "too_bright" in judgement.problems
    assert "blurry" not in judgement.problems


def test_a_photo_without_a_face_is_refused_when_a_face_is_expected(coffee):
    judgement = images.judge(encode(coffee), expect_face=True)

    assert judgement.problems == ["no_face"]
    assert judgement.face is None


def test_a_photo_without_a_face_is_accepted_when_none_is_expected(coffee):
    judgement = images.judge(encode(coffee), expect_face=False)

    assert judgement.ok, judgement
    assert judgement.clean_jpeg


def test_a_portrait_turned_on_its_side_finds_no_face(frame_hd):
    """A known limit: the Haar cascade only finds upright faces (within about 15°).

    The kiosk's camera is mounted upright, so a sideways face means a sideways photo.
    """
    sideways = np.ascontiguousarray(np.rot90(frame_hd))

    judgement = images.judge(encode(sideways), expect_face=True)

    assert judgement.problems == ["no_face"]


def test_an_image_smaller_than_the_working_size_is_too_small(portrait):
    judgement = images.judge(encode(framed(portrait, 320, 240)), expect_face=True)

    assert judgement.problems == ["too_small"]


def test_random_bytes_are_not_an_image():
    noise = np.random.default_rng(7).bytes(50_000)

    assert images.judge(noise, expect_face=True).problems == ["not_an_image"]


@pytest.mark.parametrize("extension", [".bmp", ".tiff"])
def test_formats_other_than_jpeg_png_and_webp_are_refused(frame_hd, extension):
    """OpenCV reads these, but the kiosk accepts only what a browser canvas makes."""
    judgement = images.judge(encode(frame_hd, extension), expect_face=True)

    assert judgement.problems == ["not_an_image"]


@pytest.mark.parametrize("extension", [".jpg", ".png", ".webp"])
def test_the_first_half_of_an_image_is_refused_as_truncated(frame_hd, extension):
    whole = encode(frame_hd, extension)

    judgement = images.judge(whole[: len(whole) // 2], expect_face=True)

    assert judgement.problems == ["truncated"]
    assert judgement.clean_jpeg is None


@pytest.mark.parametrize(
    "upload", [huge_png(), huge_jpeg(), huge_webp()], ids=["png", "jpeg", "webp"]
)
def test_a_huge_header_is_refused_quickly_without_decoding(upload, no_decoding):
    started = time.perf_counter()

    judgement = images.judge(upload, expect_face=True)

    assert judgement.problems == ["too_many_pixels"]
    assert time.perf_counter() - started < 1


def test_a_decompression_bomb_is_refused_without_decoding(no_decoding):
    """20,000 × 20,000 black pixels in under 100 KB; decoded as BGR it is 1.2 GB."""
    bomb = black_png(20_000, 20_000)
    assert len(bomb) < 100_000

    judgement = images.judge(bomb, expect_face=False)

    assert judgement.problems == ["too_many_pixels"]


def test_the_bomb_generator_makes_real_pngs():
    """The bomb above is refused for its size, not for being malformed."""
    image = cv2.imdecode(np.frombuffer(black_png(900, 700), np.uint8), cv2.IMREAD_COLOR)

    assert image.shape == (700, 900, 3)
    assert not image.any()


def test_an_upload_over_the_byte_limit_is_refused_before_decoding(jpeg_hd, no_decoding):
    oversized = jpeg_hd + bytes(images.MAX_BYTES - len(jpeg_hd) + 1)

    assert images.judge(oversized, expect_face=True).problems == ["too_large"]


def test_an_upload_at_the_byte_limit_is_decoded(jpeg_hd):
    """Trailing bytes after the JPEG's end marker are allowed up to MAX_BYTES."""
    at_limit = jpeg_hd + bytes(images.MAX_BYTES - len(jpeg_hd))

    assert images.judge(at_limit, expect_face=True).ok


def test_a_script_appended_to_a_jpeg_is_not_in_the_clean_copy(jpeg_hd):
    payload = b"<html><script>alert('polyglot')</script></html>"

    judgement = images.judge(jpeg_hd + payload, expect_face=True)

    assert judgement.ok, judgement
    assert payload not in judgement.clean_jpeg
    assert judgement.clean_jpeg.startswith(b"\xff\xd8")
    assert judgement.clean_jpeg.endswith(b"\xff\xd9")


def test_comments_and_exif_in_a_jpeg_are_not_in_the_clean_copy(jpeg_hd):
    payload = b"<script>document.location='https://example.invalid'</script>"
    comment = payload * 1000
    exif = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + payload * 20
    upload = (
        jpeg_hd[:2]
        + b"\xff\xe1"
        + struct.pack(">H", len(exif) + 2)
        + exif
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + jpeg_hd[2:]
    )

    judgement = images.judge(upload, expect_face=True)

    assert judgement.ok, judgement
    assert payload not in judgement.clean_jpeg
    assert b"Exif" not in judgement.clean_jpeg


def test_the_clean_copy_of_a_large_photo_is_capped(portrait):
    judgement = images.judge(encode(framed(portrait, 3200, 1800)), expect_face=True)

    clean = cv2.imdecode(np.frombuffer(judgement.clean_jpeg, np.uint8), 1)
    assert max(clean.shape[:2]) == images.CLEAN_MAX_SIDE


def test_every_problem_has_advice_in_english(jpeg_hd, frame_hd):
    blurred = encode(cv2.GaussianBlur(frame_hd, (0, 0), 4))

    judgement = images.judge(blurred, expect_face=True)

    assert [str(message) for message in judgement.advice] == [
        "Hold the card still and let the camera focus."
    ]
    assert all(str(message).endswith(".") for message in images.ADVICE.values())


def test_faces_are_found_from_several_threads_at_once(jpeg_hd):
    results = []

    def judge_twice():
        for _ in range(2):
            results.append(images.judge(jpeg_hd, expect_face=True).face)

    threads = [threading.Thread(target=judge_twice) for _ in range(2)]
    for thread in threads:
        thread.start()

    for thread in threads:
        thread.join()

    assert len(results) == 4
    assert len(set(results)) == 1 and results[0] is not None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(upload):
    judgement = images.judge(upload, expect_face=True)

    assert not judgement.ok


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(MAGIC_PREFIXES), st.binary(max_size=4096))
def test_arbitrary_bytes_behind_image_magic_never_raise(magic, rest):
    judgement = images.judge(magic + rest, expect_face=True)

    assert isinstance(judgement.problems, list)


@pytest.fixture(scope="module")
def small_uploads(portrait) -> dict[str, bytes]:
    """A real JPEG and PNG to corrupt, kept small so each decode is quick."""
    small = framed(portrait, 640, 480)
    return {extension: encode(small, extension) for extension in (".jpg", ".png")}


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([".jpg", ".png"]),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255))),
    st.one_of(st.just(1.0), st.floats(0.05, 1)),
)
def test_corrupted_and_cut_real_images_never_raise(small_uploads, kind, flips, keep):
    """Changed bytes get past the structural checks and reach the decoders."""
    upload = bytearray(small_uploads[kind])
    for where, value in flips:
        upload[int(where * len(upload))] = value

    judgement = images.judge(
        bytes(upload[: int(keep * len(upload))]), expect_face=False
    )

    assert isinstance(judgement.problems, list)
