"""Statement requests and answers with attachments (xAPI 1.0.3 Part Three §1.5.2, Part Two §2.4.11;
IEEE 9274.1.1 §5.1.3).

A statement request is ``application/json`` (attachments then must name a ``fileUrl``) or
``multipart/mixed``: the first part holds the statement(s) as JSON, each further part one
attachment body with headers ``Content-Type``, ``Content-Transfer-Encoding: binary`` and
``X-Experience-API-Hash`` (the SHA-256 hex of the body, equal to an attachment's ``sha2``).  The LRS
refuses with 400 a part without or with a wrong hash, a part no attachment declares, an attachment
without ``fileUrl`` whose body is missing, and any other content type.

A GET with ``attachments=true`` is answered in the same multipart format, the statements or
StatementResult first, then every stored attachment body they declare.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from learnsight.lrs.backend import Document, DocumentKey, DocumentScope
from learnsight.lrs.statements import LRSError

SIGNATURE_USAGE: Final = "http://adlnet.gov/expapi/attachments/signature"
HASH_HEADER: Final = "x-experience-api-hash"


@dataclass(frozen=True)
class Part:
    """One attachment body of a multipart request: its media type, bytes and declared SHA-256."""

    content_type: str
    content: bytes
    sha2: str


ATTACHMENTS: Final = DocumentScope("attachment")


def attachment_key(sha2: str) -> DocumentKey:
    """Where the body with SHA-256 ``sha2`` is kept: a document of kind ``attachment``.

    Bodies are content-addressed, so keeping one is idempotent and one body serves every
    statement that declares it.
    """
    return DocumentKey(ATTACHMENTS, sha2.lower())


def attachment_document(part: Part, when: datetime) -> Document:
    """The stored form of an attachment body."""
    return Document(part.content, part.content_type, hashlib.sha1(part.content).hexdigest(), when)


def media_type(content_type: str | None) -> str:
    """The lower-case media type of a ``Content-Type`` value, without parameters.

    >>> media_type("Multipart/Mixed; boundary=abc")
    'multipart/mixed'
    """
    return (content_type or "").split(";", 1)[0].strip().lower()


def _parameter(content_type: str, name: str) -> str | None:
    for piece in content_type.split(";")[1:]:
        key, sep, value = piece.strip().partition("=")
        if sep and key.strip().lower() == name:
            return value.strip().strip('"')
    return None


def json_body(raw: bytes) -> Any:
    """The JSON value of a request body; 400 when it is not JSON (``NaN`` and friends included)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(raw, parse_constant=refuse)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LRSError(400, f"the request body is not JSON: {exc}") from None


def parse_statement_request(content_type: str | None, body: bytes) -> tuple[Any, dict[str, Part]]:
    """The statement JSON and the attachment parts (by SHA-256) of a PUT/POST statements body.

    A missing ``Content-Type`` is read as JSON; any type but ``application/json`` and
    ``multipart/mixed`` is refused with 400.
    """
    media = media_type(content_type)
    if media in ("", "application/json"):
        return json_body(body), {}
    if media == "multipart/mixed":
        return _parse_multipart(str(content_type), body)
    raise LRSError(400, f"Content-Type {media!r}: statements are application/json or multipart/mixed")


def _parse_multipart(content_type: str, body: bytes) -> tuple[Any, dict[str, Part]]:
    boundary = _parameter(content_type, "boundary")
    if not boundary:
        raise LRSError(400, "Content-Type multipart/mixed needs a boundary parameter")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    chunks = (b"\r\n" + body).split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise LRSError(400, "the multipart body does not use the boundary of its Content-Type header")
    parts: list[tuple[dict[str, str], bytes]] = []
    for number, chunk in enumerate(chunks[1:-1], start=1):
        line_end = chunk.find(b"\r\n")
        if line_end < 0 or chunk[:line_end].strip():
            raise LRSError(400, f"multipart part {number}: malformed delimiter line")
        head, sep, content = chunk[line_end + 2 :].partition(b"\r\n\r\n")
        if not sep:
            if chunk[line_end + 2 : line_end + 4] == b"\r\n":  # a part without headers
                head, content = b"", chunk[line_end + 4 :]
            else:
                raise LRSError(400, f"multipart part {number}: no blank line after the headers")
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon:
                raise LRSError(400, f"multipart part {number}: malformed header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    first_headers, first = parts[0]
    if media_type(first_headers.get("content-type")) != "application/json":
        raise LRSError(400, "multipart part 1 must be the statement(s) as application/json")
    statement = json_body(first)
    attachments: dict[str, Part] = {}
    for number, (headers, content) in enumerate(parts[1:], start=2):
        sha2 = headers.get(HASH_HEADER, "").lower()
        if not sha2:
            raise LRSError(400, f"multipart part {number}: the X-Experience-API-Hash header is missing")
        encoding = headers.get("content-transfer-encoding", "binary").lower()
        if encoding != "binary":
            raise LRSError(400, f"multipart part {number}: Content-Transfer-Encoding must be binary")
        if hashlib.sha256(content).hexdigest() != sha2:
            raise LRSError(400, f"multipart part {number}: X-Experience-API-Hash is not the body's SHA-256")
        attachments[sha2] = Part(headers.get("content-type", "application/octet-stream"), content, sha2)
    return statement, attachments


def declared(statements: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The attachment objects the statements (and their SubStatements) declare."""
    found: list[dict[str, Any]] = []
    for statement in statements:
        found += [a for a in statement.get("attachments") or () if isinstance(a, dict)]
        obj = statement.get("object")
        if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
            found += [a for a in obj.get("attachments") or () if isinstance(a, dict)]
    return found


def check_parts(statements: list[Mapping[str, Any]], parts: Mapping[str, Part]) -> list[Part]:
    """The parts the statements' attachments declare, after the §1.5.2 checks (400 otherwise):
    every attachment without ``fileUrl`` has its body, and every body is declared."""
    wanted = {str(a.get("sha2", "")).lower(): a for a in declared(statements)}
    missing = [sha2 for sha2, a in wanted.items() if "fileUrl" not in a and sha2 not in parts]
    if missing:
        raise LRSError(400, f"attachment {missing[0]} has no fileUrl and its body was not sent")
    excess = [sha2 for sha2 in parts if sha2 not in wanted]
    if excess:
        raise LRSError(400, f"multipart body {excess[0]} is not an attachment of the statement(s)")
    return list(parts.values())


def multipart_response(document: Any, bodies: Mapping[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """The multipart/mixed answer of a GET with ``attachments=true`` and its Content-Type:
    ``document`` (statement or StatementResult) as JSON, then each body (sha2 -> (type, bytes))."""
    boundary = "xapi-" + secrets.token_hex(16)
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()]
    out.append(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())
    for sha2, (content_type, content) in bodies.items():
        out.append(
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode()
        )
        out.append(content)
    out.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(out), f'multipart/mixed; boundary="{boundary}"'
