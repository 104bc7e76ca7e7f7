"""tenants and contract_forms; documents.form (issue 15: every MFO its own seal, forms and policy)

Revision ID: 0015
Revises: 0014

Tenants were strings on API keys and documents until now; the string stays
what documents, keys and webhooks name (``tenants.code``). An installation
upgraded from 0014 has no tenant rows: an administrator creates each tenant
(``qoltanba tenant create --code <the old string> ...``) before its
documents can be signed again. The installation's seal (holder
``service:mfo-seal``) is no longer used and may be revoked.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("bin", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seal_source", sa.String(length=16), nullable=False),
        sa.Column("seal_serial", sa.String(length=64), nullable=False),
        sa.Column("seal_der", sa.LargeBinary(), nullable=False),
        sa.Column("seal_key_handle", sa.String(length=200), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", name="uq_tenants_code"),
        sa.UniqueConstraint("bin", name="uq_tenants_bin"),
    )
    op.create_table(
        "contract_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("no_consent_reason", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("tenant", "kind", "version", name="uq_contract_forms_version"),
    )
    # Not in batch mode: on SQLite that copies the table, and dropping the old copy breaks the foreign keys
    # document_versions hold on documents once there are rows. Both databases add and drop a column in place.
    op.add_column("documents", sa.Column("form", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE documents DROP COLUMN form")
    op.drop_table("contract_forms")
    op.drop_table("tenants")
