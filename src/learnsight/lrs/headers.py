"""The ``X-Experience-API-Version`` header (xAPI 1.0.3 Part Three §6.2, IEEE 9274.1.1 §5.1.2).

Every request but one to the About resource must name the xAPI version it follows; the LRS
refuses a missing or unsupported version with 400 and names its version in every response.
"""

from __future__ import annotations

from typing import Final

VERSION_HEADER: Final = "X-Experience-API-Version"
CONSISTENT_THROUGH_HEADER: Final = "X-Experience-API-Consistent-Through"

SUPPORTED: Final[tuple[str, ...]] = ("1.0.3", "2.0.0")
"""The versions the About resource lists (the latest patch of each supported family)."""

LATEST: Final = "2.0.0"
"""The version an answer names when the request named none (IEEE 9274.1.1 §5.1.2: a request
without the header is refused, in the newest version)."""


def negotiate(header: str | None) -> str:
    """The version the LRS answers in for a request's version header.

    ``1.0``, ``1.0.0`` ... ``1.0.3`` answer ``1.0.3``; ``2.0``, ``2.0.x`` answer ``2.0.0``.

    >>> negotiate("1.0.1"), negotiate("2.0.0")
    ('1.0.3', '2.0.0')

    Raises ``ValueError`` (its message fit for a 400 answer) for a missing or unsupported version.
    """
    if header is None or not header.strip():
        raise ValueError(f"the {VERSION_HEADER} header is required")
    parts = header.strip().split(".")
    if len(parts) in (2, 3) and all(p.isdigit() for p in parts) and parts[1] == "0":
        if parts[0] == "1" and (len(parts) == 2 or int(parts[2]) <= 3):
            return "1.0.3"
        if parts[0] == "2":
            return "2.0.0"
    raise ValueError(f"unsupported {VERSION_HEADER} {header!r}; supported: {', '.join(SUPPORTED)}")
