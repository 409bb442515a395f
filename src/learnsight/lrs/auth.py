"""HTTP Basic credentials with xAPI scopes (xAPI 1.0.3 Part Three §4, IEEE 9274.1.1 §5.2).

Credentials live in the backend (:class:`~learnsight.lrs.backend.CredentialRecord`): a key (the
Basic user name), a salted :func:`hashlib.scrypt` digest of the secret, the granted scopes and the
``authority`` Agent the LRS writes into the statements sent with them (Part Two §2.4.9).  A request
without valid credentials is answered 401; one whose credentials lack the scope it needs, 403.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from learnsight.lrs.backend import CredentialRecord, LRSBackend

SCOPES: Final[tuple[str, ...]] = (
    "statements/write",
    "statements/read",
    "statements/read/mine",
    "state",
    "define",
    "profile",
    "all",
)
"""The scopes of xAPI 1.0.3 Part Three §4.2 (``all/read`` is read as ``statements/read``)."""

AUTHORITY_HOME: Final = "https://learnsight.dev/lrs"
"""``account.homePage`` of the authority Agent of a credential."""

_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True)
class Credential:
    """A verified credential: its key, scopes and authority Agent (JSON object)."""

    key: str
    scopes: frozenset[str]
    authority: dict[str, Any]

    def allows(self, scope: str) -> bool:
        """True when the credential grants ``scope`` (``all`` grants every scope)."""
        return "all" in self.scopes or scope in self.scopes

    @property
    def can_read_all(self) -> bool:
        """True when it may read every statement (not only its own)."""
        return self.allows("statements/read")

    @property
    def can_read(self) -> bool:
        """True when it may read at least its own statements."""
        return self.can_read_all or self.allows("statements/read/mine")


def _digest(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)


def authority_for(key: str) -> dict[str, Any]:
    """The authority Agent of credential ``key``: an account on :data:`AUTHORITY_HOME`."""
    return {"objectType": "Agent", "account": {"homePage": AUTHORITY_HOME, "name": key}}


def add_credential(backend: LRSBackend, key: str, secret: str, scopes: Iterable[str] = ("all",)) -> None:
    """Create or replace the credential ``key`` with a new salted digest of ``secret``.

    Raises ``ValueError`` for an unknown scope or an empty key or secret.
    """
    granted = sorted(set(scopes))
    unknown = [s for s in granted if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s) {unknown}; known: {', '.join(SCOPES)}")
    if not granted:
        raise ValueError(f"a credential needs at least one scope; known: {', '.join(SCOPES)}")
    if not key or ":" in key or not secret:
        raise ValueError("a credential needs a key without ':' and a non-empty secret")
    salt = os.urandom(16)
    backend.put_credential(
        CredentialRecord(
            key=key,
            salt=salt,
            secret_hash=_digest(secret, salt),
            scopes=tuple(granted),
            authority=authority_for(key),
            created_at=datetime.now(UTC),
        )
    )


def verify(backend: LRSBackend, key: str, secret: str) -> Credential | None:
    """The credential ``key`` when ``secret`` matches its digest, else ``None``."""
    record = backend.get_credential(key)
    if record is None or not hmac.compare_digest(_digest(secret, record.salt), record.secret_hash):
        return None
    return Credential(key=key, scopes=frozenset(record.scopes), authority=record.authority)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """The (key, secret) of an ``Authorization: Basic`` header, or ``None`` when malformed.

    >>> basic_credentials("Basic " + base64.b64encode(b"app:s3cret").decode())
    ('app', 's3cret')
    """
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, sep, secret = text.partition(":")
    return (key, secret) if sep else None
