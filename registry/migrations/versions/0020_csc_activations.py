"""csc_activations: remote signing by the Cloud Signature Consortium API (issue 19)

Revision ID: 0020
Revises: 0015

One row per credentials/authorize (or OAuth2 authorisation through the
borrower's signing page): the credential, the tenant, the borrower, the
hashes, the policy and factors, the keyed hashes of the SAD, of the OAuth2
code and of the page's token (never the values), and the evidence.
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "csc_activations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("credential", sa.String(64), nullable=False),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("clients.id"), nullable=True),
        sa.Column("signer_serial", sa.String(40), nullable=False),
        sa.Column("document_kind", sa.String(32), nullable=True),
        sa.Column("policy", sa.String(64), nullable=True),
        sa.Column("hash_algo", sa.String(64), nullable=True),
        sa.Column("hashes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sad_digest", sa.String(64), nullable=True),
        sa.Column("code_digest", sa.String(64), nullable=True),
        sa.Column("page_token_digest", sa.String(64), nullable=True),
        sa.Column("redirect_uri", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("authorised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("sad_digest"),
        sa.UniqueConstraint("code_digest"),
        sa.UniqueConstraint("page_token_digest"),
    )


def downgrade() -> None:
    op.drop_table("csc_activations")
