"""tenant_keys; borrowers' personal data and document PDFs sealed per tenant (LOAN-15, envelope encryption)

Revision ID: 0018
Revises: 0015

Each sealed table gains ``data_key`` (the object's data key, wrapped by the
tenant's key-encryption key), ``kek_version`` and ``sealed`` (its fields,
AES-256-GCM); searchable fields keep a keyed hash (``*_digest``); the clear
columns go. Existing rows are sealed here with the service's own keys: the
sealer (``signing.tenants.keyring``) comes from ``Database.upgrade`` (the
``qoltanba migrate`` path); bare ``alembic upgrade`` on a database with
rows refuses. ``clients.id_number`` is renamed in place to
``id_number_digest`` (its unique constraint follows it on both databases).
The downgrade opens every row again (on SQLite the restored columns stay
nullable). Pages a database freed still hold the old clear values until
``VACUUM`` (docs/SECURITY.md, LOAN-15).

0016 (before this one) makes the cabinet's tables with their personal data
sealed from the start (no release had them clear): their rows need the
tenants' keys kept here, so a downgrade that would stop at 0016 with such
rows refuses (down to 0015, 0016's own downgrade drops them).
"""
from alembic import op
import sqlalchemy as sa

from registry.sealing import SealSpec, decode_fields, encode_fields

revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_SEALED = ("data_key", "kek_version", "sealed")


# table -> (its clear columns before 0018 with their types, the row's SealSpec)
def _specs() -> dict[str, tuple[dict, SealSpec]]:
    from registry.models import ClientFactorRow, ClientRow, DocumentRow, DocumentVersionRow, EvidenceRecordRow

    return {
        "clients": ({"iin": sa.String(12), "bin": sa.String(12), "name": sa.String(200), "phone": sa.String(16)},
                    ClientRow.__sealed__),
        "client_factors": ({"phone": sa.String(16)}, ClientFactorRow.__sealed__),
        "documents": ({"client_id_number": sa.String(12), "title": sa.String(200)}, DocumentRow.__sealed__),
        "document_versions": ({"content": sa.LargeBinary()}, DocumentVersionRow.__sealed__),
        "evidence_records": ({"record": sa.JSON(), "report": sa.LargeBinary()}, EvidenceRecordRow.__sealed__),
    }


_PARENT = {"client_factors": ("clients", "client_id"), "document_versions": ("documents", "document_id")}


def _sealer(bind: sa.Connection, table: sa.Table, column: sa.Column):  # noqa: ANN202
    sealer = op.get_context().config.attributes.get("sealer")
    if sealer is None and bind.execute(sa.select(sa.func.count()).select_from(table)
                                       .where(column.is_not(None))).scalar():
        raise RuntimeError("migration 0018 seals (or opens) tenants' data with the service's keys: run "
                           "`qoltanba migrate`, not bare alembic, on a database with rows")
    return sealer


def _table(name: str, clear: dict, spec: SealSpec, *extra: str) -> sa.Table:
    columns = {"id", "tenant", *spec.identity, *extra}
    return sa.table(name, *(sa.column(c) for c in columns), *(sa.column(c, t) for c, t in clear.items()),
                    sa.column("data_key", sa.LargeBinary), sa.column("kek_version", sa.Integer),
                    sa.column("sealed", sa.LargeBinary))


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "tenant_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("material", sa.LargeBinary(), nullable=True),
        sa.Column("lookup_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("retired_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant", "version", name="uq_tenant_keys_version"),
    )
    if bind.dialect.name != "sqlite":
        op.alter_column("clients", "id_number", type_=sa.String(64), existing_type=sa.String(12),
                        existing_nullable=False)
    # Added and dropped in place, never in batch mode: on SQLite a table copy breaks the foreign keys that
    # point at it once there are rows (0015).
    for name in ("client_factors", "document_versions"):
        op.add_column(name, sa.Column("tenant", sa.String(length=64), nullable=True))
    for name, (_clear, spec) in _specs().items():
        for column, type_ in (("data_key", sa.LargeBinary()), ("kek_version", sa.Integer()),
                              ("sealed", sa.LargeBinary())):
            op.add_column(name, sa.Column(column, type_, nullable=True))
        for column, _kind in spec.digests.values():
            if column != "id_number_digest":
                op.add_column(name, sa.Column(column, sa.String(length=64), nullable=True))
    op.create_index("ix_clients_tenant_iin_digest", "clients", ["tenant", "iin_digest"])
    op.create_index("ix_clients_tenant_phone_digest", "clients", ["tenant", "phone_digest"])
    op.create_index("ix_documents_tenant_client_digest", "documents", ["tenant", "client_id_number_digest"])
    for name, (clear, spec) in _specs().items():
        _seal_rows(bind, name, clear, spec)
        for column in clear:
            op.execute(f"ALTER TABLE {name} DROP COLUMN {column}")
    op.alter_column("clients", "id_number", new_column_name="id_number_digest", existing_type=sa.String(64),
                    existing_nullable=False)


