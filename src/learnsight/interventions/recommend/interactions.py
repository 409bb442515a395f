"""Implicit feedback from the store: one sparse users × items matrix per kind of item (SPEC §4).

The adaptive recommendation of SPEC §4 ("collaborative filtering recommends learning paths,
courses, partners, research and innovation projects") needs a rating matrix; learners never rate
anything, so the ratings are *implicit*: what a learner used, and how much.  Only traces count:
statements that are not voided, not voiding statements, and whose source is not one learnsight
writes itself (:data:`~learnsight.xapi.vocab.DERIVED_SOURCES`) — the same ``ev`` view, with the same
as-of cut-off, that every indicator reads (:func:`learnsight.indicators.asof.base_views`).

Kinds (:data:`KINDS`)
    * ``resources`` — learning material inside one course (source ``lms``): activity types file,
      link, media, video and every OULAD VLE item type (``…/activities/vle/<type>``); the count is
      the clicks (``quantity``: OULAD ``sum_click``, campus resource clicks), 1 for a statement
      without a quantity (a video view, a slide preview).
    * ``paths`` — the same matrix as ``resources``; :mod:`.paths` orders it into a learning path.
    * ``courses`` — course registrations (``registered`` a course activity); count 1.
    * ``partners`` — other learners: a reply to or a follow of a forum thread links its actor and
      the thread's author (context extension :data:`~learnsight.xapi.vocab.EXT_THREAD_AUTHOR`), in
      both directions; the count is the number of such exchanges.
    * ``books`` — library loans (activity type book), the research-interest proxy; one item per
      title, labelled with its title and category.
    * ``projects`` — statements about research and innovation projects (activity type
      :data:`PROJECT`); neither OULAD nor the campus has any, and asking for them then says so.

Extensions (thread author, book title and category, difficulty level) are read from the
``extensions`` column (tabular sources) or, for statements received as xAPI, from ``raw``.

Counts become ratings ``r_ui = log1p(count_ui)`` (:meth:`Interactions.ratings`): a thousand clicks
are not a thousand times the evidence of one.  Implicit ALS turns them into confidences
``c_ui = 1 + α·r_ui`` (Hu, Koren & Volinsky 2008, eq. 6 with ε = 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import scipy.sparse as sp  # type: ignore[import-untyped]

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf, base_views
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi import vocab

PROJECT: Final = vocab.PROJECT

Kind = Literal["resources", "courses", "partners", "books", "paths", "projects"]
KINDS: Final[tuple[str, ...]] = get_args(Kind)
COURSE_KINDS: Final[frozenset[str]] = frozenset({"resources", "paths"})
"""Kinds whose items live inside one course: one matrix per course."""

RESOURCE_TYPES: Final[tuple[str, ...]] = (vocab.FILE, vocab.LINK, vocab.MEDIA, vocab.VIDEO)
VLE_PREFIX: Final = vocab.vle_activity_type("")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class RecommendError(LearnsightError):
    """A recommendation cannot be made: unknown kind, no interactions, unknown student."""


@dataclass(frozen=True)
class Interactions:
    """A users × items implicit-feedback matrix with its id lists.

    ``counts`` is a ``scipy.sparse.csr_matrix`` (float64, canonical: sorted indices, no duplicate
    and no explicit zero) of how much each learner used each item; ``first_use`` holds, aligned with
    ``counts.data``, the Unix time (seconds) of the first use.  ``labels`` names each item for
    people.
    """

    kind: str
    course: str | None
    users: tuple[str, ...]
    items: tuple[str, ...]
    counts: Any
    first_use: FloatArray
    labels: tuple[str, ...]
    as_of: str = "all"
    _user_index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        shape = (len(self.users), len(self.items))
        if self.counts.shape != shape:
            raise ValueError(f"counts has shape {self.counts.shape}, expected {shape}")
        if self.first_use.shape != self.counts.data.shape:
            raise ValueError("first_use must be aligned with counts.data")
        self._user_index.update({u: i for i, u in enumerate(self.users)})

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.users), len(self.items))

    @property
    def nnz(self) -> int:
        return int(self.counts.nnz)

    def ratings(self) -> Any:
        """``r_ui = log1p(count_ui)`` on the observed cells (csr, same pattern as ``counts``)."""
        r = self.counts.copy()
        r.data = np.log1p(r.data)
        return r

    def user_row(self, actor_key: str) -> int:
        """Row of a learner; :class:`RecommendError` when the learner has no interaction here."""
        try:
            return self._user_index[actor_key]
        except KeyError:
            where = f" in {self.course}" if self.course else ""
            raise RecommendError(
                f"--student: {actor_key!r} has no {self.kind} interactions{where} (as of {self.as_of})"
            ) from None

    def self_columns(self) -> IntArray:
        """For each user row, the item column that is the user (partners), else -1."""
        items = {item: j for j, item in enumerate(self.items)}
        return np.array([items.get(u, -1) for u in self.users], dtype=np.int64)

    def first_use_matrix(self) -> Any:
        """``first_use`` as a csr matrix with the pattern of ``counts``."""
        m = self.counts.copy()
        m.data = self.first_use.copy()
        return m

    def density(self) -> float:
        n, m = self.shape
        return self.nnz / (n * m) if n and m else 0.0


def from_triples(
    kind: str,
    users: npt.ArrayLike,
    items: npt.ArrayLike,
    counts: npt.ArrayLike,
    first_use: npt.ArrayLike,
    *,
    course: str | None = None,
    labels: dict[str, str] | None = None,
    as_of: str = "all",
) -> Interactions:
    """Build :class:`Interactions` from (user, item, count, first use) rows; repeated pairs add up
    (the earliest first use wins).  Users and items are sorted, so the matrix is deterministic.

    >>> x = from_triples("books", ["b", "a", "a"], ["x", "y", "x"], [1, 2, 3], [30, 20, 10])
    >>> x.users, x.items, x.counts.toarray().tolist()
    (('a', 'b'), ('x', 'y'), [[3.0, 2.0], [1.0, 0.0]])
    """
    u_names, u = np.unique(np.asarray(users, dtype=object).astype(str), return_inverse=True)
    i_names, i = np.unique(np.asarray(items, dtype=object).astype(str), return_inverse=True)
    c = np.asarray(counts, dtype=np.float64)
    t = np.asarray(first_use, dtype=np.float64)
    if not (u.size == i.size == c.size == t.size):
        raise ValueError("users, items, counts and first_use must have the same length")
    if np.any(~np.isfinite(c)) or np.any(c <= 0):
        raise RecommendError(f"{kind}: interaction counts must be positive and finite")
    shape = (u_names.size, i_names.size)
    key = u.astype(np.int64) * max(shape[1], 1) + i.astype(np.int64)
    uniq, inverse = np.unique(key, return_inverse=True)
    total = np.bincount(inverse, weights=c, minlength=uniq.size)
    first = np.full(uniq.size, np.inf)
    np.minimum.at(first, inverse, t)
    rows = uniq // max(shape[1], 1)
    cols = uniq % max(shape[1], 1)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))])
    matrix = sp.csr_matrix((total, cols, indptr), shape=shape)
    names = labels or {}
    return Interactions(
        kind=kind,
        course=course,
        users=tuple(str(x) for x in u_names),
        items=tuple(str(x) for x in i_names),
        counts=matrix,
        first_use=first,
        labels=tuple(names.get(str(x), _tail(str(x))) for x in i_names),
        as_of=as_of,
    )


# -- SQL (over the as-of ``ev`` view); every query returns actor_key, item, label, n, first_ts --------

_RESOURCES: Final = """
SELECT actor_key, object_id AS item,
       any_value(regexp_extract(activity_type, '[^/]+$')) AS kind_label,
       any_value(coalesce(json_extract_string(extensions, $level_path),
                         json_extract_string(raw, $level_raw))) AS level,
       sum(coalesce(quantity, 1)) AS n, min(epoch(ts)) AS first_ts
