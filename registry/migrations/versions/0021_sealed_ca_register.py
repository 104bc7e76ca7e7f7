"""The certification centre's register sealed under the installation's register key (LOAN-15, issue 16 item 3)

Revision ID: 0021
Revises: 0020

``certificates`` and ``certificate_archive`` (DER, subject DN, name, IIN,
BIN, e-mail, organisation), ``issuance_journal`` (holder's name, state body,
letter, carrier), ``revocations`` (holder's name, state body, letter) and
``applications`` (form, attachments, CSR, signed application, refusal
detail) keep those fields only in ``sealed`` (AES-256-GCM, registry/register.py)
with the register key's ``kek_version``; IIN and BIN are found through keyed
hashes (``iin_digest``, ``bin_digest``, indexed under the old index names);
a person's ``holder`` becomes its keyed hash (a service's or a tenant's stays
as it is); a service's own certificate (holder ``service:…``, the CA's
organisation, no person) is kept open (``kek_version`` NULL) with its DER
also in ``service_der`` (``qoltanba verify`` reads it without keys). Existing rows are sealed here
with the service's keys (``qoltanba migrate``: the sealer comes from
``Database.upgrade``); bare alembic on a register with rows refuses. The
downgrade opens every row again (restored columns nullable). Pages a
database freed keep old clear values until ``VACUUM`` (docs/SECURITY.md).
"""
from alembic import op
import sqlalchemy as sa

from registry.sealing import decode_fields, encode_fields

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

_CERT = {"subject_dn": sa.Text(), "common_name": sa.String(200), "iin": sa.String(12), "bin": sa.String(12),
         "email": sa.String(254), "organisation": sa.String(255), "der": sa.LargeBinary()}
# table -> (its clear columns before 0021, the SealSpec table named in the associated data, identity columns)
_TABLES = {
    "certificates": (_CERT, "certificates", ("issuer_id", "serial")),
    "certificate_archive": (_CERT, "certificates", ("issuer_id", "serial")),
    "issuance_journal": ({"state_body": sa.String(255), "letter_number": sa.String(64),
                          "holder_name": sa.String(200), "carrier_serial": sa.String(120)},
                         "issuance_journal", ("centre_id", "certificate_serial")),
    "revocations": ({"holder_name": sa.String(200), "state_body": sa.String(255), "letter_number": sa.String(64)},
                    "revocations", ("centre_id", "serial")),
    "applications": ({"form": sa.JSON(), "attachments": sa.JSON(), "csr_der": sa.LargeBinary(),
                      "signed_document": sa.LargeBinary(), "refusal_detail": sa.Text()},
                     "applications", ("centre_id", "kind", "submitted_by")),
}
_CERTIFICATES = ("certificates", "certificate_archive")
_CLEAR_HOLDERS = ("service:", "tenant:")
_BIN_SET = sa.text("bin_digest IS NOT NULL")


def _aad(spec_table: str, identity: tuple[str, ...], row) -> bytes:  # noqa: ANN001 - a Core row
    name = "/".join(str(getattr(row, c)) for c in identity)
    return f"qoltanba/register/v1|{spec_table}|{name}".encode()


def _table(name: str, clear: dict, identity: tuple[str, ...]) -> sa.Table:
    extra = ("holder", "single_key_holder", "service_der", "iin_digest", "bin_digest") if name in _CERTIFICATES \
        else ()
    columns = dict.fromkeys(("id", *identity, *extra))
    return sa.table(name, *(sa.column(c) for c in columns), *(sa.column(c, t) for c, t in clear.items()),
                    sa.column("kek_version", sa.Integer), sa.column("sealed", sa.LargeBinary))


def _sealer(bind: sa.Connection, table: sa.Table, column: sa.Column):  # noqa: ANN202
    sealer = op.get_context().config.attributes.get("sealer")
    if sealer is None and bind.execute(sa.select(sa.func.count()).select_from(table)
                                       .where(column.is_not(None))).scalar():
        raise RuntimeError("migration 0021 seals (or opens) the CA register with the service's keys: run "
                           "`qoltanba migrate`, not bare alembic, on a database with rows")
    return sealer


def upgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_certificates_iin", table_name="certificates")
    op.drop_index("ix_certificates_bin", table_name="certificates")
    for name in _TABLES:
        op.add_column(name, sa.Column("sealed", sa.LargeBinary(), nullable=True))
        op.add_column(name, sa.Column("kek_version", sa.Integer(), nullable=True))
    for name in _CERTIFICATES:
        op.add_column(name, sa.Column("iin_digest", sa.String(length=64), nullable=True))
        op.add_column(name, sa.Column("bin_digest", sa.String(length=64), nullable=True))
        op.add_column(name, sa.Column("service_der", sa.LargeBinary(), nullable=True))
    for name, (clear, spec_table, identity) in _TABLES.items():
        _seal_rows(bind, name, clear, spec_table, identity)
        for column in clear:
            op.execute(f"ALTER TABLE {name} DROP COLUMN {column}")
    op.create_index("ix_certificates_iin", "certificates", ["iin_digest"])
    op.create_index("ix_certificates_bin", "certificates", ["bin_digest"], sqlite_where=_BIN_SET,
                    postgresql_where=_BIN_SET)


def _seal_rows(bind: sa.Connection, name: str, clear: dict, spec_table: str, identity: tuple[str, ...]) -> None:
    table = _table(name, clear, identity)
    sealer = _sealer(bind, table, table.c.id)
    if sealer is None:
        return
    key = sealer.register_key(bind)
    for row in bind.execute(sa.select(table)).all():
        fields = {c: row._mapping[c] for c in clear}
        if name in _CERTIFICATES and row.holder.startswith("service:"):   # the CA's own service key: kept open
            bind.execute(table.update().where(table.c.id == row.id).values(
                kek_version=None, sealed=encode_fields(fields), service_der=fields["der"]))
            continue
        values = {"kek_version": key.version, "sealed": key.seal(_aad(spec_table, identity, row),
                                                                 encode_fields(fields))}
        if name in _CERTIFICATES:
            values["iin_digest"] = None if fields["iin"] is None else key.digest("iin", fields["iin"])
            values["bin_digest"] = None if fields["bin"] is None else key.digest("bin", fields["bin"])
            holder = row.holder
            if not holder.startswith(_CLEAR_HOLDERS):
                values["holder"] = key.digest("holder", holder)
                if row.single_key_holder is not None:
                    values["single_key_holder"] = values["holder"]
        bind.execute(table.update().where(table.c.id == row.id).values(**values))


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_certificates_bin", table_name="certificates")
    op.drop_index("ix_certificates_iin", table_name="certificates")
    for name, (clear, spec_table, identity) in reversed(_TABLES.items()):
        for column, type_ in clear.items():
            op.add_column(name, sa.Column(column, type_, nullable=True))
        _open_rows(bind, name, clear, spec_table, identity)
    for name in _CERTIFICATES:
        for column in ("iin_digest", "bin_digest", "service_der"):
            op.execute(f"ALTER TABLE {name} DROP COLUMN {column}")
    for name in _TABLES:
        for column in ("sealed", "kek_version"):
            op.execute(f"ALTER TABLE {name} DROP COLUMN {column}")
    op.create_index("ix_certificates_iin", "certificates", ["iin"])
    old_bin = sa.text("bin IS NOT NULL")
    op.create_index("ix_certificates_bin", "certificates", ["bin"], sqlite_where=old_bin, postgresql_where=old_bin)


def _open_rows(bind: sa.Connection, name: str, clear: dict, spec_table: str, identity: tuple[str, ...]) -> None:
    table = _table(name, clear, identity)
    sealer = _sealer(bind, table, table.c.sealed)
    if sealer is None:
        return
    for row in bind.execute(sa.select(table).where(table.c.sealed.is_not(None))).all():
        fields = decode_fields(row.sealed if row.kek_version is None else sealer.register_open(
            bind, row.kek_version, _aad(spec_table, identity, row), row.sealed))
        values = {c: fields.get(c) for c in clear}
        if name in _CERTIFICATES and not row.holder.startswith(_CLEAR_HOLDERS):
            iin, bin_ = fields.get("iin"), fields.get("bin")
            holder = (f"IIN{iin}" + (f"/BIN{bin_}" if bin_ else "")) if iin else f"CN:{fields.get('common_name')}"[:64]
            values["holder"] = holder
            if row.single_key_holder is not None:
                values["single_key_holder"] = holder
        bind.execute(table.update().where(table.c.id == row.id).values(**values))
