"""Fault 7, disk full: a real 2 MiB tmpfs mounted for the test (needs root).

Pass: the resident gets the clear message (``common.store_full``), every record
saved before is intact (integrity ok), the store stays usable (no crash, later
adds are refused cleanly), and the space reserve still lets calls (and health
alerts) be saved; staff are told the reserve was used; once space is freed the
reserve comes back and normal records are saved again.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.store import RESERVE_BYTES, RESERVE_NAME, Store, StoreFullError
from kiosk.texts import t

NOTE = "测" * 600  # ~1.8 kB per record, so the disk fills in a few hundred records


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        message = f"cannot mount a small tmpfs (needs root): {done.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the disk-full test as root")
        pytest.skip(message)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill_disk(folder: Path) -> Path:
    """Take all free space with a filler file; returns it (delete it to free the space)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (64 * 1024, 4096, 512):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, bytes(size))
    finally:
        os.close(fd)
    return filler


def _ready(store: Store) -> bool:
    # A call, so that mypy does not keep the property narrowed by an earlier assert.
    return store.reserve_ready


def test_disk_full_message_records_intact_calls_still_saved(small_disk: Path) -> None:
    data_dir = small_disk / "kiosk"
    store = Store(data_dir)
    assert store.reserve_ready
    assert (data_dir / RESERVE_NAME).stat().st_size == RESERVE_BYTES
    filler = _fill_disk(small_disk)
    # Leave ~300 kB free, then save readings until the disk is full.
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - 300 * 1024))
    saved: list[str] = []

    refused = 0
    with pytest.raises(StoreFullError) as full:
        for _ in range(5000):
            saved.append(store.add("health", {"values": {"pulse": {"value": 70}}, "note": NOTE}))
    refused += 1
    # The resident hears a clear sentence; staff get the exception text.
    assert str(full.value) == "存储空间已满，记录没有保存"
    assert "存储空间已满" in t("common.store_full")
    # The kiosk stays up: reads work, later adds are refused cleanly, again and again.
    for _ in range(20):
        with pytest.raises(StoreFullError):
            store.add("signup", {"activity_id": "a", "phone": "13812345678"})
        refused += 1
    assert store.count() == len(saved)
    assert store.integrity() == "ok"

    # A call for help still fits: the reserve is released for it.
    calls = [store.add("call", {"reason": "help", "source": "button"})]
    assert not _ready(store)
    assert any("备用空间" in p for p in store.problems)  # staff told
    assert any("备用空间" in p["message"] for p in Store.stored_problems(data_dir))
    alert = store.add("health", {"values": {"systolic": {"value": 190}}, "alert": True})
    # What is left of the reserve is kept for calls: normal records are still refused.
    with pytest.raises(StoreFullError):
        store.add("health", {"values": {"pulse": {"value": 70}}, "note": NOTE})
    with contextlib.suppress(StoreFullError):
        for _ in range(5000):
            calls.append(store.add("call", {"reason": "help", "source": "button"}))
    assert store.integrity() == "ok"
    ids = {r[0] for r in store.db.execute("SELECT id FROM records")}
    assert set(saved) | set(calls) | {alert} <= ids
    store.close()

    # Space freed (staff cleaned up): the reserve comes back, normal records go in again.
    filler.unlink()
    store = Store(data_dir)
    assert store.reserve_ready and store.integrity() == "ok"
    store.add("health", {"values": {"pulse": {"value": 70}}})
    assert store.count() == len(saved) + len(calls) + 2
    store.close()
    print(
        f"\nFIGURE disk-full: 2 MiB tmpfs, saved before full={len(saved)}, refused cleanly="
        f"{refused}, calls saved from the {RESERVE_BYTES // 1024} KiB reserve={len(calls)} "
        "+ 1 health alert, integrity=ok"
    )


def test_reserve_missing_when_disk_already_full_is_reported(small_disk: Path) -> None:
    filler = _fill_disk(small_disk)
    try:
        with pytest.raises(StoreFullError):  # a clear error the app can show, not a crash
            Store(small_disk / "kiosk")
    finally:
        filler.unlink()
    # With a little room but not enough for the reserve, the store opens and tells staff.
    filler = small_disk / "filler2"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(bytes(max(0, free - 400 * 1024)))
    store = Store(small_disk / "kiosk")
    assert not store.reserve_ready
    assert any("备用空间" in p for p in store.problems)
    store.add("call", {"reason": "help"})
    store.close()
