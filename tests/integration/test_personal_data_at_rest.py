"""Personal data stays private on the host (issue 18, finding 8).

The embedded registry (``registry.db`` and SQLite's ``-wal`` and ``-shm``
files beside it) is readable by its owner only, and the access log of a
real ``qoltanba serve`` keeps no phone number or IIN from a query string.
"""

from __future__ import annotations

import stat
import urllib.error
import urllib.request

from tests.support.server import MASTER_KEY, prepare_home, running_server

PHONE, IIN = "+77011234567", "900101300017"


def _mode(path) -> int:  # noqa: ANN001 - pathlib.Path
    return stat.S_IMODE(path.stat().st_mode)


def test_the_registry_database_and_its_wal_and_shm_files_are_created_0600(tmp_path) -> None:
    """Issue 18, finding 8: registry.db was created with mode 0644, readable by every user of the host."""
    from api.wiring import Services
    from api.settings import Settings

    home = tmp_path / "home"
    services = Services.build(Settings(home=home, master_key=MASTER_KEY))
    try:
        services.migrate()
        with services.registry.transaction() as tx:   # a write, so that the -wal and -shm files exist
            tx.audit.append(at=services.clock.now(), actor="test", action="test.write", subject="x", details={})
        files = [home / "registry.db", home / "registry.db-wal", home / "registry.db-shm"]
        assert all(f.exists() for f in files), [f.name for f in home.iterdir()]
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        services.close()
    # A file an earlier version left readable is tightened at the next start.
    (home / "registry.db").chmod(0o644)
    again = Services.build(Settings(home=home, master_key=MASTER_KEY))
    again.migrate()
    again.close()
    assert _mode(home / "registry.db") == 0o600


def test_serve_access_log_keeps_no_phone_number_or_iin_from_query_strings(tmp_path) -> None:
    """Issue 18, finding 8: uvicorn's access log kept borrowers' phone numbers from query strings."""
    home = prepare_home(tmp_path / "home")
    log = tmp_path / "serve.log"
    asked = [f"/dev/sms-outbox?phone={urllib.request.quote(PHONE)}&tenant=acme",
             f"/dev/sms-outbox?phone={PHONE}",                       # the + unescaped, as curl sends it
             f"/certificates?iin={IIN}&status=valid&limit=5",
             f"/certificates?{IIN}",
             "/applications?overdue=true"]
    with running_server(home, log=log, serve=True):
        key = (home.path / "bootstrap-admin.key").read_text().strip()
        for target in asked:
            request = urllib.request.Request(home.url + target, headers={"X-API-Key": key})
            try:
                urllib.request.urlopen(request, timeout=10).close()
            except urllib.error.HTTPError:
                pass   # refused or not: the access log records it either way
    text = log.read_text()
    assert "GET /dev/sms-outbox?phone=[redacted]&tenant=acme HTTP/1.1" in text, text[-2000:]
    assert "GET /certificates?iin=[redacted]&status=valid&limit=5 HTTP/1.1" in text, text[-2000:]
    assert "GET /applications?overdue=true HTTP/1.1" in text, text[-2000:]
    for secret in (PHONE, PHONE[1:], "7011234567", IIN, "%2B7701"):
        assert secret not in text, secret
    assert _mode(home.path / "registry.db") == 0o600              # the file serve made, too
