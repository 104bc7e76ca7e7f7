"""Load over HTTP for 1, 2 and 4 workers behind nginx (issue 17, item 3).

The service is deployed as deploy/ says (tests/support/deployment.py):
``qoltanba serve --workers N`` in production mode on a throwaway PostgreSQL
and a SoftHSM2 token, nginx in front on loopback. For each N, each phase for
``--seconds`` (bounded), ``--concurrency`` operations in flight per worker:

- complete MFO flows (aiohttp on uvloop, through nginx; benchmarks/flow_driver.py): the client (a key the
  service holds, issued; registration; the phone confirmed by the SMS code the
  gateway carried; biometrics enrolled), upload of a 2-page consent (LOAN-6:
  SMS and biometrics, two kinds of factor, no review window), the signing
  request at B-LT, the SMS code, the liveness check, confirm (the client's
  B-LT signature with its stamp, the MFO's B-LT seal, the evidence), the
  signed PDF downloaded; flows/s with p50/p99 of a flow;
- issuance: ``POST /certificates`` with a CSR, through nginx, driven by wrk
  (bodies made before the clock starts), ``--issuance-concurrency`` (4) in
  flight per worker;
- verifications: ``POST /verify`` of a flow's signed PDF, through nginx;
- OCSP: one cached GET request by wrk (the Debian package), through nginx
  (the file on disk) and straight to the workers (their cache), 16
  connections.

Baselines, in this process: the bare pyHanko floor of a flow (stock
``sign_pdf`` at B-LT, benchmarks/sign.py's baseline, two signatures a flow;
measured in three slices between the flows' three slices, so drift in this
machine's speed falls on both alike)
and issuance in-process (``Issuance.issue`` on the same PostgreSQL and token).
The driver shares the two cores with the service: figures are the service's
and the driver's together, as on one host. The final line is the one-worker
flow rate against half the pyHanko floor (the aim: ratio >= 1).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from flow_driver import Http, flow, run, verify  # noqa: E402

from tests.support import factories as f  # noqa: E402
from tests.support.deployment import Deployment, deployed  # noqa: E402
from tests.support.tenants import legal_bin  # noqa: E402

# Load from one address: the per-address limits would measure themselves (tests/integration/test_limits.py
# tests them); everything else as in production.
WIDE = {"QOLTANBA_CLIENT_RATE_PER_MINUTE": "10000", "QOLTANBA_CLIENT_RATE_BURST": "10000",
        "QOLTANBA_PUBLIC_RATE_PER_MINUTE": "100000", "QOLTANBA_PUBLIC_BURST": "10000",
        "QOLTANBA_VERIFY_RATE_PER_MINUTE": "100000", "QOLTANBA_VERIFY_BURST": "10000",
        "QOLTANBA_TSA_RATE_PER_MINUTE": "100000", "QOLTANBA_TSA_BURST": "10000"}
TENANT = "loadmfo"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _ok(answer: httpx.Response, status: int = 200) -> dict:
    if answer.status_code != status:
        raise RuntimeError(f"{answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text}")
    return answer.json()


REFUSED: list[str] = []   # operations refused (a 503 "busy" with Retry-After, ...): counted, not in the rates


async def _run_for(seconds: float, tasks: int, once) -> tuple[int, list[float], float]:  # noqa: ANN001
    """``tasks`` loops of ``once`` for ``seconds``: (operations completed within the window, every latency, the
    window). As wrk counts: what is still in flight when the window closes is let finish but not counted, so the
    rate is the steady state's, not diluted by the last operations draining with fewer in flight."""
    latencies: list[float] = []
    began = time.perf_counter()
    stop = began + seconds
    within = 0

    async def loop(index: int) -> None:
        nonlocal within
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                await once(index)
            except RuntimeError as refused:
                REFUSED.append(str(refused)[:200])
                await asyncio.sleep(0.2)
                continue
            end = time.perf_counter()
            latencies.append(end - start)
            within += end <= stop

    await asyncio.gather(*(loop(i) for i in range(tasks)))
    return within, latencies, seconds