FROM ev
WHERE source = $lms AND course = $course
  AND (list_contains($resource_types, activity_type) OR starts_with(activity_type, $vle_prefix))
GROUP BY actor_key, object_id
"""

_COURSES: Final = """
SELECT e.actor_key, e.object_id AS item, any_value(coalesce(c.title, c.code)) AS kind_label,
       NULL AS level, count(*) AS n, min(epoch(e.ts)) AS first_ts
FROM ev e LEFT JOIN courses c ON c.course = e.object_id
WHERE e.verb_id = $registered AND e.activity_type = $course_type
GROUP BY e.actor_key, e.object_id
"""

_PARTNERS: Final = """
WITH ex AS (
    SELECT actor_key AS a, ts,
           coalesce(json_extract_string(extensions, $author_path),
                    json_extract_string(raw, $author_raw)) AS b
    FROM ev
    WHERE verb_id IN ($replied, $followed) AND ($course IS NULL OR course = $course)
), pairs AS (
    SELECT a AS actor_key, b AS item, ts FROM ex WHERE b IS NOT NULL AND b <> a
    UNION ALL
    SELECT b AS actor_key, a AS item, ts FROM ex WHERE b IS NOT NULL AND b <> a
)
SELECT actor_key, item, NULL AS kind_label, NULL AS level, count(*) AS n, min(epoch(ts)) AS first_ts
FROM pairs GROUP BY actor_key, item
"""

_BOOKS: Final = """
SELECT actor_key, object_id AS item,
       any_value(coalesce(json_extract_string(extensions, $title_path),
                         json_extract_string(raw, $title_raw))) AS kind_label,
       any_value(coalesce(json_extract_string(extensions, $category_path),
                         json_extract_string(raw, $category_raw))) AS level,
       count(*) AS n, min(epoch(ts)) AS first_ts
