"""Signed statements (xAPI 1.0.3 Part Two §2.6, IEEE 9274.1.1 §4.2.2.7).

A signed statement carries a JSON Web Signature (RFC 7515, compact serialization) as an
attachment with ``usageType`` :data:`~learnsight.lrs.attachments.SIGNATURE_USAGE` and
``contentType`` ``application/octet-stream``.  The LRS refuses it with 400 when

* the signature attachment has another content type or its body is missing;
* the JWS is malformed, or its ``alg`` is not RS256, RS384 or RS512;
* its payload is not the statement as sent before the signature was added (compared without the
  properties the LRS sets — ``id`` when the payload has none, ``stored``, ``authority``,
  ``version`` — and without the signature attachment; durations are compared to 0.01 s,
  Part Two §4.6);
* the JOSE header carries an ``x5c`` certificate chain and the signature does not verify with the
  first certificate's public key (the only key the LRS can know).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from learnsight.lrs.attachments import SIGNATURE_USAGE, Part, media_type
from learnsight.lrs.statements import LRSError

ALGORITHMS: Final = ("RS256", "RS384", "RS512")
IGNORED: Final = ("stored", "authority", "version")
_DURATION_SECONDS = re.compile(r"(\d+)(?:\.(\d+))?S$")


def _b64(segment: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise LRSError(400, f"signature: the JWS {what} is not base64url") from None


def _normalise(value: Any, key: str = "") -> Any:
    """A statement value in the form signatures are compared in (durations to 0.01 s)."""
    if isinstance(value, dict):
        return {k: _normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if key == "duration" and isinstance(value, str):
        match = _DURATION_SECONDS.search(value)
        if match:
            hundredths = (match.group(2) or "").ljust(2, "0")[:2]
            return value[: match.start()] + f"{int(match.group(1))}.{hundredths}S"
    return value


def _unsigned(statement: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """``statement`` as it was before the signature was added (Part Two §2.6)."""
    result = {k: v for k, v in statement.items() if k not in IGNORED}
    if "id" not in payload:
        result.pop("id", None)
    kept = [a for a in result.get("attachments") or () if a.get("usageType") != SIGNATURE_USAGE]
    if kept:
        result["attachments"] = kept
    else:
        result.pop("attachments", None)
    return result


def verify_signed(statement: Mapping[str, Any], parts: Mapping[str, Part]) -> None:
    """Check the signature of ``statement`` when it has one (see the module docstring); 400."""
    signatures = [a for a in statement.get("attachments") or () if a.get("usageType") == SIGNATURE_USAGE]
    for attachment in signatures:
        if media_type(attachment.get("contentType")) != "application/octet-stream":
            raise LRSError(400, "signature: the attachment's contentType must be application/octet-stream")
        part = parts.get(str(attachment.get("sha2", "")).lower())
        if part is None:
            raise LRSError(400, "signature: the JWS body of the signature attachment was not sent")
        _verify_jws(part.content, statement)


def _verify_jws(token_bytes: bytes, statement: Mapping[str, Any]) -> None:
    try:
        token = token_bytes.decode("ascii").strip()
    except UnicodeDecodeError:
        raise LRSError(400, "signature: the JWS is not ASCII") from None
    pieces = token.split(".")
    if len(pieces) != 3:
        raise LRSError(400, "signature: not a JWS compact serialization (three dot-separated parts)")
    try:
        header = json.loads(_b64(pieces[0], "header"))
        payload = json.loads(_b64(pieces[1], "payload"))
    except (ValueError, UnicodeDecodeError):
        raise LRSError(400, "signature: the JWS header or payload is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
        alg = header.get("alg") if isinstance(header, dict) else None
        raise LRSError(400, f"signature: alg {alg!r} is not one of {', '.join(ALGORITHMS)}")
    if not isinstance(payload, dict):
        raise LRSError(400, "signature: the JWS payload is not a statement")
    if _normalise(_unsigned(payload, payload)) != _normalise(_unsigned(statement, payload)):
        raise LRSError(400, "signature: the JWS payload differs from the statement")
    chain = header.get("x5c")
    if chain:
        _verify_certificate(
            chain, header["alg"], f"{pieces[0]}.{pieces[1]}".encode(), _b64(pieces[2], "signature")
        )


def _verify_certificate(chain: Any, alg: str, signing_input: bytes, signature: bytes) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
    except (ValueError, TypeError, IndexError, binascii.Error):
        raise LRSError(400, "signature: x5c[0] is not a base64 DER certificate") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise LRSError(400, "signature: the x5c certificate has no RSA public key")
    digest = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
    try:
        key.verify(signature, signing_input, padding.PKCS1v15(), digest)
    except InvalidSignature:
        raise LRSError(400, "signature: the JWS does not verify with the x5c certificate") from None
