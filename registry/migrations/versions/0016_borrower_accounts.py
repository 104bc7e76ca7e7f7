"""borrower_accounts, borrower_ceremonies, borrower_sessions: the borrower's own account (issue 16, LOAN-7/8/9)

Revision ID: 0016
Revises: 0015

The personal cabinet of an MFO's borrower: the account the MFO invites a
client to (one per client), the factors registration and a details change
need (a ceremony), and the borrower's sessions. The bank details of an
account and a change being proven (new phone, new bank details) are sealed
per tenant from the start (LOAN-15, registry/sealing.py): each row holds
them only in ``sealed``, with its wrapped data key (``data_key``) and the
tenant key's version (``kek_version``). The tables are empty here in every
upgrade (no release had them), so nothing is sealed by this migration; the
tenants' keys (``tenant_keys``) come with 0018, before any row is written.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "borrower_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("invitation_digest", sa.String(length=64), nullable=True),
        sa.Column("invitation_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("totp_secret", sa.LargeBinary(), nullable=True),
        sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("data_key", sa.LargeBinary(), nullable=True),
        sa.Column("kek_version", sa.Integer(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("client_id"),
    )
    op.create_table(
        "borrower_ceremonies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("required", sa.JSON(), nullable=False),
        sa.Column("proven", sa.JSON(), nullable=False),
        sa.Column("movements", sa.JSON(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("phone_factor_id", sa.Integer(), nullable=True),
        sa.Column("data_key", sa.LargeBinary(), nullable=True),
        sa.Column("kek_version", sa.Integer(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("assertion_id", sa.String(length=128), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["borrower_accounts.id"]),
        sa.ForeignKeyConstraint(["phone_factor_id"], ["client_factors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_borrower_ceremonies_account_id", "borrower_ceremonies", ["account_id"])
    op.create_table(
        "borrower_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["borrower_accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_id"),
    )
    op.create_index("ix_borrower_sessions_account_id", "borrower_sessions", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_borrower_sessions_account_id", table_name="borrower_sessions")
    op.drop_table("borrower_sessions")
    op.drop_index("ix_borrower_ceremonies_account_id", table_name="borrower_ceremonies")
    op.drop_table("borrower_ceremonies")
    op.drop_table("borrower_accounts")
