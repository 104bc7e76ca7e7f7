"""Probe (not a `make bench` benchmark): CRLPublisher.publish with N revocations in a SQLite registry.

Usage: python benchmarks/probes/crl_publication.py 1000000
Rows are inserted directly; then three publications are timed (the first
loads every entry into the publisher, the later ones read only new rows).
"""
import sys, time, tempfile, secrets, datetime as dt
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from api.wiring import Services
from api.settings import Settings
from registry.models import RevocationRow
from sqlalchemy import insert
N = int(sys.argv[1])
d = Path(tempfile.mkdtemp())
s = Services.build(Settings(home=d, master_key="33"*32)); s.migrate(); s.bootstrap.initialise()
cid = s.hierarchy.issuing_ca("national").centre_id
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
t = time.perf_counter()
with s.registry.transaction() as tx:
    rows = [dict(seq=i+1, centre_id=cid, certificate_id=i, serial=format(secrets.randbits(159) | (1 << 158), "x"),
                 revoked_at=now - dt.timedelta(seconds=i), reason="key-compromise" if i % 2 else "unspecified",
                 ground="holder-application", reported_late=False, holder_name="X", valid_from=now,
                 valid_to=now + dt.timedelta(days=300), administrator="bench", recorded_at=now) for i in range(N)]
    tx.connection.execute(insert(RevocationRow), rows)
print("insert", time.perf_counter() - t)
for i in range(3):
    t = time.perf_counter(); out = s.publisher.publish("national"); print("publish", i, round(time.perf_counter() - t, 3), out[0].entries, len(out[0].der))
