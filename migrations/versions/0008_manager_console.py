"""Roll calls and their marks, periodic reviews, and each site's kiosk languages.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

import gatekeeper.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('sampled', sa.Text(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('corrective_action', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('recorded_at', gatekeeper.db.UTCDateTime(), nullable=False),
    sa.Column('next_due', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_reviews_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_site_kind', ['site_id', 'kind'], unique=False)

    op.create_table('roll_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('started_by', sa.String(length=120), nullable=False),
    sa.Column('started_at', gatekeeper.db.UTCDateTime(), nullable=False),
    sa.Column('closed_by', sa.String(length=120), nullable=True),
    sa.Column('closed_at', gatekeeper.db.UTCDateTime(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_roll_calls_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roll_calls'))
    )
    with op.batch_alter_table('roll_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roll_calls_site_id'), ['site_id'], unique=False)

    op.create_table('roll_call_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('roll_call_id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('person', sa.String(length=120), nullable=False),
    sa.Column('marked_by', sa.String(length=120), nullable=True),
    sa.Column('marked_at', gatekeeper.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['roll_call_id'], ['roll_calls.id'], name=op.f('fk_roll_call_marks_roll_call_id_roll_calls')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roll_call_marks')),
    sa.UniqueConstraint('roll_call_id', 'subject_type', 'subject_id', name=op.f('uq_roll_call_marks_roll_call_id'))
    )
    with op.batch_alter_table('roll_call_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roll_call_marks_roll_call_id'), ['roll_call_id'], unique=False)

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('languages', sa.String(length=32), nullable=False, server_default='en,es'))



def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('languages')

    with op.batch_alter_table('roll_call_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roll_call_marks_roll_call_id'))

    op.drop_table('roll_call_marks')
    with op.batch_alter_table('roll_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roll_calls_site_id'))

    op.drop_table('roll_calls')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_site_kind')

    op.drop_table('reviews')
