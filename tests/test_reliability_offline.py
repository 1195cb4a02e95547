"""Fault 10, weeks offline: 50,000 pending records drain in one pass with bounded memory.

The pass runs in a child process (as ``kiosk-sync`` would) against a real district
server process; the child reports its resident set before the pass and its peak
(VmHWM) after. Pass: one pass sends all 50,000 (server has exactly 50,000, kiosk
all acked) and the pass adds less than 60 MB to the peak RSS (pages of 200 are
leased one at a time; nothing reads the whole outbox).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from kiosk.store import Store, now_local
from sync.client import write_token
from sync.server import db
from sync.testing import ServerProcess

RECORDS = 50_000
CHILD = """
import json, sys, time
from pathlib import Path
from kiosk import config
from sync.client import run_sync_pass

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) // 1024
cfg = config.load(Path(sys.argv[2]), environ={})
import kiosk.store, sync.protocol, requests  # everything the pass needs, loaded first
before = status("VmRSS:")
t = time.monotonic()
result = run_sync_pass(cfg, Path(sys.argv[1]), max_retries=5)
print(json.dumps({"before_mb": before, "peak_mb": status("VmHWM:"), "seconds": time.monotonic() - t,
                  "left": result.left, "acked": result.upload.acked, "problem": result.problem}))
"""


@pytest.mark.slow
def test_fifty_thousand_drain_in_one_pass_bounded_memory(tmp_path: Path) -> None:
    work = tmp_path / "district"
    work.mkdir()
    server = ServerProcess(f"sqlite:///{work / 'district.db'}", work)
    engine = db.open_engine(server.db_url)
    try:
        kiosk_id = "offline-weeks"
        data_dir = tmp_path / "kiosk"
        store = Store(data_dir)
        body = json.dumps({"values": {"pulse": {"value": 72, "unit": "bpm"}}, "note": "x" * 200})
        with store.transaction() as d:
            d.conn.executemany(
                "INSERT INTO records (id, kind, created_at, payload) VALUES (?,?,?,?)",
                ((str(uuid.uuid4()), "health", now_local(), body) for _ in range(RECORDS)),
            )
        store.close()
        write_token(data_dir / "token", db.add_kiosk(engine, kiosk_id))
        cfg = tmp_path / "kiosk.toml"
        cfg.write_text(f'[kiosk]\nid = "{kiosk_id}"\n[server]\nurl = "{server.url}"\n')
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(data_dir), str(cfg)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        took = time.monotonic() - started
        with engine.connect() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).where(db.records.c.kiosk_id == kiosk_id)
            ).scalar_one()
        store = Store(data_dir)
        acked = store.outbox_counts()["acked"]
        store.close()
        assert figures["problem"] is None and figures["left"] == 0
        assert figures["acked"] == RECORDS and acked == RECORDS and total == RECORDS
        growth = figures["peak_mb"] - figures["before_mb"]
        assert growth < 60, figures
        print(
            f"\nFIGURE weeks-offline: {RECORDS} records in one pass, {figures['seconds']:.1f} s "
            f"({RECORDS / figures['seconds']:.0f} rec/s), "
            f"RSS before pass {figures['before_mb']} MB, "
            f"peak {figures['peak_mb']} MB (+{growth} MB), server={total}, acked={acked}, "
            f"child wall {took:.1f} s"
        )
    finally:
        engine.dispose()
        server.stop()
