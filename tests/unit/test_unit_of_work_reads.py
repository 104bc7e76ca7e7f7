"""Reads a unit of work makes once (issue 17, fewer statements): a request's factor proofs are read once and
kept up to date by the unit's own additions (registry/repositories/clients.py); the next unit reads again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, event

from registry.models import FactorProofRow
from registry.repositories.transaction import RegistryTransaction

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc)


def test_a_requests_proofs_are_read_once_in_a_unit_of_work_and_include_what_it_added(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'proofs.db'}")
    FactorProofRow.__table__.create(engine)
    selects: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: selects.append(args[2]) if args[2].lstrip().upper().startswith("SELECT") else None)
    with engine.begin() as connection:
        tx = RegistryTransaction(connection)
        assert tx.factor_proofs.of_request(7) == []
        tx.factor_proofs.add(FactorProofRow(request_id=7, factor="sms", factor_id=1, proven_at=NOW, details={}))
        tx.factor_proofs.add(FactorProofRow(request_id=8, factor="sms", factor_id=2, proven_at=NOW, details={}))
        assert [p.factor for p in tx.factor_proofs.of_request(7)] == ["sms"]
        tx.factor_proofs.add(FactorProofRow(request_id=7, factor="biometric", factor_id=3, proven_at=NOW,
                                            details={}))
        proofs = tx.factor_proofs.of_request(7)
        assert [p.factor for p in proofs] == ["sms", "biometric"]
        proofs.clear()   # a caller's copy: the unit's list stays
        assert len(tx.factor_proofs.of_request(7)) == 2
        tx.finish()
        tx.close()
    assert sum("factor_proofs" in s for s in selects) == 1   # request 7 once; request 8 never asked
    with engine.begin() as connection:   # the next unit of work reads again, and sees every proof
        tx = RegistryTransaction(connection)
        assert [p.factor for p in tx.factor_proofs.of_request(7)] == ["sms", "biometric"]
        assert [p.factor for p in tx.factor_proofs.of_request(8)] == ["sms"]
        tx.close()
    assert sum("factor_proofs" in s for s in selects) == 3
