"""OCSP responses per second from the running server, against its own empty endpoint.

Ours: nonce-less OCSP GET requests (RFC 5019, what browsers and CDNs send)
for 1 000 certificates of the national CA, 10 % of them revoked, answered
by the real server (uvicorn, 2 workers, SQLite home) from its pre-signed
cache. Baseline: the same server's bare ``/livez`` endpoint (FastAPI,
returns nothing), in the same run, with the same load generator settings
(wrk, 2 threads, 32 connections). Prints wrk's rate and p99 latency for
both, then one JSON line whose value is our responses per second.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.x509 import ocsp  # noqa: E402

from api.wiring import Services  # noqa: E402
from ca.revocation import RevocationRequest  # noqa: E402
from tests.support import factories as f  # noqa: E402
from tests.support.server import fetch, prepare_home, running_server  # noqa: E402

LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) as wrk reports them."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    if "Non-2xx" in out or "Socket errors" in out:
        print(out, file=sys.stderr)
    return rate, p99


def ocsp_paths(services: Services, count: int, revoked_share: float) -> list[str]:
    issuer = services.hierarchy.issuing_ca("national").certificate
    paths = []
    for i in range(count):
        issued = f.issue_person(services)
        if i < count * revoked_share:
            services.revocations.revoke(RevocationRequest(serial=issued.serial, actor="bench"))
        request = ocsp.OCSPRequestBuilder().add_certificate(issued.certificate, issuer, hashes.SHA1()).build()
        der = request.public_bytes(serialization.Encoding.DER)
        paths.append("/ocsp/national/" + quote(base64.b64encode(der).decode(), safe=""))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--certificates", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/ocsp.py needs wrk (make bench installs it on Debian as root)")
    with tempfile.TemporaryDirectory() as tmp:
        home = prepare_home(Path(tmp) / "home")
        services = Services.build(home.settings())
        try:
            paths = ocsp_paths(services, args.certificates, 0.1)
        finally:
            services.close()
        script = Path(tmp) / "ocsp.lua"
        script.write_text(LUA % ", ".join(json.dumps(p) for p in paths))
        with running_server(home, workers=2):
            for path in paths[:3]:
                assert ocsp.load_der_ocsp_response(fetch(home.url + path)).response_status == \
                    ocsp.OCSPResponseStatus.SUCCESSFUL
            wrk(home.url, 3, args.connections, script)            # warm both workers' caches
            wrk(home.url + "/livez", 2, args.connections)
            empty_rate, empty_p99 = wrk(home.url + "/livez", args.seconds, args.connections)
            rate, p99 = wrk(home.url, args.seconds, args.connections, script)
    print(f"empty endpoint /livez: {empty_rate:.0f} req/s, p99 {empty_p99:.2f} ms")
    print(f"OCSP (cached, {args.certificates} certificates, 10% revoked): {rate:.0f} responses/s, p99 {p99:.2f} ms "
          f"(aim: >= half the empty endpoint's rate, p99 < 10 ms)")
    print(json.dumps({"name": "ocsp-responses-per-second", "value": round(rate), "unit": "responses/s",
                      "baseline": round(empty_rate), "ratio": round(rate / empty_rate, 3)}))


if __name__ == "__main__":
    main()
