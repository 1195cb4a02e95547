"""The reference district server's HTTP API (FastAPI); the protocol is in sync.protocol.

No ``from __future__ import annotations`` here: FastAPI resolves the endpoint
annotations at definition time. The engine and settings live in ``app.state``.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync import protocol
from sync.protocol import API_HEADER, API_VERSION, PREFIX
from sync.server import db


@dataclass(frozen=True)
class Settings:
    """Server options. ``busy_file``: while it exists, every API call answers 503 with
    ``Retry-After`` set to the file's content (maintenance switch, also used by tests)."""

    max_body: int = 4 * 1024 * 1024
    max_batch: int = 500
    busy_file: Path | None = None


def _error(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def current_kiosk(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The kiosk of the bearer token (401 when missing, unknown or revoked)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    kiosk_id = db.kiosk_for_token(_engine(request), token.strip())
    if kiosk_id is None:
        raise HTTPException(401, "unknown or revoked token", {"WWW-Authenticate": "Bearer"})
    return kiosk_id


KioskId = Annotated[str, Depends(current_kiosk)]
router = APIRouter(prefix=PREFIX)
_UPLOAD_SCHEMA = protocol.Upload.model_json_schema(ref_template="#/components/schemas/{model}")
_UPLOAD_DEFS = _UPLOAD_SCHEMA.pop("$defs", {})


@router.get("/ping", response_model=protocol.Ping)
def ping(request: Request) -> protocol.Ping:
    """Liveness and limits; no token needed. The reply carries ``X-District-Api: 1``."""
    max_batch = _settings(request).max_batch
    return protocol.Ping(api=API_VERSION, server_time=db.utc_now(), max_batch=max_batch)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


@router.post(
    "/records",
    response_model=protocol.UploadReply,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _UPLOAD_SCHEMA}},
        }
    },
    responses={
        401: {"description": "bad or revoked token"},
        403: {"description": "kiosk_id is not this token's kiosk"},
        413: {"description": "body or batch too large"},
        422: {"description": "malformed envelope; detail names every bad record"},
        503: {"description": "busy; retry after Retry-After"},
    },
)
async def upload(request: Request, kiosk_id: KioskId) -> Response:
    """Store records idempotently: exactly one result per record id."""
    settings = _settings(request)
    body = await _read_body(request, settings.max_body)
    if body is None:
        return _error(413, f"body larger than {settings.max_body} bytes")
    try:
        data = json.loads(body)
    except ValueError as exc:
        return _error(422, [{"index": None, "id": None, "error": f"not JSON: {exc}"}])
    head, good, bad = protocol.check_envelope(data)
    problem: JSONResponse | None = None
    if head is None or bad:
        problem = _error(422, [b.model_dump() for b in bad])
    elif head.kiosk_id != kiosk_id:
        problem = _error(403, "kiosk_id does not belong to this token")
    elif len(good) > settings.max_batch:
        problem = _error(413, f"more than {settings.max_batch} records in one batch")
    if problem is not None or head is None:
        return problem or _error(422, "no envelope")
    results = await run_in_threadpool(db.ingest, _engine(request), kiosk_id, head.sent_at, good)
    reply = protocol.UploadReply(results=results)
    return Response(reply.model_dump_json(), media_type="application/json")


@router.post(
    "/records/known",
    response_model=protocol.KnownReply,
    responses={
        401: {"description": "bad or revoked token"},
        413: {"description": "body too large"},
    },
)
def known_records(
    request: Request, query: protocol.KnownQuery, kiosk_id: KioskId
) -> protocol.KnownReply:
    """Which of these ids the district holds for this kiosk (recovery of a damaged store)."""
    ids = list(dict.fromkeys(str(i) for i in query.ids))
    held = db.known_ids(_engine(request), kiosk_id, ids)
    return protocol.KnownReply.model_validate({"known": held})


