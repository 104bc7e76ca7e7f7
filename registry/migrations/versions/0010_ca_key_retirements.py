"""ca_key_retirements: CA keys destroyed after a second administrator approved (ca-key.retire)

Revision ID: 0010
Revises: 0009

Self-contained: it touches only its own table (the keys' creation stays in the audit log).
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ca_key_retirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("public_key_sha256", sa.String(length=64), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_by", sa.String(length=120), nullable=False),
        sa.Column("approval", sa.String(length=32), nullable=False),
        sa.Column("approved_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handle"),
    )


def downgrade() -> None:
    op.drop_table("ca_key_retirements")
