"""A driver's arrival walked in Chromium, whose fake camera sees the driver's papers.

The camera's one picture holds both things a driver shows it: a face (the photo
side of an ID, as the judge wants it) and, beside it, the Code 128 barcode of the
pickup reference on a bill of lading, so one browser scans the reference and then
photographs the ID. Choices are found by their values and fields by their ids, so
the walk works in either language.
"""

import re

import cv2
import numpy as np
import pytest
import zxingcpp
from playwright.sync_api import expect

from tests.browser.check_in_steps import launch_with_camera, take_photo
from tests.support.pictures import GREY, portrait

REFERENCE = "BOL-7781"


def papers() -> np.ndarray:
    """A 1280 × 720 BGR frame: the portrait on the left, the barcode on the right."""
    frame = np.full((720, 1280, 3), GREY, dtype=np.uint8)
    frame[40:680, 40:680] = cv2.resize(portrait(), (640, 640))
    symbol = zxingcpp.create_barcode(REFERENCE, zxingcpp.BarcodeFormat.Code128)
    code = np.array(symbol.to_image(scale=3))
    height, width = code.shape
    top, left = 300, 740
    frame[top - 20 : top + height + 20, left - 20 : left + width + 20] = 255
    frame[top : top + height, left : left + width] = np.dstack([code] * 3)
    return frame


@pytest.fixture(scope="session")
def papers_camera(playwright, browser_type_launch_args, tmp_path_factory):
    """A Chromium whose camera sees a face and a bill of lading's barcode."""
    browser = launch_with_camera(
        playwright,
        browser_type_launch_args,
        papers(),
        tmp_path_factory.mktemp("papers-camera"),
    )
    yield browser
    browser.close()


def open_pickup(page) -> None:
    """From the start screen, the driver's entry."""
    page.locator("a[href$='/pickup']").tap()
    expect(page).to_have_url(re.compile(r"/pickup$"))


def scan_reference(page) -> None:
    """Hold the papers to the camera: the reference fills in and the form is sent."""
    page.locator(".scanner-start").tap()
    expect(page).to_have_url(re.compile(r"/pickup/name$"), timeout=10_000)


def fill_and_next(page, values: dict[str, str], next_path: str) -> None:
    for field, value in values.items():
        page.locator(f"#{field}").fill(value)

    page.locator("#next").tap()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def walk_to_review(
    page,
    *,
    name: str = "Rosa Díaz",
    carrier: str = "Swift Lines",
    truck: str = "TX-4411",
    trailer: str = "53889",
    id_type: str = "passport",
) -> None:
    """From the reference's screen, once it is filled in, to the review."""
    fill_and_next(page, {"driver_name": name}, "/pickup/carrier")
    fill_and_next(page, {"carrier": carrier}, "/pickup/vehicle")
    fill_and_next(
        page, {"truck_number": truck, "trailer_number": trailer}, "/pickup/id-type"
    )
    page.locator(f"button[name=id_type][value={id_type}]").tap()
    if id_type in ("drivers_licence", "national_id"):
        take_photo(page, "/pickup/id-back")
        page.locator("form[action$='/pickup/id-back/none'] button").tap()
        expect(page).to_have_url(re.compile(r"/pickup/review$"))
    else:
        take_photo(page, "/pickup/review")
