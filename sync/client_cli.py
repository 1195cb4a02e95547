"""``kiosk-sync``: one sync pass for cron/systemd, with progress.

    kiosk-sync [--config FILE] [--data-dir DIR] [--retries N]
    kiosk-sync [--data-dir DIR] --save-token < token.txt   # provisioning (mode 0600)

Exit codes: 0 everything sent, 1 something left for later (offline, server
busy, another pass running), 2 configuration problem (no server URL, no or
refused token, bad settings).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final, TextIO

from kiosk import config as kiosk_config
from kiosk.paths import default_data_dir, ensure_private_dir
from kiosk.store import StoreError
from sync.client import (
    PassResult,
    PassRunningError,
    SyncConfigError,
    run_sync_pass,
    token_path,
    write_token,
)

BAR_WIDTH: Final = 30


class ProgressBar:
    """A one-line progress bar on a terminal; a line per tenth otherwise (logs)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        if total <= 0:
            return
        filled = BAR_WIDTH * done // total
        line = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total} records sent"
        if self.tty:
            self.out.write("\r" + line)
            if done >= total:
                self.out.write("\n")
        else:
            tenth = 10 * done // total
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.out.write(line + "\n")
        self.out.flush()


def _summary(result: PassResult) -> str:
    up = result.upload
    parts = [f"sent {up.acked}", f"left {result.left}"]
    if up.rejected or up.conflicts or result.parked:
        parts.append(f"need staff attention {result.parked} (failed or conflict)")
    if result.activities_changed:
        parts.append("activities updated")
    if result.updates:
        parts.append(f"{result.updates} status updates")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kiosk-sync", description="One sync pass with the district"
    )
    parser.add_argument("--config", type=Path, help="kiosk settings (TOML)")
    parser.add_argument("--data-dir", type=Path, help="kiosk data dir (default: KIOSK_DATA_DIR)")
    parser.add_argument(
        "--save-token", action="store_true", help="read a token on stdin and save it (0600)"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=5,
        help="retries with backoff after a network/server error before leaving the rest for later",
    )
    args = parser.parse_args(argv)
    data_dir = ensure_private_dir(args.data_dir or default_data_dir())
    try:
        overrides = data_dir / "overrides.toml"
        cfg = kiosk_config.load(args.config, overrides_file=overrides)
        if args.save_token:
            path = token_path(cfg, data_dir)
            write_token(path, sys.stdin.read())
            print(f"kiosk-sync: token saved to {path} (mode 0600)", file=sys.stderr)
            return 0
        result = run_sync_pass(
            cfg, data_dir, progress=ProgressBar(sys.stderr), max_retries=max(0, args.retries)
        )
    except (kiosk_config.ConfigError, SyncConfigError) as exc:
        print(f"kiosk-sync: configuration problem: {exc}", file=sys.stderr)
        return 2
    except PassRunningError as exc:
        print(f"kiosk-sync: {exc}; nothing done", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"kiosk-sync: local store problem: {exc}", file=sys.stderr)
        return 1
    print(f"kiosk-sync: {_summary(result)}", file=sys.stderr)
    if result.problem:
        kind = "token problem" if result.token_problem else "stopped"
        print(f"kiosk-sync: {kind}: {result.problem}", file=sys.stderr)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
