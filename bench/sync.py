"""Sync benchmark on loopback: batched vs per-record upload, server ingest, client memory.

    .venv/bin/python bench/sync.py [--records 10000] [--sample 500] [--rss-records 50000]

Prints:
- 10,000 pending records uploaded by the batched client (sync.max_batch = 200, the
  default) vs one request per record. The per-record time is measured on a sample
  (``--sample``) and extrapolated linearly; the output says so.
- Server ingest records/s (pre-built 500-record batches posted with requests) on
  SQLite and, when the PostgreSQL binaries are installed, on a throwaway cluster.
- Client peak RSS (VmHWM) of a ``kiosk-sync``-style pass over 50,000 pending
  records, measured in a child process, next to its RSS before the pass.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.store import Store, now_local  # noqa: E402
from sync.client import SyncClient  # noqa: E402
from sync.protocol import PREFIX  # noqa: E402
from sync.server import db  # noqa: E402
from sync.testing import PgCluster, ServerProcess, pg_bin_dir  # noqa: E402

PAYLOAD = {
    "type": "blood_pressure",
    "values": {
        "systolic": {"value": 135, "unit": "mmHg"},
        "diastolic": {"value": 88, "unit": "mmHg"},
    },
    "level": "bp_stage1",
    "severity": "attention",
    "alert": False,
    "phone": "13812345678",
}


def fill(store: Store, n: int) -> None:
    """Add ``n`` pending health records in one transaction (setup only)."""
    body = json.dumps(PAYLOAD, ensure_ascii=False, sort_keys=True)
    created = now_local()
    with store.transaction() as d:
        d.conn.executemany(
            "INSERT INTO records (id, kind, created_at, payload, urgent) VALUES (?,?,?,?,0)",
            ((str(uuid.uuid4()), "health", created, body) for _ in range(n)),
        )


def timed_pass(srv: ServerProcess, work: Path, n: int, batch: int) -> float:
    data = Path(tempfile.mkdtemp(dir=work))
    engine = db.open_engine(srv.db_url)
    kiosk_id = f"bench-{uuid.uuid4().hex[:6]}"
    token = db.add_kiosk(engine, kiosk_id)
    engine.dispose()
    store = Store(data)
    fill(store, n)
    client = SyncClient(store, base_url=srv.url, kiosk_id=kiosk_id, token=token, max_batch=batch)
    start = time.perf_counter()
    summary = client.upload()
    elapsed = time.perf_counter() - start
    assert summary.acked == n and store.unsent() == 0, summary
    client.close()
    store.close()
    return elapsed


def ingest_rate(srv: ServerProcess, n: int, batch: int = 500) -> float:
    engine = db.open_engine(srv.db_url)
    kiosk_id = f"ingest-{uuid.uuid4().hex[:6]}"
    token = db.add_kiosk(engine, kiosk_id)
    engine.dispose()
    created = now_local()
    bodies = []
    for start in range(0, n, batch):
        records = [
            {"id": str(uuid.uuid4()), "kind": "health", "created_at": created, "payload": PAYLOAD}
            for _ in range(min(batch, n - start))
        ]
        envelope = {"kiosk_id": kiosk_id, "sent_at": created, "records": records}
        bodies.append(json.dumps(envelope).encode())
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    t0 = time.perf_counter()
    for body in bodies:
        r = session.post(f"{srv.url}{PREFIX}/records", data=body, timeout=60)
        r.raise_for_status()
    return n / (time.perf_counter() - t0)


CHILD = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from kiosk.store import Store
from sync.client import SyncClient

def hwm():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmHWM", "VmRSS")):
            yield line.split(":")[0], int(line.split()[1])

store = Store(Path(sys.argv[1]), check=False)
client = SyncClient(store, base_url=sys.argv[2], kiosk_id=sys.argv[3].split(":")[0],
                    token=sys.argv[3].split(":")[1], max_batch=200)
before = dict(hwm())["VmRSS"]
summary = client.upload()
after = dict(hwm())
print(before, after["VmHWM"], summary.acked, store.unsent())
"""


def client_rss(srv: ServerProcess, work: Path, n: int) -> tuple[int, int, int]:
    data = Path(tempfile.mkdtemp(dir=work))
    engine = db.open_engine(srv.db_url)
    kiosk_id = f"rss-{uuid.uuid4().hex[:6]}"
    token = db.add_kiosk(engine, kiosk_id)
    engine.dispose()
    store = Store(data)
    fill(store, n)
    store.close()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), srv.url, f"{kiosk_id}:{token}", str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.split()
    before, peak, acked, left = (int(x) for x in out)
    assert acked == n and left == 0
    return before, peak, acked


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=500)
    ap.add_argument("--rss-records", type=int, default=50_000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    servers: list[Any] = []
    try:
        sqlite_srv = ServerProcess(f"sqlite:///{work / 'district.db'}", work)
        servers.append(sqlite_srv)
        batched = timed_pass(sqlite_srv, work, args.records, 200)
        sample = timed_pass(sqlite_srv, work, args.sample, 1)
        per_record = sample / args.sample * args.records
        print(f"upload of {args.records} pending records, SQLite server, loopback:")
        print(f"  batched (200/request):  {batched:7.2f} s  ({args.records / batched:,.0f} rec/s)")
        print(
            f"  one request per record: {per_record:7.2f} s  (measured on {args.sample} "
            f"records: {sample:.2f} s, extrapolated x{args.records / args.sample:g})"
        )
        ratio = per_record / batched
        goal = "met" if ratio >= 20 and batched <= 10 else "NOT met"
        print(f"  ratio: {ratio:.1f}x faster batched (goal >= 20x and <= 10 s: {goal})")
        print("server ingest (pre-built 500-record batches):")
        print(f"  SQLite:     {ingest_rate(sqlite_srv, args.records):9,.0f} records/s")
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            print("  PostgreSQL: skipped (server binaries not installed)")
        else:
            cluster = PgCluster(bin_dir)
            servers.append(cluster)
            pg_srv = ServerProcess(cluster.new_database(), work)
            servers.append(pg_srv)
            print(f"  PostgreSQL: {ingest_rate(pg_srv, args.records):9,.0f} records/s")
        before, peak, acked = client_rss(sqlite_srv, work, args.rss_records)
        print(f"client memory, one pass over {acked:,} pending records (child process):")
        print(f"  RSS before the pass {before / 1024:.1f} MiB, peak (VmHWM) {peak / 1024:.1f} MiB")
    finally:
        for s in reversed(servers):
            s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
