"""Fault 2, kill during upload: SIGKILL the sync pass at >= 50 random points of a
10,000-record upload, restarting each time.

Each round is a real child process that starts like the kiosk (``Store`` with its
start-up check, which puts leased records back to pending) and runs
``run_sync_pass`` against a real district server process on 127.0.0.1. The parent
kills it with SIGKILL after a random number of acknowledged pages plus a random
few milliseconds, so kills land before the ping, while a page is on the wire,
while the server commits, and between the server's commit and the kiosk's own.
Pass: the server ends with exactly 10,000 records, zero duplicates, zero lost,
and the kiosk marks all of them acked.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from queue import Empty, Queue

import pytest
import sqlalchemy as sa

from kiosk.store import Store, now_local
from sync.client import write_token
from sync.server import db
from sync.testing import ServerProcess

RECORDS = 10_000
KILLS = 50
DRIVER = """
import sys
from pathlib import Path
from kiosk import config
from kiosk.store import Store
from sync.client import run_sync_pass
data_dir = Path(sys.argv[1])
Store(data_dir).close()  # the kiosk starts: check, leases back to pending
cfg = config.load(Path(sys.argv[2]), environ={})
result = run_sync_pass(cfg, data_dir, progress=lambda d, t: print(d, flush=True), max_retries=50)
print("done", result.left, result.problem, flush=True)
"""


def _pump(stream: object, lines: Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line.strip())


def _round(data_dir: Path, cfg: Path, pages: int | None, extra: float) -> tuple[bool, str]:
    """One pass; killed after ``pages`` progress lines + ``extra`` s (None: run to the end)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(data_dir), str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: Queue[str] = Queue()
    pump = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    pump.start()
    seen, last = 0, ""
    deadline = time.monotonic() + 120
    while pages is None or seen <= pages:
        try:
            last = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except Empty:
            break
        if last.startswith("done"):
            break
        seen += 1
    killed = False
    if pages is not None:
        try:
            proc.wait(timeout=extra)  # a random moment inside the next page
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            killed = True
    proc.wait(120)
    pump.join(10)
    while not lines.empty():
        last = lines.get()
    return killed, last


@pytest.mark.slow
def test_sigkill_during_upload_exactly_once(tmp_path: Path) -> None:
    work = tmp_path / "district"
    work.mkdir()
    server = ServerProcess(f"sqlite:///{work / 'district.db'}", work)
    engine = db.open_engine(server.db_url)
    try:
        kiosk_id = "kill-test"
        token = db.add_kiosk(engine, kiosk_id)
        data_dir = tmp_path / "kiosk"
        store = Store(data_dir)
        body = json.dumps({"values": {"pulse": {"value": 72, "unit": "bpm"}}})
        with store.transaction() as d:
            d.conn.executemany(
                "INSERT INTO records (id, kind, created_at, payload) VALUES (?,?,?,?)",
                ((str(uuid.uuid4()), "health", now_local(), body) for _ in range(RECORDS)),
            )
        store.close()
        write_token(data_dir / "token", token)
        cfg = tmp_path / "kiosk.toml"
        cfg.write_text(
            f'[kiosk]\nid = "{kiosk_id}"\n[server]\nurl = "{server.url}"\n[sync]\nmax_batch = 40\n'
        )
        rng = random.Random(4242)
        kills, rounds, finished = 0, 0, False
        started = time.monotonic()
        while kills < KILLS and rounds < 3 * KILLS:
            rounds += 1
            killed, last = _round(data_dir, cfg, rng.randint(0, 2), rng.uniform(0.0, 0.04))
            kills += killed
            if last.startswith("done"):
                finished = True
                break
        assert not finished, "the upload finished before 50 kills; use smaller pages"
        assert kills >= KILLS
        _killed, last = _round(data_dir, cfg, None, 0.0)
        assert last == "done 0 None", last
        took = time.monotonic() - started

        with engine.connect() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).where(db.records.c.kiosk_id == kiosk_id)
            ).scalar_one()
            distinct = conn.execute(
                sa.select(sa.func.count(sa.distinct(db.records.c.record_id))).where(
                    db.records.c.kiosk_id == kiosk_id
                )
            ).scalar_one()
        store = Store(data_dir)
        counts = store.outbox_counts()
        local_ids = {r[0] for r in store.db.execute("SELECT id FROM records")}
        # Sent more than once: a kill landed while their page was leased or on the wire.
        resent = store.db.execute("SELECT count(*) FROM records WHERE attempts > 1").fetchone()[0]
        with engine.connect() as conn:
            server_ids = {
                str(r[0])
                for r in conn.execute(
                    sa.select(db.records.c.record_id).where(db.records.c.kiosk_id == kiosk_id)
                )
            }
        store.close()
        assert total == RECORDS and distinct == RECORDS  # exactly 10,000, zero duplicates
        assert server_ids == local_ids  # zero lost
        assert counts["acked"] == RECORDS
        print(
            f"\nFIGURE kill-during-upload: records={RECORDS} kills={kills} rounds={rounds + 1} "
            f"server={total} distinct={distinct} acked={counts['acked']} "
            f"sent_more_than_once={resent} time={took:.0f}s"
        )
    finally:
        engine.dispose()
        server.stop()
