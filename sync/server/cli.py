"""``district-server``: run the reference district server and administer it.

    district-server [--db URL] serve [--host 127.0.0.1] [--port 8700]
    district-server add-kiosk ID            # prints the new token once
    district-server revoke-kiosk ID
    district-server add-activity --title T --starts-at ISO [--ends-at ISO] [--place P] ...
    district-server set-status RECORD_ID STATUS [--note TEXT] [--kiosk ID]
    district-server export --since ISO [--format csv|json] [--out FILE]

``--db`` defaults to ``sqlite:///district.db`` (or ``DISTRICT_DB``); PostgreSQL:
``--db postgresql://user@host/dbname``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any, Final, TextIO

from sqlalchemy.exc import SQLAlchemyError

from sync.protocol import Activity
from sync.server import db

DEFAULT_DB = "sqlite:///district.db"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="district-server", description=__doc__.split("\n")[0])
    p.add_argument("--db", default=os.environ.get("DISTRICT_DB", DEFAULT_DB), help="database URL")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the HTTP API (OpenAPI at /docs)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8700)
    s.add_argument("--max-body", type=int, default=4 * 1024 * 1024, help="bytes (413 above)")
    s.add_argument("--max-batch", type=int, default=500, help="records per upload")
    s.add_argument(
        "--busy-file",
        type=Path,
        help="while this file exists, answer 503 with Retry-After = its content",
    )
    s.add_argument("--ssl-certfile")
    s.add_argument("--ssl-keyfile")

    a = sub.add_parser("add-kiosk", help="register a kiosk (or replace its token); prints token")
    a.add_argument("kiosk_id")
    r = sub.add_parser("revoke-kiosk", help="revoke a kiosk's token at once")
    r.add_argument("kiosk_id")

    act = sub.add_parser("add-activity", help="add (or replace, with --id) an activity")
    act.add_argument("--id", help="activity id (default: a new one)")
    act.add_argument("--title", required=True)
    act.add_argument(
        "--starts-at", required=True, help="ISO time with zone, e.g. 2025-06-04T14:00+08:00"
    )
    act.add_argument("--ends-at")
    act.add_argument("--place", default="")
    act.add_argument("--description", default="")
    act.add_argument("--seats", type=int)
    act.add_argument("--seats-left", type=int)
    act.add_argument("--status", choices=["open", "full", "cancelled"], default="open")

    st = sub.add_parser("set-status", help="set a record's status (sent to its kiosk)")
    st.add_argument("record_id")
    st.add_argument("status", help="e.g. acknowledged, dispatched, done, confirmed, waitlisted")
    st.add_argument("--note", default="")
    st.add_argument("--kiosk", help="the kiosk, if the record id is not unique")

    e = sub.add_parser("export", help="records received since a time, as CSV or JSON")
    e.add_argument("--since", required=True, help="ISO date or time (local if no zone)")
    e.add_argument("--format", choices=["csv", "json"], default="csv")
    e.add_argument("--out", type=Path, help="file to write (default: standard output)")
    return p


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 (only the serve command needs it)

    from sync.server.app import Settings, create_app  # noqa: PLC0415

    engine = db.open_engine(args.db)
    settings = Settings(max_body=args.max_body, max_batch=args.max_batch, busy_file=args.busy_file)
    app = create_app(engine, settings)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
    )
    return 0


def _add_activity(args: argparse.Namespace) -> int:
    item = Activity.model_validate(
        {
            "id": args.id or uuid.uuid4().hex[:12],
            "title": args.title,
            "starts_at": args.starts_at,
            "ends_at": args.ends_at,
            "place": args.place,
            "description": args.description,
            "seats": args.seats,
            "seats_left": args.seats_left if args.seats_left is not None else args.seats,
            "status": args.status,
        }
    )
    values = item.model_dump(exclude={"updated_at"})
    values["starts_at"] = item.starts_at.isoformat()
    values["ends_at"] = item.ends_at.isoformat() if item.ends_at else None
    db.put_activity(db.open_engine(args.db), values)
    print(item.id)
    return 0


def _export(args: argparse.Namespace) -> int:
    from sync.server.app import parse_since  # noqa: PLC0415

    rows = db.export_rows(db.open_engine(args.db), parse_since(args.since))
    out: TextIO
    if args.out is None:
        out = sys.stdout
        _write_export(rows, args.format, out)
    else:
        with args.out.open("w", encoding="utf-8", newline="") as out:
            _write_export(rows, args.format, out)
    return 0


def _write_export(rows: Any, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write("[\n")
        for n, row in enumerate(rows):
            out.write((",\n" if n else "") + json.dumps(row, ensure_ascii=False))
        out.write("\n]\n")
        return
    fields = [
        "kiosk_id",
        "record_id",
        "kind",
        "created_at",
        "received_at",
        "clock_offset_seconds",
        "status",
        "payload",
    ]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "payload": json.dumps(row["payload"], ensure_ascii=False)})


def _add_kiosk(args: argparse.Namespace) -> int:
    token = db.add_kiosk(db.open_engine(args.db), args.kiosk_id)
    print(token)
    print(
        f"kiosk {args.kiosk_id}: this token is shown only once; save it on the kiosk "
        "in a file readable only by the kiosk user (mode 0600).",
        file=sys.stderr,
    )
    return 0


def _revoke_kiosk(args: argparse.Namespace) -> int:
    db.revoke_kiosk(db.open_engine(args.db), args.kiosk_id)
    print(f"kiosk {args.kiosk_id}: token revoked", file=sys.stderr)
    return 0


def _set_status(args: argparse.Namespace) -> int:
    engine = db.open_engine(args.db)
    owner = db.set_status(engine, args.record_id, args.status, args.note, args.kiosk)
    print(f"{args.record_id} ({owner}): {args.status}", file=sys.stderr)
    return 0


COMMANDS: Final = {
    "serve": _serve,
    "add-kiosk": _add_kiosk,
    "revoke-kiosk": _revoke_kiosk,
    "add-activity": _add_activity,
    "set-status": _set_status,
    "export": _export,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (db.ServerDbError, ValueError) as exc:
        print(f"district-server: {exc}", file=sys.stderr)
    except SQLAlchemyError as exc:
        print(f"district-server: database error: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
