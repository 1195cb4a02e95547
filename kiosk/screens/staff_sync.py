"""同步: what has not reached the district yet, and 立即同步 with a progress bar.

Shows the last pass and its result, the outbox counts (pending / failed /
conflict) with the reason for each failed or conflicting record, whether the
server answers and accepts the token, the speech output's state (the
speaker's own status) and the voice model and server rows of ``kiosk --check``
(run off the UI thread: they may take seconds). 立即同步 runs
``DistrictLink.sync_now``; its ``pass_progress`` moves the bar.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Final

from kiosk.checks import CheckContext, CheckResult, check_server
from kiosk.qt import QtWidgets
from kiosk.screens.base import ScreenContext, margins
from kiosk.screens.staff import (
    STAFF_GAP_MM,
    STAFF_MARGIN_MM,
    STAFF_TITLE_MM,
    StaffScreen,
    staff_button,
    staff_label,
)
from kiosk.screens.staff_queue import kind_text, when_text
from kiosk.staff.accounts import StaffAccounts
from kiosk.staff.jobs import BackgroundJob
from kiosk.store import Store
from kiosk.texts import t

log = logging.getLogger(__name__)

FAILED_ROWS: Final = 4


def run_status_checks(ctx: CheckContext) -> list[CheckResult]:
    """The ``--check`` rows the sync panel shows (server, voice model); may block seconds."""
    from kiosk.voice.model import check_voice  # noqa: PLC0415 (heavy: vosk)

    return [check_server(ctx), check_voice(ctx)]


def pass_text(result: object) -> str:
    """A PassResult (or the exception of a pass that did not run) in words."""
    from sync.client import PassResult  # noqa: PLC0415

    if isinstance(result, PassResult):
        if result.all_sent:
            return t("staff.pass_ok", acked=result.upload.acked)
        if result.problem is not None and result.left == 0:
            return t("staff.pass_error", problem=result.problem)
        return t("staff.pass_left", left=result.left, problem=result.problem or "")
    if isinstance(result, Exception):
        return t("staff.pass_error", problem=str(result) or type(result).__name__)
    return ""


class StaffSyncScreen(StaffScreen):
    """The sync panel (see the module docstring)."""

    name = "staff_sync"
    title_key = "staff.sync_title"

    def __init__(self, ctx: ScreenContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        m = self.metrics
        self._checks: BackgroundJob | None = None
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(margins(m, STAFF_MARGIN_MM))
        col.setSpacing(m.mm(3))
        self.last = staff_label(self, m, "", name="staff_sync_last", size_mm=STAFF_TITLE_MM)
        self.counts = staff_label(self, m, "", name="staff_sync_counts", size_mm=STAFF_TITLE_MM)
        col.addWidget(self.last)
        col.addWidget(self.counts)
        self.failed = [
            staff_label(self, m, "", name=f"staff_sync_failed_{i}") for i in range(FAILED_ROWS)
        ]
        for lab in self.failed:
            col.addWidget(lab)
        run = QtWidgets.QHBoxLayout()
        run.setSpacing(m.mm(STAFF_GAP_MM))
        self.sync_button = staff_button(self, m, t("staff.sync_now"), name="staff_sync_now")
        self.progress = QtWidgets.QProgressBar(self)
        self.progress.setObjectName("staff_sync_progress")
        self.progress.setAccessibleName(t("staff.sync_now"))
        self.progress.setTextVisible(False)
        self.progress.setMinimumHeight(m.mm(8))
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_text = staff_label(self, m, "", name="staff_sync_progress_text", wrap=False)
        run.addWidget(self.sync_button)
        run.addWidget(self.progress, 1)
        run.addWidget(self.progress_text)
        col.addSpacing(m.mm(3))
        col.addLayout(run)
        col.addSpacing(m.mm(3))
        self.server = staff_label(self, m, "", name="staff_sync_server")
        self.speech = staff_label(self, m, "", name="staff_sync_speech")
        self.voice = staff_label(self, m, "", name="staff_sync_voice")
        self.store_problem = staff_label(self, m, "", name="staff_sync_store")
        for lab in (self.server, self.speech, self.voice, self.store_problem):
            col.addWidget(lab)
        col.addStretch(1)
        self.sync_button.clicked.connect(self.sync_now)

    # -- services ---------------------------------------------------------------------------

    def _district(self) -> Any:
        return self.ctx.services.get("district")

    def _check_context(self) -> CheckContext | None:
        data_dir = self.ctx.services.get("data_dir")
        if not isinstance(data_dir, Path):
            return None
        return CheckContext(config=self.ctx.config, data_dir=data_dir)

    # -- showing ----------------------------------------------------------------------------

    def refresh(self) -> None:
        store: Store = self.ctx.store
        counts = store.outbox_counts()
        self.counts.setText(
            t(
                "staff.counts",
                pending=counts["pending"] + counts["inflight"],
                failed=counts["failed"],
                conflict=counts["conflict"],
            )
        )
        parked = store.failed_with_reasons(limit=FAILED_ROWS)
        for i, lab in enumerate(self.failed):
            rec = parked[i] if i < len(parked) else None
            lab.setVisible(rec is not None)
            if rec is not None:
                reason = rec.last_error or rec.state
                lab.setText(
                    t(
                        "staff.failed_line",
                        kind=kind_text(rec.kind),
                        when=when_text(rec.created_at),
                        reason=reason,
                    )
                )
        district = self._district()
        if district is None or (district.problem and not district.configured):
            self.last.setText(t("staff.sync_off"))
            problem = getattr(district, "problem", None)
            self.server.setText(t("staff.token_problem", problem=problem) if problem else "")
            self.sync_button.setEnabled(district is not None and district.configured)
        else:
            self.sync_button.setEnabled(True)
            result = district.last_result
            self.last.setText(
                t("staff.last_pass", result=pass_text(result))
                if result is not None
                else t("staff.last_pass_none")
            )
        problems = list(getattr(store, "problems", [])) + [
            p.get("message", "") for p in Store.stored_problems(store.data_dir)[-1:]
        ]
        first = next((p for p in problems if p), "")
        self.store_problem.setText(t("staff.store_problem", message=first) if first else "")
        self.store_problem.setVisible(bool(first))
        self._show_speech()

    def _show_speech(self) -> None:
        speaker = self.ctx.services.get("speaker")
        if speaker is None:
            self.speech.setText("")
            return
        status = speaker.status()
        state = (
            t("staff.speech_ok")
            if status.ok
            else t("staff.speech_problem", detail="; ".join(t(p) for p in status.problems) or "-")
        )
        self.speech.setText(t("staff.speech_line", state=state))

    def start_checks(self) -> None:
        """Run the server and voice rows of ``--check`` off the UI thread."""
        ctx = self._check_context()
        if not self.staff_name() or ctx is None:
            return  # only for a logged-in staff member (not for screenshots)
        if self._checks is not None and self._checks.running():
            return
        self.voice.setText(t("staff.checks_running"))
        job = BackgroundJob(lambda: run_status_checks(ctx), name="staff-checks", parent=self)
        job.done.connect(self.show_checks)
        self._checks = job.start()

    def show_checks(self, results: object) -> None:
        if isinstance(results, Exception) or not isinstance(results, list):
            self.voice.setText(t("staff.pass_error", problem=str(results)))
            return
        lines = {
            r.name: t("staff.check_line", name=r.name, status=r.status, detail=r.detail)
            for r in results
            if isinstance(r, CheckResult)
        }
        server = lines.pop("server", "")
        if server:
            self.server.setText(server)
        self.voice.setText("\n".join(lines.values()))

    def wait_for_checks(self, timeout: float = 30.0) -> None:
        if self._checks is not None:
            self._checks.join(timeout)

    # -- 立即同步 -----------------------------------------------------------------------------

    def sync_now(self) -> None:
        district = self._district()
        if district is None or not district.configured:
            self.progress_text.setText(t("staff.sync_off"))
            return
        if not district.sync_now():
            self.progress_text.setText(t("staff.sync_busy"))
            return
        accounts = self.ctx.services.get("staff_accounts")
        if isinstance(accounts, StaffAccounts) and self.staff_name():
            accounts.log(self.staff_name(), "sync_now")
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress_text.setText(t("staff.sync_started"))

    def on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(done, max(1, total)))
        self.progress_text.setText(t("staff.sync_running", done=done, total=total))

    def on_pass_finished(self, result: object) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress_text.setText(pass_text(result))
        if self.isVisible():
            self.refresh()

    # -- Screen -----------------------------------------------------------------------------

    def on_enter(self) -> None:
        self.refresh()
        self.start_checks()

    def reset(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_text.setText("")

    def demo(self) -> None:
        self.last.setText(t("staff.last_pass", result=t("staff.pass_ok", acked=128)))
        self.counts.setText(t("staff.counts", pending=12, failed=1, conflict=1))
        lines = [
            t(
                "staff.failed_line",
                kind=kind_text("signup"),
                when="03-01 09:30",
                reason="rejected: activity cancelled",
            ),
            t(
                "staff.failed_line",
                kind=kind_text("proxy"),
                when="03-01 10:05",
                reason="conflict: same id, different content",
            ),
        ]
        for i, lab in enumerate(self.failed):
            lab.setVisible(i < len(lines))
            lab.setText(lines[i] if i < len(lines) else "")
        self.progress.setRange(0, 40)
        self.progress.setValue(25)
        self.progress_text.setText(t("staff.sync_running", done=25, total=40))
        self.server.setText(
            t("staff.check_line", name="server", status="OK", detail="api 1, token accepted")
        )
        self.speech.setText(t("staff.speech_line", state=t("staff.speech_ok")))
        self.voice.setText(
            t("staff.check_line", name="voice", status="MISSING", detail="no vosk model")
        )
        self.store_problem.setVisible(False)