def _seal_rows(bind: sa.Connection, name: str, clear: dict, spec: SealSpec) -> None:
    extra = ("id_number",) if name == "clients" else (_PARENT[name][1],) if name in _PARENT else ()
    table = _table(name, clear, spec, *extra)
    sealer = _sealer(bind, table, table.c.id)
    if name in _PARENT:
        parent, key = _PARENT[name]
        parents = sa.table(parent, sa.column("id"), sa.column("tenant"))
        bind.execute(table.update().values(tenant=sa.select(parents.c.tenant).where(parents.c.id == table.c[key])
                                           .scalar_subquery()))
    for row in bind.execute(sa.select(table)).all():
        fields = {f: row.id_number if f == "id_number" else row._mapping.get(f) for f in spec.fields}
        version, data_key, sealed = sealer.seal(bind, row.tenant, spec.aad(row.tenant, row), encode_fields(fields))
        values = {"kek_version": version, "data_key": data_key, "sealed": sealed}
        for field, (column, kind) in spec.digests.items():
            digest = None if fields[field] is None else sealer.digest(bind, row.tenant, kind, fields[field])
            values["id_number" if column == "id_number_digest" else column] = digest
        bind.execute(sa.table(name, sa.column("id"), *(sa.column(c) for c in values)).update()
                     .where(sa.column("id") == row.id).values(**values))


_CABINET = ("borrower_accounts", "borrower_ceremonies")   # 0016's sealed tables


def _cabinet_rows_would_be_stranded(bind: sa.Connection) -> None:
    from alembic import context

    destination = str(context.get_revision_argument())
    if destination == "base" or (destination.isdigit() and destination < "0016"):
        return
    for name in _CABINET:
        if bind.execute(sa.text(f"SELECT count(*) FROM {name} WHERE sealed IS NOT NULL")).scalar():
            raise RuntimeError(f"{name} holds rows sealed with the tenants' keys this downgrade would drop: "
                               "downgrade to 0015 (which drops the cabinet's tables) or not at all")


def downgrade() -> None:
    bind = op.get_bind()
    _cabinet_rows_would_be_stranded(bind)
    op.alter_column("clients", "id_number_digest", new_column_name="id_number", existing_type=sa.String(64),
                    existing_nullable=False)
    for name, (clear, spec) in reversed(_specs().items()):
        for column, type_ in clear.items():
            op.add_column(name, sa.Column(column, type_, nullable=True))
        _open_rows(bind, name, clear, spec)
    op.drop_index("ix_documents_tenant_client_digest", table_name="documents")
    op.drop_index("ix_clients_tenant_phone_digest", table_name="clients")
    op.drop_index("ix_clients_tenant_iin_digest", table_name="clients")
    for name, (_clear, spec) in _specs().items():
        dropped = [*_SEALED, *(c for c, _k in spec.digests.values() if c != "id_number_digest")]
        if name in _PARENT:
            dropped.append("tenant")
        for column in dropped:
            op.execute(f"ALTER TABLE {name} DROP COLUMN {column}")
    if bind.dialect.name != "sqlite":
        op.alter_column("clients", "id_number", type_=sa.String(12), existing_type=sa.String(64),
                        existing_nullable=False)
        for name, (clear, _spec) in _specs().items():
            for column in clear:
                if (name, column) not in {("clients", "bin"), ("client_factors", "phone"), ("documents", "title"),
                                          ("evidence_records", "report")}:
                    op.alter_column(name, column, existing_type=clear[column], nullable=False)
    op.drop_table("tenant_keys")


def _open_rows(bind: sa.Connection, name: str, clear: dict, spec: SealSpec) -> None:
    extra = ("id_number",) if name == "clients" else ()
    table = _table(name, clear, spec, *extra)
    sealer = _sealer(bind, table, table.c.sealed)
    for row in bind.execute(sa.select(table).where(table.c.sealed.is_not(None))).all():
        fields = decode_fields(sealer.open(bind, row.tenant, spec.aad(row.tenant, row), row.kek_version,
                                          row.data_key, row.sealed))
        values = {c: fields.get(c) for c in clear}
        if name == "clients":
            values["id_number"] = fields["id_number"]
        bind.execute(table.update().where(table.c.id == row.id).values(**values))
