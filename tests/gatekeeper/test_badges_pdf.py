"""The badge as a server-made PDF: one page the size of the site's label, showing
what the printed badge shows, its QR code readable as the visit's token."""

import re
import zlib
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import zxingcpp

from gatekeeper import badge_pdf, badges
from tests.support import pdfs, pictures

SECRET = "correct horse battery staple"


def _face(**overrides) -> badges.Face:
    site = SimpleNamespace(
        timezone="America/Chicago",
        badge_size=overrides.pop("badge_size", "62x100mm"),
        badge_valid_hours=12,
    )
    fields = {
        "id": 4821,
        "site_id": 7,
        "site": site,
        "badge_number": "305117",
        "visitor_name": "Zoë Ñúñez",
        "company": "Acme Logística",
        "host_name": "Grace Hopper",
        "visitor_type": "visitor",
        "arrived_at": datetime(2026, 3, 3, 15, 0, tzinfo=UTC),
        "valid_until": datetime(2026, 3, 3, 23, 0, tzinfo=UTC),
        "escort_required": True,
    }
    return badges.face(SECRET, SimpleNamespace(**(fields | overrides)))


def _token_read_back(pdf: bytes) -> str:
    [image] = pdfs.grey_images(pdf)
    [symbol] = zxingcpp.read_barcodes(image)
    return symbol.text


@pytest.mark.parametrize(
    ("size", "width", "height"), [("62x100mm", 62, 100), ("4x3in", 101.6, 76.2)]
)
def test_the_pdf_is_one_label_of_the_sites_stock(size, width, height):
    pdf = badge_pdf.badge_pdf(_face(badge_size=size))

    [(got_width, got_height)] = pdfs.page_sizes_mm(pdf)
    assert got_width == pytest.approx(width, abs=0.05)
    assert got_height == pytest.approx(height, abs=0.05)


def test_the_qr_code_reads_back_as_the_visits_token():
    face = _face()

    claim = badges.read_token(SECRET, _token_read_back(badge_pdf.badge_pdf(face)))

    assert (claim.site_id, claim.visit_id, claim.badge_number) == (7, 4821, "305117")


def test_the_face_photo_is_embedded_small_when_there_is_one():
    photo = pictures.jpeg(pictures.framed(pictures.portrait()))

    with_photo = badge_pdf.badge_pdf(_face(), photo_jpeg=photo)
    without = badge_pdf.badge_pdf(_face())

    assert b"/DCTDecode" in with_photo
    assert b"/DCTDecode" not in without
    assert len(with_photo) < 120_000


def test_an_unreadable_stored_photo_leaves_the_slot_empty_rather_than_failing():
    pdf = badge_pdf.badge_pdf(_face(), photo_jpeg=b"\xff\xd8 broken")

    assert b"/DCTDecode" not in pdf
    assert _token_read_back(pdf)


def _text_of(pdf: bytes) -> bytes:
    """The page's content stream, inflated: fpdf2 compresses it."""
    streams = re.finditer(rb"<<(.*?)>>\s*stream\r?\n", pdf, re.S)
    for match in streams:
        head = match.group(1)
        if b"/Subtype" in head or b"/Length1" in head:
            continue

        length = int(re.search(rb"/Length (\d+)", head).group(1))
        data = pdf[match.end() : match.end() + length]
        if b"/FlateDecode" in head:
            data = zlib.decompress(data)

        if b"BT" in data:
            return data

    raise AssertionError("no text stream")


def test_without_dejavu_the_pdf_falls_back_to_helvetica_and_latin_1(monkeypatch):
    monkeypatch.setattr(badge_pdf, "_font_paths", lambda: None)

    pdf = badge_pdf.badge_pdf(_face(visitor_name="Łukasz Ñúñez"))

    assert b"/Helvetica" in pdf
    assert b"/DejaVu" not in pdf
    text = _text_of(pdf)
    assert "Lukasz Ñúñez".encode("latin-1") in text
    assert b"ESCORT REQUIRED" in text


def test_with_dejavu_any_european_name_is_embedded_in_the_font(monkeypatch):
    if badge_pdf._font_paths() is None:
        pytest.fail("fonts-dejavu-core is expected on this machine")

    pdf = badge_pdf.badge_pdf(_face(visitor_name="Łukasz Ñúñez"))

    assert b"DejaVu" in pdf


def test_the_latin_1_fallback_keeps_what_it_can():
    assert badge_pdf._latin1("Zoë Łódź Ŝ Œuvre 李") == "Zoë Lódz S OEuvre ?"
