"""A realistic test lesson built from real face photographs: a "classroom" of seats, each showing a
real person, filmed from the front (there is no public labelled classroom video reachable here).

The scene: a wall and rows of desks drawn on a ``width`` × ``height`` canvas; ``seats`` seats in rows,
back rows smaller (perspective).  Each seat shows one person for a span of the lesson (late arrivals
and early departures), cycling through that person's photos every ``photo_period_s`` (a change of
expression or head pose), swaying a few pixels (people move), and turning (a mirrored photo) now and
then.  People come from two sources of ``$LEARNSIGHT_DATA/faces``:

* **enrolled** students: photos of ``roster/`` people, typically the half not used to enroll them
  (:func:`split_roster`), so identification is tested on photos it never saw;
* **not enrolled** people: ``expressions/`` photos of other people, with their expression label.

:func:`render` writes an H.264 MP4 with PyAV; :meth:`Scene.truth` is the ground truth (who sits
where, when, which photo and expression label is shown) as JSON.  Nothing here is committed to the
repository: scenes are built from the shared datasets at test or demo time.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from learnsight.errors import LearnsightError
from learnsight.vision.extra import require
from learnsight.vision.types import Box, Image

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class Person:
    """Someone in the scene: ``name`` (the roster key for an enrolled student), the photos shown, and
    each photo's expression label when known."""

    name: str
    enrolled: bool
    photos: tuple[Path, ...]
    expressions: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class Seat:
    """A seat, its resting tile (the photo's box) and who sits there from ``arrive_s`` to ``leave_s``."""

    index: int
    person: Person
    tile: Box
    arrive_s: float
    leave_s: float
    sway_phase: float
    mirrored_from_s: float | None = None