async def flows(deployment: Deployment, mfo: dict, admin: dict, seconds: float, tasks: int,
                steps: dict[str, list[float]] | None = None) -> dict:
    steps = {} if steps is None else steps
    signed: list[bytes] = []
    async with Http(deployment.url, tasks) as http:
        await flow(http, deployment, mfo, admin, {})   # warm every path once

        async def once(_: int) -> None:
            signed.append(await flow(http, deployment, mfo, admin, steps))

        count, latencies, elapsed = await _run_for(seconds, tasks, once)
    return {"rate": count / elapsed, "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "steps": {name: round(statistics.mean(v) * 1000, 1) for name, v in steps.items()}, "pdf": signed[-1],
            "count": count, "elapsed": elapsed, "latencies": latencies}


class Floor:
    """The bare pyHanko floor (stock ``sign_pdf`` B-LT signatures of benchmarks/sign.py, two to a flow),
    measured in slices between the flows' slices: this machine's speed drifts by ±10 % within minutes, and
    the ratio should not depend on whether the floor ran in a fast minute and the flows in a slow one."""

    def __init__(self, directory: Path) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        sys.path.insert(0, str(ROOT / "benchmarks"))
        import sign as sign_bench

        from api.settings import Settings
        from api.wiring import Services
        from signing.pades import Level

        self.services = Services.build(Settings(home=directory / "floor-home", base_url="http://127.0.0.1:8000"))
        self.services.migrate()
        self.services.bootstrap.initialise()
        _ours, self._once = sign_bench.signers_of(Level.B_LT, "p256", self.services, directory,
                                                  ec.generate_private_key(ec.SECP256R1()))
        self.signatures, self.elapsed = 0, 0.0

    def measure(self, seconds: float) -> None:
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            self._once()
            self.signatures += 1
        self.elapsed += time.perf_counter() - start

    @property
    def flows_per_second(self) -> float:
        return self.signatures / self.elapsed / 2

    def close(self) -> None:
        self.services.close()


def interleaved_flows(deployment: Deployment, mfo: dict, admin: dict, seconds: float, tasks: int, floor: Floor,
                      rounds: int = 3) -> dict:
    """``flows`` for ``seconds`` in ``rounds`` slices, each after a slice of the floor as long."""
    steps: dict[str, list[float]] = {}
    slices = []
    for _ in range(rounds):
        floor.measure(seconds / rounds)
        slices.append(run(flows(deployment, mfo, admin, seconds / rounds, tasks, steps)))
    latencies = [value for piece in slices for value in piece["latencies"]]
    count, elapsed = sum(piece["count"] for piece in slices), sum(piece["elapsed"] for piece in slices)
    return {"rate": count / elapsed, "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "steps": {name: round(statistics.mean(v) * 1000, 1) for name, v in steps.items()},
            "pdf": slices[-1]["pdf"], "floor": round(floor.flows_per_second, 2)}


# wrk's Lua: each thread posts its own share of the prepared bodies (one a line), in turn, never one twice.
_ISSUE_LUA = """
local bodies, step, next_index = {}, 1, 1
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("offset", counter)
end
function init(args)
  for line in io.lines(args[1]) do table.insert(bodies, line) end
  step = tonumber(args[2]); next_index = offset
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-API-Key"] = args[3]
end
function request()
  local body = bodies[next_index]
  next_index = next_index + step
  if body == nil then body = bodies[offset] end
  return wrk.format(nil, "/certificates", nil, body)
end
local told = false
function response(status, headers, body)
  if status ~= 201 and not told then
    told = true
    io.write("refused: " .. status .. " " .. body .. "\\n")
  end
end
"""


