"""The LRS application: :func:`create_app` (xAPI 1.0.3 Part Three, IEEE 9274.1.1 §5).

Resources under ``/xAPI``: ``about`` (Part Three §2.7) and ``statements`` (§2.1): POST (one
statement or an array; answers the ids), PUT (``statementId``; answers 204), GET (one statement by
``statementId``/``voidedStatementId``, or a query answered as a StatementResult with ``more``
paging).  Every other request must carry ``X-Experience-API-Version`` (§6.2) and HTTP Basic
credentials (§4); request errors are 400 (FastAPI's 422 is replaced), conflicts 409.

The backend (:mod:`learnsight.lrs.backend`: the DuckDB store by default, or PostgreSQL) is used by
one request at a time (a lock), so a statement batch is visible to the next request, and on DuckDB to
indicators, once its POST or PUT answered.  Statement writes that arrive together are committed
together (:mod:`learnsight.lrs.writer`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from learnsight.lrs import document_routes, headers, query
from learnsight.lrs.alternate import AlternateRequestSyntax, ASGIApp, Message, Receive, Scope, Send
from learnsight.lrs.attachments import (
    Part,
    attachment_key,
    check_parts,
    declared,
    multipart_response,
    parse_statement_request,
)
from learnsight.lrs.auth import Credential, add_credential
from learnsight.lrs.backend import LRSBackend
from learnsight.lrs.connect import open_backend
from learnsight.lrs.context import CHALLENGE, LRSContext
from learnsight.lrs.signature import verify_signed
from learnsight.lrs.statements import LRSError, fetch_one, now_stored, prepare, unique_statements
from learnsight.lrs.writer import StaleCredential, StatementWriter
from learnsight.xapi.columns import canonical_json

PREFIX: Final = "/xAPI"

QUERY_PARAMS: Final = frozenset(
    {
        "agent",
        "verb",
        "activity",
        "registration",
        "since",
        "until",
        "limit",
        "ascending",
        "format",
        "related_activities",
        "related_agents",
        "attachments",
    }
)
SINGLE_PARAMS: Final = frozenset({"statementId", "voidedStatementId", "format", "attachments"})

Credentials = Mapping[str, tuple[str, Iterable[str]]]
"""Credentials to create at start-up: key -> (secret, scopes)."""


class VersionHeader:
    """ASGI middleware requiring and answering ``X-Experience-API-Version`` (Part Three §6.2) and
    adding ``X-Experience-API-Consistent-Through`` to statement GETs (§2.1.3).

    Plain ASGI rather than ``BaseHTTPMiddleware``, whose extra task and stream per request cost
    about a millisecond on every statement POST.
    """

    def __init__(self, app: ASGIApp, *, default_version: str, consistent_through: Callable[[], str]) -> None:
        self.app = app
        self.default_version = default_version
        self.consistent_through = consistent_through

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope["path"])
        version = headers.SUPPORTED[0]
        if path.startswith(PREFIX) and path.rstrip("/") != f"{PREFIX}/about":
            named = Headers(scope=scope).get(headers.VERSION_HEADER)
            try:
                version = headers.negotiate(named)
            except ValueError as exc:
                await _error(400, str(exc), self.default_version)(scope, receive, send)
                return
        scope.setdefault("state", {})["xapi_version"] = version
        consistent = scope["method"] in ("GET", "HEAD") and path.startswith(f"{PREFIX}/statements")

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent = MutableHeaders(scope=message)
                sent[headers.VERSION_HEADER] = version
                if consistent and headers.CONSISTENT_THROUGH_HEADER not in sent:
                    sent[headers.CONSISTENT_THROUGH_HEADER] = self.consistent_through()
            await send(message)

        await self.app(scope, receive, answer)


def _error(status: int, message: str, version: str = headers.SUPPORTED[0]) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={headers.VERSION_HEADER: version})


def _boolean(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise LRSError(400, f"{name}: expected true or false, got {value!r}")
    return value == "true"


def _uuid(name: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise LRSError(400, f"{name}: {value!r} is not a UUID") from None


def build_query(params: Mapping[str, str], credential: Credential, languages: list[str]) -> query.Query:
    """The :class:`~learnsight.lrs.query.Query` of a GET's parameters (Part Three §2.1.3)."""
    unknown = sorted(set(params) - QUERY_PARAMS)
    if unknown:
        raise LRSError(400, f"unknown statement query parameter(s): {', '.join(unknown)}")
    fmt = params.get("format", "exact")
    if fmt not in query.FORMATS:
        raise LRSError(400, f"format: expected one of {', '.join(query.FORMATS)}, got {fmt!r}")
    limit_text = params.get("limit", "0")
    if not limit_text.isdigit():
        raise LRSError(400, f"limit: expected a non-negative integer, got {limit_text!r}")
    return query.Query(
        agent=query.parse_agent(params["agent"]) if "agent" in params else None,
        verb=params.get("verb"),
        activity=params.get("activity"),
        registration=_uuid("registration", params["registration"]) if "registration" in params else None,
        since=query.parse_stored_bound("since", params["since"]) if "since" in params else None,
        until=query.parse_stored_bound("until", params["until"]) if "until" in params else None,
        limit=int(limit_text),
        ascending=_boolean(params, "ascending"),
        format=fmt,
        related_activities=_boolean(params, "related_activities"),
        related_agents=_boolean(params, "related_agents"),
        mine=None if credential.can_read_all else '"authority":' + canonical_json(credential.authority),
        languages=tuple(languages),
    )


