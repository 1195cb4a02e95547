"""``kiosk --check``: a self-test table of what the kiosk needs.

Each check returns a row: what was checked, OK / WARN / MISSING, what was
found, and how to fix it. A MISSING row of a required check makes ``--check``
exit 1. Later capabilities (audio, voice model, server) add their checks to
``CHECKS``. No widgets here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import Config
from kiosk.paths import ensure_private_dir
from kiosk.store import Store, StoreError
from kiosk.theme import font_paths


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "OK", "WARN" or "MISSING"
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def failed(self) -> bool:
        return self.required and self.status == "MISSING"


@dataclass(frozen=True)
class CheckContext:
    config: Config
    data_dir: Path


def check_fonts(ctx: CheckContext) -> CheckResult:
    bad = []
    for path in font_paths():
        try:
            with path.open("rb") as fh:
                if fh.read(4) != b"OTTO":
                    bad.append(f"{path.name} is not an OpenType font")
        except OSError as exc:
            bad.append(f"{path.name}: {exc.strerror}")
    if bad:
        return CheckResult(
            "fonts",
            "MISSING",
            "; ".join(bad),
            "reinstall the kiosk, or rebuild with scripts/build_fonts.py",
        )
    return CheckResult("fonts", "OK", ", ".join(p.name for p in font_paths()))


def check_data_dir(ctx: CheckContext) -> CheckResult:
    try:
        ensure_private_dir(ctx.data_dir)
        with tempfile.NamedTemporaryFile(dir=ctx.data_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        return CheckResult(
            "data dir",
            "MISSING",
            f"{ctx.data_dir}: {exc.strerror}",
            "give the kiosk user write access or set --data-dir / KIOSK_DATA_DIR",
        )
    mode = ctx.data_dir.stat().st_mode & 0o777
    if mode & 0o077:
        return CheckResult(
            "data dir",
            "WARN",
            f"{ctx.data_dir} is readable by others (mode {mode:o})",
            f"chmod 700 {ctx.data_dir}",
            required=False,
        )
    return CheckResult("data dir", "OK", f"{ctx.data_dir} writable, mode {mode:o}")


def check_database(ctx: CheckContext) -> CheckResult:
    try:
        store = Store(ctx.data_dir)
    except (StoreError, OSError) as exc:
        return CheckResult("database", "MISSING", str(exc), "see the log; free disk space")
    try:
        result = store.integrity()
        counts = {s: store.count(s) for s in ("pending", "failed", "conflict")}
        reserve = store.reserve_ready
    finally:
        store.close()
    earlier = Store.stored_problems(ctx.data_dir)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    if result != "ok":
        return CheckResult("database", "MISSING", f"integrity_check: {result}", "restart the kiosk")
    if not reserve:
        return CheckResult(
            "database",
            "WARN",
            f"ok ({summary}); the disk space kept for calls is used up or missing",
            "free disk space; the reserve is made again at the next start",
            required=False,
        )
    if earlier:
        last = earlier[-1]
        return CheckResult(
            "database",
            "WARN",
            f"ok ({summary}); earlier: {last['at']} {last['message']}",
            f"{len(earlier)} damaged file(s) kept beside kiosk.db for recovery; "
            "the district can be asked which records it already holds",
            required=False,
        )
    return CheckResult("database", "OK", f"integrity ok ({summary})")


def check_display(ctx: CheckContext) -> CheckResult:
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return CheckResult("display", "OK", os.environ.get("DISPLAY") or "wayland")
    return CheckResult(
        "display",
        "WARN",
        "no DISPLAY: the kiosk can only render screenshots",
        "start it in the kiosk user's graphical session",
        required=False,
    )


def check_speech(ctx: CheckContext) -> CheckResult:
    """The TTS engine, the Mandarin voice and the speaker, as the Speaker service sees them."""
    from kiosk.qt import QtCore  # noqa: PLC0415
    from kiosk.speech.speaker import Speaker  # noqa: PLC0415

    app = QtCore.QCoreApplication.instance() or QtCore.QCoreApplication([])
    speaker = Speaker(ctx.config.voice, None)
    try:
        speaker.wait_ready(10.0)
        app.processEvents()
        status = speaker.status()
    finally:
        speaker.shutdown()
    found = (
        f"engine {status.engine or '-'} {'ok' if status.engine_ok else 'missing'}, "
        f"voice {status.voice} {'ok' if status.voice_ok else 'missing'}, "
        f"speaker {status.output_device or '-'} {'ok' if status.output_ok else 'missing'}"
    )
    if status.ok:
        return CheckResult("speech", "OK", found, required=False)
    fixes = {
        "speech.no_engine": "apt-get install espeak-ng libespeak-ng1",
        "speech.no_voice": "apt-get install espeak-ng (the sit/cmn-latn-pinyin voice)",
        "speech.no_output": "connect the speaker; check voice.output_device and PulseAudio",
        "speech.engine_replaced": "see the log",
    }
    return CheckResult(
        "speech",
        "MISSING",
        found + "; the kiosk works silently",
        "; ".join(fixes.get(p, p) for p in status.problems),
        required=False,
    )


def check_server(ctx: CheckContext) -> CheckResult:
    """Whether the district server answers as the district server, with this kiosk's token."""
    if not ctx.config.server.url:
        return CheckResult(
            "server",
            "WARN",
            "no district server configured: records stay on this kiosk",
            "set server.url and save the token with kiosk-sync --save-token",
            required=False,
        )
    from sync.client import SyncClient, SyncError, TokenError  # noqa: PLC0415

    store = Store(ctx.data_dir, check=False)
    try:
        client = SyncClient.from_config(ctx.config, store, ctx.data_dir, max_retries=0)
        try:
            info = client.ping()
            # the ping needs no token: ask for updates to prove the token works
            client.pull_updates()
        finally:
            client.close()
    except TokenError as exc:
        return CheckResult("server", "MISSING", str(exc), "ask the district for a new token")
    except SyncError as exc:
        return CheckResult(
            "server",
            "WARN",
            f"{ctx.config.server.url}: {exc}",
            "check the network; records wait on the kiosk and are sent later",
            required=False,
        )
    finally:
        store.close()
    return CheckResult("server", "OK", f"{ctx.config.server.url} api {info.api}, token accepted")


def _check_voice(ctx: CheckContext) -> CheckResult:
    from kiosk.voice.model import check_voice  # noqa: PLC0415

    return check_voice(ctx)


CHECKS: list[Callable[[CheckContext], CheckResult]] = [
    check_fonts,
    check_data_dir,
    check_database,
    check_display,
    check_speech,
    _check_voice,
    check_server,
]


def run_checks(ctx: CheckContext) -> list[CheckResult]:
    return [check(ctx) for check in CHECKS]


def format_table(results: list[CheckResult]) -> str:
    rows = [("check", "status", "found", "fix")]
    rows += [(r.name, r.status, r.detail, r.fix) for r in results]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for r in rows:
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:3])) + "  " + r[3])
    return "\n".join(line.rstrip() for line in lines)
