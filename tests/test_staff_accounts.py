"""Staff accounts on a real store: scrypt hashes, lockout (persisted, doubling), the staff log,
the override file, and the `kiosk staff` command as operators run it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk import config
from kiosk.staff import accounts as acc
from kiosk.staff.accounts import MAX_FAILURES, StaffAccounts, StaffError
from kiosk.staff.overrides import overrides_path, read_overrides, write_overrides
from kiosk.store import Store

ROOT = Path(__file__).resolve().parent.parent


class WallClock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(data_dir: Path):
    s = Store(data_dir)
    yield s
    s.close()


def test_pin_is_stored_only_as_a_salted_scrypt_hash(store: Store):
    accounts = StaffAccounts(store)
    accounts.add("李娟", "2580")
    accounts.add("王强", "2580")
    rows = list(store.db.query("SELECT * FROM staff ORDER BY name"))
    assert len(rows) == 2
    for row in rows:
        assert b"2580" not in row["pin_hash"] and "2580" not in repr(row)
        assert row["kdf"] == "scrypt:n=65536,r=8,p=1"
        assert len(row["salt"]) == 16 and len(row["pin_hash"]) == 32
    assert rows[0]["salt"] != rows[1]["salt"]
    assert rows[0]["pin_hash"] != rows[1]["pin_hash"]  # same PIN, different salts
    assert accounts.verify("李娟", "2580").ok
    assert not accounts.verify("李娟", "2581").ok
    assert not accounts.verify("无此人", "2580").ok


def test_kdf_time_per_check_is_slow_but_fine_at_the_counter(store: Store):
    accounts = StaffAccounts(store)
    accounts.add("李娟", "123456")
    check = accounts.prepare("李娟")
    assert isinstance(check, acc.PinCheck)
    started = time.perf_counter()
    rounds = 3
    for _ in range(rounds):
        assert check.matches("123456")
    per_check = (time.perf_counter() - started) / rounds
    print(f"scrypt n=2**16 r=8 p=1: {per_check * 1000:.0f} ms per PIN check")
    assert 0.05 < per_check < 1.5


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", "１２３４"])
def test_pins_are_4_to_8_ascii_digits(store: Store, pin: str):
    with pytest.raises(StaffError):
        StaffAccounts(store).add("李娟", pin)


def test_names_are_unique_and_sane(store: Store):
    accounts = StaffAccounts(store)
    accounts.add("李娟", "1234")
    with pytest.raises(StaffError, match="exists"):
        accounts.add(" 李娟 ", "5678")
    with pytest.raises(StaffError):
        accounts.add("  ", "5678")


def test_lockout_after_five_wrong_pins_persists_and_doubles(data_dir: Path):
    clock = WallClock()
    store = Store(data_dir)
    accounts = StaffAccounts(store, now=clock)
    accounts.add("李娟", "2468")
    for i in range(MAX_FAILURES - 1):
        result = accounts.verify("李娟", "0000")
        assert not result.ok and result.tries_left == MAX_FAILURES - 1 - i
    fifth = accounts.verify("李娟", "0000")
    assert fifth.locked_seconds == 300
    store.close()

    # A restart does not lift the lockout; even the right PIN is refused without a check.
    store = Store(data_dir)
    accounts = StaffAccounts(store, now=clock)
    refused = accounts.verify("李娟", "2468")
    assert not refused.ok and 299 <= refused.locked_seconds <= 300
    clock.now += 299
    assert not accounts.verify("李娟", "2468").ok
    clock.now += 2
    # The second lockout lasts twice as long.
    for _ in range(MAX_FAILURES):
        result = accounts.verify("李娟", "1111")
    assert result.locked_seconds == 600
    clock.now += 601
    for _ in range(MAX_FAILURES):
        result = accounts.verify("李娟", "1111")
    assert result.locked_seconds == 1200
    clock.now += 1201
    # The right PIN resets everything: the next lockout is 5 minutes again.
    assert accounts.verify("李娟", "2468").ok
    for _ in range(MAX_FAILURES):
        result = accounts.verify("李娟", "1111")
    assert result.locked_seconds == 300
    actions = [line["action"] for line in accounts.log_lines(100)]
    assert actions.count("locked") == 4 and "login" in actions
    store.close()


def test_the_staff_log_holds_no_pin(store: Store):
    accounts = StaffAccounts(store)
    accounts.add("李娟", "97531")
    accounts.verify("李娟", "97531")
    accounts.verify("李娟", "13579")
    accounts.log("李娟", "queue_done", "call")
    dump = "\n".join(str(r) for r in store.db.query("SELECT * FROM staff_log"))
    assert "97531" not in dump and "13579" not in dump
    assert {"account_added", "login", "login_failed", "queue_done"} <= {
        r["action"] for r in accounts.log_lines()
    }


def test_lockout_durations_are_capped():
    assert acc.lockout_seconds(1) == 300
    assert acc.lockout_seconds(2) == 600
    assert acc.lockout_seconds(40) == acc.LOCKOUT_CAP_SECONDS


# -- overrides.toml ----------------------------------------------------------------------------


def test_overrides_are_written_atomically_private_and_read_back(data_dir: Path):
    write_overrides(data_dir, {"ui": {"font_scale": 1.3, "idle_seconds": 120}})
    write_overrides(data_dir, {"call": {"hotline": "010-12345"}, "voice": {"volume": 3}})
    path = overrides_path(data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_overrides(data_dir) == {
        "ui": {"font_scale": 1.3, "idle_seconds": 120},
        "call": {"hotline": "010-12345"},
        "voice": {"volume": 3},
    }
    cfg = config.load(None, overrides_file=path, environ={})
    assert cfg.ui.font_scale == 1.3 and cfg.ui.idle_seconds == 120
    assert cfg.call.hotline == "010-12345" and cfg.voice.volume == 3
    assert not [p for p in data_dir.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "bad", [{"ui": {"font_scale": 2.0}}, {"ui": {"nope": 1}}, {"ui": {"px_per_mm": float("nan")}}]
)
def test_a_refused_value_changes_nothing(data_dir: Path, bad):
    write_overrides(data_dir, {"ui": {"font_scale": 1.2}})
    before = overrides_path(data_dir).read_bytes()
    with pytest.raises(config.ConfigError):
        write_overrides(data_dir, bad)
    assert overrides_path(data_dir).read_bytes() == before
    assert [p.name for p in data_dir.iterdir() if "overrides" in p.name] == ["overrides.toml"]


# -- the command line ----------------------------------------------------------------------------


def kiosk_staff(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "--data-dir", str(data_dir), "staff", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_cli_add_list_remove(data_dir: Path):
    added = kiosk_staff(data_dir, "add", "李娟", "--pin-stdin", stdin="864213\n")
    assert added.returncode == 0, added.stderr
    assert "864213" not in added.stdout + added.stderr
    assert kiosk_staff(data_dir, "add", "王强", "--pin-stdin", stdin="5555\n").returncode == 0
    again = kiosk_staff(data_dir, "add", "李娟", "--pin-stdin", stdin="1111\n")
    assert again.returncode == 1 and "exists" in again.stderr
    short = kiosk_staff(data_dir, "add", "赵敏", "--pin-stdin", stdin="12\n")
    assert short.returncode == 1 and "4-8 digits" in short.stderr
    listed = kiosk_staff(data_dir, "list")
    assert listed.returncode == 0
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["李娟", "王强"]
    store = Store(data_dir)
    try:
        assert StaffAccounts(store).verify("李娟", "864213").ok
    finally:
        store.close()
    assert kiosk_staff(data_dir, "remove", "王强").returncode == 0
    assert kiosk_staff(data_dir, "remove", "王强").returncode == 1
    assert kiosk_staff(data_dir, "list").stdout.split("\t")[0] == "李娟"
