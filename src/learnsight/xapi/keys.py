"""The canonical *actor key*: one string per learner, whatever the source.

Every table in the store (statements, profiles, activities, indicators) is keyed by it.  It is built
from the agent's inverse functional identifier (xAPI 1.0.3 §4.1.2.3), so the same learner pushed by
an LMS over the LRS and imported from a CSV export get the same key when the identifiers agree.

>>> account_key("https://oulad.open.ac.uk", "28400")
'account:https://oulad.open.ac.uk|28400'
>>> mbox_key("mailto:ana@example.org")
'mailto:ana@example.org'
"""

from __future__ import annotations

import hashlib


def account_key(home_page: str, name: str) -> str:
    """Key of an agent identified by ``account`` (homePage, name)."""
    return f"account:{home_page}|{name}"


def account_key_sql(home_page_sql: str, name_sql: str) -> str:
    """The DuckDB SQL expression equal to :func:`account_key` of two SQL expressions."""
    return f"('account:' || ({home_page_sql}) || '|' || CAST(({name_sql}) AS VARCHAR))"


def mbox_key(mbox: str) -> str:
    """Key of an agent identified by ``mbox`` (a ``mailto:`` IRI)."""
    return mbox


def mbox_sha1sum_key(digest: str) -> str:
    """Key of an agent identified by ``mbox_sha1sum`` (hex SHA-1 of the mailto IRI)."""
    return f"sha1:{digest.lower()}"


def openid_key(uri: str) -> str:
    """Key of an agent identified by ``openid``."""
    return f"openid:{uri}"


def anonymous_group_key(member_keys: list[str]) -> str:
    """Key of an anonymous group: a digest of its sorted member keys."""
    digest = hashlib.sha1("\n".join(sorted(member_keys)).encode()).hexdigest()
    return f"group:anonymous:{digest}"


def group_key(ifi_key: str) -> str:
    """Key of an identified group."""
    return f"group:{ifi_key}"
