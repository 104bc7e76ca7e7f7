"""revocation: certificate status columns, revocations journal, CRL archive, certificate archive

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# SQLite's reflected foreign keys have no names; batch mode needs one to drop it.
_NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _journal_fk_name() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "issuance_journal_certificate_id_fkey"
    return "fk_issuance_journal_certificate_id_certificates"


def upgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revocation_reason", sa.String(length=32), nullable=True))
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("target_serial", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("signed_document", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("issuance_journal", naming_convention=_NAMING) as batch:
        batch.drop_constraint(_journal_fk_name(), type_="foreignkey")

    op.create_table(
        "sequences",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("ground", sa.String(length=32), nullable=False),
        sa.Column("court_decision_number", sa.String(length=64), nullable=True),
        sa.Column("court_decision_date", sa.Date(), nullable=True),
        sa.Column("left_job_on", sa.Date(), nullable=True),
        sa.Column("reported_late", sa.Boolean(), nullable=False),
        sa.Column("carrier_returned", sa.Boolean(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("state_body", sa.String(length=255), nullable=True),
        sa.Column("letter_number", sa.String(length=64), nullable=True),
        sa.Column("letter_date", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("administrator", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("centre_id", "serial", name="uq_revocations_centre_serial"),
        sa.UniqueConstraint("seq", name="uq_revocations_seq"),
    )
    op.create_index("ix_revocations_centre_seq", "revocations", ["centre_id", "seq"])
    op.create_table(
        "crls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("base_number", sa.BigInteger(), nullable=True),
        sa.Column("this_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covered_seq", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("centre_id", "number", name="uq_crls_centre_number"),
    )
    op.create_index("ix_crls_centre_kind_number", "crls", ["centre_id", "kind", "number"])
    op.create_table(
        "certificate_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("subject_dn", sa.Text(), nullable=False),
        sa.Column("common_name", sa.String(length=200), nullable=False),
        sa.Column("iin", sa.String(length=12), nullable=True),
        sa.Column("bin", sa.String(length=12), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("organisation", sa.String(length=255), nullable=True),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("single_key_holder", sa.String(length=64), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("key_algorithm", sa.String(length=32), nullable=False),
        sa.Column("key_carrier", sa.String(length=32), nullable=False),
        sa.Column("key_handle", sa.String(length=200), nullable=True),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("issued_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer_id", "serial", name="uq_certificate_archive_issuer_serial"),
    )


def downgrade() -> None:
    op.drop_table("certificate_archive")
    op.drop_index("ix_crls_centre_kind_number", table_name="crls")
    op.drop_table("crls")
    op.drop_index("ix_revocations_centre_seq", table_name="revocations")
    op.drop_table("revocations")
    op.drop_table("sequences")
    with op.batch_alter_table("issuance_journal", naming_convention=_NAMING) as batch:
        batch.create_foreign_key(_journal_fk_name(), "certificates", ["certificate_id"], ["id"])
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("signed_document")
        batch.drop_column("target_serial")
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("revocation_reason")
        batch.drop_column("revoked_at")
