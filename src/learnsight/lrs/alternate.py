"""The Alternate Request Syntax of xAPI 1.0.3 (Part Three §1.3): a request sent as an HTML form POST.

A client that cannot send some methods or headers POSTs to ``resource?method=PUT`` (or GET,
DELETE, HEAD, POST) a ``application/x-www-form-urlencoded`` body: the form fields
``Authorization``, ``X-Experience-API-Version``, ``Content-Type``, ``Content-Length``, ``If-Match``
and ``If-None-Match`` are headers, ``content`` is the request body, every other field a query
parameter.  :class:`AlternateRequestSyntax` rewrites such a request into the one it stands for
before any route sees it, and refuses with 400 one that is malformed: not a POST, with query
parameters besides ``method``, not form-encoded, or naming an unknown method.

IEEE 9274.1.1 (xAPI 2.0) dropped the syntax, so a request that resolves to version 2.0 is refused.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from learnsight.lrs import headers

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METHODS: Final = ("GET", "HEAD", "PUT", "POST", "DELETE")
HEADER_FIELDS: Final = frozenset(
    {
        "authorization",
        "x-experience-api-version",
        "content-type",
        "content-length",
        "if-match",
        "if-none-match",
    }
)
FORM: Final = "application/x-www-form-urlencoded"


class AlternateRequestSyntax:
    """ASGI middleware turning an Alternate Request Syntax POST into the request it carries."""

    def __init__(self, app: ASGIApp, prefix: str = "/xAPI") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if not any(name == "method" for name, _ in query):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        try:
            rewritten, content = _rewrite(scope, query, body)
        except ValueError as exc:
            await _refuse(send, str(exc))
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": content, "more_body": False}

        await self.app(rewritten, replay, send)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _rewrite(scope: Scope, query: list[tuple[str, str]], body: bytes) -> tuple[Scope, bytes]:
    """The scope and body of the request an Alternate Request Syntax POST stands for."""
    if scope["method"] != "POST":
        raise ValueError("the Alternate Request Syntax (a method parameter) must be a POST")
    if len(query) != 1:
        raise ValueError("the Alternate Request Syntax allows no query parameter besides method")
    method = query[0][1].upper()
    if method not in METHODS:
        raise ValueError(f"method: {query[0][1]!r} is not one of {', '.join(METHODS)}")
    sent_headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    if body and sent_headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise ValueError(f"the Alternate Request Syntax needs a Content-Type of {FORM}")
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("the Alternate Request Syntax body is not a url-encoded form") from None
    new_headers = {k: v for k, v in sent_headers.items() if k not in ("content-type", "content-length")}
    params: list[tuple[str, str]] = []
    content = b""
    for name, value in fields:
        lowered = name.lower()
        if lowered in HEADER_FIELDS:
            new_headers[lowered] = value
        elif name == "content":
            content = value.encode("utf-8")
        else:
            params.append((name, value))
    if content and "content-type" not in new_headers:
        new_headers["content-type"] = "application/json"
    new_headers["content-length"] = str(len(content))
    try:
        version = headers.negotiate(new_headers.get("x-experience-api-version"))
    except ValueError:
        version = None  # the version check of the app answers that
    if version is not None and version.startswith("2"):
        raise ValueError("xAPI 2.0 has no Alternate Request Syntax (IEEE 9274.1.1 dropped it)")
    rewritten = dict(scope)
    rewritten["method"] = method
    rewritten["query_string"] = urlencode(params).encode("latin-1")
    rewritten["headers"] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in new_headers.items()]
    return rewritten, content


async def _refuse(send: Send, message: str) -> None:
    payload = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (headers.VERSION_HEADER.lower().encode(), headers.SUPPORTED[0].encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
