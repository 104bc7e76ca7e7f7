"""factors: clients and their factors, signing requests, codes, biometric challenges, evidence, webhooks

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("signing_sessions", sa.Column("authorisation", sa.String(length=32), nullable=True))
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("id_number", sa.String(length=12), nullable=False),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("bin", sa.String(length=12), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("tenant", "id_number", name="uq_clients_tenant_id_number"),
    )
    op.create_table(
        "client_factors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("secret", sa.LargeBinary(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("certificate_serial", sa.String(length=40), nullable=True),
        sa.Column("certificate_issuer", sa.Text(), nullable=True),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("confirmed_at", _TS, nullable=True),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_client_factors_client_kind", "client_factors", ["client_id", "kind"])
    op.create_table(
        "signing_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("requirement", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("seal", sa.Boolean(), nullable=False),
        sa.Column("review_until", _TS, nullable=False),
        sa.Column("review_waived", sa.Boolean(), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("authorisation", sa.String(length=32), nullable=True),
        sa.Column("session", sa.String(length=32), nullable=True),
        sa.Column("signer_serial", sa.String(length=40), nullable=True),
        sa.Column("signed_at", _TS, nullable=True),
        sa.Column("sealed_at", _TS, nullable=True),
        sa.Column("earliest_payout_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_signing_requests_tenant_document", "signing_requests", ["tenant", "document_id"])
    op.create_table(
        "factor_proofs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("factor", sa.String(length=16), nullable=False),
        sa.Column("factor_id", sa.Integer(), nullable=True),
        sa.Column("proven_at", _TS, nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["signing_requests.id"]),
        sa.ForeignKeyConstraint(["factor_id"], ["client_factors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "factor", name="uq_factor_proofs_request_factor"),
    )
    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("factor_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.Column("superseded_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["factor_id"], ["client_factors.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["signing_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_one_time_codes_factor_request", "one_time_codes", ["factor_id", "request_id"])
    op.create_table(
        "biometric_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("movements", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("answered_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["signing_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_table(
        "biometric_assertions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("assertion_id", sa.String(length=128), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("asserted_at", _TS, nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["signing_requests.id"]),
        sa.ForeignKeyConstraint(["challenge_id"], ["biometric_challenges.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "assertion_id", name="uq_biometric_assertions_provider_id"),
    )
    op.create_table(
        "evidence_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("digest_before", sa.String(length=64), nullable=False),
        sa.Column("digest_after", sa.String(length=64), nullable=False),
        sa.Column("digest_sealed", sa.String(length=64), nullable=True),
        sa.Column("signer_serial", sa.String(length=40), nullable=False),
        sa.Column("signed_at", _TS, nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("report", sa.LargeBinary(), nullable=True),
        sa.Column("report_signature", sa.LargeBinary(), nullable=True),
        sa.Column("reported_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["signing_requests.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("delivered_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_webhook_deliveries_status_next", "webhook_deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_status_next", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_table("evidence_records")
    op.drop_table("biometric_assertions")
    op.drop_table("biometric_challenges")
    op.drop_index("ix_one_time_codes_factor_request", table_name="one_time_codes")
    op.drop_table("one_time_codes")
    op.drop_table("factor_proofs")
    op.drop_index("ix_signing_requests_tenant_document", table_name="signing_requests")
    op.drop_table("signing_requests")
    op.drop_index("ix_client_factors_client_kind", table_name="client_factors")
    op.drop_table("client_factors")
    op.drop_table("clients")
    with op.batch_alter_table("signing_sessions") as batch:
        batch.drop_column("authorisation")
