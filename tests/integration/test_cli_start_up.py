"""The command line starts without the application (issue 21, item 7): ``qoltanba --help`` imports no domain code.

Each command group's module is imported only when it is used
(api/cli/lazy.py); the root lists them from a table of summaries, which
must stay what each command says of itself.
"""

from __future__ import annotations

import json
import subprocess
import sys

from typer.main import get_command

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
