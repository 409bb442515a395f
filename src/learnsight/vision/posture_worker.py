"""Posture in a second process, beside decoding, detection, expression and identification.

Body keypoints are the costliest stage of a lesson (one mediapipe pose call per student,
:mod:`learnsight.vision.posture`), and nothing downstream needs them before the last frame: they
are cut into clips only when the lesson is summarised.  So on a machine with two cores they are
read by a :class:`PostureWorker` — a ``spawn``-ed process with its own
:class:`~learnsight.vision.posture.PoseReader` — while the main process goes on with the next
frames.

* :meth:`PostureWorker.submit` sends one frame and the students to read in it.  At most
  ``max_pending`` frames wait in the queue; beyond that ``submit`` blocks until the worker catches
  up, so memory stays bounded (a 720p frame is 2.7 MB) and a slow worker slows the analysis
  instead of falling ever further behind.
* :meth:`PostureWorker.finish` waits for the last frame and returns every reading, in the order
  the requests were sent, with the worker's busy seconds.  A failure in the worker is raised here
  (:class:`PostureWorkerError`, with the worker's traceback).

Readings are identical to the main process's (static-image mode: each call is independent);
``AnalysisConfig(posture_process=False)`` reads them in the main process instead.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from learnsight.errors import LearnsightError
from learnsight.vision.posture import Keypoints
from learnsight.vision.types import Box, Image


class PostureWorkerError(LearnsightError, RuntimeError):
    """The posture process failed or died."""


@dataclass(frozen=True)
class PostureRequest:
    """One student to read in a frame: their track, face box and the other faces to paint over."""

    track: int
    face: Box
    others: tuple[Box, ...]
    time_s: float


def _serve(jobs: Any, results: Any, hands: bool) -> None:
    """The worker's loop: read every request of every frame until the ``None`` sentinel."""
    from learnsight.vision.posture import PoseReader

    busy = 0.0
    try:
        reader = PoseReader(hands=hands)
        while (job := jobs.get()) is not None:
            image, requests = job
            start = time.perf_counter()
            out = [
                (r.track, r.time_s, reader.read(image, r.face, others=r.others, time_s=r.time_s))
                for r in requests
            ]
            busy += time.perf_counter() - start
            results.put(("keypoints", out))
        reader.close()
        results.put(("done", busy))
    except BaseException:  # report anything, then stop
        results.put(("error", traceback.format_exc()))


class PostureWorker:
    """A second process that reads posture (see the module docstring).  Use it as a context
    manager: leaving the block stops the process even when the analysis failed."""

    def __init__(self, *, hands: bool = False, max_pending: int = 2, timeout_s: float = 600.0) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that holds torch's and mediapipe's threads
        self._jobs: Any = ctx.Queue(maxsize=max_pending)
        self._results: Any = ctx.Queue()
        self._process = ctx.Process(target=_serve, args=(self._jobs, self._results, hands), daemon=True)
        self._process.start()
        self._readings: list[tuple[int, float, Keypoints | None]] = []
        self._timeout_s = timeout_s
        self._finished = False

    def submit(self, image: Image, requests: Sequence[PostureRequest]) -> None:
        """Queue one frame's requests (blocks while ``max_pending`` frames are waiting)."""
        if not requests:
            return
        self._drain(block=False)
        while True:
            try:
                self._jobs.put((image, list(requests)), timeout=1.0)
                return
            except queue.Full:
                self._check_alive()
                self._drain(block=False)

    def finish(self) -> tuple[list[tuple[int, float, Keypoints | None]], float]:
        """Every reading as (track, time, keypoints or None), in request order, and the worker's
        busy seconds; stops the worker."""
        self._jobs.put(None)
        busy = self._drain(block=True)
        self._process.join(timeout=30)
        self._finished = True
        return self._readings, busy

    def _drain(self, *, block: bool) -> float:
        deadline = time.monotonic() + self._timeout_s
        while True:
            try:
                kind, payload = self._results.get(timeout=1.0) if block else self._results.get_nowait()
            except queue.Empty:
                if not block:
                    return 0.0
                self._check_alive()
                if time.monotonic() > deadline:
                    silent = f"the posture process sent nothing for {self._timeout_s:.0f} s"
                    raise PostureWorkerError(silent) from None
                continue
            if kind == "keypoints":
                self._readings.extend(payload)
                deadline = time.monotonic() + self._timeout_s
            elif kind == "done":
                return float(payload)
            else:
                raise PostureWorkerError(f"the posture process failed:\n{payload}")

    def _check_alive(self) -> None:
        if not self._process.is_alive():
            try:  # it may have reported why before it stopped
                kind, payload = self._results.get(timeout=1.0)
            except queue.Empty:
                kind, payload = "error", f"exit code {self._process.exitcode}"
            if kind == "error":
                raise PostureWorkerError(f"the posture process stopped:\n{payload}")
            if kind == "keypoints":
                self._readings.extend(payload)

    def close(self) -> None:
        """Stop the process (at once, when :meth:`finish` was not reached)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)
        self._jobs.close()
        self._results.close()

    def __enter__(self) -> PostureWorker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["PostureRequest", "PostureWorker", "PostureWorkerError"]
