"""Privacy of classroom video (SPEC §5): erase a student, blur faces in exported frames.

* :func:`erase_student` removes a student's roster embeddings (:mod:`learnsight.vision.roster`) and
  every video statement whose actor is that student (source ``camera``), and reports both counts.
* :func:`blur_faces` returns a frame with every face blurred except those the user asked to keep;
  no face image leaves the analysis step otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from learnsight.store import open_store
from learnsight.vision.extra import require
from learnsight.vision.types import Box, Image
from learnsight.xapi import vocab as v
from learnsight.xapi.keys import account_key


def erase_student(db: Path, roster: str, student: str, *, home_page: str) -> dict[str, int]:
    """Erase ``student`` of ``roster``: embeddings and video statements; returns the counts."""
    from learnsight.vision.roster import erase_student as erase_embeddings

    embeddings = erase_embeddings(db, roster, student)
    store = open_store(db)
    try:
        con = store.con
        con.execute("BEGIN TRANSACTION")
        try:
            rows = con.execute(
                "DELETE FROM statements WHERE actor_key = ? AND source = ? RETURNING id",
                [account_key(home_page, student), v.SOURCE_CAMERA],
            ).fetchall()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        store.close()
    return {"embeddings": int(embeddings), "statements": len(rows)}


def blur_faces(image: Image, faces: Sequence[Box], *, keep: Sequence[bool] = ()) -> Image:
    """``image`` with each face box (grown by 20 %) blurred beyond recognition, except where ``keep``
    says so."""
    cv2 = require("cv2")
    out = image.copy()
    height, width = image.shape[:2]
    for i, box in enumerate(faces):
        if i < len(keep) and keep[i]:
            continue
        b = box.expanded(0.2).clipped(width, height)
        x0, y0, x1, y1 = int(b.x), int(b.y), int(b.x + b.w), int(b.y + b.h)
        if x1 <= x0 or y1 <= y0:
            continue
        region = out[y0:y1, x0:x1]
        small = cv2.resize(
            region, (max(1, (x1 - x0) // 12), max(1, (y1 - y0) // 12)), interpolation=cv2.INTER_AREA
        )
        out[y0:y1, x0:x1] = cv2.GaussianBlur(
            cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR), (0, 0), 3
        )
    return out
