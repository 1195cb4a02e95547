"""Real parts for sync tests and benchmarks: a server process, a throwaway PostgreSQL
cluster, a captive portal and a proxy that loses a reply. Not used by the kiosk.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import requests

from sync.protocol import API_HEADER, PREFIX

PG_BIN_GLOB: Final = "/usr/lib/postgresql/*/bin"
PG_USER: Final = "nobody"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, interval: float = 0.02
) -> None:
    """Poll ``check`` until true; TimeoutError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class ServerProcess:
    """``python -m sync.server serve`` on 127.0.0.1 as a real child process."""

    def __init__(self, db_url: str, workdir: Path, *, extra: tuple[str, ...] = ()) -> None:
        self.db_url = db_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.busy_file = workdir / f"busy-{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        cmd = [
            sys.executable,
            "-m",
            "sync.server",
            "--db",
            db_url,
            "serve",
            "--port",
            str(self.port),
            "--busy-file",
            str(self.busy_file),
            *extra,
        ]
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            wait_until(self._up, 30, f"district server on port {self.port}")
        except TimeoutError:
            self.stop()
            raise RuntimeError(self.log_path.read_text(errors="replace")) from None

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(self.log_path.read_text(errors="replace"))
        try:
            r = requests.get(f"{self.url}{PREFIX}/ping", timeout=1)
        except requests.ConnectionError:
            return False
        return r.headers.get(API_HEADER) == "1"

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a ``district-server`` command on this server's database."""
        return subprocess.run(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "sync.server", "--db", self.db_url, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def pg_bin_dir() -> Path | None:
    """The PostgreSQL server binaries (Debian layout), or None when not installed."""
    found = sorted(Path("/").glob(PG_BIN_GLOB.lstrip("/")), reverse=True)
    for candidate in found:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


class PgCluster:
    """A throwaway PostgreSQL cluster in a temp dir, listening on 127.0.0.1:<port>.

    initdb refuses to run as root, so as root the cluster belongs to ``nobody``
    (run through ``runuser``). Trust authentication: loopback and test only.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
        self.data = self.dir / "data"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.dir, PG_USER)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start"
        )
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self._as_root:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stdout}\n{done.stderr}")

    def new_database(self) -> str:
        """Create an empty database; return its URL."""
        import psycopg  # noqa: PLC0415 (only PostgreSQL runs need it)

        name = f"d_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class _PortalHandler(http.server.BaseHTTPRequestHandler):
    """Answers everything with a 200 login page, like a hotel or mall Wi-Fi portal."""

    page = "<html><body>请登录 Wi-Fi / Please log in</body></html>".encode()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    do_GET = _answer  # noqa: N815 (http.server's names)
    do_POST = _answer  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        del format, args  # keep test output quiet


@contextlib.contextmanager
def captive_portal() -> Iterator[str]:
    """A tiny HTTP server on 127.0.0.1 answering 200 HTML to everything; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PortalHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class LostReplyProxy:
    """A TCP proxy in front of the server that can lose one upload reply.

    After ``arm()``, the next request whose bytes contain ``marker`` is passed
    to the server, which commits and answers, but the answer is thrown away and
    the client's connection cut: the "lost reply" case.
    """

    def __init__(self, target_port: int, marker: bytes = b"POST /api/v1/records") -> None:
        self.target_port = target_port
        self.marker = marker
        self._armed = threading.Event()
        self.cut = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def arm(self) -> None:
        self._armed.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            state = {"drop": False}
            threading.Thread(
                target=self._pump_up, args=(client, upstream, state), daemon=True
            ).start()
            threading.Thread(
                target=self._pump_down, args=(upstream, client, state), daemon=True
            ).start()

    def _pump_up(self, src: socket.socket, dst: socket.socket, state: dict[str, bool]) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if self._armed.is_set() and self.marker in data:
                    self._armed.clear()
                    state["drop"] = True
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def _pump_down(self, src: socket.socket, dst: socket.socket, state: dict[str, bool]) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if state["drop"]:
                    # The server has committed and answered; the kiosk never hears it.
                    self.cut.set()
                    break
                dst.sendall(data)
        for s in (dst, src):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self._sock.close()


class _QuietHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        del format, args

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        # send_response_only: no automatic Date, so a test's own Date header is the only one.
        self.send_response_only(status)
        if "Date" not in (headers or {}):
            self.send_header("Date", self.date_time_string())
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ProxyHandler(_QuietHandler):
    server: _ProxyServer

    def _forward(self, body: bytes | None) -> requests.Response:
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}
        }
        return requests.request(
            self.command,
            f"{self.server.upstream}{self.path}",
            data=body,
            headers=headers,
            timeout=60,
            allow_redirects=False,
        )

    def _relay(self, resp: requests.Response) -> None:
        keep = {"content-type", "retry-after", "date", API_HEADER.lower()}
        headers = {k: v for k, v in resp.headers.items() if k.lower() in keep}
        self._send(resp.status_code, resp.content, headers)

    def do_GET(self) -> None:
        self._relay(self._forward(None))

    def do_POST(self) -> None:
        body = self._body()
        mode = self.server.next_mode() if self.path == f"{PREFIX}/records" else "pass"
        if mode == "pass":
            self._relay(self._forward(body))
            return
        if mode == "lost":
            self._forward(body)  # committed by the server; the answer never reaches the kiosk
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        # partial_500 / partial_drop: the server commits only the first k records.
        envelope = json.loads(body)
        n = len(envelope["records"])
        k = self.server.rng.randint(0, max(0, n - 1))
        self.server.partial.append((k, n))
        if k:
            part = {**envelope, "records": envelope["records"][:k]}
            self._forward(json.dumps(part).encode())
        if mode == "partial_500":
            self._send(
                500,
                b'{"detail":"internal error"}',
                {API_HEADER: "1", "Content-Type": "application/json"},
            )
        else:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)


