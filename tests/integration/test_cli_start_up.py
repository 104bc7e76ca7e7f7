"""The command line starts without the application (issue 21, item 7): ``qoltanba --help`` imports no domain code.

Each command group's module is imported only when it is used
(api/cli/lazy.py); the root lists them from a table of summaries, which
must stay what each command says of itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.main import get_command

from tests.support import golden

HEAVY = ("alembic", "sqlalchemy", "pyhanko", "fastapi", "uvicorn", "starlette", "registry", "signing", "ca", "keys",
         "api.wiring", "api.http")

LOADED = """
import json, sys
sys.argv = ["qoltanba", *sys.argv[1:]]
from api.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


# What ``qoltanba verify`` reads a home without (issue 21): the ORM, Alembic, the services and everything that signs,
# issues or serves. It reads the trust store through registry.readonly and verifies in the sandbox.
VERIFY_NEVER = ("alembic", "sqlalchemy", "fastapi", "uvicorn", "starlette", "api.wiring", "api.http",
                "registry.models", "registry.repositories", "registry.db", "registry.audit", "keys.pkcs11",
                "keys.signer", "keys.carrier", "signing.documents", "signing.pades", "signing.requests",
                "signing.factors", "signing.policies", "signing.stamps", "signing.webhooks", "ca.bootstrap",
                "ca.issuance", "ca.tsa", "ca.responder", "ca.publication", "ca.revocation", "ca.people",
                "ca.access", "ca.audit_checkpoints")


def _modules_after(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True, timeout=60,
                          check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_help_imports_no_domain_code_nor_the_heavy_libraries() -> None:
    loaded = _modules_after("--help")
    assert [m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY)] == []
    assert not [m for m in loaded if m.startswith("api.cli.") and m not in ("api.cli.lazy",)]


def test_a_group_imports_only_its_own_module_for_its_help() -> None:
    loaded = _modules_after("audit", "--help")
    assert "api.cli.audit" in loaded
    assert not {"api.cli.cert", "api.cli.sign", "api.wiring", "sqlalchemy", "pyhanko"} & set(loaded)


def test_the_roots_summaries_are_the_commands_own() -> None:
    from api import cli

    root = get_command(cli.app)
    for entry in cli.COMMANDS:
        command = entry.load()
        assert command.name == entry.name
        assert command.get_short_help_str(200) == entry.stub().get_short_help_str(200), entry.name
        assert root.get_command(None, entry.name).name == entry.name   # type: ignore[arg-type]


def test_the_approval_statuses_named_for_the_help_are_the_registrys() -> None:
    from api.cli.approvals import STATUSES
    from ca.approvals import STATUSES as KEPT

    assert STATUSES == KEPT


def test_verify_reads_the_home_without_the_orm_alembic_or_the_services(tmp_path: Path) -> None:
    home = golden.prepare(tmp_path, f"sqlite:///{tmp_path / 'home' / 'registry.db'}")   # an initialised home
    pdf = tmp_path / "notes.pdf"
    pdf.write_bytes(b"%PDF-1.7\n not signed \n%%EOF")   # read, sent to the worker, found unreadable: exit 2
    loaded = _modules_after("verify", str(pdf), "--json", "--home", str(home))
    assert {"registry.readonly", "ca.hierarchy", "signing.verification.trust_store",
            "signing.verification.sandbox"} <= set(loaded)   # the home's trust store was read, the worker ran
    assert [m for m in loaded if m in VERIFY_NEVER or m.startswith(tuple(f"{n}." for n in VERIFY_NEVER))] == []
