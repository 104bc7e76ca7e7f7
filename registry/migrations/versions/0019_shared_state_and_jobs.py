"""jobs, rate_buckets, sms_outbox; indexes for the background queries (issue 17, item 2)

Revision ID: 0019
Revises: 0015

State every worker shares moves out of the processes: the job queue (with
leases, retries and a dead-letter state; scheduled jobs are rows), the rate
limits' buckets and the development SMS outbox (its phone and text sealed
per tenant like every borrower's data, LOAN-15: found by the phone's keyed
hash, ``phone_digest``). The requests' expiry and the
finishing of interrupted requests read signing_requests by status and time:
each gets an index, so neither scans the table.
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("every_seconds", sa.Float(), nullable=True),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=120), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="jobs_name_key"),
    )
    op.create_index("ix_jobs_status_run_at", "jobs", ["status", "run_at"])
    op.create_table(
        "rate_buckets",
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key"),
    )
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("phone_digest", sa.String(length=64), nullable=True),
        sa.Column("data_key", sa.LargeBinary(), nullable=True),
        sa.Column("kek_version", sa.Integer(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id", name="sms_outbox_public_id_key"),
    )
    op.create_index("ix_sms_outbox_tenant_phone_digest", "sms_outbox", ["tenant", "phone_digest"])
    op.create_index("ix_signing_requests_status_expires_at", "signing_requests", ["status", "expires_at"])
    op.create_index("ix_signing_requests_status_signed_at", "signing_requests", ["status", "signed_at"])


def downgrade() -> None:
    op.drop_index("ix_signing_requests_status_signed_at", table_name="signing_requests")
    op.drop_index("ix_signing_requests_status_expires_at", table_name="signing_requests")
    op.drop_index("ix_sms_outbox_tenant_phone_digest", table_name="sms_outbox")
    op.drop_table("sms_outbox")
    op.drop_table("rate_buckets")
    op.drop_index("ix_jobs_status_run_at", table_name="jobs")
    op.drop_table("jobs")
