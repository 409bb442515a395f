"""What every resource of the LRS shares: the backend, the lock serialising its use, and
authentication (xAPI 1.0.3 Part Three §4).

A request without HTTP Basic credentials is answered 401 (with a ``WWW-Authenticate`` challenge),
one whose credentials lack the scope the resource needs 403.  Verified credentials are cached by
(key, SHA-256 of the secret) so that scrypt runs once per credential, not once per request; the
stored record is still read on every request, so a credential revoked or replaced (``learnsight lrs
credentials revoke``, from another process too) is refused at once.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Final

from fastapi import Request
from starlette.exceptions import HTTPException

from learnsight.lrs.auth import Credential, basic_credentials, verify
from learnsight.lrs.backend import LRSBackend

CHALLENGE: Final = {"WWW-Authenticate": 'Basic realm="xAPI"'}


@dataclass
class LRSContext:
    """The backend of one LRS application and the lock every request takes to use it."""

    backend: LRSBackend
    lock: threading.Lock = field(default_factory=threading.Lock)
    _verified: dict[tuple[str, str], tuple[Credential, bytes]] = field(default_factory=dict)

    def authenticate(self, request: Request, scope: str) -> Credential:
        """The request's credential, checked for ``scope``; raises 401 without valid credentials and
        403 when they lack the scope.  ``statements/read`` is also met by ``statements/read/mine``
        (the resource then restricts what it returns)."""
        pair = basic_credentials(request.headers.get("Authorization"))
        if pair is None:
            raise HTTPException(401, "HTTP Basic credentials are required", headers=CHALLENGE)
        cache_key = _cache_key(pair)
        with self.lock:
            record = self.backend.get_credential(pair[0])  # a revoked or replaced key fails at once
            cached = self._verified.get(cache_key)
            if record is None:
                credential = None
            elif cached is not None and cached[1] == record.secret_hash:
                credential = cached[0]
            else:
                credential = verify(self.backend, *pair)
                if credential is not None:
                    self._verified[cache_key] = (credential, record.secret_hash)
        if credential is None:
            raise HTTPException(401, "invalid credentials", headers=CHALLENGE)
        _require(credential, scope)
        return credential

    def verified(self, request: Request, scope: str) -> tuple[Credential, bytes] | None:
        """The request's credential and its stored secret hash as verified by an earlier request,
        without reading the backend (so without the lock); ``None`` when not verified before.

        Whoever uses it must re-check the stored record under the lock before acting (the
        statement writer does, :mod:`learnsight.lrs.writer`).  Raises 403 when the credential
        lacks ``scope``.
        """
        pair = basic_credentials(request.headers.get("Authorization"))
        if pair is None:
            return None
        hit = self._verified.get(_cache_key(pair))
        if hit is not None:
            _require(hit[0], scope)
        return hit


def _cache_key(pair: tuple[str, str]) -> tuple[str, str]:
    return pair[0], hashlib.sha256(pair[1].encode()).hexdigest()


def _require(credential: Credential, scope: str) -> None:
    allowed = credential.can_read if scope == "statements/read" else credential.allows(scope)
    if not allowed:
        raise HTTPException(403, f"the credentials lack the {scope} scope")