FROM ev
WHERE activity_type = $book
GROUP BY actor_key, object_id
"""

_PROJECTS: Final = """
SELECT actor_key, object_id AS item,
       any_value(coalesce(json_extract_string(extensions, $title_path),
                         json_extract_string(raw, $title_raw))) AS kind_label,
       NULL AS level,
       count(*) AS n, min(epoch(ts)) AS first_ts
FROM ev
WHERE activity_type = $project AND ($course IS NULL OR course = $course)
GROUP BY actor_key, object_id
"""

_COURSES_WITH_RESOURCES: Final = """
SELECT DISTINCT course FROM ev
WHERE source = $lms AND course IS NOT NULL
  AND (list_contains($resource_types, activity_type) OR starts_with(activity_type, $vle_prefix))
ORDER BY course
"""


def _ext(name: str, part: str, iri: str) -> dict[str, str]:
    """Parameters ``<name>_path`` and ``<name>_raw``: where a tabular source keeps the extension (the
    ``extensions`` column) and where an xAPI statement does (its ``raw`` JSON)."""
    return {f"{name}_path": f'$.{part}."{iri}"', f"{name}_raw": f'$.{part}.extensions."{iri}"'}


def use_as_of(store: DuckDBStore, as_of: AsOf) -> None:
    """(Re)create the as-of views (``ev`` …) on the store's connection, exactly as the indicators do."""
    for name, sql in base_views(as_of, vocab.VOIDED):
        store.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")


def resource_courses(store: DuckDBStore, as_of: AsOf | None = None) -> list[str]:
    """The courses that have resource interactions at ``as_of``, sorted."""
    use_as_of(store, as_of or AsOf())
    params = {"lms": vocab.SOURCE_LMS, "resource_types": list(RESOURCE_TYPES), "vle_prefix": VLE_PREFIX}
    rows = store.con.execute(_COURSES_WITH_RESOURCES, params).fetchall()
    return [str(r[0]) for r in rows]


