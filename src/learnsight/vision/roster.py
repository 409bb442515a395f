"""A class roster for face identification (SPEC §5): enrol, load, list, erase.

A roster is enrolled from a folder with one sub-folder per student (the folder's name is the
student key) holding any number of photos of that student.  Each photo gives one
:class:`~learnsight.vision.descriptors.FaceDescription` of its largest face, found by mediapipe's
short-range model (roster photos are portraits; the full-range model misses faces that fill the
frame).

Storage and privacy
-------------------
Descriptions are biometric data.  They are stored **apart from the statements**, in the tables
``video_rosters`` and ``video_roster_faces`` of the store (migration 0010), and **encrypted at rest**
with Fernet (AES-128-CBC + HMAC-SHA256, ``cryptography``): a tampered row or a wrong key is detected
and reported, never silently decoded.  The key is never in the store: it is read from
``LEARNSIGHT_ROSTER_KEY`` when set, otherwise from a key file beside the store
(``<store>.roster-key``), created with mode 0600 at the first enrolment; a key file readable by
other users is refused.  Losing the key makes the stored rosters unreadable (re-enrol them).
Student keys and photo file names are stored in clear (they identify rows for erasure).

Bad input
---------
Enrolment either stores the whole roster or nothing.  It refuses, with a one-line error naming the
folder: a missing or empty folder (no student sub-folder), two student folders whose names differ
only by case or surrounding spaces, a student folder without a usable face, and a roster name that
is already stored (pass ``replace=True`` to replace it in one transaction).  An unreadable image or a
photo without a usable face is **skipped and reported** in :attr:`EnrollReport.skipped` (with
``strict=True`` it fails the enrolment instead).  Hidden files and folders (``.name``) are ignored;
files directly in the roster folder are listed in :attr:`EnrollReport.ignored`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from learnsight.errors import LearnsightError
from learnsight.store import DuckDBStore
from learnsight.vision.descriptors import DescriptorError, FaceDescription, describe
from learnsight.vision.faces import FaceDetectionError, FaceDetector, read_image
from learnsight.vision.types import Face, Image

KEY_ENV = "LEARNSIGHT_ROSTER_KEY"
"""Environment variable holding the roster key (urlsafe base64 of 32 bytes); wins over the key file."""
KEY_SUFFIX = ".roster-key"
"""The key file is the store's path plus this suffix."""

DbLike = Path | str | DuckDBStore


class RosterError(LearnsightError):
    """A roster cannot be enrolled, read or erased; nothing was changed."""


# -- the roster in memory --------------------------------------------------------------------------
@dataclass(frozen=True)
class RosterEntry:
    """One enrolled photo: the student key, the photo's file name and its face description."""

    student: str
    photo: str
    description: FaceDescription = field(repr=False)


@dataclass(frozen=True)
class Roster:
    """The enrolled students of one class: every photo's description, grouped by student key."""

    name: str
    entries: tuple[RosterEntry, ...]

    @property
    def students(self) -> tuple[str, ...]:
        """The student keys, sorted."""
        return tuple(sorted({e.student for e in self.entries}))

    def descriptions(self, student: str) -> list[FaceDescription]:
        return [e.description for e in self.entries if e.student == student]

    def without(self, *, student: str | None = None, indices: Collection[int] = ()) -> Roster:
        """A copy without one student and/or without the entries at ``indices`` (for evaluation)."""
        drop = set(indices)
        kept = tuple(
            e
            for i, e in enumerate(self.entries)
            if i not in drop and (student is None or e.student != student)
        )
        return Roster(self.name, kept)

    @classmethod
    def from_descriptions(cls, name: str, students: Mapping[str, Sequence[FaceDescription]]) -> Roster:
        """A roster in memory (tests, evaluation): student key → descriptions."""
        return cls(
            name,
            tuple(RosterEntry(s, f"{i}", d) for s in sorted(students) for i, d in enumerate(students[s])),
        )


