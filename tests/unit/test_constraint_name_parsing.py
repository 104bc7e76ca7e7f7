"""``constraint_name`` reads each driver's report of a uniqueness conflict, never matching substrings."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

from sqlalchemy import exc

from registry.constraints import constraint_name


def _wrapped(orig: BaseException) -> exc.IntegrityError:
    return exc.IntegrityError("INSERT ...", None, orig)


def test_postgresql_diagnostics_name_the_constraint():
    orig = Exception('duplicate key value violates unique constraint "uq_crls_centre_number"')
    orig.diag = SimpleNamespace(constraint_name="uq_crls_centre_number")  # psycopg's Diagnostic
    assert constraint_name(_wrapped(orig)) == "uq_crls_centre_number"


def test_postgresql_diagnostics_win_over_the_message_text():
    orig = Exception("UNIQUE constraint failed: crls.centre_id, crls.number")
    orig.diag = SimpleNamespace(constraint_name="centres_code_key")
    assert constraint_name(_wrapped(orig)) == "centres_code_key"


def test_sqlite_columns_map_to_the_named_multi_column_constraint():
    orig = sqlite3.IntegrityError("UNIQUE constraint failed: certificates.issuer_id, certificates.single_key_holder")
    assert constraint_name(_wrapped(orig)) == "uq_certificates_single_key_holder"


def test_sqlite_column_order_does_not_matter():
    orig = sqlite3.IntegrityError("UNIQUE constraint failed: crls.number, crls.centre_id")
    assert constraint_name(_wrapped(orig)) == "uq_crls_centre_number"


def test_sqlite_unique_column_maps_to_its_declared_name():
    orig = sqlite3.IntegrityError("UNIQUE constraint failed: ca_key_retirements.handle")
    assert constraint_name(_wrapped(orig)) == "ca_key_retirements_handle_key"


def test_sqlite_primary_key_maps_to_postgresql_name():
    orig = sqlite3.IntegrityError("UNIQUE constraint failed: sequences.name")
    assert constraint_name(_wrapped(orig)) == "sequences_pkey"


def test_sqlite_unique_index_on_expressions_is_named_by_sqlite():
    orig = sqlite3.IntegrityError("UNIQUE constraint failed: index 'ix_something'")
    assert constraint_name(_wrapped(orig)) == "ix_something"


def test_unknown_tables_columns_and_other_integrity_errors_are_unique():
    assert constraint_name(_wrapped(sqlite3.IntegrityError("UNIQUE constraint failed: nowhere.x"))) == "unique"
    assert constraint_name(_wrapped(sqlite3.IntegrityError("UNIQUE constraint failed: crls.kind"))) == "unique"
    assert constraint_name(_wrapped(sqlite3.IntegrityError("NOT NULL constraint failed: crls.kind"))) == "unique"


def test_a_driver_error_is_accepted_unwrapped():
    orig = sqlite3.IntegrityError("UNIQUE constraint failed: people.name")
    assert constraint_name(orig) == "people_name_key"
