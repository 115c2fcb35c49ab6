"""The audit trail page (CTPAT 4.5): who signed in, who changed what."""

from tests.functional import submit, table_rows

HOSTILE_NAME = "<script>alert(1)</script>"


def test_the_audit_trail_lists_sign_ins(signed_in):
    page = signed_in("security_manager").get("/audit/")

    assert page.status_code == 200
    events = [cells[1:3] for cells in table_rows(page.data)[1:]]
    assert ["login.success", "securitymanagermain"] in events


def test_the_audit_trail_shows_markup_in_a_target_as_text(signed_in, site):
    admin = signed_in("administrator")
    created = submit(
        admin,
        "/admin/kiosks/new",
        {"site_id": str(site.id), "name": HOSTILE_NAME},
        token_page="/admin/kiosks/",
    )
    assert created.status_code == 200
    assert HOSTILE_NAME.encode() not in created.data

    page = admin.get("/audit/")

    assert page.status_code == 200
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.data
    assert HOSTILE_NAME.encode() not in page.data
    assert HOSTILE_NAME.encode() not in admin.get("/admin/kiosks/").data