class _ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, seed: int) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = upstream
        self.modes: list[str] = []
        self.partial: list[tuple[int, int]] = []
        self.rng = random.Random(seed)  # noqa: S311 (test fault positions, not secrets)
        self.lock = threading.Lock()

    def next_mode(self) -> str:
        with self.lock:
            return self.modes.pop(0) if self.modes else "pass"


class FaultProxy:
    """An HTTP proxy in front of the real server that can break upload requests.

    ``queue(*modes)`` sets what happens to the next uploads, one mode each:
    ``partial_500`` (the server commits the first k of n records, the kiosk gets
    500), ``partial_drop`` (k of n committed, connection cut without an answer),
    ``lost`` (all committed, the answer lost) or ``pass``. ``partial`` lists
    the (k, n) of every partial commit.
    """

    def __init__(self, upstream: str, seed: int = 7) -> None:
        self._server = _ProxyServer(upstream, seed)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def queue(self, *modes: str) -> None:
        with self._server.lock:
            self._server.modes.extend(modes)

    @property
    def partial(self) -> list[tuple[int, int]]:
        return list(self._server.partial)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


Reply = Callable[[dict[str, Any]], tuple[int, dict[str, str], bytes]]


class _BrokenHandler(_QuietHandler):
    server: _BrokenServer

    def do_GET(self) -> None:
        if self.path.startswith(f"{PREFIX}/ping"):
            body = json.dumps(
                {"api": 1, "server_time": "2025-01-01T00:00:00+00:00", "max_batch": 500}
            ).encode()
            self._send(200, body, {API_HEADER: "1", "Content-Type": "application/json"})
        else:
            self._send(404, b"{}", {API_HEADER: "1"})

    def do_POST(self) -> None:
        envelope = json.loads(self._body())
        status, headers, body = self.server.reply(envelope)
        drip = self.server.drip
        if drip is None:
            self._send(status, body, headers)
            return
        # A slow drip: the promised body arrives one byte at a time.
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for i in range(len(body)):
            if self.server.stopping.wait(drip):
                return
            try:
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
            except OSError:
                return


class _BrokenServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, reply: Reply, drip: float | None) -> None:
        super().__init__(("127.0.0.1", 0), _BrokenHandler)
        self.reply = reply
        self.drip = drip
        self.stopping = threading.Event()


@contextlib.contextmanager
def broken_server(reply: Reply, drip: float | None = None) -> Iterator[str]:
    """A fake district server on 127.0.0.1: a correct ping, uploads answered by ``reply``.

    ``reply(envelope) -> (status, headers, body)``; with ``drip`` (seconds) the
    body is sent one byte per ``drip``. Yields the base URL.
    """
    server = _BrokenServer(reply, drip)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
