"""Departure at the gate in Chromium (CTPAT 10.4, 6.7, 7.29, 7.30): the seal number
twice and the VVTT steps on a guard's phone, the consignee's email through a real
SMTP server, the gate pass printed on a 4 × 6 inch page and as a PDF whose code
reads back as the seal, and a mismatched seal held until a manager releases it."""

import re

import pytest
import zxingcpp
from playwright.sync_api import expect
from sqlalchemy import select

from gatekeeper import seals
from gatekeeper.models import Case, Pickup
from tests.support import mail_server, pdfs
from tests.support.pickups import (
    ASSIGNED_SEAL,
    OTHER_SEAL,
    add_appointment,
    on_site,
    sign_in_page,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp():
    with mail_server.running() as server:
        yield server


@pytest.fixture
def app_settings(app_settings, smtp):
    """The console sends mail to the test's SMTP server."""
    return {**app_settings, "SMTP_HOST": mail_server.HOST, "SMTP_PORT": smtp.port}


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
        accept_downloads=True,
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def driver_on_site(db_sessions, site, people) -> Pickup:
    add_appointment(db_sessions, site)
    return on_site(db_sessions, site, people["guard"].id)


def _log_out(page, seal: str, *, confirmation: str | None = None) -> None:
    page.get_by_label("Seal number on the trailer", exact=True).fill(seal)
    page.get_by_label("Seal number again", exact=True).fill(confirmation or seal)
    page.get_by_label("Trailer number, read again from the trailer").fill("53889")
    for label in seals.VVTT_STEPS.values():
        page.get_by_label(str(label)).check()

    page.get_by_role("button", name="Log out driver").tap()


def test_a_matching_seal_logs_the_driver_out_mails_the_consignee_and_prints(
    phone, console_server, db_sessions, driver_on_site, people, smtp
):
    sign_in_page(phone, console_server.url, people["guard"])
    phone.goto(console_server.url + "/gate/")
    phone.get_by_role("link", name="Log out Rosa Díaz").tap()

    _log_out(phone, "ul-123 4567", confirmation="UL1234567")

    expect(phone.locator(".pass-seal")).to_have_text(ASSIGNED_SEAL)
    [received] = smtp.inbox.wait_for(1)
    assert received.recipients == ["receiving@consignee.example"]
    assert f"Seal number: {ASSIGNED_SEAL}" in received.email.get_content()
    phone.reload()
    expect(phone.locator(".gate-page")).to_contain_text("sent")

    printed = phone.pdf(prefer_css_page_size=True, print_background=True)
    [(width, height)] = pdfs.page_sizes_mm(printed)
    assert (round(width, 1), round(height, 1)) == (101.6, 152.4)

    with phone.expect_download() as download:
        phone.get_by_role("link", name="Download as PDF").tap()
    document = download.value.path().read_bytes()
    [code] = pdfs.grey_images(document)
    assert [symbol.text for symbol in zxingcpp.read_barcodes(code)] == [ASSIGNED_SEAL]

    with db_sessions() as session:
        row = session.get(Pickup, driver_on_site.id)
    assert (row.status, row.seal_number, row.departed_by) == (
        "departed",
        ASSIGNED_SEAL,
        "Test Guard",
    )


def test_a_mismatched_seal_waits_for_the_managers_release(
    browser, phone, console_server, db_sessions, driver_on_site, people, smtp
):
    sign_in_page(phone, console_server.url, people["guard"])
    phone.goto(f"{console_server.url}/gate/{driver_on_site.id}/depart")

    _log_out(phone, OTHER_SEAL)

    expect(phone.get_by_role("alert")).to_contain_text("Departure blocked.")
    with db_sessions() as session:
        case = session.scalar(select(Case))
        assert session.get(Pickup, driver_on_site.id).status == "registered"
    assert (case.kind, case.seal_number, case.decision) == (
        "seal_mismatch",
        OTHER_SEAL,
        None,
    )

    desk = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        manager = desk.new_page()
        sign_in_page(manager, console_server.url, people["security_manager"])
        manager.goto(console_server.url + "/gate/")
        manager.get_by_role("link", name="Open the cases").click()
        manager.get_by_role("link", name=f"Case {case.id}").click()
        manager.get_by_label("Why").fill("Shipper resealed after the first seal broke")
        manager.get_by_role("button", name=f"Release with seal {OTHER_SEAL}").click()
        expect(manager.locator(".alert-ok")).to_contain_text(
            f"Seal {OTHER_SEAL} released."
        )
    finally:
        desk.close()

    phone.goto(f"{console_server.url}/gate/{driver_on_site.id}/depart")
    expect(phone.locator(".alert-ok")).to_contain_text("released by a security manager")
    _log_out(phone, OTHER_SEAL)

    expect(phone.locator(".pass-seal")).to_have_text(OTHER_SEAL)
    expect(phone).to_have_url(re.compile(rf"/gate/{driver_on_site.id}/pass$"))
    [received] = smtp.inbox.wait_for(1)
    assert f"Seal number: {OTHER_SEAL}" in received.email.get_content()