def create_app(
    store: LRSBackend | Path | str,
    *,
    credentials: Credentials | None = None,
    default_version: str = headers.LATEST,
) -> FastAPI:
    """The LRS application on ``store``: a backend, a DuckDB path (created and migrated when new)
    or a ``postgresql://`` URL (:func:`~learnsight.lrs.connect.open_backend`).

    ``credentials`` (key -> (secret, scopes)) are created or replaced at start-up; others may be
    added with :func:`learnsight.lrs.auth.add_credential` (``learnsight lrs credentials add``).
    ``default_version`` is the version named in the answer to a request that named none (and is
    refused): the specifications leave it open, and clients of one family expect their own.
    """
    if default_version not in headers.SUPPORTED:
        raise ValueError(f"default_version must be one of {', '.join(headers.SUPPORTED)}")
    backend = store if isinstance(store, LRSBackend) else open_backend(store)
    for key, (secret, scopes) in (credentials or {}).items():
        add_credential(backend, key, secret, scopes)
    ctx = LRSContext(backend)
    lock = ctx.lock
    authenticate = ctx.authenticate
    writer = StatementWriter(backend, lock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        with lock:
            backend.close()

    app = FastAPI(title="learnsight LRS", lifespan=lifespan)
    app.state.lrs = ctx

    app.add_middleware(
        VersionHeader, default_version=default_version, consistent_through=writer.consistent_through
    )
    app.add_middleware(AlternateRequestSyntax, prefix=PREFIX)  # outermost: runs before the version check

    @app.exception_handler(LRSError)
    async def lrs_error(request: Request, exc: LRSError) -> Response:
        return _error(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        """xAPI answers malformed requests with 400, not FastAPI's 422 (Part Three §3.2)."""
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(400, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = _error(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.get(f"{PREFIX}/about")
    async def about() -> dict[str, Any]:
        """The About resource (Part Three §2.7): the supported versions."""
        return {"version": list(headers.SUPPORTED), "extensions": {}}

    async def receive(request: Request) -> tuple[Any, dict[str, Part]]:
        """The statement JSON and the attachment bodies of a PUT/POST (Part Three §1.5.2)."""
        return parse_statement_request(request.headers.get("Content-Type"), await request.body())

    async def write_credential(request: Request) -> tuple[Credential, bytes]:
        """The credential of a statement write and its secret hash: from the cache of verified
        credentials without waiting for the lock (the writer re-checks it), else authenticated."""
        verified = ctx.verified(request, "statements/write")
        if verified is None:
            await run_in_threadpool(authenticate, request, "statements/write")
            verified = ctx.verified(request, "statements/write")
        if verified is None:  # replaced between the two looks
            raise StarletteHTTPException(401, "invalid credentials", headers=CHALLENGE)
        return verified

    async def accept(
        items: list[Any],
        parts: dict[str, Part],
        request: Request,
        verified: tuple[Credential, bytes],
        *,
        many: bool,
        statement_id: str | None = None,
    ) -> list[str]:
        """Validate and complete statements with their attachments, then store them through the
        group-committing writer (:mod:`learnsight.lrs.writer`)."""
        version = request.state.xapi_version
        for attempt in (1, 2):
            credential, secret_hash = verified
            stored = now_stored()
            prepared = []
            for i, item in enumerate(items, start=1):
                prepared.append(
                    prepare(
                        item,
                        version=version,
                        credential=credential,
                        stored=stored,
                        index=i if many else None,
                        statement_id=statement_id,
                    )
                )
                verify_signed(item, parts)  # after validation: the item is a valid statement
            bodies = check_parts([p.statement for p in prepared], parts)
            unique = unique_statements(prepared, version=version)
            try:
                await writer.write(
                    unique,
                    source=f"lrs:{credential.key}",
                    stored=stored,
                    credential=(credential.key, secret_hash),
                    bodies=bodies,
                )
            except StaleCredential:
                if attempt == 2:
                    raise StarletteHTTPException(401, "invalid credentials", headers=CHALLENGE) from None
                await run_in_threadpool(authenticate, request, "statements/write")  # 401/403 if revoked
                verified = await write_credential(request)
                continue
            return [p.id for p in prepared]
        raise AssertionError("unreachable")

    @app.post(f"{PREFIX}/statements")
    async def post_statements(request: Request) -> Response:
        """Store one statement or an array; answer their ids (Part Three §2.1.2)."""
        verified = await write_credential(request)
        if request.query_params:
            raise LRSError(400, f"unknown parameter(s): {', '.join(sorted(request.query_params))}")
        body, parts = await receive(request)
        many = isinstance(body, list)
        items = body if many else [body]
        if many and not items:
            raise LRSError(400, "an empty array of statements")
        return JSONResponse(await accept(items, parts, request, verified, many=many))

    @app.put(f"{PREFIX}/statements")
    async def put_statement(request: Request) -> Response:
        """Store one statement under ``statementId`` (Part Three §2.1.1); 204."""
        verified = await write_credential(request)
        params = request.query_params
        if "statementId" not in params:
            raise LRSError(400, "PUT needs the statementId parameter")
        extra = sorted(set(params) - {"statementId"})
        if extra:
            raise LRSError(400, f"unknown parameter(s): {', '.join(extra)}")
        sid = _uuid("statementId", params["statementId"])
        body, parts = await receive(request)
        if isinstance(body, list):
            raise LRSError(400, "PUT takes one statement, not an array")
        await accept([body], parts, request, verified, many=False, statement_id=sid)
        return Response(status_code=204)

    def answer(
        document: Any, statements: list[dict[str, Any]], with_attachments: bool, extra: dict[str, str]
    ) -> Response:
        """A JSON answer, or multipart/mixed with the attachment bodies (Part Three §2.1.3)."""
        if not with_attachments:
            return JSONResponse(document, headers=extra)
        wanted = [str(a.get("sha2", "")).lower() for a in declared(statements)]
        with lock:
            found = {sha2: backend.get_document(attachment_key(sha2)) for sha2 in dict.fromkeys(wanted)}
        bodies = {sha2: (doc.content_type, doc.content) for sha2, doc in found.items() if doc is not None}
        content, content_type = multipart_response(document, bodies)
        return Response(content, media_type=None, headers={**extra, "Content-Type": content_type})

    @app.api_route(f"{PREFIX}/statements", methods=["GET", "HEAD"])
    async def get_statements(request: Request) -> Response:
        """One statement, or a StatementResult of a query (Part Three §2.1.3)."""
        credential = authenticate(request, "statements/read")
        params = dict(request.query_params)
        if len(request.query_params.multi_items()) != len(params):
            raise LRSError(400, "a query parameter is given more than once")
        consistent = {headers.CONSISTENT_THROUGH_HEADER: writer.consistent_through()}
        with_attachments = _boolean(params, "attachments")
        languages = query.accepted_languages(request.headers.get("Accept-Language"))
        if "statementId" in params or "voidedStatementId" in params:
            if "statementId" in params and "voidedStatementId" in params:
                raise LRSError(400, "statementId and voidedStatementId are mutually exclusive")
            extra = sorted(set(params) - SINGLE_PARAMS)
            if extra:
                raise LRSError(400, f"parameter(s) not allowed with a statement id: {', '.join(extra)}")
            fmt = params.get("format", "exact")
            if fmt not in query.FORMATS:
                raise LRSError(400, f"format: expected one of {', '.join(query.FORMATS)}, got {fmt!r}")
            voided = "voidedStatementId" in params
            name = "voidedStatementId" if voided else "statementId"
            sid = _uuid(name, params[name])
            with lock:
                found = fetch_one(backend, sid, voided=voided)
            mine = None if credential.can_read_all else credential.authority
            if found is None or (mine is not None and found.get("authority") != mine):
                raise LRSError(404, f"no statement {sid}")
            shown = query.formatted(found, fmt, languages)
            modified = {**consistent, "Last-Modified": _http_date(found.get("stored"))}
            return answer(shown, [found], with_attachments, modified)
        built = build_query(params, credential, languages)
        with lock:
            statements, following = query.run(backend, built)
        return answer(
            _result(statements, following),
            statements,
            with_attachments,
            _last_modified(statements, consistent),
        )

    @app.api_route(f"{PREFIX}/statements/more/{{token}}", methods=["GET", "HEAD"])
    async def more_statements(request: Request, token: str) -> Response:
        """The next page of a query (the ``more`` IRL of a StatementResult)."""
        authenticate(request, "statements/read")
        consistent = {headers.CONSISTENT_THROUGH_HEADER: writer.consistent_through()}
        with lock:
            statements, following = query.run(backend, query.from_token(token))
        return JSONResponse(_result(statements, following), headers=_last_modified(statements, consistent))

    document_routes.register(app, ctx)
    return app


def _result(statements: list[dict[str, Any]], following: query.Query | None) -> dict[str, Any]:
    more = f"{query.MORE_PATH}{following.token()}" if following is not None else ""
    return {"statements": statements, "more": more}


def _http_date(stored: Any) -> str:
    """An xAPI ``stored`` timestamp as an HTTP date (``Last-Modified``, RFC 9110 §8.8.2)."""
    try:
        when = datetime.fromisoformat(str(stored).replace("Z", "+00:00"))
    except ValueError:
        when = datetime.now(UTC)
    return format_datetime(when.astimezone(UTC), usegmt=True)


def _last_modified(statements: list[dict[str, Any]], extra: dict[str, str]) -> dict[str, str]:
    """``extra`` with the ``Last-Modified`` of the newest statement returned (2.0.0 §5.4.1.3)."""
    newest = max((str(s.get("stored", "")) for s in statements), default="")
    return {**extra, "Last-Modified": _http_date(newest)} if newest else extra
