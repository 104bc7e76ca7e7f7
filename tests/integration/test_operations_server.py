"""A real server with two uvicorn workers (issue 17, item 4): JSON logs with request ids, multi-process metrics.

The server runs as an operator runs it: ``QOLTANBA_LOG_FORMAT=json`` and
``PROMETHEUS_MULTIPROC_DIR`` set, uvicorn's access log on. Requests go to
whichever worker the kernel hands the connection; /metrics, answered by
either, adds up both workers' counts. Every log line of a request (the access
line included) is one JSON object carrying that request's id, and an IIN sent
in a path or a query string is not in the log.
"""

from __future__ import annotations

import json

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ca.access import AccessService
from api.wiring import Services
from tests.support import factories as f
from tests.support.server import prepare_home, running_server

INFO_LOGGING = {
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {"uvicorn.access": {"level": "INFO"}},
}


def _count(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_json_logs_carry_request_ids_and_metrics_add_up_across_workers(tmp_path) -> None:
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    home = prepare_home(tmp_path / "home", extra={"QOLTANBA_LOG_FORMAT": "json",
                                                  "PROMETHEUS_MULTIPROC_DIR": str(multiproc)})
    config = tmp_path / "logging.json"
    config.write_text(json.dumps(INFO_LOGGING))
    log = tmp_path / "server.log"
    services = Services.build(home.settings())
    try:
        access = AccessService(services.registry, services.clock)
        monitor = {"Authorization": "Bearer " + access.create_key("prometheus", "monitor", by="test").key}
        admin = {"X-API-Key": access.create_key("ops-admin", "administrator", by="test").key}
    finally:
        services.close()
    iin = f.iin()
    with running_server(home, workers=2, log=log, log_config=config):
        # Each request on a new connection: the kernel spreads them over both workers.
        ids = [f"ops-{n}" for n in range(12)]
        for request_id in ids:
            answer = httpx.get(home.url + "/ca", headers={"X-Request-ID": request_id}, timeout=30)
            assert answer.status_code == 200 and answer.headers["x-request-id"] == request_id
        personal = httpx.get(home.url + "/certificates", params={"iin": iin}, headers={**admin, "X-Request-ID":
                                                                                       "ops-iin-query"}, timeout=30)
        assert personal.status_code == 200
        missing = httpx.get(f"{home.url}/no-such-page/{iin}", headers={"X-Request-ID": "ops-iin-path"}, timeout=30)
        assert missing.status_code == 404
        scrapes = [httpx.get(home.url + "/metrics", headers=monitor, timeout=30) for _ in range(4)]
        assert all(s.status_code == 200 for s in scrapes)
        for scrape in scrapes:
            # Whichever worker answered, the count is both workers' sum.
            assert _count(scrape.text, "qoltanba_http_requests_total", method="GET", route="/ca", status="200") \
                == len(ids)
        pids = {p.name.split("_")[-1] for p in multiproc.glob("counter_*.db")}
        assert len(pids) == 2, "both workers wrote their counts"
        assert _count(scrapes[-1].text, "qoltanba_ready", check="database") == 1
    lines = log.read_text(errors="replace").splitlines()
    records = []
    for line in lines:
        if line.startswith("{"):
            records.append(json.loads(line))
    for request_id in [*ids, "ops-iin-query", "ops-iin-path"]:
        mine = [r for r in records if r.get("request_id") == request_id]
        assert mine, f"no log line carries {request_id}"
        assert any(r["logger"] == "uvicorn.access" for r in mine), request_id
        assert all({"at", "level", "logger", "event"} <= set(r) for r in mine)
        # No line of another request carries this id, and no line names it without carrying it.
        assert not [line for line in lines if request_id + '"' in line and f'"request_id": "{request_id}"'
                    not in line and '"request_id":"' + request_id not in line]
    access_lines = [r for r in records if r["logger"] == "uvicorn.access"]
    assert len(access_lines) >= len(ids) + 2
    text = "\n".join(lines)
    assert iin not in text, "an IIN reached the log"
    assert "[12 digits]" in text or "[redacted]" in text