def load_interactions(
    store: DuckDBStore, kind: str, *, course: str | None = None, as_of: AsOf | None = None
) -> Interactions:
    """The implicit-feedback matrix of ``kind`` (see the module docstring) at ``as_of``.

    ``course`` is required for ``resources`` and ``paths``, optional for ``partners`` and
    ``projects`` (restricts to that course's exchanges), ignored otherwise.  Raises
    :class:`RecommendError` for an unknown kind or when there is nothing of that kind.
    """
    as_of = as_of or AsOf()
    if kind not in KINDS:
        raise RecommendError(f"--kind: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind in COURSE_KINDS and course is None:
        raise RecommendError(f"--kind {kind}: give a course (--course); its items live inside one course")
    use_as_of(store, as_of)
    sql, params = _query(kind, course)
    table: pa.Table = store.con.sql(sql, params=params).to_arrow_table()
    if table.num_rows == 0:
        raise RecommendError(_nothing(kind, course, as_of))
    items = table.column("item").to_pylist()
    labels = {
        str(item): _label(kind, str(item), kl, lv)
        for item, kl, lv in zip(
            items, table.column("kind_label").to_pylist(), table.column("level").to_pylist(), strict=True
        )
    }
    return from_triples(
        kind,
        table.column("actor_key").to_numpy(zero_copy_only=False),
        np.asarray(items, dtype=object),
        table.column("n").to_numpy(zero_copy_only=False),
        table.column("first_ts").to_numpy(zero_copy_only=False),
        course=course,
        labels=labels,
        as_of=as_of.label(),
    )


def _query(kind: str, course: str | None) -> tuple[str, dict[str, object]]:
    if kind in ("resources", "paths"):
        return _RESOURCES, {
            "lms": vocab.SOURCE_LMS,
            "course": course,
            "resource_types": list(RESOURCE_TYPES),
            "vle_prefix": VLE_PREFIX,
            **_ext("level", "context", vocab.EXT_LEVEL),
        }
    if kind == "courses":
        return _COURSES, {"registered": vocab.REGISTERED, "course_type": vocab.COURSE}
    if kind == "partners":
        return _PARTNERS, {
            **_ext("author", "context", vocab.EXT_THREAD_AUTHOR),
            "replied": vocab.REPLIED,
            "followed": vocab.FOLLOWED,
            "course": course,
        }
    if kind == "books":
        return _BOOKS, {
            "book": vocab.BOOK,
            **_ext("title", "context", vocab.EXT_TITLE),
            **_ext("category", "context", vocab.EXT_CATEGORY),
        }
    return _PROJECTS, {"project": PROJECT, **_ext("title", "context", vocab.EXT_TITLE), "course": course}


def _nothing(kind: str, course: str | None, as_of: AsOf) -> str:
    where = f" in course {course}" if course else ""
    what = {
        "resources": "LMS resource views (file, link, media, video or VLE items)",
        "paths": "LMS resource views (file, link, media, video or VLE items) to build a path from",
        "courses": "course registrations",
        "partners": "forum replies or follows with a thread author (extension thread-author)",
        "books": "library loans (activity type book)",
        "projects": f"project statements (activity type {PROJECT}); neither OULAD nor the "
        "simulated campus records projects",
    }[kind]
    return f"--kind {kind}: the store has no {what}{where} (as of {as_of.label()})"


def _tail(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("|", 1)[-1]


def _label(kind: str, item: str, kind_label: str | None, level: str | None) -> str:
    if kind in ("resources", "paths"):
        extra = ", ".join(x for x in (kind_label, level) if x)
        return f"{_tail(item)} ({extra})" if extra else _tail(item)
    if kind == "books":
        title = kind_label or _tail(item)
        return f"{title} ({level})" if level else title
    if kind == "courses":
        return kind_label or _tail(item)
    return kind_label or _tail(item)


def timestamp(seconds: float) -> str:
    """A Unix time as ``YYYY-MM-DD`` (for reasons and reports)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")


__all__ = [
    "COURSE_KINDS",
    "KINDS",
    "PROJECT",
    "RESOURCE_TYPES",
    "Interactions",
    "Kind",
    "RecommendError",
    "from_triples",
    "load_interactions",
    "resource_courses",
    "timestamp",
    "use_as_of",
]
