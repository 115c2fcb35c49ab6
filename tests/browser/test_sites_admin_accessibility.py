"""axe-core on the administrators' new pages, with their error states: sites,
site settings, the host directory and its import report, backups and kiosks."""

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import Audit
from tests.support.pickups import sign_in_page

pytestmark = pytest.mark.browser


def test_the_site_pages_pass_axe(desk_page, console_server, people, site):
    page, url, audit = desk_page, console_server.url, Audit()
    sign_in_page(page, url, people["administrator"])

    page.goto(url + "/admin/sites/")
    audit(page, "sites")
    page.get_by_role("button", name="Create site").click()
    expect(page.get_by_role("alert")).to_be_visible()
    audit(page, "sites with errors")

    page.goto(f"{url}/admin/sites/{site.id}")
    audit(page, "site settings")
    page.get_by_label("Kiosk returns to its start screen").fill("5")
    page.get_by_label("ID images and face photos are kept for").fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".field-errors").first).to_be_visible()
    audit(page, "site settings with errors")
    page.get_by_role("button", name="Send a test email").click()
    expect(page.get_by_role("alert")).to_contain_text("no email address")
    audit.assert_clean()


def test_the_directory_backup_and_kiosk_pages_pass_axe(
    desk_page, console_server, people, site, enrolment_code, tmp_path
):
    page, url, audit = desk_page, console_server.url, Audit()
    sign_in_page(page, url, people["administrator"])
    page.goto(f"{url}/admin/sites/{site.id}/hosts")
    audit(page, "host directory")
    page.get_by_role("button", name="Add host").click()
    expect(page.get_by_role("alert")).to_be_visible()
    audit(page, "host directory with errors")
    csv_file = tmp_path / "hosts.csv"
    csv_file.write_text("name,email\nDiego Vega,diego@main.example\nBad,nope\n")
    page.get_by_label("CSV file of the directory").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import hosts").click()
    expect(page.locator(".import-rows")).to_be_visible()
    audit(page, "host import report")
    page.get_by_role("button", name="Take off the list Diego Vega").click()
    expect(page.get_by_role("button", name="Put back Diego Vega")).to_be_visible()

    page.goto(url + "/admin/backups/")
    audit(page, "backups")
    page.get_by_label("Passphrase", exact=True).fill("short")
    page.get_by_role("button", name="Make and download a backup").click()
    expect(page.locator(".field-errors")).to_be_visible()
    audit(page, "backups with errors")

    page.goto(url + "/admin/kiosks/")
    page.get_by_text("Rename").click()
    audit(page, "kiosks with the rename form open")
    page.get_by_label("New name for Lobby").fill("Front lobby")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("status")).to_contain_text("is now Front lobby")

    audit.assert_clean()
