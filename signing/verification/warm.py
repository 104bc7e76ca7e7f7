"""What the verification workers' fork server imports: the verifier prepared, then warmed (issue 14, worker rate).

A worker verifies once and exits, so whatever a process builds on its first
verification every worker used to build again: asn1crypto's specs set up
per class, regular expressions compiled, stringprep's tables, pyHanko's
first-use look-ups. About a fifth of a fresh worker's verification went
there (benchmarks/RESULTS.md, verify). The fork server now does it once:
it imports the verifier as before (signing/verification/preload.py), then
verifies a sample (samples/: a 2-page B-LT contract and its root, written
by scripts/make_warmup_sample.py, no real person or key in it) and freezes
what it holds (``gc.freeze``), so every worker it forks starts warm and its
collections never walk, nor write to, the server's objects.

What the warm-up leaves behind is the sample's: no verification of anyone's
document runs in the fork server, and each worker still verifies one job.
A sample that cannot be read or verified leaves the workers cold, never
broken: the warm-up logs it and the fork server serves as before.

Two more things a worker did after its fork: it imported the job's own
modules (sandbox.py, early.py, json), now imported here; and it ran its
caller's main script again (``runpy``: the ``qoltanba`` console script's
``from api.cli import main``, a benchmark's whole script). Python 3.11's
fork server never preloads ``__main__`` as asked (its ``ensure_running``
looks for the key ``main_path`` where ``spawn.get_preparation_data`` writes
``init_main_from_path``), so every child fixed up its ``__main__`` itself.
A worker unpickles nothing of its caller's main module (its target and its
job are ours), so the fork server's children skip that step; the fork
server serves the verification workers and nothing else (sandbox.py is
the project's one user of the ``forkserver`` start method).
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import logging
import multiprocessing.spawn
from pathlib import Path

from signing.verification.preload import prepare

SAMPLES = Path(__file__).resolve().parent / "samples"
SAMPLE_PDF = SAMPLES / "contract.pdf"
SAMPLE_ROOT = SAMPLES / "root.der"

log = logging.getLogger(__name__)


def warm_up() -> str:
    """Verify the sample once in this process; its indication, or "" when it could not be verified."""
    from signing.verification.inputs import TrustAnchors, UnverifiableInput, VerificationOptions
    from signing.verification.verifier import Verifier

    for name in ("pyhanko", "pyhanko_certvalidator"):   # as in a worker: the sample's verification says nothing
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        anchors = TrustAnchors.from_der([SAMPLE_ROOT.read_bytes()])
        made = anchors.certificates[0]["tbs_certificate"]["validity"]["not_before"].native
        # An hour after its root was made: the sample's certificates are valid then, whatever today's date.
        report = Verifier(anchors).verify(SAMPLE_PDF.read_bytes(),
                                          options=VerificationOptions(at=made + dt.timedelta(hours=1)))
    except (OSError, ValueError, UnverifiableInput) as exc:
        log.warning("verification workers start cold: the warm-up sample was not verified: %s", exc)
        return ""
    return report.verdict.indication.value


def _callers_main_left_out(main: str) -> None:
    """A worker's ``spawn.prepare`` step for its caller's main module: nothing to import (see above)."""


def warm() -> str:
    """Prepare and warm this process, then freeze its objects for the children it forks; the warm-up's verdict."""
    prepare()
    for name in ("signing.verification.sandbox", "multiprocessing.connection", "multiprocessing.popen_forkserver"):
        importlib.import_module(name)   # what the job runs and receives: run_job, json, the pipe, the Process
    multiprocessing.spawn._fixup_main_from_path = _callers_main_left_out  # noqa: SLF001
    multiprocessing.spawn._fixup_main_from_name = _callers_main_left_out  # noqa: SLF001
    verdict = warm_up()
    gc.collect()
    gc.freeze()   # the objects so far are never collected again: a child's collections leave their pages shared
    return verdict


# The fork server's preload imports this module (signing/verification/sandbox.py): it warms the server once.
WARMED = warm()


__all__ = ["SAMPLE_PDF", "SAMPLE_ROOT", "WARMED", "warm", "warm_up"]
