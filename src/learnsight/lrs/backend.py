"""The storage an LRS needs, one interface for every backend (DuckDB default, PostgreSQL).

The HTTP layer (:mod:`learnsight.lrs.app` and the resource modules) decides *what* to store and
answer, following the xAPI specification; a backend only keeps and finds:

* **credentials** (key, salted digest, scopes, authority; hashing is :mod:`learnsight.lrs.auth`'s);
* **statements** (the completed statement text plus the columns queries filter on; a batch is
  written atomically, and a ``voided`` verb marks its target voided unless the target voids too,
  xAPI 1.0.3 Part Two §2.3.2);
* **documents** of the State, Activity Profile and Agent Profile resources (Part Three §2.3-2.6),
  addressed by a :class:`DocumentKey`;
* the **activity definitions** and **agent names** statements carried (Activities and Agents
  resources, Part Three §2.5, §2.4);
* **erasure** of everything about one actor (privacy: statements, documents, profiles).

The app calls a backend from one request at a time (a lock), so a read-check-write sequence such as
an ``If-Match`` precondition followed by a PUT is atomic without backend transactions spanning
calls.  Each write method is atomic on its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from learnsight.lrs.query import Query
    from learnsight.lrs.statements import Prepared

DocumentKind = Literal["state", "activity_profile", "agent_profile", "attachment"]
DOCUMENT_KINDS: Final[tuple[DocumentKind, ...]] = ("state", "activity_profile", "agent_profile", "attachment")
"""Document kinds: the three document resources, and the attachment bodies of statements
(content-addressed: the id is the body's SHA-256, the scope has no other field)."""


@dataclass(frozen=True)
class DocumentScope:
    """Where documents of one kind live; the fields a kind does not use are ``None``.

    * ``state``: ``activity_id``, ``agent`` (an actor key, :mod:`learnsight.xapi.keys`) and
      ``registration`` (a lower-case UUID or ``None``);
    * ``activity_profile``: ``activity_id``;
    * ``agent_profile``: ``agent``;
    * ``attachment``: none (the document id is the SHA-256 of the body).
    """

    kind: DocumentKind
    activity_id: str | None = None
    agent: str | None = None
    registration: str | None = None


def naive_utc(when: datetime) -> datetime:
    """``when`` as a naive UTC datetime, the form both backends' TIMESTAMP columns hold."""
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo is not None else when


def aware_utc(when: datetime) -> datetime:
    """A stored naive UTC datetime as an aware one."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def scope_values(scope: DocumentScope) -> list[str]:
    """The (kind, activity_id, agent, registration) key columns of a scope; '' for unused fields."""
    return [scope.kind, scope.activity_id or "", scope.agent or "", scope.registration or ""]


@dataclass(frozen=True)
class DocumentKey:
    """One document: its scope and its id (``stateId`` or ``profileId``)."""

    scope: DocumentScope
    document_id: str


@dataclass(frozen=True)
class Document:
    """A stored document: its bytes, ``Content-Type``, ETag (SHA-1 hex of the bytes) and the time
    it was last written (aware UTC)."""

    content: bytes
    content_type: str
    etag: str
    updated: datetime


@dataclass(frozen=True)
class CredentialRecord:
    """A stored credential (never the secret: its salted digest)."""

    key: str
    salt: bytes
    secret_hash: bytes
    scopes: tuple[str, ...]
    authority: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class ErasureReport:
    """What :meth:`LRSBackend.erase_actor` removed."""

    actor: str
    statements: int
    documents: int
    profiles: int = 0
    details: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "statements": self.statements,
            "documents": self.documents,
            "profiles": self.profiles,
            **self.details,
        }


StatementRow = tuple[str, str, str]
"""A query result row: (raw statement JSON, stored as ISO text, id)."""


class LRSBackend(ABC):
    """Storage of one LRS; see the module docstring for what each group of methods keeps."""

    name: str = "backend"

    # -- credentials ---------------------------------------------------------------------------
    @abstractmethod
    def put_credential(self, record: CredentialRecord) -> None:
        """Create or replace the credential ``record.key``."""

    @abstractmethod
    def get_credential(self, key: str) -> CredentialRecord | None:
        """The credential ``key``, or ``None``."""

    @abstractmethod
    def list_credentials(self) -> list[CredentialRecord]:
        """Every credential, ordered by key."""

    def credential_hash(self, key: str) -> bytes | None:
        """The stored secret hash of credential ``key`` (``None``: no such credential); what the
        statement writer re-checks on every write.  Backends may answer it more cheaply."""
        record = self.get_credential(key)
        return record.secret_hash if record is not None else None

    @abstractmethod
    def delete_credential(self, key: str) -> bool:
        """Remove the credential ``key``; ``False`` when there was none."""

    # -- statements ----------------------------------------------------------------------------
    @abstractmethod
    def stored_raw(self, ids: Sequence[str]) -> dict[str, str | None]:
        """The stored raw text of those of ``ids`` that are stored (for conflict checks)."""

    @abstractmethod
    def insert_statements(self, prepared: Sequence[Prepared], *, source: str) -> None:
        """Write new statements in one transaction and mark the targets of voiding statements voided
        (never a target that is itself a voiding statement).  ``prepared`` holds no stored id."""

    @abstractmethod
    def fetch_statement(self, statement_id: str) -> tuple[str, bool] | None:
        """(raw JSON, voided) of statement ``statement_id``, or ``None``."""

    @abstractmethod
    def query_statements(self, query: Query, limit: int) -> list[StatementRow]:
        """At most ``limit`` rows matching ``query`` (filters, ``mine``, the ``after`` position),
        ordered by (stored, id), descending unless ``query.ascending``; voided statements never."""

    @abstractmethod
    def activity_definitions(self, activity_id: str) -> list[dict[str, Any]]:
        """The ``definition`` objects statements gave Activity ``activity_id`` (as object, context
        activity or SubStatement object), oldest first."""

    @abstractmethod
    def agent_names(self, agent: str) -> list[str]:
        """The distinct ``name`` values statements gave the agent with actor key ``agent``."""

    # -- documents -----------------------------------------------------------------------------
    @abstractmethod
    def get_document(self, key: DocumentKey) -> Document | None:
        """The document at ``key``, or ``None``."""

    @abstractmethod
    def put_document(self, key: DocumentKey, document: Document) -> None:
        """Create or replace the document at ``key``."""

    @abstractmethod
    def delete_document(self, key: DocumentKey) -> None:
        """Remove the document at ``key`` (nothing when absent)."""

    @abstractmethod
    def document_ids(self, scope: DocumentScope, since: datetime | None = None) -> list[str]:
        """The ids of the documents in ``scope`` (written after ``since`` when given), sorted."""

    @abstractmethod
    def delete_documents(self, scope: DocumentScope) -> int:
        """Remove every document in ``scope``; returns how many."""

    # -- privacy and lifetime ------------------------------------------------------------------
    @abstractmethod
    def erase_actor(self, agent: str) -> ErasureReport:
        """Remove, in one transaction, every statement whose actor or object is the agent with actor
        key ``agent`` (or a Group naming it as a member), every State and Agent Profile document of
        the agent, and (DuckDB) the agent's learner profiles."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""
