"""Start-up: our commands against pyHanko's own command line and a bare FastAPI app, same run (issue 21).

Three measurements, each the median wall time of a fresh process, ours and
its baseline interleaved round by round:

1. ``qoltanba --help`` against ``pyhanko --help`` (pyhanko-cli);
2. ``qoltanba verify contract.pdf --json`` against ``pyhanko sign validate
   --no-revocation-check --trust root.pem contract.pdf`` on the same file: a
   2-page contract the client signed and the MFO sealed at B-LT, made on a
   throwaway home with the service's own signing helpers. Ours validates both
   signatures with the revocation data the document carries (no network) and
   writes the whole report; pyHanko's CLI, without an LTV mode in pyhanko-cli
   0.6, would fetch revocation data for the intermediate from the network, so
   it is told not to check revocation: it does less than we do;
3. ``qoltanba serve`` until its first answer (``GET /livez``) against a bare
   FastAPI app with one route under the same server (uvicorn), both on
   loopback.

Ratio = baseline time / our time, so ≥ 1.0 means ours is at least as fast.
Aims: ≥ 1.0 for 1 and 2; ≥ 0.5 (within 2x) for 3. One JSON line per
measurement, the last one the serve measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

BARE_APP = '''
from fastapi import FastAPI
app = FastAPI()
@app.get("/livez")
def livez():
    return None
'''


def _run(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-400:]}")
    return elapsed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _first_answer(argv: list[str], env: dict[str, str], port: int, cwd: Path) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(argv, env={**env, "QOLTANBA_PORT": str(port)}, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=1) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - started
            except OSError:
                if process.poll() is not None:
                    raise SystemExit(f"{argv[0]} exited with {process.returncode} before answering") from None
                if time.perf_counter() - started > 60:
                    raise SystemExit(f"{argv[0]} did not answer within 60 s") from None
                time.sleep(0.005)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _paired(ours, baseline, rounds: int) -> tuple[float, float]:  # noqa: ANN001 - two callables
    """Medians of ``rounds`` fresh processes each, after one untimed run of each (the page cache warm alike);
    which goes first alternates round by round, so neither always follows the other's disk and cache traffic."""
    ours(), baseline()
    mine, theirs = [], []
    for number in range(rounds):
        if number % 2:
            theirs.append(baseline())
            mine.append(ours())
        else:
            mine.append(ours())
            theirs.append(baseline())
    return statistics.median(mine), statistics.median(theirs)


def _line(name: str, ours: float, baseline: float) -> str:
    return json.dumps({"name": name, "value": round(ours * 1000, 1), "unit": "ms",
                       "baseline": round(baseline * 1000, 1), "ratio": round(baseline / ours, 3)})


def _signed_contract(directory: Path) -> tuple[Path, Path, Path]:
    from cryptography.hazmat.primitives import serialization

    from api.wiring import Services
    from api.settings import Settings
    from tests.support.signing import client_with_held_key, latest_pdf, sign_client_and_seal, upload

    home = directory / "home"
    services = Services.build(Settings(home=home, base_url="http://127.0.0.1:8000", master_key="99" * 32))
    services.migrate()
    services.bootstrap.initialise()
    client = client_with_held_key(services)
    document = upload(services, client.iin, pages=2)
    sign_client_and_seal(services, client, document.id, level="B-LT")
    pdf = directory / "contract.pdf"
    pdf.write_bytes(latest_pdf(services, document.id))
    root = directory / "root.pem"
    root.write_bytes(services.hierarchy.chain("national")[-1].public_bytes(serialization.Encoding.PEM))
    services.close()
    return home, pdf, root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="fresh processes of each per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        home, pdf, root = _signed_contract(directory)
        env = {**os.environ, "QOLTANBA_HOME": str(home), "QOLTANBA_MASTER_KEY": "99" * 32}
        env.pop("PYTHONPATH", None)
        ours, theirs = _paired(lambda: _run([str(BIN / "qoltanba"), "--help"], env),
                               lambda: _run([str(BIN / "pyhanko"), "--help"], env), args.rounds)
        print(_line("startup-help", ours, theirs), flush=True)
        ours, theirs = _paired(
            lambda: _run([str(BIN / "qoltanba"), "verify", str(pdf), "--json"], env),
            lambda: _run([str(BIN / "pyhanko"), "sign", "validate", "--no-revocation-check", "--trust", str(root),
                          str(pdf)], env),
            args.rounds)
        print(_line("startup-verify-2-page-contract", ours, theirs), flush=True)
        (directory / "bare.py").write_text(BARE_APP)
        ours, theirs = _paired(
            lambda: _first_answer([str(BIN / "qoltanba"), "serve"], env, _free_port(), directory),
            lambda: _first_answer([str(BIN / "python"), "-m", "uvicorn", "bare:app", "--port", str(port := _free_port()),
                                   "--log-level", "warning"], env, port, directory),
            args.rounds)
        print(_line("startup-serve-first-answer", ours, theirs), flush=True)


if __name__ == "__main__":
    main()
