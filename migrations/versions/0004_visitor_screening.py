"""Visitor types, photos, exemptions, the block list, invitations and the outbox.

Visits gain where they stand (admission), the escort, the exemption used and the
barcode's expiry flag. Every existing site gets the three built-in visitor types.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import gatekeeper.db

BUILT_IN_TYPES = (
    # code, label, escort required, position
    ("visitor", "Visitor", True, 0),
    ("vendor", "Vendor", True, 1),
    ("service_provider", "Service provider", False, 2),
)


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "block_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=120), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        sa.Column("added_at", gatekeeper.db.UTCDateTime(), nullable=False),
        sa.Column("removed_by", sa.String(length=120), nullable=True),
        sa.Column("removed_at", gatekeeper.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_block_list_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_list")),
    )
    with op.batch_alter_table("block_list", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_block_list_site_id"), ["site_id"], unique=False
        )

    op.create_table(
        "exemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("person_name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=240), nullable=False),
        sa.Column("company", sa.String(length=120), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("granted_by", sa.String(length=120), nullable=False),
        sa.Column("granted_at", gatekeeper.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_by", sa.String(length=120), nullable=True),
        sa.Column("revoked_at", gatekeeper.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_exemptions_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exemptions")),
    )
    with op.batch_alter_table("exemptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exemptions_name_key"), ["name_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exemptions_site_id"), ["site_id"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachment", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", gatekeeper.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", gatekeeper.db.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_outbox_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_site_id"), ["site_id"], unique=False
        )

    op.create_table(
        "visitor_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("label_es", sa.String(length=60), nullable=False),
        sa.Column("escort_required", sa.Boolean(), nullable=False),
        sa.Column("id_required", sa.Boolean(), nullable=False),
        sa.Column("badge_valid_hours", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_visitor_types_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visitor_types")),
        sa.UniqueConstraint("site_id", "code", name=op.f("uq_visitor_types_site_id")),
    )
    with op.batch_alter_table("visitor_types", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_visitor_types_site_id"), ["site_id"], unique=False
        )

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("visitor_name", sa.String(length=120), nullable=False),
        sa.Column("company", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("expected_on", sa.Date(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", gatekeeper.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", gatekeeper.db.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", gatekeeper.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_id"], ["hosts.id"], name=op.f("fk_invitations_host_id_hosts")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_invitations_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invitations_code_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitations_site_id"), ["site_id"], unique=False
        )

    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("capture_key_hash", sa.String(length=64), nullable=True),
        sa.Column("kiosk_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=120), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("created_at", gatekeeper.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_photos_kiosk_id_kiosks")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_photos_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_photos_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
        sa.UniqueConstraint(
            "capture_key_hash", name=op.f("uq_photos_capture_key_hash")
        ),
    )
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.create_index(
            "ix_photos_visit_kind", ["visit_id", "kind"], unique=False
        )

    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "admission",
                sa.String(length=16),
                nullable=False,
                server_default="admitted",
            )
        )
        batch_op.add_column(
            sa.Column(
                "escort_required",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch_op.add_column(
            sa.Column("escort_name", sa.String(length=120), nullable=True)
        )
        batch_op.add_column(
            sa.Column("id_exemption_by", sa.String(length=120), nullable=True)
        )
        batch_op.add_column(
            sa.Column("id_document_expired", sa.Boolean(), nullable=True)
        )
        batch_op.add_column(sa.Column("invitation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_visits_invitation_id_invitations"),
            "invitations",
            ["invitation_id"],
            ["id"],
        )

    _add_built_in_types()


def _add_built_in_types() -> None:
    connection = op.get_bind()
    site_ids = connection.execute(sa.text("SELECT id FROM sites")).scalars().all()
    types = sa.table(
        "visitor_types",
        sa.column("site_id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("label", sa.String),
        sa.column("label_es", sa.String),
        sa.column("escort_required", sa.Boolean),
        sa.column("id_required", sa.Boolean),
        sa.column("position", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    rows = [
        {
            "site_id": site_id,
            "code": code,
            "label": label,
            "label_es": "",
            "escort_required": escort,
            "id_required": True,
            "position": position,
            "active": True,
        }
        for site_id in site_ids
        for code, label, escort, position in BUILT_IN_TYPES
    ]
    if rows:
        op.bulk_insert(types, rows)


def downgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_visits_invitation_id_invitations"), type_="foreignkey"
        )
        batch_op.drop_column("invitation_id")
        batch_op.drop_column("id_document_expired")
        batch_op.drop_column("id_exemption_by")
        batch_op.drop_column("escort_name")
        batch_op.drop_column("escort_required")
        batch_op.drop_column("admission")

    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_index("ix_photos_visit_kind")

    op.drop_table("photos")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_site_id"))

    op.drop_table("invitations")
    with op.batch_alter_table("visitor_types", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visitor_types_site_id"))

    op.drop_table("visitor_types")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_site_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("exemptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exemptions_site_id"))
        batch_op.drop_index(batch_op.f("ix_exemptions_name_key"))

    op.drop_table("exemptions")
    with op.batch_alter_table("block_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_list_site_id"))

    op.drop_table("block_list")
