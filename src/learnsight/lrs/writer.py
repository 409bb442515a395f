"""Group commit of statement writes: the POSTs and PUTs that arrive while the store is busy are
written together, in request order, with one conflict lookup and one transaction.

Why: on the embedded DuckDB store a write costs a few milliseconds of fixed work (transaction,
batch bookkeeping, commit) whatever its size, and that fixed cost, not validation, bounded the
throughput.  The event loop validates and completes requests (:func:`~learnsight.lrs.statements.prepare`)
while a worker thread writes the previous group, so parsing and writing overlap on two cores.

Each request is still judged on its own, as if the requests had been written one after another
(:func:`~learnsight.lrs.statements.store_groups`): a conflicting request gets its 409 and the
others are stored.  A request is answered only after its group committed, so every acknowledged
statement is durable and visible to the next request.

``X-Experience-API-Consistent-Through`` (Part Three §2.1.3) must not pass a ``stored`` time whose
statement is not yet visible: :meth:`StatementWriter.consistent_through` is the oldest ``stored``
of a request still waiting, or now.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from starlette.concurrency import run_in_threadpool

from learnsight.lrs.attachments import Part, attachment_document, attachment_key
from learnsight.lrs.backend import LRSBackend
from learnsight.lrs.statements import Prepared, WriteRequest, store_groups, stored_text


class StaleCredential(Exception):
    """The credential of a write was revoked or replaced after it was verified: authenticate again."""


@dataclass
class _Job:
    request: WriteRequest
    bodies: Sequence[Part]
    stored: tuple[datetime, str]
    credential: tuple[str, bytes]
    future: asyncio.Future[None]


@dataclass
class StatementWriter:
    """Writes the statement requests of one LRS application in groups (see the module docstring).

    ``lock`` is the lock every use of ``backend`` takes; the writer holds it while it writes.
    """

    backend: LRSBackend
    lock: threading.Lock
    _pending: list[_Job] = field(default_factory=list)
    _writing: list[_Job] = field(default_factory=list)
    _drain: asyncio.Task[None] | None = None

    async def write(
        self,
        prepared: Sequence[Prepared],
        *,
        source: str,
        stored: tuple[datetime, str],
        credential: tuple[str, bytes],
        bodies: Sequence[Part] = (),
    ) -> None:
        """Store one request's statements (already checked for repeated ids) and its attachment
        ``bodies``, all received at ``stored`` (:func:`~learnsight.lrs.statements.now_stored`);
        returns once they are committed.

        ``credential`` is the (key, secret hash) the request was verified with; the stored record is
        re-checked under the lock, in the same critical section as the write, so a credential revoked
        a moment ago writes nothing.  Raises :class:`LRSError` (409, 400) or :class:`StaleCredential`.
        """
        loop = asyncio.get_running_loop()
        request = WriteRequest(tuple(prepared), source)
        job = _Job(request, tuple(bodies), stored, credential, loop.create_future())
        self._pending.append(job)
        if self._drain is None or self._drain.done():
            self._drain = loop.create_task(self._run())
        await job.future

    def consistent_through(self) -> str:
        """Now, or a millisecond before the oldest ``stored`` of a request not yet committed (the
        ``X-Experience-API-Consistent-Through`` value, in the ``stored`` format)."""
        now = datetime.now(UTC)
        waiting = [job.stored[0] - timedelta(milliseconds=1) for job in (*self._writing, *self._pending)]
        return stored_text(min([now, *waiting]))

    async def _run(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            self._writing = group
            try:
                outcomes = await run_in_threadpool(self._commit, group)
            except BaseException as exc:  # the futures must not wait forever
                for job in group:
                    if not job.future.done():
                        job.future.set_exception(exc)
                raise
            finally:
                self._writing = []
            for job, outcome in zip(group, outcomes, strict=True):
                if job.future.done():  # the client went away
                    continue
                if outcome is None:
                    job.future.set_result(None)
                else:
                    job.future.set_exception(outcome)

    def _commit(self, group: list[_Job]) -> list[Exception | None]:
        with self.lock:
            keys = {job.credential[0] for job in group}
            hashes = {key: self.backend.credential_hash(key) for key in keys}
            current = [hashes[job.credential[0]] == job.credential[1] for job in group]
            live = [job for job, ok in zip(group, current, strict=True) if ok]
            for job in live:
                for body in job.bodies:  # content-addressed: harmless if the statements are refused
                    document = attachment_document(body, job.stored[0])
                    self.backend.put_document(attachment_key(body.sha2), document)
            stored = iter(store_groups(self.backend, [job.request for job in live]))
        return [next(stored) if ok else StaleCredential() for ok in current]