@dataclass(frozen=True)
class EnrollReport:
    """What :func:`enroll` stored: photos per student, what it skipped and why."""

    name: str
    students: dict[str, int]
    skipped: tuple[tuple[str, str], ...] = ()
    ignored: tuple[str, ...] = ()
    replaced: bool = False
    seconds: float = 0.0

    @property
    def photos(self) -> int:
        return sum(self.students.values())


@dataclass(frozen=True)
class RosterInfo:
    """One stored roster, as :func:`list_rosters` lists it."""

    name: str
    students: int
    photos: int
    source: str
    enrolled_at: datetime


# -- describing a folder ---------------------------------------------------------------------------
def student_folders(directory: Path) -> tuple[list[Path], list[str]]:
    """The student sub-folders of a roster folder (sorted) and the plain files beside them.

    Raises :class:`RosterError` when the folder is missing, has no student folder, or two folder names
    are the same student key up to case and surrounding spaces.
    """
    if not directory.is_dir():
        raise RosterError(f"{directory}: roster folder not found")
    folders, files = [], []
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            folders.append(entry)
        else:
            files.append(entry.name)
    if not folders:
        raise RosterError(f"{directory}: empty roster (no student folder)")
    seen: dict[str, str] = {}
    for folder in folders:
        key = folder.name.strip().casefold()
        if not key:
            raise RosterError(f"{folder}: a student folder name is blank")
        if key in seen:
            raise RosterError(
                f"{directory}: duplicate student id: folders {seen[key]!r} and {folder.name!r} "
                "differ only by case"
            )
        seen[key] = folder.name
    return folders, files


def largest_face(path: Path, detector: FaceDetector) -> tuple[Image, Face]:
    """The photo at ``path`` and its largest face; raises :class:`RosterError` naming the file when
    it is unreadable or shows no face."""
    try:
        image = read_image(path)
    except FaceDetectionError as exc:
        raise RosterError(str(exc)) from exc
    faces = detector.detect(image)
    if not faces:
        raise RosterError(f"{path}: no face found")
    return image, max(faces, key=lambda f: f.box.area)


def describe_photo(path: Path, detector: FaceDetector) -> FaceDescription:
    """The description of the largest face in the photo at ``path``.

    Raises :class:`RosterError` naming the file when it is unreadable or has no usable face.
    """
    image, largest = largest_face(path, detector)
    description = describe(image, largest)
    if description is None:
        raise RosterError(f"{path}: the face is too small or cut off")
    return description


def describe_folder(
    directory: Path, detector: FaceDetector | None = None
) -> tuple[dict[str, list[tuple[str, FaceDescription]]], list[tuple[str, str]], list[str]]:
    """Describe every photo of a roster folder.

    Returns (student key → [(photo file name, description)], skipped [(path, reason)], ignored plain
    files); raises :class:`RosterError` on the folder-level problems of :func:`student_folders`.
    """
    directory = Path(directory)
    folders, ignored = student_folders(directory)
    own = detector is None
    det = detector if detector is not None else FaceDetector("mediapipe", full_range=False)
    described: dict[str, list[tuple[str, FaceDescription]]] = {}
    skipped: list[tuple[str, str]] = []
    try:
        for folder in folders:
            photos = []
            for path in sorted(folder.iterdir()):
                if path.name.startswith(".") or not path.is_file():
                    continue
                try:
                    photos.append((path.name, describe_photo(path, det)))
                except RosterError as exc:
                    skipped.append((str(path), str(exc).removeprefix(f"{path}: ")))
            described[folder.name] = photos
    finally:
        if own:
            det.close()
    return described, skipped, ignored


# -- the key ---------------------------------------------------------------------------------------
def key_path(store_path: Path) -> Path:
    """The key file of the store at ``store_path``."""
    return store_path.with_name(store_path.name + KEY_SUFFIX)


def key_id(key: bytes) -> str:
    """A one-way fingerprint of a Fernet key (reveals nothing of it)."""
    return hashlib.sha256(b"learnsight roster key\0" + key).hexdigest()[:16]


