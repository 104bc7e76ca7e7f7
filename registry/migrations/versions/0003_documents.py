"""documents: loan contracts and amendments with their PDF versions

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The two tables point at each other (an amendment names the contract
# version it was chained to), so the second key is added once both exist.
_BASE_VERSION_FK = "fk_documents_base_version_id"


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("base_version_id", sa.Integer(), nullable=True),
        sa.Column("contract_number", sa.String(length=64), nullable=False),
        sa.Column("client_id_number", sa.String(length=12), nullable=False),
        sa.Column("client_kind", sa.String(length=16), nullable=False),
        sa.Column("loan_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("annual_effective_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("interest_rate", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("secured", sa.Boolean(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("template_version", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_documents_tenant_contract_number", "documents", ["tenant", "contract_number"])
    op.create_index("ix_documents_tenant_contract_id", "documents", ["tenant", "contract_id"])
    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("signature_field", sa.String(length=128), nullable=True),
        sa.Column("signer_serial", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "number", name="uq_document_versions_document_number"),
    )
    with op.batch_alter_table("documents") as batch:
        batch.create_foreign_key(_BASE_VERSION_FK, "document_versions", ["base_version_id"], ["id"])


def downgrade() -> None:
    # Unlink first: dropping either table would otherwise break the other's
    # key. SQLite cannot drop a constraint in place (a batch copy of
    # ``documents`` would itself be refused while versions point at it),
    # and the table is dropped a moment later anyway.
    op.execute(sa.text("UPDATE documents SET base_version_id = NULL"))
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(_BASE_VERSION_FK, "documents", type_="foreignkey")
    op.drop_table("document_versions")
    op.drop_index("ix_documents_tenant_contract_id", table_name="documents")
    op.drop_index("ix_documents_tenant_contract_number", table_name="documents")
    op.drop_table("documents")