@dataclass(frozen=True)
class Scene:
    """A synthetic lesson (see the module docstring)."""

    width: int
    height: int
    fps: float
    seconds: float
    photo_period_s: float
    seats: tuple[Seat, ...] = field(default_factory=tuple)

    def photo_at(self, seat: Seat, t: float) -> int:
        """Which of the seat person's photos is shown at ``t``."""
        return int((t - seat.arrive_s) // self.photo_period_s) % len(seat.person.photos)

    def present(self, t: float) -> list[Seat]:
        return [s for s in self.seats if s.arrive_s <= t < s.leave_s]

    def truth(self) -> dict[str, Any]:
        """The ground truth as JSON-ready data."""
        return {
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "seconds": self.seconds,
            "photo_period_s": self.photo_period_s,
            "seats": [
                {
                    "seat": s.index,
                    "name": s.person.name,
                    "enrolled": s.person.enrolled,
                    "tile": asdict(s.tile),
                    "arrive_s": s.arrive_s,
                    "leave_s": s.leave_s,
                    "photos": [str(p) for p in s.person.photos],
                    "expressions": list(s.person.expressions),
                }
                for s in self.seats
            ],
        }


def photos_of(folder: Path) -> list[Path]:
    """The photos directly inside ``folder``, sorted."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def split_roster(roster_dir: Path) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """Each roster person's photos split in two halves by order: (to enroll, to show in the video)."""
    enroll: dict[str, list[Path]] = {}
    show: dict[str, list[Path]] = {}
    for person in sorted(p for p in roster_dir.iterdir() if p.is_dir()):
        photos = photos_of(person)
        if len(photos) < 2:
            raise LearnsightError(f"{person}: needs at least two photos to split")
        enroll[person.name] = photos[0::2]
        show[person.name] = photos[1::2]
    return enroll, show


def strangers(expressions_dir: Path, n: int, *, seed: int = 0, photos_each: int = 1) -> list[Person]:
    """``n`` people of ``expressions/`` (named by their file names), with their labelled photos."""
    by_name: dict[str, list[tuple[Path, str]]] = {}
    with (expressions_dir / "labels.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            path = expressions_dir / row["image"]
            name = path.stem.rsplit("_", 1)[0]
            by_name.setdefault(name, []).append((path, row["expression"]))
    names = sorted(by_name)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(names), size=min(n, len(names)), replace=False)
    people = []
    for i in chosen:
        items = by_name[names[int(i)]][:photos_each]
        people.append(
            Person(names[int(i)], False, tuple(p for p, _ in items), tuple(label for _, label in items))
        )
    return people


def classroom(
    enrolled: Mapping[str, Sequence[Path]],
    others: Sequence[Person],
    *,
    seats: int = 30,
    seconds: float = 60.0,
    fps: float = 25.0,
    width: int = 1280,
    height: int = 720,
    photo_period_s: float = 8.0,
    seed: int = 0,
) -> Scene:
    """A scene of ``seats`` seats: the enrolled students first (random seats), the others after.

    About a fifth of the people arrive late (up to a quarter of the lesson) and a tenth leave early;
    a few turn (mirrored) for the last third.
    """
    people = [Person(name, True, tuple(photos)) for name, photos in enrolled.items()] + list(others)
    if len(people) > seats:
        people = people[:seats]
    rng = np.random.default_rng(seed)
    tiles = _tiles(seats, width, height)
    order = rng.permutation(len(tiles))[: len(people)]
    placed = []
    for person, slot in zip(people, order, strict=True):
        arrive = float(rng.uniform(0, seconds / 4)) if rng.random() < 0.2 else 0.0
        leave = float(rng.uniform(0.75 * seconds, seconds)) if rng.random() < 0.1 else seconds + 1.0
        mirrored = float(2 * seconds / 3) if rng.random() < 0.15 else None
        phase = float(rng.uniform(0, 2 * math.pi))
        placed.append(Seat(int(slot), person, tiles[int(slot)], arrive, leave, phase, mirrored))
    return Scene(width, height, fps, seconds, photo_period_s, tuple(sorted(placed, key=lambda s: s.index)))


def _tiles(seats: int, width: int, height: int, fill: float = 0.8) -> list[Box]:
    """Seat tiles in rows, back (top) rows 70 % the size of the front row; a photo fills ``fill`` of
    its seat, so the classroom shows around every face (detectors need that context)."""
    cols = math.ceil(math.sqrt(seats * width / height))
    rows = math.ceil(seats / cols)
    scales = np.linspace(0.7, 1.0, rows) if rows > 1 else np.array([1.0])
    unit = min(width / cols, height / float(scales.sum())) * fill
    tiles: list[Box] = []
    y = (height - unit * float(scales.sum()) / fill) / 2 + unit * (1 - fill) / (2 * fill)
    for r in range(rows):
        size = unit * float(scales[r])
        step = width / cols
        for c in range(cols):
            if len(tiles) == seats:
                break
            tiles.append(Box(c * step + (step - size) / 2, y, size, size))
        y += size / fill
    return tiles


def render(
    scene: Scene,
    path: Path,
    *,
    crf: int = 23,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the scene as an H.264 MP4 (yuv420p) at ``path``; ``progress(done, total)`` per frame."""
    av = require("av")
    cv2 = require("cv2")
    background = _background(scene.width, scene.height)
    cache: dict[tuple[Path, int, bool], Image] = {}

    def tile_image(photo: Path, size: int, mirrored: bool) -> Image:
        key = (photo, size, mirrored)
        if key not in cache:
            bgr = cv2.imread(str(photo), cv2.IMREAD_COLOR)
            if bgr is None:
                raise LearnsightError(f"{photo}: not a readable image")
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            image = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
            cache[key] = image[:, ::-1].copy() if mirrored else image
        return cache[key]

    total = round(scene.seconds * scene.fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=round(scene.fps))
        stream.width, stream.height, stream.pix_fmt = scene.width, scene.height, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for i in range(total):
            t = i / scene.fps
            frame = background.copy()
            for seat in scene.present(t):
                size = int(seat.tile.w)
                dx = 4.0 * math.sin(2 * math.pi * t / 5.0 + seat.sway_phase)
                dy = 2.0 * math.sin(2 * math.pi * t / 7.0 + seat.sway_phase)
                mirrored = seat.mirrored_from_s is not None and t >= seat.mirrored_from_s
                image = tile_image(seat.person.photos[scene.photo_at(seat, t)], size, mirrored)
                x, y = round(seat.tile.x + dx), round(seat.tile.y + dy)
                x0, y0 = max(0, x), max(0, y)
                x1, y1 = min(scene.width, x + size), min(scene.height, y + size)
                frame[y0:y1, x0:x1] = image[y0 - y : y1 - y, x0 - x : x1 - x]
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
            if progress is not None:
                progress(i + 1, total)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _background(width: int, height: int) -> Image:
    """A wall fading to the floor, with desk rows."""
    y = np.linspace(0.0, 1.0, height)[:, None]
    wall = np.array([196.0, 190.0, 176.0])
    floor = np.array([120.0, 96.0, 72.0])
    image = (wall * (1 - y) + floor * y)[:, None, :].repeat(width, axis=1)
    for row in np.linspace(0.25, 0.95, 5):
        top = int(row * height)
        image[top : top + max(4, height // 60)] = (92.0, 66.0, 44.0)
    out: Image = image.astype(np.uint8)
    return out


def lesson_from_dataset(
    faces_dir: Path,
    *,
    seats: int = 30,
    seconds: float = 60.0,
    seed: int = 0,
    enroll_dir: Path | None = None,
    fps: float = 25.0,
) -> tuple[Scene, dict[str, list[Path]]]:
    """A lesson of ``faces_dir/roster`` students (the photos not used to enroll them) and
    ``faces_dir/expressions`` strangers filling the other seats; returns the scene and the photos to
    enroll.  With ``enroll_dir`` those photos are also copied there, one folder per student, ready
    for ``learnsight video enroll``."""
    import shutil

    enroll, show = split_roster(faces_dir / "roster")
    others = strangers(faces_dir / "expressions", max(0, seats - len(show)), seed=seed)
    scene = classroom(show, others, seats=seats, seconds=seconds, fps=fps, seed=seed)
    if enroll_dir is not None:
        for name, photos in enroll.items():
            folder = enroll_dir / name
            folder.mkdir(parents=True, exist_ok=True)
            for photo in photos:
                shutil.copy2(photo, folder / photo.name)
    return scene, enroll
