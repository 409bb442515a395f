"""The document resources of the LRS (xAPI 1.0.3 Part Three §2.3-2.7): State
(``activities/state``), Activity Profile (``activities/profile``), Agent Profile
(``agents/profile``), and the Activities (``activities``) and Agents (``agents``) resources.

Every request holds the context's lock from its first backend read to its write, so an ETag
precondition and the write it guards are atomic.  The rules themselves are
:mod:`learnsight.lrs.documents`.
"""

from __future__ import annotations

from email.utils import format_datetime
from typing import Final

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from learnsight.lrs import documents as docs
from learnsight.lrs.backend import DocumentKey, DocumentKind
from learnsight.lrs.context import LRSContext
from learnsight.lrs.query import parse_agent
from learnsight.lrs.statements import LRSError

PREFIX: Final = "/xAPI"
PATHS: Final[dict[DocumentKind, str]] = {
    "state": f"{PREFIX}/activities/state",
    "activity_profile": f"{PREFIX}/activities/profile",
    "agent_profile": f"{PREFIX}/agents/profile",
}
SCOPES: Final[dict[DocumentKind, str]] = {
    "state": "state",
    "activity_profile": "profile",
    "agent_profile": "profile",
}


def _single_values(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if len(request.query_params.multi_items()) != len(params):
        raise LRSError(400, "a query parameter is given more than once")
    return params


def register(app: FastAPI, ctx: LRSContext) -> None:
    """Add the document, Activities and Agents resources' routes to ``app``."""
    for kind in PATHS:
        _register_documents(app, ctx, kind)
    backend = ctx.backend

    @app.api_route(f"{PREFIX}/activities", methods=["GET", "HEAD"])
    async def activities(request: Request) -> Response:
        """The Activity object with its merged definition (Part Three §2.5)."""
        ctx.authenticate(request, "statements/read")
        params = _single_values(request)
        if set(params) != {"activityId"}:
            raise LRSError(400, "the Activities resource takes exactly the activityId parameter")
        with ctx.lock:
            definitions = backend.activity_definitions(params["activityId"])
        return JSONResponse(docs.activity_object(params["activityId"], definitions))

    @app.api_route(f"{PREFIX}/agents", methods=["GET", "HEAD"])
    async def agents(request: Request) -> Response:
        """The Person object of an agent (Part Three §2.4)."""
        ctx.authenticate(request, "statements/read")
        params = _single_values(request)
        if set(params) != {"agent"}:
            raise LRSError(400, "the Agents resource takes exactly the agent parameter")
        key = parse_agent(params["agent"])
        with ctx.lock:
            names = backend.agent_names(key)
        return JSONResponse(docs.person_object(params["agent"], names))


def _register_documents(app: FastAPI, ctx: LRSContext, kind: DocumentKind) -> None:
    backend = ctx.backend
    id_name = docs.ID_PARAMETER[kind]
    profile = kind != "state"

    def key_of(
        request: Request, *, id_required: bool, allowed: tuple[str, ...] = ()
    ) -> tuple[DocumentKey | None, dict[str, str]]:
        params = _single_values(request)
        scope = docs.scope_of(kind, params, allowed=(id_name, *allowed))
        if id_name not in params:
            if id_required:
                raise LRSError(400, f"the {id_name} parameter is required")
            return None, params
        return DocumentKey(scope, params[id_name]), params

    @app.api_route(PATHS[kind], methods=["PUT"])
    async def put(request: Request) -> Response:
        ctx.authenticate(request, SCOPES[kind])
        key, _ = key_of(request, id_required=True)
        assert key is not None
        content = await request.body()
        content_type = request.headers.get("Content-Type")
        with ctx.lock:
            current = backend.get_document(key)
            v2 = str(request.state.xapi_version).startswith("2")
            docs.check_preconditions(request.headers, current, put_needs_header=profile or v2)
            if profile and not v2 and current is None and not docs.has_precondition(request.headers):
                # xAPI 1.0.3 Part Three §3.1: a profile PUT names If-Match or If-None-Match
                raise LRSError(400, "a PUT of a profile document needs If-Match or If-None-Match")
            backend.put_document(key, docs.new_document(content, content_type))
        return Response(status_code=204)

    @app.api_route(PATHS[kind], methods=["POST"])
    async def post(request: Request) -> Response:
        ctx.authenticate(request, SCOPES[kind])
        key, _ = key_of(request, id_required=True)
        assert key is not None
        content = await request.body()
        with ctx.lock:
            current = backend.get_document(key)
            docs.check_preconditions(request.headers, current)
            backend.put_document(key, docs.merged(current, content, request.headers.get("Content-Type")))
        return Response(status_code=204)

    @app.api_route(PATHS[kind], methods=["GET", "HEAD"])
    async def get(request: Request) -> Response:
        ctx.authenticate(request, SCOPES[kind])
        params = _single_values(request)
        if id_name in params and "since" in params:
            raise LRSError(400, f"since is only allowed without {id_name}")
        key, params = key_of(request, id_required=False, allowed=("since",))
        if key is None:
            scope = docs.scope_of(kind, params, allowed=("since",))
            since = docs.parse_since(params["since"]) if "since" in params else None
            with ctx.lock:
                ids = backend.document_ids(scope, since)
            return JSONResponse(ids)
        with ctx.lock:
            found = backend.get_document(key)
        if found is None:
            raise LRSError(404, f"no document {key.document_id!r}")
        return Response(
            found.content,
            headers={
                "Content-Type": found.content_type,
                "ETag": f'"{found.etag}"',
                "Last-Modified": format_datetime(found.updated, usegmt=True),
            },
        )

    @app.api_route(PATHS[kind], methods=["DELETE"])
    async def delete(request: Request) -> Response:
        ctx.authenticate(request, SCOPES[kind])
        key, params = key_of(request, id_required=profile)
        with ctx.lock:
            if key is None:
                backend.delete_documents(docs.scope_of(kind, params, allowed=()))
            else:
                current = backend.get_document(key)
                docs.check_preconditions(request.headers, current)
                backend.delete_document(key)
        return Response(status_code=204)
