"""The kiosk side of the wire: upload the outbox exactly once, pull activities and updates.

Rules this module keeps (see sync.protocol for the wire format):

- Before sending, a ping must answer with the ``X-District-Api`` header; a
  captive portal's 200 page (or a redirect) means "offline", not "sent".
- Records are leased from the store one page at a time (at most ``max_batch``,
  urgent first, then oldest) and never all read into memory.
- A record is acked only by an explicit per-record result in a valid 2xx reply
  that carries the API header; the results of one page are applied in one
  transaction. A record without a result goes back to pending.
- Retryable trouble (network, 5xx, 429/503) is retried with full-jitter
  exponential backoff; ``Retry-After`` (seconds, or an HTTP date compared with
  the reply's ``Date``) is honoured. 401/403 stop the pass at once and keep
  everything (a token problem, never a record failure). A record the server
  rejects is parked as ``failed`` with the reason; a conflict as ``conflict``.
  Nothing unacked is ever deleted.
- Pull cursors are saved in the same transaction as the data they describe.

The token is read from a file and never logged or put into a message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import stat
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Final, TypeVar

import requests
import urllib3
from pydantic import ValidationError

from kiosk.config import Config
from kiosk.store import ACTIVITIES_CURSOR, UPDATES_CURSOR, Record, Store, StoreError
from sync import protocol

LOCK_NAME: Final = "sync.lock"
TOKEN_NAME: Final = "token"  # noqa: S105 (a file name, not a secret)
MAX_UPDATE_PAGES: Final = 1000
# Largest reply body read from the server (a 500-record upload reply is ~50 kB).
MAX_REPLY_BYTES: Final = 16 * 1024 * 1024
# Longest Retry-After taken at its word (a day); "9" * 400 would otherwise be inf.
MAX_RETRY_AFTER: Final = 86400.0

Progress = Callable[[int, int], None]
_T = TypeVar("_T")


class SyncError(Exception):
    """A sync problem; the message is safe to show to staff (never holds the token)."""


class SyncConfigError(SyncError):
    """The kiosk is not set up for sync (no server URL, no token file, ...)."""


class TokenError(SyncError):
    """The server refused the token (401) or the kiosk id (403): staff must act."""


class OfflineError(SyncError):
    """No network, or what answered is not the district server (e.g. a captive portal)."""


class ServerBusyError(SyncError):
    """The server asked to come back later (429/503, other 5xx)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProtocolError(SyncError):
    """The server's reply did not follow the protocol; nothing was marked sent."""


class PassRunningError(SyncError):
    """Another sync pass holds the lock."""


RETRYABLE: Final = (OfflineError, ServerBusyError, ProtocolError)


@dataclass
class Backoff:
    """Full-jitter exponential backoff: a random delay in [0, min(cap, base * 2**attempt))."""

    base: float = 1.0
    cap: float = 300.0
    rng: Callable[[], float] = random.random

    def delay(self, attempt: int) -> float:
        return float(self.rng() * min(self.cap, self.base * 2.0 ** min(attempt, 30)))


def retry_after_seconds(
    value: str | None, date_header: str | None = None, now: datetime | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date).

    An HTTP date is compared with the reply's ``Date`` header (the server's
    clock), so a kiosk whose clock is wrong still waits the intended time; only
    without a ``Date`` is the local clock (``now``) used.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        target = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    reference = now or datetime.now(UTC)
    if date_header:
        with contextlib.suppress(TypeError, ValueError):
            reference = parsedate_to_datetime(date_header)
    if target.tzinfo is None:
        target = target.replace(tzinfo=UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=UTC)
    return min(max(0.0, (target - reference).total_seconds()), MAX_RETRY_AFTER)


@dataclass
class UploadSummary:
    """What one upload did: records acked, parked, and still to send."""

    acked: int = 0
    conflicts: int = 0
    rejected: int = 0
    requests: int = 0

    def add(self, counts: dict[str, int]) -> None:
        self.acked += counts.get("acked", 0)
        self.conflicts += counts.get("conflict", 0)
        self.rejected += counts.get("failed", 0)


