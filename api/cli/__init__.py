"""The ``qoltanba`` command line: initialise, serve, issue, review applications, export.

Every command builds its services from ``Settings(home=--home)`` (the other
QOLTANBA_* variables still apply), prints JSON (one object per line) or PEM/CSV
on stdout, and reports a failure as one ``error:`` line on stderr. Exit codes:
0 success; 2 bad input (invalid, refused, conflict, unreadable file, bad
settings); 1 not found, not initialised or anything unexpected.

One module per command group (api/cli/<group>.py; ``init`` and ``serve`` in
serve.py, the ``app`` group in applications.py), the shared options and
helpers in api/cli/common.py. A module is imported only when one of its
commands runs (api/cli/lazy.py), and each command imports the services
inside its function: ``qoltanba --help`` imports typer and the table
below, nothing of the domain (issue 21, item 7). A new command goes into
its group's module; a new group is a new module and one line of the table.
"""

from __future__ import annotations

from api.quiet import quiet_third_party  # first: before any third-party import (issue 22)

quiet_third_party()

import sys  # noqa: E402
from pathlib import PurePath  # noqa: E402

# ``qoltanba verify``: its sandboxed worker is forked before anything else is imported (after the warning filters,
# which it inherits), so it imports the verifier while this process imports typer, parses and reads the home's trust
# store (start-up, issue 21; signing/verification/early.py). "-m": ``python -m api.cli`` while it imports us.
if sys.argv[1:2] == ["verify"] and PurePath(sys.argv[0]).name in ("qoltanba", "-m"):
    from signing.verification.early import fork_at_start

    fork_at_start()

import typer  # noqa: E402

from api.cli.lazy import Lazy, lazy_group  # noqa: E402

# The root's listing, in this order; each summary is its command's (a test holds them equal).
COMMANDS = (
    Lazy("init", "api.cli.serve", "Create the registry and the centre hierarchy (does nothing when they exist).",
         command="init"),
    Lazy("serve", "api.cli.serve", "Run the HTTP service (initialising first if needed).", command="serve"),
    Lazy("crl", "api.cli.crl", "Write the centre's current CRL (issuing one first if none is current).",
         command="crl"),
    Lazy("sign", "api.cli.sign", "Sign a PDF (PAdES) with a PKCS#12 carrier; time-stamp and revocation data from "
                                 "the home's own TSA and OCSP responder, in-process.", command="sign"),
    Lazy("verify", "api.cli.verify", "Verify a signed PDF, CMS or ASiC-E: exit 0 when it is TOTAL-PASSED, 1 "
                                     "otherwise, 2 when unreadable.", command="verify"),
    Lazy("ca", "api.cli.ca", "The certification centres."),
    Lazy("cert", "api.cli.cert", "Certificates: issue, show, list."),
    Lazy("app", "api.cli.applications", "Applications: submit, approve, refuse, list, show."),
    Lazy("journal", "api.cli.journal", "The issuance journal."),
    Lazy("apikey", "api.cli.apikey", "API keys."),
    Lazy("tenant", "api.cli.tenant", "Tenants (MFOs): create with a seal, list, show, suspend, resume, a new seal, "
                                     "their own policy, a loan's credit dossier, rotate the key their data is "
                                     "sealed under."),
    Lazy("form", "api.cli.form", "Standard forms of a tenant (contract, amendment, schedule, consent ...): "
                                 "register, list, show."),
    Lazy("approvals", "api.cli.approvals", "Dual control: requests waiting for a second administrator."),
    Lazy("signing-policy", "api.cli.signing_policy",
         "The signing policy in force (changes need a second administrator)."),
    Lazy("retention", "api.cli.retention", "Retention: move certificates past their keeping period to the archive."),
    Lazy("audit", "api.cli.audit", "The audit log: verify its hash chain, checkpoints and export, sign a checkpoint."),
    Lazy("keys", "api.cli.keys", "Key custody: rotate the master key that encrypts the software keys, or the CA "
                                 "register's key."),
    Lazy("trust", "api.cli.trust", "The verification trust store: our root plus imported anchors."),
    Lazy("users", "api.cli.users", "People of the centre who log in to the web console (password + TOTP)."),
    Lazy("backup", "api.cli.backup", "Write the registry and the home's keys into one archive, with a manifest of "
                                     "SHA-256 digests.", command="backup"),
    Lazy("restore", "api.cli.backup", "Restore an archive onto an empty home and an empty database "
                                      "(QOLTANBA_DATABASE_URL), then check it.", command="restore"),
)

# Plain click messages: a usage error is a few lines of text, not a drawn box.
app = typer.Typer(cls=lazy_group(COMMANDS), no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Qoltanba: certification centres and registry for Kazakhstan.")


@app.callback()
def root() -> None:
    # Every command is in the table above; Typer makes a group of an app only when it has a callback or
    # commands of its own, and this one has neither.
    pass


def main() -> None:
    """The console script: no traceback reaches the user, only one line naming the failure."""
    try:
        app()
    except Exception as error:  # noqa: BLE001 - the last line of defence
        cause = f" (caused by {type(error.__cause__).__name__}: {error.__cause__})" if error.__cause__ else ""
        print("error: unexpected failure: " + " ".join(f"{type(error).__name__}: {error}{cause}".split()),
              file=sys.stderr)
        sys.exit(1)


__all__ = ["COMMANDS", "app", "main"]
