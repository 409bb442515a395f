"""Reliability of the LRS: concurrent load on a real server, ``kill -9`` in the middle of it, and
fuzzed statements.

* load: 16 client threads POST batches (some re-sent) to a uvicorn server on loopback; every id of
  every 2xx answer is retrievable, and the store holds exactly the acknowledged statements;
* crash: the same load, the server is killed with SIGKILL half-way and restarted on the same store;
  every acknowledged statement is still there;
* fuzz: hypothesis mutates valid statements; the LRS never answers 5xx, and a refused statement is
  never stored.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.lrs.conftest import HEADERS, statement

from learnsight.lrs.query import Query

URL = "/xAPI/statements"
AUTH = {
    "X-Experience-API-Version": "1.0.3",
    "Authorization": "Basic " + base64.b64encode(b"load:test").decode(),
}
SERVER = """
import sys, uvicorn
from learnsight.lrs import create_app
uvicorn.run(create_app(sys.argv[1], credentials={"load": ("test", ["all"])}),
            host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(target: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, target, str(port)], env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/xAPI/about", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the LRS server did not start")


def run_load(
    base: str,
    clients: int,
    batches: int,
    size: int,
    stop: threading.Event | None = None,
    acknowledged: set[str] | None = None,
) -> set[str]:
    """POST ``batches`` batches of ``size`` from each of ``clients`` threads; the acknowledged ids
    (collected into ``acknowledged`` as they come, when given)."""
    acknowledged = set() if acknowledged is None else acknowledged
    lock = threading.Lock()

    def client(c: int) -> None:
        with httpx.Client(base_url=base, headers=AUTH, timeout=30) as http:
            for b in range(batches):
                if stop is not None and stop.is_set():
                    return
                batch = [statement(c * 1000 + i, id=str(uuid.uuid4())) for i in range(size)]
                if b % 2:
                    for s in batch[: size // 2]:
                        del s["id"]  # the LRS makes the id
                for attempt in range(2 if b % 3 == 0 else 1):  # some batches are sent twice
                    try:
                        r = http.post(URL, json=batch if attempt == 0 else [s for s in batch if "id" in s])
                    except httpx.HTTPError:
                        return  # the server went away (crash test)
                    if r.status_code == 200:
                        with lock:
                            acknowledged.update(r.json())

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return acknowledged


def stored_ids(base: str) -> list[str]:
    ids: list[str] = []
    with httpx.Client(base_url=base, headers=AUTH, timeout=30) as http:
        page = http.get(URL, params={"format": "ids", "limit": "100"}).json()
        while True:
            ids += [s["id"] for s in page["statements"]]
            if not page["more"]:
                return ids
            page = http.get(page["more"]).json()


@pytest.mark.slow
def test_concurrent_load_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    port = free_port()
    proc = start_server(str(tmp_path / "lrs.duckdb"), port)
    base = f"http://127.0.0.1:{port}"
    try:
        acknowledged = run_load(base, clients=16, batches=6, size=25)
        ids = stored_ids(base)
        assert len(ids) == len(set(ids)), "a statement is stored twice"
        assert set(ids) == acknowledged
        assert len(acknowledged) == 16 * 6 * 25
        with httpx.Client(base_url=base, headers=AUTH) as http:
            for sid in list(acknowledged)[:50]:
                assert http.get(URL, params={"statementId": sid}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.slow
def test_kill_9_keeps_every_acknowledged_statement(tmp_path: Path) -> None:
    target = str(tmp_path / "lrs.duckdb")
    port = free_port()
    proc = start_server(target, port)
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    acknowledged: set[str] = set()
    loader = threading.Thread(target=run_load, args=(base, 16, 40, 25, stop, acknowledged))
    loader.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 200 and time.monotonic() < deadline:  # mid-load, however busy the machine
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    stop.set()
    loader.join()
    assert acknowledged, "nothing was acknowledged before the kill"
    assert len(acknowledged) < 16 * 40 * 25, "the kill came after the load, not in the middle of it"
    proc = start_server(target, port)
    try:
        ids = stored_ids(base)
        assert acknowledged <= set(ids)
        assert len(ids) == len(set(ids))
    finally:
        proc.terminate()
        proc.wait(30)


JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
PATHS = st.sampled_from(
    [
        ("actor",),
        ("actor", "mbox"),
        ("verb",),
        ("verb", "id"),
        ("verb", "display"),
        ("object",),
        ("object", "id"),
        ("object", "objectType"),
        ("id",),
        ("timestamp",),
        ("result",),
        ("context",),
        ("version",),
        ("attachments",),
        ("authority",),
        ("extra",),
    ]
)


def mutate(doc: dict[str, Any], path: tuple[str, ...], value: Any, delete: bool) -> dict[str, Any]:
    out = json.loads(json.dumps(doc))
    node = out
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if delete:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=PATHS, value=JUNK, delete=st.booleans())
def test_fuzzed_statements_never_5xx_and_refusals_store_nothing(
    client: TestClient, path: tuple[str, ...], value: Any, delete: bool
) -> None:
    backend = client.app.state.lrs.backend  # type: ignore[attr-defined]
    doc = mutate(statement(), path, value, delete)
    before = len(backend.query_statements(Query(), 10**6))
    r = client.post(URL, json=doc, headers=HEADERS)
    assert r.status_code < 500, r.text
    after = len(backend.query_statements(Query(), 10**6))
    if r.status_code >= 400:
        assert after == before
    else:
        assert r.status_code == 200
        assert client.get(URL, params={"statementId": r.json()[0]}, headers=HEADERS).status_code == 200
