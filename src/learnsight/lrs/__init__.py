"""A conformant xAPI Learning Record Store on the learnsight store (issue 6, first slice).

:func:`create_app` builds the FastAPI application serving xAPI under ``/xAPI``: the About
resource, the Statements resource (xAPI 1.0.3 Part Three §2.1, IEEE 9274.1.1 §5.4) with voiding and
``more`` paging, HTTP Basic authentication with scoped credentials (Part Three §4).  Statements are
validated by :mod:`learnsight.xapi` and written with one atomic ``store.ingest`` per request, so
indicators see them at once.
"""

from __future__ import annotations

from learnsight.lrs.app import create_app
from learnsight.lrs.auth import SCOPES, Credential, add_credential

__all__ = ["SCOPES", "Credential", "add_credential", "create_app"]
