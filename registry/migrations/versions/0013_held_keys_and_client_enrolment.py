"""certificates.key_destroyed_at, client_factors.enrolment_*: held keys destroyed, TOTP enrolled by the client (issue 15)

Revision ID: 0013
Revises: 0012

``key_destroyed_at``: when the key the service held for a borrower was
destroyed in its backend (the certificate revoked first); the handle is
cleared then, so nothing can reach the key again (ca/held_keys.py).
``enrolment_token_digest`` / ``enrolment_expires_at``: the keyed hash of
the token sent to the client's own phone to enrol an authenticator, and
when it stops working (signing/factors/own_enrolment.py). The MFO never
sees the token or the seed.

Made beside the tenants' 0012, both on 0011; at merge this one is
re-pointed to down_revision '0012'.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("certificates", "certificate_archive"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("key_destroyed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("client_factors") as batch:
        batch.add_column(sa.Column("enrolment_token_digest", sa.String(64), nullable=True))
        batch.add_column(sa.Column("enrolment_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("client_factors") as batch:
        batch.drop_column("enrolment_expires_at")
        batch.drop_column("enrolment_token_digest")
    for table in ("certificate_archive", "certificates"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("key_destroyed_at")