@router.get("/records/{record_id}", response_model=protocol.RecordInfo)
def get_record(request: Request, record_id: str, kiosk_id: KioskId) -> dict[str, Any]:
    """One of this kiosk's records; another kiosk's record is 404."""
    info = db.record_info(_engine(request), kiosk_id, record_id)
    if info is None:
        raise HTTPException(404, "no such record for this kiosk")
    return info


@router.get("/activities", response_model=protocol.ActivitiesReply)
def get_activities(
    request: Request, kiosk_id: KioskId, since: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    """The whole catalogue (``full``: true), or nothing when unchanged since ``since``."""
    del kiosk_id  # every kiosk sees the same catalogue, but only with a valid token
    items, version = db.catalogue(_engine(request))
    cursor = f"v{version}"
    if since == cursor:
        return {"activities": [], "cursor": cursor, "full": False}
    return {"activities": items, "cursor": cursor, "full": True}


@router.get("/updates", response_model=protocol.UpdatesReply)
def get_updates(
    request: Request, kiosk_id: KioskId, since: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    """Status changes of this kiosk's records after the cursor, oldest first."""
    try:
        start = int(since) if since else 0
        if not 0 <= start < 2**63:  # a database integer
            raise ValueError
    except ValueError:
        # The shape FastAPI documents for every 422 (HTTPValidationError).
        detail = [{"loc": ["query", "since"], "msg": "bad cursor", "type": "value_error"}]
        raise HTTPException(422, detail) from None
    updates, cursor, more = db.updates_since(_engine(request), kiosk_id, start)
    return {"updates": updates, "cursor": str(cursor), "more": more}


async def _api_header(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Every API reply says it is the district server; the busy switch answers 503."""
    busy_file = _settings(request).busy_file
    if request.url.path.startswith(PREFIX) and busy_file is not None:
        try:
            retry: str | None = busy_file.read_text(encoding="utf-8").strip() or "1"
        except FileNotFoundError:
            retry = None
        if retry is not None:
            busy = _error(503, "server busy", {"Retry-After": retry})
            busy.headers[API_HEADER] = str(API_VERSION)
            return busy
    response = await call_next(request)
    response.headers[API_HEADER] = str(API_VERSION)
    return response


class _BodyTooLargeError(Exception):
    """Raised from ``receive`` when a streamed request body passes the limit."""


class BodyLimit:
    """ASGI middleware: no request body larger than ``max_body`` is ever read whole.

    A ``Content-Length`` above the limit is answered 413 before a byte of the
    body is read; a chunked (or lying) body is counted while it streams and the
    request is cut off with 413 as soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await self._refuse(send, 413 if length.isdigit() else 400)
            return
        received = 0
        started = False
        too_large = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    too_large = True
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            # The error may arrive wrapped (an ExceptionGroup from a middleware's task
            # group), so the flag, not the exception type, says what happened.
            if not too_large:
                raise
            if not started:
                await self._refuse(send, 413)

    async def _refuse(self, send: Send, status: int) -> None:
        text = "body larger than the limit" if status == 413 else "bad Content-Length"
        body = json.dumps({"detail": f"{text} ({self.max_body} bytes)"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    (API_HEADER.lower().encode(), str(API_VERSION).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app(engine: Engine, settings: Settings | None = None) -> FastAPI:
    """The ASGI app over an engine made by ``db.open_engine``; OpenAPI at /docs."""
    app = FastAPI(
        title="Silver Counter district server",
        version=str(API_VERSION),
        description="Reference district server for 银龄服务台 kiosks (wire protocol v1).",
    )
    app.state.engine = engine
    app.state.settings = settings or Settings()
    app.middleware("http")(_api_header)
    # Added last, so it is the outermost middleware: it sees the body before anyone reads it.
    app.add_middleware(BodyLimit, max_body=app.state.settings.max_body)
    app.include_router(router)

    def _openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_UPLOAD_DEFS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = _openapi  # type: ignore[method-assign]
    return app


def parse_since(value: str) -> datetime:
    """An ISO date or time; a date or naive time is taken as local time."""
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo is not None else stamp.astimezone()
