"""Urgent sending and the nightly schedule (no Qt: plain threads with callbacks).

``UrgentSender`` sends calls and health alerts the moment they are saved, in a
background thread, retrying with full-jitter backoff for as long as the kiosk
runs. The app calls ``notify_new(record_id)`` after ``Store.add`` and reads
``state(record_id)`` (or gets ``on_change`` callbacks, from the sender's thread:
the app must hop to the UI thread, e.g. with a queued Qt signal).

``next_nightly_run`` computes when the nightly batch runs; ``NightlyScheduler``
runs a callable at those times in its own thread.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Literal

from kiosk.config import Config
from kiosk.store import Store, StoreError
from sync.client import (
    Backoff,
    OfflineError,
    ProtocolError,
    ServerBusyError,
    SyncClient,
    SyncConfigError,
    SyncError,
    TokenError,
)

log = logging.getLogger(__name__)

DeliveryPhase = Literal["queued", "sending", "retrying", "sent", "failed", "conflict", "stopped"]
FINAL_PHASES: Final = frozenset({"sent", "failed", "conflict"})
URGENT_BATCH: Final = 50
LEASED_ELSEWHERE_WAIT: Final = 1.0
MIN_RETRY_WAIT: Final = 0.1  # never hammer the server in a tight loop
MAX_URGENT_WAIT: Final = 300.0  # longest pause between two tries of an urgent record
_PHASE_OF_STATE: Final[dict[str, DeliveryPhase]] = {
    "acked": "sent",
    "failed": "failed",
    "conflict": "conflict",
}


@dataclass(frozen=True)
class Delivery:
    """Where one urgent record is: ``phase`` plus what went wrong last and when it retries."""

    record_id: str
    phase: DeliveryPhase
    attempts: int = 0
    error: str | None = None
    next_try_at: datetime | None = None


class UrgentSender:
    """Sends urgent records at once in a background thread; owner calls ``stop()`` on exit.

    ``client_factory(store)`` makes the SyncClient for the thread's own Store
    connection (``UrgentSender.from_config`` builds it from the settings).
    ``on_change(delivery)`` is called from the sender thread on every change.
    """

    def __init__(
        self,
        data_dir: Path,
        client_factory: Callable[[Store], SyncClient],
        *,
        on_change: Callable[[Delivery], None] | None = None,
        backoff: Backoff | None = None,
        now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
    ) -> None:
        self.data_dir = Path(data_dir)
        self._client_factory = client_factory
        self._on_change = on_change
        self._backoff = backoff or Backoff(base=2.0, cap=60.0)
        self._now = now
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._wanted: list[str] = []
        self._states: dict[str, Delivery] = {}
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._failures = 0

    @classmethod
    def from_config(cls, cfg: Config, data_dir: Path, **kwargs: object) -> UrgentSender:
        """A sender for the kiosk settings (SyncConfigError now if sync is not set up)."""
        data_dir = Path(data_dir)
        probe = Store(data_dir, check=False)
        try:
            SyncClient.from_config(cfg, probe, data_dir).close()
        finally:
            probe.close()

        def factory(store: Store) -> SyncClient:
            # One request, no in-request retries: this thread does its own backoff.
            return SyncClient.from_config(cfg, store, data_dir, max_retries=0)

        return cls(data_dir, factory, **kwargs)  # type: ignore[arg-type]

    # -- the app's API -------------------------------------------------------------

    def start(self) -> None:
        """Start the thread; urgent records left unsent by an earlier run are queued too."""
        if self._thread is not None:
            return
        store = Store(self.data_dir, check=False)
        try:
            leftovers = store.urgent_unsent_ids()
        finally:
            store.close()
        for record_id in leftovers:
            self.notify_new(record_id)
        self._thread = threading.Thread(target=self._run, name="urgent-sender", daemon=True)
        self._thread.start()

    def notify_new(self, record_id: str) -> None:
        """Send this record now (call it right after ``Store.add`` of a call or alert)."""
        with self._wake:
            if record_id not in self._wanted:
                self._wanted.append(record_id)
            self._set(Delivery(record_id, "queued"))
            self._wake.notify()

    def state(self, record_id: str) -> Delivery | None:
        """The delivery state of an urgent record this sender knows, else None."""
        with self._lock:
            return self._states.get(record_id)

    def pending(self) -> list[str]:
        with self._lock:
            return list(self._wanted)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (unsent records stay in the store for the next pass)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- the thread ------------------------------------------------------------------

    def _set(self, delivery: Delivery) -> None:
        # Called with the lock held.
        self._states[delivery.record_id] = delivery
        if self._on_change is not None:
            try:
                self._on_change(delivery)
            except Exception:  # a broken callback must not stop urgent sending
                log.exception("urgent sender: on_change callback failed")

    def _run(self) -> None:
        store = Store(self.data_dir, check=False)
        client: SyncClient | None = None
        try:
            while True:
                with self._wake:
                    while not self._wanted and not self._stopping:
                        self._wake.wait()
                    if self._stopping:
                        return
                    batch = list(self._wanted[:URGENT_BATCH])
                if client is None:
                    client = self._make_client(store, batch)
                    if client is None:
                        return
                delay = self._send(store, client, batch)
                if delay is not None:
                    with self._wake:
                        self._wake.wait_for(lambda: self._stopping, timeout=delay)
        finally:
            if client is not None:
                client.close()
            store.close()

    def _make_client(self, store: Store, batch: list[str]) -> SyncClient | None:
        try:
            return self._client_factory(store)
        except SyncConfigError as exc:
            with self._lock:
                for record_id in batch:
                    self._set(Delivery(record_id, "stopped", error=str(exc)))
                self._wanted.clear()
            return None

    def _send(self, store: Store, client: SyncClient, batch: list[str]) -> float | None:
        """One attempt for ``batch``; returns the delay before the next try, or None."""
        with self._lock:
            for record_id in batch:
                old = self._states.get(record_id, Delivery(record_id, "queued"))
                self._set(replace(old, phase="sending", attempts=old.attempts + 1))
        error: SyncError | StoreError | None = None
        retry_after: float | None = None
        try:
            client.ping()
            client.upload(ids=batch, retry=False)
        except (OfflineError, ServerBusyError, ProtocolError, TokenError, StoreError) as exc:
            error = exc
            if isinstance(exc, ServerBusyError):
                retry_after = exc.retry_after
        self._settle(store, batch)
        if error is None:
            self._failures = 0
            with self._lock:
                busy_elsewhere = any(r in self._wanted for r in batch)
            # Still unsettled without an error: leased by a nightly pass right now.
            return LEASED_ELSEWHERE_WAIT if busy_elsewhere else None
        self._failures += 1
        delay = self._backoff.delay(self._failures) if retry_after is None else retry_after
        # A call must not wait for hours because a broken server said so.
        delay = min(max(delay, MIN_RETRY_WAIT), MAX_URGENT_WAIT)
        with self._lock:
            at = self._now() + timedelta(seconds=delay)
            for record_id in batch:
                current = self._states.get(record_id)
                if current is not None and current.phase not in FINAL_PHASES:
                    self._set(replace(current, phase="retrying", error=str(error), next_try_at=at))
        return delay

    def _settle(self, store: Store, batch: list[str]) -> None:
        """Move records that reached a final store state out of the wanted list."""
        for record_id in batch:
            record = store.get(record_id)
            if record is None:
                phase: DeliveryPhase | None = "failed"
                last: str | None = "record not found in the store"
            else:
                phase = _PHASE_OF_STATE.get(record.state)
                last = None if phase == "sent" else record.last_error
            if phase is None:
                continue
            with self._lock:
                if record_id in self._wanted:
                    self._wanted.remove(record_id)
                old = self._states.get(record_id, Delivery(record_id, "queued"))
                self._set(replace(old, phase=phase, error=last, next_try_at=None))


# -- nightly batch ---------------------------------------------------------------------


def parse_hhmm(value: str) -> tuple[int, int]:
    hh, _, mm = value.partition(":")
    hour, minute = int(hh), int(mm)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"expected HH:MM, got {value!r}")
    return hour, minute


def next_nightly_run(
    now: datetime,
    nightly_at: str,
    jitter_minutes: int,
    rng: Callable[[], float] = random.random,
) -> datetime:
    """When the next nightly pass runs: the next ``nightly_at`` (local, in ``now``'s
    zone) strictly after ``now``, plus a random ``[0, jitter_minutes)`` minutes.

    The day is chosen by the base time, not the jittered one, so a pass that
    ran at 02:41 for a 02:30 slot is not repeated the same night.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    hour, minute = parse_hhmm(nightly_at)
    base = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if base <= now:
        base += timedelta(days=1)
    return base + timedelta(minutes=max(0, jitter_minutes) * rng())


