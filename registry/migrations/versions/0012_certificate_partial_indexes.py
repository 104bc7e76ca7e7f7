"""certificates: the BIN index and the GOV-4 single-key rule hold only the rows they are about

Revision ID: 0012
Revises: 0011

Each index on ``certificates`` costs every issuance a page written (and
written again at the checkpoint). Two held an entry for every row although
only some rows have a value: ``ix_certificates_bin`` (a person's certificate
has no BIN) and the GOV-4 rule ``uq_certificates_single_key_holder`` (NULL
except for the government centre's valid certificates). Both become partial
indexes over the rows whose column is set: the same lookups (``bin = ?``,
``issuer_id = ? AND single_key_holder = ?`` imply the column is not NULL, so
SQLite and PostgreSQL both use them), the same uniqueness (NULLs never
conflicted), under the same names. benchmarks/RESULTS.md, issue.py.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_BIN_SET = sa.text("bin IS NOT NULL")
_SINGLE_KEY_SET = sa.text("single_key_holder IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_index("ix_certificates_bin")
        batch.drop_constraint("uq_certificates_single_key_holder", type_="unique")
    with op.batch_alter_table("certificates") as batch:
        batch.create_index("ix_certificates_bin", ["bin"], unique=False,
                           sqlite_where=_BIN_SET, postgresql_where=_BIN_SET)
        batch.create_index("uq_certificates_single_key_holder", ["issuer_id", "single_key_holder"], unique=True,
                           sqlite_where=_SINGLE_KEY_SET, postgresql_where=_SINGLE_KEY_SET)


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_index("uq_certificates_single_key_holder")
        batch.drop_index("ix_certificates_bin")
    with op.batch_alter_table("certificates") as batch:
        batch.create_index("ix_certificates_bin", ["bin"], unique=False)
        batch.create_unique_constraint("uq_certificates_single_key_holder", ["issuer_id", "single_key_holder"])
