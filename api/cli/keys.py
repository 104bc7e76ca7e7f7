"""``qoltanba keys rotate-master``: re-encrypt every software key under a new master key (issue 8);
``qoltanba keys rotate-register``: a new version of the CA register's key, every register row re-sealed (LOAN-15).

Keys are re-encrypted first
and the master key file replaced after: an interruption between the two is
finished by running the command again with the same new key (the backend
accepts files already under it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import DEFAULT_HOME, ActorOpt, Home, emit, fail, group, open_services, read, write

app = group("Key custody: rotate the master key that encrypts the software keys, or the CA register's key.")


@app.command("rotate-register")
def rotate_register(actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    """LOAN-15: a new version of the CA register's key; every certificate, journal line and application
    re-sealed under it; the old version retired and destroyed. Audited (register.key-rotated)."""
    with open_services(home) as services:
        emit(services.register_key_rotation.rotate(actor).as_json())


@app.command("rotate-master")
def rotate_master(new_key_file: Annotated[Path, typer.Option("--new-key-file", help="The new master key (hex or "
                                                                                     "base64, at least 32 bytes).")],
                  actor: ActorOpt = "cli", home: Home = DEFAULT_HOME) -> None:
    from keys import MasterKeyError, SoftwareKeyBackend   # at run time (start-up, issue 21)
    from keys.master import decode_master_key

    try:
        new_key = decode_master_key(read(new_key_file, "new master key").decode("ascii", "replace"),
                                    str(new_key_file))
    except MasterKeyError as error:
        fail(2, str(error))
    with open_services(home) as services:
        backend = services.backend
        if not isinstance(backend, SoftwareKeyBackend):
            fail(2, f"the {backend.name} backend has no master key to rotate")
        count = backend.rotate_master(new_key)
        from_env = services.settings.master_key is not None
        if not from_env:
            write(services.settings.resolved_master_key_file, (new_key.hex() + "\n").encode(), mode=0o600)
        with services.registry.transaction() as tx:
            tx.audit.append(at=services.clock.now(), actor=actor, action="keys.master_rotated",
                            subject="keys:software", details={"keys": count, "key_file_replaced": not from_env})
    emit({"keys": count, "key_file": None if from_env else str(services.settings.resolved_master_key_file),
           "note": "set QOLTANBA_MASTER_KEY to the new key before the next start" if from_env else None})
