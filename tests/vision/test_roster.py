"""Roster enrolment: the round trip, encryption at rest and every refusal (nothing stored)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import duckdb
import numpy as np
import pytest
from cryptography.fernet import Fernet

from learnsight.store import DuckDBStore
from learnsight.vision.descriptors import FEATURES
from learnsight.vision.identify import Identifier
from learnsight.vision.roster import (
    KEY_ENV,
    RosterError,
    enroll,
    erase_student,
    key_path,
    list_rosters,
    load_roster,
)

pytestmark = pytest.mark.realdata

STUDENTS = ("John_Salley", "John_Savage", "John_Simm")
PHOTOS = 2


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


@pytest.fixture
def class_dir(faces_dir: Path, tmp_path: Path) -> Path:
    """A small roster folder: two photos of three students of faces/roster/."""
    root = tmp_path / "class-7b"
    for student in STUDENTS:
        (root / student).mkdir(parents=True)
        for photo in sorted((faces_dir / "roster" / student).glob("*.jpg"))[:PHOTOS]:
            shutil.copy(photo, root / student / photo.name)
    return root


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store" / "learnsight.duckdb"


def stored_rows(db: Path) -> int:
    if not db.exists():
        return 0
    store = DuckDBStore(db)
    try:
        return int(store.scalar("SELECT count(*) FROM video_roster_faces"))
    finally:
        store.close()


def test_enroll_load_identify_erase_round_trip(db: Path, class_dir: Path, faces_dir: Path) -> None:
    report = enroll(db, class_dir, "7B")
    assert report.students == dict.fromkeys(STUDENTS, PHOTOS)
    assert report.photos == 6 and report.skipped == () and not report.replaced
    key = key_path(db)
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600

    [info] = list_rosters(db)
    assert (info.name, info.students, info.photos) == ("7B", 3, 6)
    roster = load_roster(db, "7B")
    assert roster.students == STUDENTS
    assert len(roster.entries) == 6
    assert all(e.description.feature(f).size > 0 for e in roster.entries for f in FEATURES)

    # the enrolled roster identifies another photo of an enrolled student
    from learnsight.vision.faces import FaceDetector
    from learnsight.vision.identify import describe_scaled

    other = sorted((faces_dir / "roster" / "John_Simm").glob("*.jpg"))[5]
    with FaceDetector("mediapipe", full_range=False) as detector:
        probe = describe_scaled(other, detector)[1.0]
    assert probe is not None
    assert Identifier(roster).identify([probe]).student == "John_Simm"

    # the embeddings are not stored in clear
    store = DuckDBStore(db)
    blob = bytes(store.scalar("SELECT description FROM video_roster_faces LIMIT 1"))
    store.close()
    assert blob.startswith(b"gAAAAA")  # a Fernet token
    assert np.asarray(roster.entries[0].description.face, dtype="<f4").tobytes()[:16] not in blob

    assert erase_student(db, "7B", "john_simm") == PHOTOS  # case-insensitive
    assert load_roster(db, "7B").students == STUDENTS[:2]
    assert erase_student(db, "7B", "John_Simm") == 0
    assert list_rosters(db)[0].photos == 4
    with pytest.raises(RosterError, match="roster 'nope' not found"):
        erase_student(db, "nope", "John_Simm")
    with pytest.raises(RosterError, match=r"roster 'nope' not found .*enrolled: 7B"):
        load_roster(db, "nope")


def test_the_key_is_required_and_checked(db: Path, class_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enroll(db, class_dir, "7B")
    key = key_path(db)
    saved = key.read_bytes()

    key.chmod(0o644)
    with pytest.raises(RosterError, match="accessible to other users"):
        load_roster(db, "7B")
    key.chmod(0o600)

    key.unlink()
    with pytest.raises(RosterError, match="roster key file missing"):
        load_roster(db, "7B")
    # enrolling another roster must not silently create a new key beside encrypted rows
    with pytest.raises(RosterError, match="roster key file missing"):
        enroll(db, class_dir, "7C")

    monkeypatch.setenv(KEY_ENV, Fernet.generate_key().decode())
    with pytest.raises(RosterError, match="wrong key"):
        load_roster(db, "7B")
    monkeypatch.setenv(KEY_ENV, "not-a-key")
    with pytest.raises(RosterError, match=f"{KEY_ENV}: not a roster key"):
        load_roster(db, "7B")
    monkeypatch.setenv(KEY_ENV, saved.decode().strip())  # the same key, from the environment
    assert len(load_roster(db, "7B").entries) == 6
    monkeypatch.delenv(KEY_ENV)

    fd = os.open(key, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, saved)
    os.close(fd)
    con = duckdb.connect(str(db))
    first = "(SELECT min(photo) FROM video_roster_faces)"
    token = bytearray(
        con.execute(f"SELECT description FROM video_roster_faces WHERE photo = {first}").fetchone()[0]
    )
    token[40] ^= 0x01  # one flipped bit in the ciphertext
    con.execute(f"UPDATE video_roster_faces SET description = ? WHERE photo = {first}", [bytes(token)])
    con.close()
    with pytest.raises(RosterError, match="tampered data or wrong key"):
        load_roster(db, "7B")


def test_re_enrolling_is_refused_unless_replaced(db: Path, class_dir: Path) -> None:
    enroll(db, class_dir, "7B")
    with pytest.raises(RosterError, match="already enrolled"):
        enroll(db, class_dir, "7B")
    shutil.rmtree(class_dir / "John_Savage")
    report = enroll(db, class_dir, "7B", replace=True)
    assert report.replaced and report.photos == 4
    assert load_roster(db, "7B").students == ("John_Salley", "John_Simm")
    assert [r.photos for r in list_rosters(db)] == [4]


def test_unreadable_images_are_skipped_and_reported(db: Path, class_dir: Path) -> None:
    (class_dir / "John_Simm" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (class_dir / "John_Simm" / ".DS_Store").write_bytes(b"hidden: ignored")
    (class_dir / "notes.txt").write_text("a file beside the student folders")
    report = enroll(db, class_dir, "7B")
    assert report.students["John_Simm"] == PHOTOS
    [(path, reason)] = report.skipped
    assert path.endswith("broken.jpg") and reason == "not a readable image"
    assert report.ignored == ("notes.txt",)
    with pytest.raises(RosterError, match=r"broken\.jpg: not a readable image; nothing was enrolled"):
        enroll(db, class_dir, "7C", strict=True)
    assert [r.name for r in list_rosters(db)] == ["7B"]


def test_bad_roster_folders_store_nothing(db: Path, class_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="roster folder not found"):
        enroll(db, tmp_path / "missing", "7B")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no student folder here")
    with pytest.raises(RosterError, match=r"empty: empty roster \(no student folder\)"):
        enroll(db, empty, "7B")

    (class_dir / "john_simm").mkdir()  # differs from John_Simm only by case
    with pytest.raises(RosterError, match="duplicate student id: folders 'John_Simm' and 'john_simm'"):
        enroll(db, class_dir, "7B")
    (class_dir / "john_simm").rmdir()

    faceless = class_dir / "Zed_Nobody"
    faceless.mkdir()
    import cv2

    cv2.imwrite(str(faceless / "wall.png"), np.full((200, 200, 3), 90, dtype=np.uint8))
    with pytest.raises(RosterError, match=r"Zed_Nobody: no usable face .*nothing was enrolled"):
        enroll(db, class_dir, "7B")
    (faceless / "wall.png").unlink()
    with pytest.raises(RosterError, match="Zed_Nobody: no usable face"):  # an empty student folder
        enroll(db, class_dir, "7B")

    with pytest.raises(RosterError, match="roster name"):
        enroll(db, class_dir, "  ")
    assert stored_rows(db) == 0
    assert list_rosters(db) == []