class NightlyScheduler:
    """Runs ``job()`` at every ``next_nightly_run``, in its own thread, until ``stop()``.

    It waits in steps of at most ``step`` seconds and re-reads the clock, so a
    corrected system clock is followed. ``job`` exceptions are logged, never fatal.
    """

    def __init__(
        self,
        job: Callable[[], object],
        nightly_at: str,
        jitter_minutes: int,
        *,
        now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        rng: Callable[[], float] = random.random,
        step: float = 60.0,
    ) -> None:
        parse_hhmm(nightly_at)
        self._job = job
        self._nightly_at = nightly_at
        self._jitter = jitter_minutes
        self._now = now
        self._rng = rng
        self._step = step
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.next_run: datetime | None = None
        self.runs = 0

    @classmethod
    def from_config(cls, cfg: Config, job: Callable[[], object]) -> NightlyScheduler:
        return cls(job, cfg.sync.nightly_at, cfg.sync.jitter_minutes)

    def start(self) -> None:
        if self._thread is None:
            self.next_run = next_nightly_run(self._now(), self._nightly_at, self._jitter, self._rng)
            self._thread = threading.Thread(target=self._loop, name="nightly-sync", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            due = self.next_run
            assert due is not None
            remaining = (due - self._now()).total_seconds()
            if remaining > 0:
                self._stop.wait(min(remaining, self._step))
                continue
            try:
                self._job()
            except Exception:  # the next night must still run
                log.exception("nightly sync pass failed")
            self.runs += 1
            self.next_run = next_nightly_run(self._now(), self._nightly_at, self._jitter, self._rng)