def _check_key(key: bytes, where: str) -> bytes:
    key = key.strip()
    try:
        raw = base64.urlsafe_b64decode(key)
    except (binascii.Error, ValueError) as exc:
        raise RosterError(f"{where}: not a roster key (urlsafe base64 of 32 bytes)") from exc
    if len(raw) != 32:
        raise RosterError(f"{where}: not a roster key (urlsafe base64 of 32 bytes)")
    return key


def load_key(store_path: Path | None, *, create: bool) -> bytes:
    """The roster key: ``LEARNSIGHT_ROSTER_KEY``, else the key file beside the store.

    With ``create`` a missing key file is created (mode 0600, refusing to overwrite); without it a
    missing key is an error.  A key file readable or writable by group or others is refused.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return _check_key(env.encode(), KEY_ENV)
    if store_path is None:
        raise RosterError(f"an in-memory store has no key file: set {KEY_ENV}")
    path = key_path(store_path)
    if not path.exists():
        if not create:
            raise RosterError(f"{path}: roster key file missing (set {KEY_ENV} or restore the file)")
        key = Fernet.generate_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
        return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise RosterError(f"{path}: roster key file is accessible to other users (mode {mode:o}; chmod 600)")
    try:
        return _check_key(path.read_bytes(), str(path))
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the roster key: {exc.strerror or exc}") from exc


# -- the store -------------------------------------------------------------------------------------
@contextmanager
def _opened(db: DbLike) -> Iterator[DuckDBStore]:
    if isinstance(db, DuckDBStore):
        yield db
        return
    store = DuckDBStore(Path(db))
    try:
        yield store
    finally:
        store.close()


def _roster_exists(store: DuckDBStore, name: str) -> bool:
    return bool(store.scalar("SELECT count(*) FROM video_rosters WHERE name = ?", [name]))


def _known(store: DuckDBStore) -> list[str]:
    return [r[0] for r in store.con.execute("SELECT name FROM video_rosters ORDER BY name").fetchall()]


def _check_name(name: str) -> str:
    clean = name.strip()
    if not clean or len(clean) > 200 or any(ord(c) < 32 for c in clean):
        raise RosterError(f"roster name {name!r}: must be 1-200 printable characters")
    return clean


def enroll(
    db: DbLike,
    directory: Path | str,
    name: str,
    *,
    replace: bool = False,
    strict: bool = False,
    detector: FaceDetector | None = None,
) -> EnrollReport:
    """Enrol the roster folder ``directory`` as roster ``name`` in the store ``db``.

    All or nothing: the descriptions are computed first, then written (encrypted) in one transaction.
    ``replace`` replaces a roster of the same name atomically (otherwise that is an error);
    ``strict`` fails on any skipped photo instead of reporting it.  See the module doc for every
    refusal.
    """
    started = time.perf_counter()
    name = _check_name(name)
    directory = Path(directory)
    with _opened(db) as store:
        if _roster_exists(store, name) and not replace:
            raise RosterError(
                f"roster {name!r} already enrolled in {store.path}: pass replace=True to replace it"
            )
        described, skipped, ignored = describe_folder(directory, detector)
        if strict and skipped:
            path, reason = skipped[0]
            more = f" (+{len(skipped) - 1} more)" if len(skipped) > 1 else ""
            raise RosterError(f"{path}: {reason}{more}; nothing was enrolled")
        for student, photos in described.items():
            if not photos:
                raise RosterError(
                    f"{directory / student}: no usable face in this student's photos; nothing was enrolled"
                )
        has_rows = bool(store.scalar("SELECT count(*) FROM video_roster_faces"))
        key = load_key(store.path, create=not has_rows)
        fernet = Fernet(key)
        rows = [
            (name, student, photo, fernet.encrypt(d.to_bytes()))
            for student, photos in described.items()
            for photo, d in photos
        ]
        replaced = False
        store.con.execute("BEGIN TRANSACTION")
        try:
            if _roster_exists(store, name):
                if not replace:
                    raise RosterError(f"roster {name!r} already enrolled: pass replace=True to replace it")
                store.con.execute("DELETE FROM video_roster_faces WHERE roster = ?", [name])
                store.con.execute("DELETE FROM video_rosters WHERE name = ?", [name])
                replaced = True
            store.con.execute(
                "INSERT INTO video_rosters VALUES (?, ?, ?, ?)",
                [name, str(directory.resolve()), key_id(key), datetime.now(UTC).replace(tzinfo=None)],
            )
            store.con.executemany("INSERT INTO video_roster_faces VALUES (?, ?, ?, ?)", rows)
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return EnrollReport(
        name=name,
        students={s: len(p) for s, p in described.items()},
        skipped=tuple(skipped),
        ignored=tuple(ignored),
        replaced=replaced,
        seconds=time.perf_counter() - started,
    )


def load_roster(db: DbLike, name: str) -> Roster:
    """The roster ``name``, decrypted.  Needs the key it was enrolled with; a wrong key or a tampered
    row raises :class:`RosterError`."""
    with _opened(db) as store:
        row = store.con.execute("SELECT key_id FROM video_rosters WHERE name = ?", [name]).fetchone()
        if row is None:
            known = ", ".join(_known(store)) or "none"
            raise RosterError(f"roster {name!r} not found in {store.path} (enrolled: {known})")
        key = load_key(store.path, create=False)
        if key_id(key) != row[0]:
            raise RosterError(
                f"roster {name!r}: the roster key is not the one it was enrolled with (wrong key)"
            )
        fernet = Fernet(key)
        entries = []
        for student, photo, token in store.con.execute(
            "SELECT student, photo, description FROM video_roster_faces WHERE roster = ? "
            "ORDER BY student, photo",
            [name],
        ).fetchall():
            try:
                description = FaceDescription.from_bytes(fernet.decrypt(bytes(token)))
            except (InvalidToken, DescriptorError) as exc:
                raise RosterError(
                    f"roster {name!r}: {student}/{photo}: cannot decrypt the face description "
                    "(tampered data or wrong key)"
                ) from exc
            entries.append(RosterEntry(student, photo, description))
    return Roster(name, tuple(entries))


def erase_student(db: DbLike, roster_name: str, student: str) -> int:
    """Remove every stored description of ``student`` (matched ignoring case and surrounding spaces)
    from roster ``roster_name``; returns how many were removed (0 when there were none)."""
    with _opened(db) as store:
        if not _roster_exists(store, roster_name):
            raise RosterError(f"roster {roster_name!r} not found in {store.path}")
        key = student.strip().casefold()
        stored = store.con.execute(
            "SELECT DISTINCT student FROM video_roster_faces WHERE roster = ?", [roster_name]
        ).fetchall()
        matches = [s for (s,) in stored if s.strip().casefold() == key]
        count = 0
        store.con.execute("BEGIN TRANSACTION")
        try:
            for match in matches:
                count += int(
                    store.scalar(
                        "SELECT count(*) FROM video_roster_faces WHERE roster = ? AND student = ?",
                        [roster_name, match],
                    )
                )
                store.con.execute(
                    "DELETE FROM video_roster_faces WHERE roster = ? AND student = ?", [roster_name, match]
                )
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return count


def list_rosters(db: DbLike) -> list[RosterInfo]:
    """The stored rosters, by name, with their student and photo counts."""
    with _opened(db) as store:
        rows = store.con.execute(
            "SELECT r.name, count(DISTINCT f.student), count(f.photo), r.source, r.enrolled_at "
            "FROM video_rosters r LEFT JOIN video_roster_faces f ON f.roster = r.name "
            "GROUP BY r.name, r.source, r.enrolled_at ORDER BY r.name"
        ).fetchall()
    return [RosterInfo(str(n), int(s), int(p), str(src), at) for n, s, p, src, at in rows]
