"""Probe (not a `make bench` benchmark): where the CPU of a complete MFO flow goes, by process (issue 17, item 3).

Usage: python benchmarks/probes/cpu_per_flow.py [--seconds 12] [--scaling]

benchmarks/load.py's flows (the same driver, 4 in flight per worker) against a deployment on a throwaway
PostgreSQL, in three arrangements, each its own deployment:

- ``1 worker``: the worker on its CPU (as served), PostgreSQL, nginx and the driver left to the scheduler;
- ``1 worker, all on its CPU``: PostgreSQL, nginx and the driver moved (``taskset``) to the worker's CPU, so
  the worker shares its core with them as each of two workers does; the other CPU idle;
- ``2 workers``: 8 in flight.

For each: flows/s, and CPU milliseconds a flow of the whole machine (from /proc/stat), of the workers (user and kernel), PostgreSQL, nginx and the
driver (this process, the SMS gateway's threads included), the rest (the kernel's own work, other
processes), the idle share, and the workers' context switches a flow.

``--scaling``: the bare pyHanko floor (benchmarks/sign.py's stock B-LT signature) in one process, then in two
at once (each on its own CPU): whether this machine's two cores give two signers twice one's rate.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import load  # noqa: E402
from flow_driver import run  # noqa: E402

from tests.support.deployment import deployed  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402

def _switches(pid: str) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += sum(int(line.split()[1]) for line in (task / "status").read_text().splitlines()
                         if line.startswith(("voluntary_ctxt", "nonvoluntary_ctxt")))
        except OSError:
            continue
    return total


def _snapshot() -> dict:
    kinds = load.process_kinds()
    machine = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return {"kinds": kinds, "cpu": {pid: load.cpu_of(pid) for pid in kinds}, "machine": machine,
            "switches": {pid: _switches(pid) for pid, kind in kinds.items() if kind == "worker"}}


def _per_flow(before: dict, after: dict, flows: int) -> dict:
    """CPU ms a flow by kind; a process that started during the window counts from zero."""
    used: dict[str, float] = {}
    for pid, kind in after["kinds"].items():
        user, system = after["cpu"][pid]
        user0, system0 = before["cpu"].get(pid, (0.0, 0.0))
        if kind == "worker":
            used["worker user"] = used.get("worker user", 0) + user - user0
            used["worker kernel"] = used.get("worker kernel", 0) + system - system0
        used[kind] = used.get(kind, 0) + user + system - user0 - system0
    ticks = [b - a for a, b in zip(before["machine"], after["machine"], strict=True)]
    tick = os.sysconf("SC_CLK_TCK")
    busy = (sum(ticks) - ticks[3] - ticks[4]) / tick
    accounted = sum(value for kind, value in used.items() if " " not in kind)
    result = {kind: round(value / flows * 1000, 1) for kind, value in sorted(used.items())}
    result["rest of the machine"] = round((busy - accounted) / flows * 1000, 1)
    result["the machine"] = round(busy / flows * 1000, 1)
    # /proc/stat's irq + softirq (the loopback's packets, mostly) and steal (the hypervisor's other guests).
    result["of which irq"] = round((ticks[5] + ticks[6]) / tick / flows * 1000, 1)
    result["of which steal"] = round(ticks[7] / tick / flows * 1000, 1) if len(ticks) > 7 else 0.0
    result["idle %"] = round(100 * (ticks[3] + ticks[4]) / sum(ticks), 1)
    result["worker switches"] = round(sum(after["switches"].get(pid, 0) - count
                                          for pid, count in before["switches"].items()) / flows)
    return result


def _place(cpus: str) -> None:
    """PostgreSQL, nginx and this process (every thread) onto ``cpus`` (taskset's list); PostgreSQL backends
    started later inherit it from the postmaster."""
    for pid, kind in load.process_kinds().items():
        if kind in ("postgres", "nginx", "driver"):
            subprocess.run(["taskset", "-a", "-p", "-c", cpus, pid], capture_output=True, check=False)


def arrangement(postgres: PostgresServer, directory: Path, name: str, workers: int, together: bool,
                seconds: float) -> dict:
    _db, url = postgres.create_unique_database(f"cpu{workers}{int(together)}")
    with deployed(directory / name.replace(" ", "-").replace(",", ""), url, workers=workers,
                  extra=load.WIDE) as deployment:
        mfo, admin = load.mfo_and_admin(deployment)
        run(load.flows(deployment, mfo, admin, 2, 2 * workers))   # every path warm, every pool connected
        if together:
            _place("0")   # the served worker's slot 0 is CPU 0 (api/http/workers.py)
        try:
            before = _snapshot()
            done = run(load.flows(deployment, mfo, admin, seconds, 4 * workers))
            after = _snapshot()
        finally:
            if together:
                _place(",".join(str(cpu) for cpu in range(os.cpu_count() or 1)))
    return {"arrangement": name, "flows/s": round(done["rate"], 2), "p50 s": round(done["p50"], 3),
            "cpu ms a flow": _per_flow(before, after, len(done["latencies"]) + 1)}   # + the warm-up flow


def _signer(cpu: int, start_at: float, seconds: float, out: multiprocessing.Queue) -> None:
    os.sched_setaffinity(0, {cpu})
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    floor = load.Floor(Path(tempfile.mkdtemp(prefix="qoltanba-floor-")))
    while time.time() < start_at:
        time.sleep(0.01)
    floor.measure(seconds)
    out.put(floor.flows_per_second * 2)
    floor.close()


def scaling(seconds: float) -> dict:
    """Stock B-LT signatures/s in one process on CPU 0, then in two at once on CPUs 0 and 1."""
    context = multiprocessing.get_context("spawn")
    rates = {}
    for label, cpus in (("one", [0]), ("two", [0, 1]), ("one again", [1]), ("two again", [0, 1])):
        out = context.Queue()
        start_at = time.time() + 30   # both set up (a CA hierarchy each) before either starts
        signers = [context.Process(target=_signer, args=(cpu, start_at, seconds, out)) for cpu in cpus]
        for signer in signers:
            signer.start()
        rates[label] = round(sum(out.get() for _ in signers), 2)
        for signer in signers:
            signer.join()
    rates["two / one"] = round((rates["two"] + rates["two again"]) / (rates["one"] + rates["one again"]), 2)
    return rates


def main() -> None:
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--scaling", action="store_true", help="also the bare floor in one and two processes")
    args = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("cpu_per_flow: needs two CPUs")
    with tempfile.TemporaryDirectory() as tmp, PostgresServer.start() as postgres:
        for name, workers, together in (("1 worker", 1, False), ("1 worker, all on its CPU", 1, True),
                                        ("2 workers", 2, False)):
            print(json.dumps(arrangement(postgres, Path(tmp), name, workers, together, args.seconds),
                             ensure_ascii=False), flush=True)
    if args.scaling:
        print(json.dumps({"bare pyHanko B-LT signatures/s": scaling(args.seconds)}), flush=True)


if __name__ == "__main__":
    main()
