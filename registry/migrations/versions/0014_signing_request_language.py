"""signing_requests.language: the borrower's language, named by the MFO (issue 20)

Revision ID: 0014
Revises: 0013

What the borrower reads — the signing page's first language, the SMS with
the one-time code, the labels of the visible stamp — is said in this
language: kk (the default), ru or en. Existing requests are Kazakh.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signing_requests") as batch:
        batch.add_column(sa.Column("language", sa.String(2), nullable=False, server_default="kk"))


def downgrade() -> None:
    with op.batch_alter_table("signing_requests") as batch:
        batch.drop_column("language")
