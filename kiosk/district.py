"""The kiosk's link to the district server, as Qt signals for the UI thread.

Owns the background parts of sync (no widgets; each part has its own thread
and Store connection): the urgent sender (a call or a health alert goes out the
moment it is saved), the nightly scheduler, an updates poller that asks for
status changes while something is waiting for one (an open call), and
``sync_now`` for the staff screen. When no server is configured the kiosk
works fully offline and ``problem`` says why nothing is sent.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.qt import QtCore, Signal
from kiosk.store import Store, StoreError
from sync.client import PassResult, SyncClient, SyncConfigError, SyncError, run_sync_pass
from sync.recovery import RecoveryReport, recover_moved_aside
from sync.urgent import Delivery, NightlyScheduler, UrgentSender

log = logging.getLogger(__name__)

POLL_SECONDS = 20.0


class DistrictLink(QtCore.QObject):
    """Background sync for the app.

    Signals (queued onto the UI thread):
        delivery_changed(str, str): an urgent record's id and phase
            (queued / sending / retrying / sent / failed / conflict).
        updates_arrived(int): status updates were pulled into the store.
        pass_progress(int, int): records done, records to do, during sync_now.
        pass_finished(object): a PassResult, or an exception, after a pass.
    """

    delivery_changed = Signal(str, str)
    updates_arrived = Signal(int)
    pass_progress = Signal(int, int)
    pass_finished = Signal(object)

    def __init__(
        self,
        config: Config,
        data_dir: Path,
        *,
        poll_seconds: float = POLL_SECONDS,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.data_dir = Path(data_dir)
        self.poll_seconds = poll_seconds
        self.problem: str | None = None
        self.urgent: UrgentSender | None = None
        self.nightly: NightlyScheduler | None = None
        self.last_result: PassResult | None = None
        self._poll_wanted = threading.Event()
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None
        self._pass: threading.Thread | None = None
        self._recovery: threading.Thread | None = None
        self.recovered: list[tuple[Path, RecoveryReport]] = []

    @property
    def configured(self) -> bool:
        return self.urgent is not None

    def start(self) -> None:
        """Start the sender, the scheduler and the poller; offline kiosks just note why.

        Records still readable in a damaged store file that was moved aside are put back
        in the outbox (asking the district which it already holds) in the background.
        """
        self._recovery = threading.Thread(target=self._recover_job, name="recovery", daemon=True)
        self._recovery.start()
        try:
            self.urgent = UrgentSender.from_config(
                self.config, self.data_dir, on_change=self._on_delivery
            )
        except SyncConfigError as exc:
            self.problem = str(exc)
            log.info("district sync is off: %s", exc)
            return
        self.urgent.start()
        self.nightly = NightlyScheduler.from_config(self.config, job=self._nightly_job)
        self.nightly.start()
        self._poller = threading.Thread(target=self._poll_loop, name="updates-poller", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        self._stopping.set()
        self._poll_wanted.set()
        if self.urgent is not None:
            self.urgent.stop()
        if self.nightly is not None:
            self.nightly.stop()
        for thread in (self._poller, self._pass, self._recovery):
            if thread is not None:
                thread.join(5.0)

    # -- the app's API ------------------------------------------------------------

    def notify_new(self, record_id: str) -> None:
        """An urgent record was just saved: send it now."""
        if self.urgent is not None:
            self.urgent.notify_new(record_id)

    def want_updates(self, wanted: bool) -> None:
        """Poll the district for status changes while something waits for one."""
        if wanted:
            self._poll_wanted.set()
        else:
            self._poll_wanted.clear()

    def sync_now(self) -> bool:
        """Run one full pass in the background (staff's 立即同步); False if one is running."""
        if self._pass is not None and self._pass.is_alive():
            return False
        self._pass = threading.Thread(target=self._pass_job, name="sync-now", daemon=True)
        self._pass.start()
        return True

    # -- threads --------------------------------------------------------------------

    def _on_delivery(self, delivery: Delivery) -> None:
        self.delivery_changed.emit(delivery.record_id, delivery.phase)

    def _run_pass(self) -> Any:
        try:
            result = run_sync_pass(
                self.config,
                self.data_dir,
                progress=self.pass_progress.emit,
            )
        except SyncError as exc:
            log.warning("sync pass did not run: %s", exc)
            return exc
        self.last_result = result
        if result.updates:
            self.updates_arrived.emit(result.updates)
        return result

    def _pass_job(self) -> None:
        self.pass_finished.emit(self._run_pass())

    def _nightly_job(self) -> object:
        result = self._run_pass()
        self.pass_finished.emit(result)
        return result

    def _recover_job(self) -> None:
        if not any(p.get("moved_to") for p in Store.stored_problems(self.data_dir)):
            return
        store = Store(self.data_dir, check=False)
        client: SyncClient | None = None
        try:
            try:
                client = SyncClient.from_config(self.config, store, self.data_dir, max_retries=0)
            except SyncConfigError:
                client = None  # offline kiosk: re-queue what the damaged file shows as unsent
            self.recovered = recover_moved_aside(self.data_dir, store, client)
            for path, report in self.recovered:
                log.warning(
                    "recovered %s: %d readable, %d unreadable, %d re-queued, %d at the district",
                    path.name,
                    report.readable,
                    report.unreadable,
                    report.requeued,
                    report.already_at_district,
                )
        except (SyncError, StoreError, OSError) as exc:
            log.warning("recovery of a damaged store file failed: %s", exc)
        finally:
            if client is not None:
                client.close()
            store.close()

    def _poll_loop(self) -> None:
        store: Store | None = None
        client: SyncClient | None = None
        try:
            while not self._stopping.is_set():
                self._poll_wanted.wait()
                if self._stopping.is_set():
                    break
                if client is None:
                    store = Store(self.data_dir, check=False)
                    client = SyncClient.from_config(
                        self.config, store, self.data_dir, max_retries=0
                    )
                try:
                    count = client.pull_updates()
                except SyncError as exc:
                    log.info("status updates not pulled: %s", exc)
                else:
                    if count:
                        self.updates_arrived.emit(count)
                self._stopping.wait(self.poll_seconds)
        except SyncConfigError as exc:
            log.warning("updates poller stopped: %s", exc)
        finally:
            if client is not None:
                client.close()
            if store is not None:
                store.close()
