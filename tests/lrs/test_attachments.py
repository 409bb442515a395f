"""Attachments (multipart/mixed) and signed statements on the Statements resource."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from tests.lrs.conftest import HEADERS, statement

from learnsight.lrs.attachments import SIGNATURE_USAGE

URL = "/xAPI/statements"
BOUNDARY = "-------314159265358979323846"
MIXED = {**HEADERS, "Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}


def attachment(body: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": "text/plain",
        "length": len(body),
        "sha2": hashlib.sha256(body).hexdigest(),
        **extra,
    }


def multipart(document: Any, *parts: tuple[str, bytes, dict[str, str]]) -> bytes:
    out = f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n{json.dumps(document)}\r\n".encode()
    for content_type, body, headers in parts:
        head = {"Content-Type": content_type, "Content-Transfer-Encoding": "binary", **headers}
        out += f"--{BOUNDARY}\r\n".encode()
        out += "".join(f"{k}: {v}\r\n" for k, v in head.items()).encode() + b"\r\n" + body + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def part(body: bytes, content_type: str = "text/plain") -> tuple[str, bytes, dict[str, str]]:
    return (content_type, body, {"X-Experience-API-Hash": hashlib.sha256(body).hexdigest()})


def parse_multipart(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    boundary = content_type.split("boundary=")[1].strip('"')
    chunks = (b"\r\n" + body).split(b"\r\n--" + boundary.encode())[1:-1]
    parts = []
    for chunk in chunks:
        head, _, content = chunk[2:].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append(({k.lower(): v for k, v in headers.items()}, content))
    return parts


def test_multipart_post_stores_bodies_and_get_returns_them(client: TestClient) -> None:
    one, two = b"here is a simple attachment", b"and a second one \x00\xff binary"
    sid = str(uuid.uuid4())
    doc = statement(id=sid, attachments=[attachment(one), attachment(two, contentType="application/x-bin")])
    r = client.post(URL, content=multipart(doc, part(one), part(two, "application/x-bin")), headers=MIXED)
    assert r.status_code == 200, r.text
    got = client.get(URL, params={"statementId": sid, "attachments": "true"}, headers=HEADERS)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("multipart/mixed")
    parts = parse_multipart(got.headers["content-type"], got.content)
    assert json.loads(parts[0][1])["id"] == sid
    bodies = {h["x-experience-api-hash"]: b for h, b in parts[1:]}
    assert bodies == {hashlib.sha256(one).hexdigest(): one, hashlib.sha256(two).hexdigest(): two}
    # Queries too, and without attachments=true plain JSON.
    listed = client.get(URL, params={"attachments": "true"}, headers=HEADERS)
    assert len(parse_multipart(listed.headers["content-type"], listed.content)) == 3
    assert client.get(URL, params={"statementId": sid}, headers=HEADERS).json()["id"] == sid


@pytest.mark.parametrize(
    ("build", "why"),
    [
        (lambda d, b: multipart(d), "body missing"),
        (lambda d, b: multipart(d, part(b), part(b"excess")), "excess part"),
        (lambda d, b: multipart(d, ("text/plain", b, {"X-Experience-API-Hash": "0" * 64})), "wrong hash"),
        (lambda d, b: multipart(d, ("text/plain", b, {})), "no hash header"),
        (
            lambda d, b: multipart(
                d,
                (
                    "text/plain",
                    b,
                    {
                        "X-Experience-API-Hash": hashlib.sha256(b).hexdigest(),
                        "Content-Transfer-Encoding": "base64",
                    },
                ),
            ),
            "not binary",
        ),
        (lambda d, b: multipart(d, part(b)).replace(b"application/json", b"text/plain", 1), "first part"),
        (lambda d, b: multipart(d, part(b)).replace(f"--{BOUNDARY}--".encode(), b""), "no close"),
    ],
)
def test_bad_multipart_is_400_and_stores_nothing(client: TestClient, build: Any, why: str) -> None:
    body = b"attachment body"
    doc = statement(attachments=[attachment(body)])
    r = client.post(URL, content=build(doc, body), headers=MIXED)
    assert r.status_code == 400, why
    assert client.get(URL, headers=HEADERS).json()["statements"] == []


def test_content_types(client: TestClient) -> None:
    body = b"attachment body"
    with_url = statement(attachments=[attachment(body, fileUrl="http://example.com/a.txt")])
    assert client.post(URL, json=with_url, headers=HEADERS).status_code == 200
    form = {**HEADERS, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    assert client.post(URL, content=json.dumps(with_url), headers=form).status_code == 400
    raw = statement(attachments=[attachment(body)])
    assert client.post(URL, json=raw, headers=HEADERS).status_code == 400  # body cannot travel in JSON
    no_boundary = {**HEADERS, "Content-Type": "multipart/mixed"}
    assert client.post(URL, content=multipart(raw, part(body)), headers=no_boundary).status_code == 400


# -- signed statements --------------------------------------------------------------------------------
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def certificate() -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "learnsight test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(KEY, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def jws(payload: Any, alg: str = "RS256", *, x5c: bool = False, key: Any = KEY) -> bytes:
    header: dict[str, Any] = {"alg": alg}
    if x5c:
        header["x5c"] = [certificate()]
    signing = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    digest = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}.get(
        alg, hashes.SHA256()
    )
    signature = key.sign(signing.encode(), padding.PKCS1v15(), digest)
    return f"{signing}.{b64url(signature)}".encode()


def signed(doc: dict[str, Any], token: bytes, content_type: str = "application/octet-stream") -> bytes:
    meta = attachment(token, usageType=SIGNATURE_USAGE, contentType=content_type)
    return multipart({**doc, "attachments": [meta]}, part(token, content_type))


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_signed_statement_accepted(client: TestClient, alg: str) -> None:
    doc = statement(id=str(uuid.uuid4()), result={"duration": "PT1.23S"})
    r = client.post(URL, content=signed(doc, jws(doc, alg, x5c=True)), headers=MIXED)
    assert r.status_code == 200, r.text


def test_signature_duration_compared_to_hundredths(client: TestClient) -> None:
    doc = statement(id=str(uuid.uuid4()), result={"duration": "PT1.23S"})
    sent = {**doc, "result": {"duration": "PT1.2345S"}}
    assert client.post(URL, content=signed(sent, jws(doc)), headers=MIXED).status_code == 200


def test_bad_signatures_are_400(client: TestClient) -> None:
    doc = statement(id=str(uuid.uuid4()))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jws(doc, x5c=True, key=other)  # signed with another key than the certificate's
    changed = jws({**doc, "verb": {"id": "http://example.org/other"}})
    hs256 = b64url(b'{"alg":"HS256"}').encode() + b"." + b64url(json.dumps(doc).encode()).encode() + b".sig"
    for token, why in [
        (forged, "forged"),
        (changed, "payload differs"),
        (hs256, "alg"),
        (b"a.b", "malformed"),
    ]:
        assert client.post(URL, content=signed(doc, token), headers=MIXED).status_code == 400, why
    wrong_type = signed(doc, jws(doc), content_type="text/plain")
    assert client.post(URL, content=wrong_type, headers=MIXED).status_code == 400
    assert client.get(URL, headers=HEADERS).json()["statements"] == []