@dataclass
class PassResult:
    """The outcome of one sync pass (``kiosk-sync`` prints it, the staff screen shows it)."""

    upload: UploadSummary = field(default_factory=UploadSummary)
    left: int = 0
    parked: int = 0
    activities_changed: bool = False
    updates: int = 0
    problem: str | None = None
    token_problem: bool = False
    offline: bool = False

    @property
    def all_sent(self) -> bool:
        return self.problem is None and self.left == 0

    @property
    def exit_code(self) -> int:
        """0 all sent, 1 something left for later, 2 configuration (incl. token) problem."""
        if self.token_problem:
            return 2
        return 0 if self.all_sent else 1


def read_token(path: Path) -> str:
    """The bearer token from ``path``; tightens a group/world-readable file to 0600."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            path.chmod(0o600)
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SyncConfigError(f"no token file {path} (district-server add-kiosk)") from None
    except OSError as exc:
        raise SyncConfigError(f"cannot read token file {path}: {exc.strerror}") from None
    if not token or any(c.isspace() for c in token):
        raise SyncConfigError(f"token file {path} is empty or malformed")
    return token


def write_token(path: Path, token: str) -> None:
    """Save a token with mode 0600 from the start (never briefly world-readable)."""
    token = token.strip()
    if not token or any(c.isspace() for c in token):
        raise SyncConfigError("the token is empty or malformed")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def token_path(cfg: Config, data_dir: Path) -> Path:
    return (
        Path(cfg.server.token_file).expanduser() if cfg.server.token_file else data_dir / TOKEN_NAME
    )


@contextlib.contextmanager
def pass_lock(data_dir: Path) -> Iterator[None]:
    """Hold ``<data dir>/sync.lock`` for one pass; PassRunningError if another pass holds it.

    flock conflicts between processes and between open files of one process, so
    the app's nightly pass and ``kiosk-sync`` from cron exclude each other.
    """
    path = Path(data_dir) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PassRunningError("another sync pass is running") from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class SyncClient:
    """Talks to the district server for one kiosk over its own Store connection.

    Not thread-safe: one client per thread (the urgent sender has its own).
    ``sleep``, ``now`` and ``backoff`` are injectable so tests run on a fake clock.
    """

    def __init__(
        self,
        store: Store,
        *,
        base_url: str,
        kiosk_id: str,
        token: str,
        ca_file: str | None = None,
        timeout: float = 10.0,
        reply_deadline: float | None = None,
        max_batch: int = 200,
        backoff: Backoff | None = None,
        max_retries: int = 5,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        session: requests.Session | None = None,
    ) -> None:
        if not base_url:
            raise SyncConfigError("no district server configured (server.url)")
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.kiosk_id = kiosk_id
        self.timeout = timeout
        # Whole request (headers and body) must be done within this; default 6x timeout.
        self.reply_deadline = reply_deadline if reply_deadline is not None else 6 * timeout
        self.max_batch = max(1, max_batch)
        self.backoff = backoff or Backoff()
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep
        self.now = now
        self.session = session or requests.Session()
        # Passed with every request: a Session's own verify loses to REQUESTS_CA_BUNDLE /
        # CURL_CA_BUNDLE in the environment, which would silently ignore server.ca_file.
        self.verify: str | bool = ca_file or True
        self.session.verify = self.verify
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["User-Agent"] = f"silver-counter-kiosk/{protocol.API_VERSION}"
        self._server_batch: int | None = None

    @classmethod
    def from_config(cls, cfg: Config, store: Store, data_dir: Path, **kwargs: Any) -> SyncClient:
        """A client from the kiosk settings; SyncConfigError when sync is not set up."""
        if not cfg.server.url:
            raise SyncConfigError("no district server configured (server.url)")
        if cfg.server.ca_file and not Path(cfg.server.ca_file).is_file():
            raise SyncConfigError(f"server.ca_file {cfg.server.ca_file} does not exist")
        return cls(
            store,
            base_url=cfg.server.url,
            kiosk_id=cfg.kiosk.id,
            token=read_token(token_path(cfg, data_dir)),
            ca_file=cfg.server.ca_file or None,
            timeout=cfg.server.timeout_seconds,
            max_batch=cfg.sync.max_batch,
            **kwargs,
        )

    def close(self) -> None:
        self.session.close()

    # -- HTTP ------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request; raises the SyncError for everything but 2xx/404/413/422.

        The reply body is read here, within ``reply_deadline`` seconds in total
        and at most ``MAX_REPLY_BYTES``: ``timeout`` alone bounds each socket read,
        so a proxy dripping a byte at a time could otherwise hold a pass forever.
        """
        url = f"{self.base_url}{protocol.PREFIX}{path}"
        started = time.monotonic()
        try:
            resp = self.session.request(
                method,
                url,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
                verify=self.verify,
                **kwargs,
            )
        except requests.exceptions.SSLError as exc:
            raise OfflineError(
                f"TLS problem with the district server: {type(exc).__name__}"
            ) from None
        except requests.RequestException as exc:
            # Connection refused/reset, timeouts, but also a garbled status line or
            # headers from a broken proxy: all mean "not reachable right now".
            raise OfflineError(f"district server not reachable ({type(exc).__name__})") from None
        try:
            self._check_reply(resp)
            self._read_body(resp, started + self.reply_deadline)
        finally:
            resp.close()
        return resp

    def _read_body(self, resp: requests.Response, deadline: float) -> None:
        """Read the whole body into ``resp`` (so ``.content``/``.json()`` work) or raise."""
        body = bytearray()
        try:
            # read1: whatever one socket read brings, so the deadline is checked between
            # drips (iter_content waits until its whole chunk size has arrived).
            while chunk := resp.raw.read1(64 * 1024, decode_content=True):
                body.extend(chunk)
                if len(body) > MAX_REPLY_BYTES:
                    raise ProtocolError("the reply of the district server is too large")
                if time.monotonic() > deadline:
                    raise OfflineError("the district server's reply is too slow (timed out)")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # Cut or truncated mid-body (IncompleteRead), read timeout, reset connection.
            raise OfflineError(f"the reply was cut off ({type(exc).__name__})") from None
        resp._content = bytes(body)  # what requests itself does when it reads a body

    def _check_reply(self, resp: requests.Response) -> None:
        """Map the status line and headers to SyncErrors (the body is not read yet)."""
        if resp.headers.get(protocol.API_HEADER) != str(protocol.API_VERSION):
            raise OfflineError(
                f"the answer (HTTP {resp.status_code}) is not from the district server "
                "(a login page of the network?)"
            )
        code = resp.status_code
        if code in (401, 403):
            raise TokenError(
                "the district server refused this kiosk's token (revoked or wrong); "
                "ask the district for a new one"
                if code == 401
                else f"the token does not belong to kiosk id {self.kiosk_id!r}"
            )
        if code in (429, 503) or code >= 500:
            wait = retry_after_seconds(
                resp.headers.get("Retry-After"), resp.headers.get("Date"), self.now()
            )
            raise ServerBusyError(f"district server busy (HTTP {code})", wait)
        if not (200 <= code < 300 or code in (404, 413, 422)):
            raise ProtocolError(f"unexpected HTTP {code} from the district server")

    def ping(self) -> protocol.Ping:
        """Check that the district server (not a portal) answers; learn its batch limit."""
        resp = self._request("GET", "/ping")
        try:
            info = protocol.Ping.model_validate_json(resp.content)
        except ValidationError:
            raise ProtocolError("the ping reply is malformed") from None
        self._server_batch = info.max_batch
        return info

    # -- upload ----------------------------------------------------------------------

    @property
    def batch_size(self) -> int:
        limit = self._server_batch or self.max_batch
        return max(1, min(self.max_batch, limit))

    def _envelope(self, page: Sequence[Record]) -> bytes:
        body = {
            "kiosk_id": self.kiosk_id,
            "sent_at": self.now().isoformat(),
            "records": [
                {"id": r.id, "kind": r.kind, "created_at": r.created_at, "payload": r.payload}
                for r in page
            ],
        }
        return protocol.canonical_json(body).encode("utf-8")

    def _post_page(self, page: Sequence[Record]) -> dict[str, tuple[str, str | None]]:
        """Send one page; return its explicit per-record results (only ids of this page)."""
        resp = self._request(
            "POST",
            "/records",
            data=self._envelope(page),
            headers={"Content-Type": "application/json"},
        )
        ids = {r.id for r in page}
        if resp.status_code == 413:
            raise _TooLargeError
        if resp.status_code == 422:
            return _named_bad_records(resp, ids)
        if resp.status_code == 404:
            raise ProtocolError("the district server has no upload endpoint")
        try:
            reply = protocol.UploadReply.model_validate_json(resp.content)
        except ValidationError:
            raise ProtocolError("the upload reply is malformed; nothing marked sent") from None
        results: dict[str, tuple[str, str | None]] = {}
        repeated: set[str] = set()
        for item in reply.results:
            rid = str(item.id)
            if rid in results:
                repeated.add(rid)
            results[rid] = (item.status, item.error)
        # Only explicit, unambiguous results for records of this page count.
        return {k: v for k, v in results.items() if k in ids and k not in repeated}

    def _send_page(self, page: Sequence[Record], summary: UploadSummary) -> int:
        """Send one leased page and apply its results; returns how many were settled."""
        ids = [r.id for r in page]
        try:
            summary.requests += 1
            results = self._post_page(page)
        except _TooLargeError:
            if len(page) == 1:
                results = {ids[0]: ("rejected", "record too large for the district server")}
            else:
                self.max_batch = max(1, len(page) // 2)
                self.store.reset_lease(ids)
                return -1
        except SyncError as exc:
            self.store.reset_lease(ids, str(exc))
            raise
        counts = self.store.mark_results(results, release=ids)
        summary.add(counts)
        settled = len(results)
        if settled == 0:
            raise ProtocolError("the server answered without a result for any record")
        return settled

    def upload(
        self,
        *,
        ids: Sequence[str] | None = None,
        progress: Progress | None = None,
        retry: bool = True,
    ) -> UploadSummary:
        """Send pending records page by page until none is left (or ``ids`` are done).

        Retryable errors are retried with backoff up to ``max_retries`` times in a
        row (``retry=False``: raised at once); then, and for token problems, the
        error is raised with every unsent record kept pending.
        """
        summary = UploadSummary()
        total = self.store.unsent() if ids is None else len(ids)
        done = 0
        failures = 0
        if progress is not None:
            progress(0, total)
        while True:
            page = self.store.lease_page(self.batch_size, ids=ids)
            if not page:
                return summary
            try:
                settled = self._send_page(page, summary)
            except RETRYABLE as exc:
                failures += 1
                if not retry or failures > self.max_retries:
                    raise
                self._wait(exc, failures)
                continue
            if settled > 0:
                failures = 0
                done += settled
                if progress is not None:
                    progress(min(done, total), total)

    def _retrying(self, step: Callable[[], _T]) -> _T:
        """Run ``step``, retrying retryable errors with backoff up to ``max_retries`` times."""
        failures = 0
        while True:
            try:
                return step()
            except RETRYABLE as exc:
                failures += 1
                if failures > self.max_retries:
                    raise
                self._wait(exc, failures)

    def _wait(self, exc: SyncError, failures: int) -> None:
        delay = self.backoff.delay(failures)
        if isinstance(exc, ServerBusyError) and exc.retry_after is not None:
            if exc.retry_after > self.max_wait:
                raise ServerBusyError(
                    f"{exc}; asked to retry after {exc.retry_after:.0f} s", exc.retry_after
                ) from None
            delay = exc.retry_after
        self.sleep(delay)

    def known_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` the district already holds for this kiosk (asked in chunks).

        Only ids that were asked count, whatever the reply says.
        """
        held: set[str] = set()
        step = protocol.MAX_KNOWN_QUERY
        for start in range(0, len(ids), step):
            chunk = [str(uuid.UUID(i)) for i in ids[start : start + step]]
            resp = self._request(
                "POST",
                "/records/known",
                data=protocol.canonical_json({"ids": chunk}).encode("utf-8"),
                headers={"Content-Type": "application/json"},
            )
            if resp.status_code != 200:
                raise ProtocolError(f"unexpected HTTP {resp.status_code} for known records")
            try:
                reply = protocol.KnownReply.model_validate_json(resp.content)
            except ValidationError:
                raise ProtocolError("the known-records reply is malformed") from None
            held |= {str(i) for i in reply.known} & set(chunk)
        return held

    # -- pulls -----------------------------------------------------------------------

    def pull_activities(self) -> bool:
        """Fetch the catalogue if it changed; swap it and save the cursor in one transaction."""
        since = self.store.sync_state(ACTIVITIES_CURSOR)
        resp = self._request("GET", "/activities", params={"since": since} if since else None)
        try:
            reply = protocol.ActivitiesReply.model_validate_json(resp.content)
        except ValidationError:
            raise ProtocolError("the activities reply is malformed") from None
        if resp.status_code != 200:
            raise ProtocolError(f"unexpected HTTP {resp.status_code} for activities")
        if not reply.full:
            return False
        items = [a.model_dump(mode="json") for a in reply.activities]
        try:
            self.store.replace_activities(items, cursor=reply.cursor)
        except ValueError as exc:
            raise ProtocolError(f"an activity from the server is invalid: {exc}") from None
        return True

    def pull_updates(self) -> int:
        """Fetch status updates page by page; each page and its cursor in one transaction."""
        total = 0
        for _ in range(MAX_UPDATE_PAGES):
            since = self.store.sync_state(UPDATES_CURSOR)
            resp = self._request("GET", "/updates", params={"since": since} if since else None)
            if resp.status_code != 200:
                raise ProtocolError(f"unexpected HTTP {resp.status_code} for updates")
            try:
                reply = protocol.UpdatesReply.model_validate_json(resp.content)
            except ValidationError:
                raise ProtocolError("the updates reply is malformed") from None
            items = [u.model_dump(mode="json") for u in reply.updates]
            if items or reply.cursor != since:
                total += self.store.apply_updates(items, reply.cursor)
            if not reply.more or not items:
                break
        return total

    # -- one pass ----------------------------------------------------------------------

    def run_pass(self, progress: Progress | None = None) -> PassResult:
        """Ping, upload everything pending, pull activities and updates."""
        result = PassResult()
        try:
            self._retrying(self.ping)
            result.upload = self.upload(progress=progress)
            result.activities_changed = self._retrying(self.pull_activities)
            result.updates = self._retrying(self.pull_updates)
        except TokenError as exc:
            result.problem, result.token_problem = str(exc), True
        except OfflineError as exc:
            result.problem, result.offline = str(exc), True
        except (ServerBusyError, ProtocolError, StoreError) as exc:
            result.problem = str(exc)
        counts = self.store.outbox_counts()
        result.left = counts["pending"] + counts["inflight"]
        result.parked = counts["failed"] + counts["conflict"]
        return result


class _TooLargeError(Exception):
    """413 from the server: the page must be split."""


def _named_bad_records(resp: requests.Response, ids: set[str]) -> dict[str, tuple[str, str | None]]:
    """Records a 422 reply names (parked as failed); the others go back to pending."""
    try:
        detail = resp.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    named: dict[str, tuple[str, str | None]] = {}
    if isinstance(detail, list):
        for item in detail:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            with contextlib.suppress(ValueError):
                rid = str(uuid.UUID(item["id"]))
                if rid in ids:
                    named[rid] = ("rejected", f"malformed: {item.get('error')}")
    if not named:
        raise ProtocolError("the server refused the batch as malformed (422)")
    return named


def run_sync_pass(
    cfg: Config,
    data_dir: Path,
    *,
    progress: Progress | None = None,
    **client_kwargs: Any,
) -> PassResult:
    """One full pass with the pass lock held and a Store connection of its own.

    This is what ``kiosk-sync`` and the app's nightly scheduler call. Raises
    SyncConfigError (sync not set up) and PassRunningError (another pass is running).
    """
    data_dir = Path(data_dir)
    with pass_lock(data_dir):
        store = Store(data_dir, check=False)
        try:
            client = SyncClient.from_config(cfg, store, data_dir, **client_kwargs)
            try:
                return client.run_pass(progress)
            finally:
                client.close()
        finally:
            store.close()
