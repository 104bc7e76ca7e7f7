"""client_factors.failures: wrong codes given to confirm a pending TOTP enrolment (issue 18)

Revision ID: 0011
Revises: 0010

Past the signing policy's ``codes.max_failures`` the pending enrolment is
discarded, as a phone's confirmation code is voided (signing/factors/clients.py).
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("client_factors") as batch:
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("client_factors") as batch:
        batch.drop_column("failures")
