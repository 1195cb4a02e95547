"""Security of the wire (staff PINs are tested with the staff accounts): tokens, TLS,
body limits, one kiosk against another, and logs without personal data.

Real parts: the district server as a child process on 127.0.0.1 (also over HTTPS
with a certificate made here by ``openssl``), raw sockets for oversized bodies,
``kiosk-sync`` as a subprocess with DEBUG logging.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.engine import Engine

from kiosk import config
from kiosk.crash import log_path, setup_logging
from kiosk.store import Store
from sync.client import (
    Backoff,
    SyncClient,
    TokenError,
    read_token,
    run_sync_pass,
    write_token,
)
from sync.protocol import API_HEADER, PREFIX
from sync.server import db
from sync.testing import ServerProcess, free_port, wait_until

PHONE = "13987654321"
NAME = "王秀英"
SECRET_VALUES = ('"value": 187', '"value":187', "187/93")
HEALTH = {
    "type": "blood_pressure",
    "values": {"systolic": {"value": 187, "unit": "mmHg"}, "diastolic": {"value": 93}},
    "alert": True,
    "phone": PHONE,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    work = tmp_path_factory.mktemp("district")
    srv = ServerProcess(
        f"sqlite:///{work / 'district.db'}", work, extra=("--max-body", str(64 * 1024))
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def engine(server: ServerProcess) -> Iterator[Engine]:
    eng = db.open_engine(server.db_url)
    yield eng
    eng.dispose()


def _cfg(tmp_path: Path, kiosk_id: str, url: str, ca_file: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[kiosk]\nid = "{kiosk_id}"\n[server]\nurl = "{url}"\nca_file = "{ca_file}"\n'
        "timeout_seconds = 5.0\n",
        encoding="utf-8",
    )
    return path


# -- tokens ----------------------------------------------------------------------------


def test_token_file_0600_and_never_in_logs_or_errors(
    server: ServerProcess, engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kiosk_id = f"sec-{uuid.uuid4().hex[:6]}"
    token = db.add_kiosk(engine, kiosk_id)
    wrong = "wrong-" + token[::-1]
    data_dir = tmp_path / "kiosk"
    store = Store(data_dir)
    store.add("health", HEALTH)
    store.add("proxy", {"service": "社保认证", "resident_name": NAME, "phone": PHONE})
    store.close()
    token_file = data_dir / "token"
    write_token(token_file, wrong)
    assert token_file.stat().st_mode & 0o777 == 0o600
    token_file.chmod(0o644)
    assert read_token(token_file) == wrong
    assert token_file.stat().st_mode & 0o777 == 0o600  # tightened on read
    cfg = config.load(_cfg(tmp_path, kiosk_id, server.url), environ={})

    texts: list[str] = []
    caplog.set_level(logging.DEBUG)
    handler = setup_logging(data_dir)
    handler.setLevel(logging.DEBUG)
    try:
        bad = run_sync_pass(cfg, data_dir, sleep=lambda _s: None)
        assert bad.token_problem and bad.problem
        texts.append(bad.problem)
        probe = SyncClient(
            Store(data_dir, check=False), base_url=server.url, kiosk_id=kiosk_id, token=wrong
        )
        probe.ping()
        with pytest.raises(TokenError) as exc:
            probe.upload(retry=False)
        texts += [str(exc.value), repr(exc.value)]
        write_token(token_file, token)
        good = run_sync_pass(cfg, data_dir, sleep=lambda _s: None)
        assert good.all_sent
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "always"}
    for tok in (wrong, token):
        write_token(token_file, tok)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sync.client_cli",
                "--config",
                str(tmp_path / "kiosk.toml"),
                "--data-dir",
                str(data_dir),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        texts += [done.stdout, done.stderr]
    texts.append(caplog.text)
    logs = log_path(data_dir).parent
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in logs.glob("*.log*")]
    texts.append(server.log_path.read_text(errors="replace"))
    everything = "\n".join(texts)
    assert "urllib3" in caplog.text  # DEBUG logging really was on
    for secret in (token, wrong):
        assert secret not in everything
        assert secret[:16] not in everything
    assert PHONE not in everything and NAME not in everything
    for value in SECRET_VALUES:
        assert value not in everything
    print(f"\nFIGURE token-in-logs: {len(everything)} characters of logs/stderr/errors, 0 tokens")


# -- TLS -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Engine]]:
    work = tmp_path_factory.mktemp("tls")
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    url_db = f"sqlite:///{work / 'district.db'}"
    port = free_port()
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync.server",
            "--db",
            url_db,
            "serve",
            "--port",
            str(port),
            "--ssl-certfile",
            str(cert),
            "--ssl-keyfile",
            str(key),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"https://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, (work / "server.log").read_text()
        try:
            return requests.get(f"{url}{PREFIX}/ping", verify=str(cert), timeout=1).ok
        except requests.ConnectionError:
            return False

    wait_until(up, 30, "TLS district server")
    engine = db.open_engine(url_db)
    yield url, cert, engine
    engine.dispose()
    proc.terminate()
    proc.wait(10)
    log.close()


def test_tls_self_signed_refused_unless_ca_configured(
    tls_server: tuple[str, Path, Engine], tmp_path: Path
) -> None:
    url, cert, engine = tls_server
    kiosk_id = "tls-1"
    data_dir = tmp_path / "kiosk"
    store = Store(data_dir)
    record = store.add("call", {"reason": "help"})
    store.close()
    write_token(data_dir / "token", db.add_kiosk(engine, kiosk_id))

    refused = run_sync_pass(
        config.load(_cfg(tmp_path, kiosk_id, url), environ={}), data_dir, sleep=lambda _s: None
    )
    assert refused.offline and "TLS" in (refused.problem or "")
    store = Store(data_dir, check=False)
    assert store.get(record) is not None and store.unsent() == 1
    store.close()

    trusted = run_sync_pass(
        config.load(_cfg(tmp_path, kiosk_id, url, str(cert)), environ={}),
        data_dir,
        sleep=lambda _s: None,
    )
    assert trusted.all_sent, trusted.problem


# -- body limits -----------------------------------------------------------------------


def _raw(port: int, head: bytes, body_chunks: Iterator[bytes] | None = None) -> tuple[bytes, int]:
    """Send a request on a raw socket; returns (reply, body bytes sent before the reply)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        reply = b""
        deadline = time.monotonic() + 20
        for chunk in body_chunks or iter(()):
            with contextlib.suppress(BlockingIOError):
                reply += sock.recv(65536)
            if reply:
                break
            try:
                sock.sendall(chunk)
                sent += len(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            assert time.monotonic() < deadline
        sock.setblocking(True)
        sock.settimeout(10)
        try:
            while b"\r\n\r\n" not in reply:
                data = sock.recv(65536)
                if not data:
                    break
                reply += data
        except (ConnectionResetError, TimeoutError):
            pass
    return reply, sent


def _head(server: ServerProcess, token: str, extra: str) -> bytes:
    return (
        f"POST {PREFIX}/records HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n{extra}\r\n"
    ).encode()


def test_oversized_bodies_refused_without_reading_them(
    server: ServerProcess, engine: Engine
) -> None:
    token = db.add_kiosk(engine, "big-1")
    limit = 64 * 1024
    # Content-Length above the limit: 413 at once, not a byte of the body read.
    reply, _ = _raw(server.port, _head(server, token, f"Content-Length: {50 * 1024 * 1024}\r\n"))
    assert reply.startswith(b"HTTP/1.1 413"), reply[:80]
    assert f"{API_HEADER.lower()}: 1".encode() in reply.lower()

    # A chunked body that never ends: cut off soon after the limit.
    def chunks() -> Iterator[bytes]:
        piece = b"x" * 8192
        for _ in range(10_000):  # 80 MB if nobody stopped it
            yield b"%x\r\n%s\r\n" % (len(piece), piece)

    reply, sent = _raw(
        server.port, _head(server, token, "Transfer-Encoding: chunked\r\n"), chunks()
    )
    assert reply.startswith(b"HTTP/1.1 413"), reply[:80]
    # Refused long before the end (80 MB offered); what was sent beyond the limit sat in
    # the loopback socket buffers (several MB), the server read only ~the limit.
    assert sent < 8 * 1024 * 1024, sent
    # Every endpoint, not only uploads.
    big = {"ids": [str(uuid.uuid4()) for _ in range(3000)]}
    r = requests.post(
        f"{server.url}{PREFIX}/records/known",
        json=big,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 413
    assert requests.get(f"{server.url}{PREFIX}/ping", timeout=5).ok  # still serving
    print(
        f"\nFIGURE body-limit: limit {limit} B; 50 MB Content-Length -> 413 unread; "
        f"endless chunked body -> 413 after {sent} B sent"
    )


# -- one kiosk against another ---------------------------------------------------------


def test_one_kiosk_cannot_read_or_write_anothers_records(
    server: ServerProcess, engine: Engine, tmp_path: Path
) -> None:
    a_token, b_token = db.add_kiosk(engine, "iso-a"), db.add_kiosk(engine, "iso-b")
    store_a = Store(tmp_path / "a")
    rid = store_a.add("proxy", {"service": "缴费", "phone": PHONE})
    a = SyncClient(
        store_a,
        base_url=server.url,
        kiosk_id="iso-a",
        token=a_token,
        backoff=Backoff(base=0.01, cap=0.02),
        sleep=lambda _s: None,
    )
    assert a.run_pass().all_sent
    owner = db.set_status(engine, rid, "done", "办好了")

    def b_call(method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(
            method,
            f"{server.url}{PREFIX}{path}",
            json=body,
            headers={"Authorization": f"Bearer {b_token}"},
            timeout=10,
        )

    assert owner == "iso-a"
    assert b_call("GET", f"/records/{rid}").status_code == 404
    assert b_call("POST", "/records/known", {"ids": [rid]}).json() == {"known": []}
    assert all(u["record_id"] != rid for u in b_call("GET", "/updates").json()["updates"])
    # Writing as kiosk A with B's token: 403, nothing stored.
    record = {
        "id": rid,
        "kind": "proxy",
        "created_at": "2025-01-01T10:00:00+08:00",
        "payload": {"service": "改掉"},
    }
    envelope = {"kiosk_id": "iso-a", "sent_at": "2025-01-01T10:00:00+08:00", "records": [record]}
    assert b_call("POST", "/records", envelope).status_code == 403
    # B reusing A's record id under its own kiosk: a separate record, A's untouched.
    envelope["kiosk_id"] = "iso-b"
    assert b_call("POST", "/records", envelope).json()["results"][0]["status"] == "created"
    info = requests.get(
        f"{server.url}{PREFIX}/records/{rid}",
        headers={"Authorization": f"Bearer {a_token}"},
        timeout=10,
    ).json()
    assert info["kind"] == "proxy" and info["status"] == "done"
    rows = [
        r for r in db.export_rows(engine, db.utc_now().replace(year=2000)) if r["record_id"] == rid
    ]
    assert {r["kiosk_id"]: r["payload"]["service"] for r in rows} == {
        "iso-a": "缴费",
        "iso-b": "改掉",
    }
    a.close()
    store_a.close()


def test_no_personal_data_in_logs_at_debug(
    server: ServerProcess, engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = db.add_kiosk(engine, "pii-1")
    data_dir = tmp_path / "kiosk"
    handler = setup_logging(data_dir)
    handler.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        store = Store(data_dir)
        store.add("health", HEALTH)
        store.add("signup", {"activity_id": "a1", "phone": PHONE, "name": NAME})
        store.add("call", {"reason": "help", "phone": PHONE, "resident_name": NAME})
        bad = store.add("health", {"values": {"systolic": {"value": 999}}, "phone": PHONE})
        client = SyncClient(store, base_url=server.url, kiosk_id="pii-1", token=token)
        result = client.run_pass()
        assert result.upload.rejected == 1  # the rejection reason stays in the store for staff
        rec = store.get(bad)
        assert rec is not None and rec.state == "failed"
        logging.getLogger("kiosk.test").info("resident %s phone %s", NAME[:0], PHONE)
        client.close()
        store.close()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    written = log_path(data_dir).read_text(encoding="utf-8")
    everything = "\n".join([caplog.text, written, server.log_path.read_text(errors="replace")])
    assert "phone 1**********" in written  # the mask works on what slips into a message
    assert PHONE not in written
    for secret in (NAME, *SECRET_VALUES, '"value": 999'):
        assert secret not in everything, secret
    assert PHONE not in server.log_path.read_text(errors="replace")
    assert json.dumps(PHONE) not in written
