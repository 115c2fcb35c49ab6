"""axe-core on the evidence pack's page, with its error state, and on the pack's
own pages, downloaded through the browser and opened from disk as a validator
would open them."""

import zipfile

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import Audit
from tests.support.pickups import depart, on_site, sign_in_page

pytestmark = pytest.mark.browser


def test_the_evidence_page_and_the_packs_pages_pass_axe(
    desk_page, console_server, people, site, make_visit, db_sessions, tmp_path
):
    make_visit(site, "Ada Lovelace")
    pickup = on_site(db_sessions, site, people["guard"].id)
    depart(db_sessions, pickup.id, people["guard"].id)
    page, url, audit = desk_page, console_server.url, Audit()
    sign_in_page(page, url, people["security_manager"])

    page.goto(url + "/evidence/")
    audit(page, "evidence pack")
    first = page.get_by_label("First day").input_value()
    last = page.get_by_label("Last day").input_value()
    page.get_by_label("First day").fill("2026-03-02")
    page.get_by_label("Last day").fill("2026-03-01")
    page.get_by_role("button", name="Download the evidence pack").click()
    expect(page.locator(".field-errors")).to_contain_text("ends before it starts")
    audit(page, "evidence pack with errors")

    page.get_by_label("First day").fill(first)
    page.get_by_label("Last day").fill(last)
    with page.expect_download() as started:
        page.get_by_role("button", name="Download the evidence pack").click()

    path = tmp_path / "pack.zip"
    started.value.save_as(path)
    folder = tmp_path / "pack"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder)

    for part in ("index.html", "10.4-pickups/pickup-log.html"):
        page.goto((folder / part).as_uri())
        audit(page, f"the pack's {part}")

    expect(page.locator("tbody tr")).to_have_count(1)
    audit.assert_clean()
