"""The cargo pickup log: carriers, appointments, pickups, cases, site pickup rules.

Photos and outbox messages may belong to a pickup (the driver's ID, the seal; the
consignee notice).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import gatekeeper.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('carriers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('api_key_hash', sa.String(length=64), nullable=True),
    sa.Column('api_key_prefix', sa.String(length=12), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', gatekeeper.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_carriers_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carriers')),
    sa.UniqueConstraint('api_key_hash', name=op.f('uq_carriers_api_key_hash')),
    sa.UniqueConstraint('site_id', 'name', name=op.f('uq_carriers_site_id'))
    )
    with op.batch_alter_table('carriers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carriers_site_id'), ['site_id'], unique=False)

    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('carrier_id', sa.Integer(), nullable=True),
    sa.Column('carrier_name', sa.String(length=120), nullable=False),
    sa.Column('driver_name', sa.String(length=120), nullable=False),
    sa.Column('truck_number', sa.String(length=20), nullable=False),
    sa.Column('expected_at', gatekeeper.db.UTCDateTime(), nullable=False),
    sa.Column('seal_number', sa.String(length=20), nullable=True),
    sa.Column('consignee_email', sa.String(length=254), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', gatekeeper.db.UTCDateTime(), nullable=False),
    sa.Column('cancelled_at', gatekeeper.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_appointments_carrier_id_carriers')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_appointments_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
    sa.UniqueConstraint('site_id', 'reference', name=op.f('uq_appointments_site_id'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_site_expected', ['site_id', 'expected_at'], unique=False)

    op.create_table('pickups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('driver_name', sa.String(length=120), nullable=False),
    sa.Column('carrier', sa.String(length=120), nullable=False),
    sa.Column('truck_number', sa.String(length=20), nullable=False),
    sa.Column('trailer_number', sa.String(length=20), nullable=False),
    sa.Column('arrived_at', gatekeeper.db.UTCDateTime(), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=True),
    sa.Column('submission_key', sa.String(length=64), nullable=True),
    sa.Column('id_type', sa.String(length=32), nullable=False),
    sa.Column('id_fallback_reason', sa.String(length=500), nullable=True),
    sa.Column('id_document_expired', sa.Boolean(), nullable=True),
    sa.Column('registered_by', sa.String(length=120), nullable=True),
    sa.Column('registered_at', gatekeeper.db.UTCDateTime(), nullable=True),
    sa.Column('departed_at', gatekeeper.db.UTCDateTime(), nullable=True),
    sa.Column('departed_by', sa.String(length=120), nullable=True),
    sa.Column('seal_number', sa.String(length=20), nullable=True),
    sa.Column('vvtt_checked_by', sa.String(length=120), nullable=True),
    sa.Column('trailer_rechecked', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_pickups_appointment_id_appointments')),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_pickups_kiosk_id_kiosks')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_pickups_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pickups')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_pickups_submission_key'))
    )
    with op.batch_alter_table('pickups', schema=None) as batch_op:
        batch_op.create_index('ix_pickups_site_arrived', ['site_id', 'arrived_at'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('pickup_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('seal_number', sa.String(length=20), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('notified', sa.String(length=500), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('opened_by', sa.String(length=120), nullable=False),
    sa.Column('opened_at', gatekeeper.db.UTCDateTime(), nullable=False),
    sa.Column('closed_by', sa.String(length=120), nullable=True),
    sa.Column('closed_at', gatekeeper.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['pickup_id'], ['pickups.id'], name=op.f('fk_cases_pickup_id_pickups')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_cases_site_id_sites')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_cases_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_site_status', ['site_id', 'status'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pickup_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_pickup_id_pickups'), 'pickups', ['pickup_id'], ['id'])

    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pickup_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_photos_pickup_id_pickups'), 'pickups', ['pickup_id'], ['id'])

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('walk_in_pickups', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('appointment_window_minutes', sa.Integer(), nullable=False, server_default='120'))
        batch_op.add_column(sa.Column('driver_overdue_hours', sa.Integer(), nullable=False, server_default='4'))
        batch_op.add_column(sa.Column('seal_pattern', sa.String(length=120), nullable=False, server_default='[A-Z]{0,4}[0-9]{6,10}'))



def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('seal_pattern')
        batch_op.drop_column('driver_overdue_hours')
        batch_op.drop_column('appointment_window_minutes')
        batch_op.drop_column('walk_in_pickups')

    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_photos_pickup_id_pickups'), type_='foreignkey')
        batch_op.drop_column('pickup_id')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_pickup_id_pickups'), type_='foreignkey')
        batch_op.drop_column('pickup_id')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_site_status')

    op.drop_table('cases')
    with op.batch_alter_table('pickups', schema=None) as batch_op:
        batch_op.drop_index('ix_pickups_site_arrived')

    op.drop_table('pickups')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_site_expected')

    op.drop_table('appointments')
    with op.batch_alter_table('carriers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carriers_site_id'))

    op.drop_table('carriers')