def issuance(deployment: Deployment, admin: dict, seconds: float, tasks: int, directory: Path) -> dict:
    """``POST /certificates`` through nginx, driven by wrk (the driver's own CPU kept small).

    Every body a fresh CSR and IIN, made before the clock starts (the in-process baseline's CSRs are too); wrk's
    two threads post alternate bodies, ``tasks`` connections in all.
    """
    count = int(700 * seconds) + 200   # more than the workers issue in the time, so no body is posted twice
    bodies = directory / "issuance-bodies.jsonl"
    bodies.write_text("".join(json.dumps({
        "profile": "individual-sign", "csr_pem": f.csr_pem().decode(),
        "subject": {"surname": "Abenov", "given_name": "Nurlan", "iin": f.iin()}}) + "\n" for _ in range(count)))
    # Warm: the first body, once every worker answers (one the token's CKR_GENERAL_ERROR brought down during the
    # flows is restarted by serve's supervisor meanwhile: nginx says 502 until it is back).
    for _ in range(150):
        answer = httpx.post(deployment.url + "/certificates", headers=admin, timeout=60, json=json.loads(
            bodies.read_text().split("\n", 1)[0].replace("Nurlan", "Warm")))
        if answer.status_code not in (502, 503):
            break
        REFUSED.append(f"POST /certificates: {answer.status_code} (warm-up)")
        time.sleep(0.2)
    _ok(answer, 201)
    script = directory / "issue.lua"
    script.write_text(_ISSUE_LUA)
    threads = 2 if tasks >= 2 else 1
    run = subprocess.run(["wrk", f"-t{threads}", f"-c{tasks}", f"-d{max(1, int(seconds))}s", "--latency",
                          "-s", str(script), deployment.url, "--", str(bodies), str(threads), admin["X-API-Key"]],
                         capture_output=True, text=True, check=True)
    out = run.stdout + run.stderr
    done = int(re.search(r"(\d+) requests in", out).group(1))
    if "Non-2xx" in out or done >= count:
        raise RuntimeError(f"issuance over wrk: a refused request or too few bodies ({count}):\n{out}")
    latency = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out))
    return {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": _seconds(latency.get("50", "0s")), "p99": _seconds(latency.get("99", "0s"))}


def _seconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


async def verifications(deployment: Deployment, pdf: bytes, seconds: float, tasks: int) -> dict:
    async with Http(deployment.url, tasks) as http:
        async def once(index: int) -> None:
            await verify(http, pdf, index)

        await once(0)
        count, latencies, elapsed = await _run_for(seconds, tasks, once)
    return {"rate": count / elapsed, "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99)}


def wrk(url: str, seconds: float, connections: int = 16) -> float:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{max(1, int(seconds))}s", url], capture_output=True,
                         text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(out)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def ocsp_rates(deployment: Deployment, admin: dict, seconds: float) -> dict:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    national = x509.load_der_x509_certificate(httpx.get(deployment.url + "/ca/national.cer").content)
    for _ in range(20):   # a request whose base64 ends in "/" has no file (ca/ocsp_files.py): nginx asks the app
        issued = httpx.post(deployment.url + "/certificates", headers=admin, timeout=60, json={
            "profile": "individual-sign", "csr_pem": f.csr_pem().decode(),
            "subject": {"surname": "Abenov", "given_name": "Nurlan", "iin": f.iin()}}).json()
        leaf = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
        request = ocsp.OCSPRequestBuilder().add_certificate(leaf, national, hashes.SHA1()).build()
        if not base64.b64encode(request.public_bytes(serialization.Encoding.DER)).endswith(b"/"):
            break
    path = "/ocsp/national/" + quote(base64.b64encode(request.public_bytes(serialization.Encoding.DER)).decode(),
                                     safe="")
    for base in (deployment.url, deployment.app_url, deployment.url):   # the file written, every cache warm
        for _ in range(8):
            assert httpx.get(base + path).status_code == 200
    return {"nginx": wrk(deployment.url + path, seconds), "app": wrk(deployment.app_url + path, seconds)}


def in_process_issuance(deployment: Deployment, seconds: float) -> float:
    """``Issuance.issue`` in this process on the deployment's registry and token (the HTTP figure's baseline)."""
    from api.settings import Settings
    from api.wiring import Services
    from ca.issuance import IssueRequest, KeySource
    from ca.subject import SubjectData

    os.environ.update({k: v for k, v in deployment.home.env.items() if k.startswith(("QOLTANBA_", "SOFTHSM"))})
    services = Services.build(Settings())
    try:
        csrs = [f.csr_pem() for _ in range(int(1500 * seconds / 10) + 50)]

        def once() -> None:
            services.issuance.issue(IssueRequest(
                centre="national", profile="individual-sign", actor="bench",
                subject=SubjectData(surname="Abenov", given_name="Nurlan", iin=f.iin()),
                key=KeySource(csr=csrs.pop() if csrs else f.csr_pem())))

        once()
        count, began = 0, time.perf_counter()
        while time.perf_counter() - began < seconds:
            once()
            count += 1
        return count / (time.perf_counter() - began)
    finally:
        services.close()


def _cli(deployment: Deployment, *args: str) -> dict:
    return json.loads(deployment.home.cli(*args).stdout.strip().splitlines()[-1])


class WaitSampler:
    """What PostgreSQL's backends wait on during a phase (``--waits``): pg_stat_activity sampled every 10 ms."""

    def __init__(self, url: str) -> None:
        import threading

        self.url, self.counts, self._stop = url, collections.Counter(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as db:
            while not self._stop.wait(0.01):
                for state, kind, event, query in db.execute(
                        "SELECT state, wait_event_type, wait_event, left(query, 60) FROM pg_stat_activity "
                        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"):
                    self.counts[f"{state}/{kind or '-'}/{event or '-'}"] += 1
                    if kind == "Lock":   # which statement waits on a lock
                        self.counts[f"lock wait: {query}"] += 1

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def process_kinds() -> dict[str, str]:
    """Every live process by pid: "worker" (qoltanba serve's, the verification forkservers its workers start),
    "postgres", "nginx", "driver" (this process) or "other"."""
    kinds = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        pid = cmdline.parent.name
        kinds[pid] = ("driver" if int(pid) == os.getpid()
                      else "worker" if " serve" in command or "forkserver" in command or "multiprocessing" in command
                      else "postgres" if "postgres" in command else "nginx" if "nginx" in command else "other")
    return kinds


def cpu_of(pid: str) -> tuple[float, float]:
    """(user, system) CPU seconds the process has used; zeros for one that has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def cpu_by_kind() -> collections.Counter:
    """CPU seconds (user + system) every live process has used, summed by what it is (``--waits``' accounting)."""
    used: collections.Counter = collections.Counter()
    for pid, kind in process_kinds().items():
        used[kind] += sum(cpu_of(pid))
    return used


def mfo_and_admin(deployment: Deployment) -> tuple[dict, dict]:
    """The load's tenant and its MFO's API key made on ``deployment``: (the MFO's headers, the administrator's)."""
    admin = {"X-API-Key": deployment.admin_key()}
    _cli(deployment, "tenant", "create", "--name", "ТОО МФО Жүк", "--bin", legal_bin(917), "--code", TENANT)
    mfo = {"X-API-Key": _cli(deployment, "apikey", "create", "--name", "load-mfo", "--role", "mfo", "--tenant",
                             TENANT)["key"]}
    return mfo, admin


def measure(deployment: Deployment, workers: int, seconds: float, concurrency: int, floor: Floor,
            waits: str | None = None, issuance_concurrency: int = 4) -> dict:
    mfo, admin = mfo_and_admin(deployment)
    tasks = concurrency * workers
    load = os.getloadavg()[0]
    done = {"workers": workers, "load_before": round(load, 1)}
    if waits:
        before = cpu_by_kind()
        floor.measure(seconds)   # a probe: the floor first, then the flows alone (no slices between)
        with WaitSampler(waits) as sampler:
            done["flows"] = run(flows(deployment, mfo, admin, seconds, tasks))
        done["flows"]["floor"] = round(floor.flows_per_second, 2)
        after = cpu_by_kind()
        done["flow_waits"] = dict(sampler.counts.most_common(16))
        done["flow_cpu_seconds"] = {kind: round(after[kind] - before[kind], 2) for kind in after}
    else:
        done["flows"] = interleaved_flows(deployment, mfo, admin, seconds, tasks, floor)
    for key in ("count", "elapsed", "latencies"):
        done["flows"].pop(key, None)
    done["issuance"] = issuance(deployment, admin, seconds, issuance_concurrency * workers,
                                Path(tempfile.mkdtemp(prefix="qoltanba-load-")))
    done["verify"] = run(verifications(deployment, done["flows"].pop("pdf"), seconds, tasks))
    done["ocsp"] = ocsp_rates(deployment, admin, seconds)
    done["load_after"] = round(os.getloadavg()[0], 1)
    done["refused"] = sorted({r.split(": ", 1)[0] + ": " + r.split(": ", 2)[1][:3] for r in REFUSED if ": " in r})
    done["refused_count"] = len(REFUSED)
    REFUSED.clear()
    return done


def main() -> None:
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="flows (and verifications) in flight per worker: 4, as the issue measured; at 2 a "
                             "worker holds the GIL about 65 %% of the time, so the figure would be the flow's latency, "
                             "not the worker's throughput; at 8 the threads queue on the GIL and the database's locks")
    parser.add_argument("--issuance-concurrency", type=int, default=4,
                        help="issuance requests in flight per worker (at 2 a worker holds the GIL under half the "
                             "time: the figure would be its latency, not its throughput)")
    parser.add_argument("--waits", action="store_true",
                        help="sample what PostgreSQL's backends wait on during the flows (a probe, not a figure)")
    args = parser.parse_args()
    from tests.support.postgres import PostgresServer

    figures = []
    with tempfile.TemporaryDirectory() as tmp, PostgresServer.start() as postgres:
        directory = Path(tmp)
        in_process = None
        # Made before any deployment (whose settings reach this process's environment); measured anew in each
        # phase, between that phase's flows.
        floor = Floor(directory)
        for workers in [int(n) for n in args.workers.split(",")]:
            _name, url = postgres.create_unique_database(f"load{workers}")
            floor.signatures, floor.elapsed = 0, 0.0
            with deployed(directory / f"w{workers}", url, workers=workers, extra=WIDE) as deployment:
                done = measure(deployment, workers, args.seconds, args.concurrency, floor,
                               url if args.waits else None, args.issuance_concurrency)
                if in_process is None:
                    in_process = in_process_issuance(deployment, args.seconds)
            done["issuance"]["in_process"] = round(in_process, 1)
            figures.append(done)
            print(json.dumps(done), flush=True)
        floor.close()
    one = next((done for done in figures if done["workers"] == 1), figures[0])
    for done in figures:
        n = done["workers"]
        print(json.dumps({"name": f"load flows {n} workers", "value": round(done["flows"]["rate"], 2),
                          "unit": "flows/s", "baseline": round(one["flows"]["rate"], 2),
                          "ratio": round(done["flows"]["rate"] / one["flows"]["rate"], 2),
                          "p50_s": round(done["flows"]["p50"], 3), "p99_s": round(done["flows"]["p99"], 3)}))
        print(json.dumps({"name": f"load issuance {n} workers", "value": round(done["issuance"]["rate"], 1),
                          "unit": "certificates/s", "baseline": done["issuance"]["in_process"],
                          "ratio": round(done["issuance"]["rate"] / done["issuance"]["in_process"], 2)}))
        print(json.dumps({"name": f"load verifications {n} workers", "value": round(done["verify"]["rate"], 1),
                          "unit": "verifications/s"}))
        print(json.dumps({"name": f"load OCSP {n} workers, nginx / app", "value": done["ocsp"]["nginx"],
                          "unit": "responses/s", "baseline": done["ocsp"]["app"],
                          "ratio": round(done["ocsp"]["nginx"] / done["ocsp"]["app"], 2)}))
    floor = one["flows"]["floor"]   # pairs/s of the stock signatures, measured between that phase's flows
    print(json.dumps({"name": "load pyHanko floor (stock B-LT pairs, between the flows)", "value": floor,
                      "unit": "flows/s"}))
    # The issue's aim: one worker at least half the floor's pairs/s (the last line, as `make bench` reads it). Run
    # without one worker (--workers 2), the line names the fewest workers measured, not "1 worker".
    name = "1 worker" if one["workers"] == 1 else f"{one['workers']} workers"
    print(json.dumps({"name": f"load flows {name} / half the pyHanko floor", "value": round(one["flows"]["rate"], 2),
                      "unit": "flows/s", "baseline": round(floor / 2, 2),
                      "ratio": round(one["flows"]["rate"] / (floor / 2), 2)}), flush=True)


if __name__ == "__main__":
    main()
