"""The throwaway PostgreSQL server works and its databases are independent."""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.postgres


def _conninfo(url: str) -> str:
    # postgresql+psycopg://... (SQLAlchemy) -> postgresql://... (libpq)
    assert url.startswith("postgresql+psycopg://")
    return "postgresql://" + url.removeprefix("postgresql+psycopg://")


def test_server_listens_on_loopback(postgres_server):
    assert postgres_server.host == "127.0.0.1"
    assert postgres_server.user == "postgres"
    assert postgres_server.port > 0
    with psycopg.connect(postgres_server.conninfo()) as conn:
        addr, fsync = conn.execute(
            "SELECT current_setting('listen_addresses'), current_setting('fsync')"
        ).fetchone()
    assert (addr, fsync) == ("127.0.0.1", "off")


def test_create_table_insert_select(postgres_url):
    with psycopg.connect(_conninfo(postgres_url)) as conn:
        conn.execute("CREATE TABLE person (iin char(12) PRIMARY KEY, name text NOT NULL)")
        conn.execute(
            "INSERT INTO person VALUES (%s, %s), (%s, %s)",
            ("900101300017", "Әлия", "850715400020", "Ерлан"),
        )
        rows = conn.execute("SELECT iin, name FROM person ORDER BY iin").fetchall()
    assert rows == [("850715400020", "Ерлан"), ("900101300017", "Әлия")]


def test_create_database_returns_sqlalchemy_url(postgres_server):
    url = postgres_server.create_database("fixture_url_check")
    try:
        assert url == f"postgresql+psycopg://postgres@127.0.0.1:{postgres_server.port}/fixture_url_check"
        with psycopg.connect(_conninfo(url)) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("fixture_url_check",)
    finally:
        postgres_server.drop_database("fixture_url_check")


def test_databases_are_independent(postgres_server):
    url_a = postgres_server.create_database("indep_a")
    url_b = postgres_server.create_database("indep_b")
    try:
        with psycopg.connect(_conninfo(url_a)) as a:
            a.execute("CREATE TABLE t (v int)")
            a.execute("INSERT INTO t VALUES (1)")
        with psycopg.connect(_conninfo(url_b)) as b:
            exists = b.execute("SELECT to_regclass('public.t')").fetchone()[0]
            assert exists is None
            b.execute("CREATE TABLE t (v int)")
            b.execute("INSERT INTO t VALUES (2), (3)")
        with psycopg.connect(_conninfo(url_a)) as a:
            assert a.execute("SELECT v FROM t").fetchall() == [(1,)]
        with psycopg.connect(_conninfo(url_b)) as b:
            assert b.execute("SELECT v FROM t ORDER BY v").fetchall() == [(2,), (3,)]
    finally:
        postgres_server.drop_database("indep_a")
        postgres_server.drop_database("indep_b")


def test_postgres_url_is_fresh_per_test(postgres_url, postgres_server):
    # A second test using the fixture sees an empty database with a new name.
    with psycopg.connect(_conninfo(postgres_url)) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
    assert tables == 0
    assert postgres_url.rsplit("/", 1)[1].startswith("test_postgres_url_is_fresh_per_test_")
