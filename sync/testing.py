"""Real parts for sync tests and benchmarks: a server process, a throwaway PostgreSQL
cluster, a captive portal and a proxy that loses a reply. Not used by the kiosk.
"""

from __future__ import annotations

import contextlib
import http.server
import os
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
from typing import Final

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
