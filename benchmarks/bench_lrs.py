"""Throughput and latency of the xAPI LRS on the DuckDB backend (issue 6 targets).

Usage::

    .venv/bin/python benchmarks/bench_lrs.py [--batches 150] [--clients 1,4,16] [--seconds 20] [--rate 50]

Starts a real uvicorn server (a subprocess, one worker) on a new DuckDB store and measures

* **throughput**: for each number of ``--clients``, that many threads POST ``--batches`` batches of
  100 statements in all, with the LRS's strict validation; statements per second over the wall time
  (target ≥ 5,000 /s, checked at 16 clients, the concurrency of the issue's load test; writes that
  arrive together are committed together, so one client sees less);
* **latency**: single-statement POSTs paced at ``--rate`` requests/s for ``--seconds``; p50, p95, p99
  (target p99 ≤ 20 ms);
* **baseline**, in this process: the same batches through the LRS's own validation and
  :meth:`DuckDBBackend.insert_statements` without HTTP, so the ratio shows what HTTP and the server
  add.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from _common import figure

from learnsight.lrs.auth import add_credential, verify
from learnsight.lrs.duckdb_backend import DuckDBBackend
from learnsight.lrs.statements import now_stored, prepare, store_statements

JSON = {"Content-Type": "application/json"}
AUTH = {
    "X-Experience-API-Version": "1.0.3",
    "Authorization": "Basic " + base64.b64encode(b"bench:bench").decode(),
}
SERVER = """
import sys, uvicorn
from learnsight.lrs import create_app
uvicorn.run(create_app(sys.argv[1], credentials={"bench": ("bench", ["all"])}),
            host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def statement(i: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {
            "objectType": "Agent",
            "mbox": f"mailto:s{i % 997}@uni.example",
            "name": f"Student {i % 997}",
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered"}},
        "object": {
            "objectType": "Activity",
            "id": f"http://lms.example/course/42/quiz/{i % 50}",
            "definition": {
                "name": {"en-US": f"Quiz {i % 50}"},
                "type": "http://adlnet.gov/expapi/activities/assessment",
            },
        },
        "result": {"score": {"scaled": (i % 100) / 100}, "success": i % 3 > 0, "duration": "PT4M12S"},
        "context": {
            "platform": "lms",
            "contextActivities": {"grouping": [{"id": "http://lms.example/course/42"}]},
        },
        "timestamp": "2026-03-02T10:15:00Z",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(store), str(port)])
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/xAPI/about", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the LRS did not start")


def throughput(base: str, batches: int, clients: int) -> float:
    # Encoded before the clock starts: the clients share the machine's two cores with the server,
    # and what is measured is the LRS, not the clients' JSON encoder.
    bodies = [json.dumps([statement(b * 100 + i) for i in range(100)]).encode() for b in range(batches)]
    queue = list(range(batches))
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=base, headers=AUTH, timeout=60) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    b = queue.pop()
                r = http.post("/xAPI/statements", content=bodies[b], headers=JSON)
                assert r.status_code == 200, r.text

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return batches * 100 / (time.perf_counter() - started)


def latency(base: str, seconds: float, rate: float) -> list[float]:
    took: list[float] = []
    with httpx.Client(base_url=base, headers=AUTH, timeout=10) as http:
        http.post("/xAPI/statements", json=statement(0))  # warm the connection
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < seconds:
            due = start + n / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            t0 = time.perf_counter()
            r = http.post("/xAPI/statements", json=statement(n))
            took.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
            n += 1
    return took


def baseline(store: Path, batches: int) -> float:
    backend = DuckDBBackend(store)
    add_credential(backend, "bench", "bench")
    credential = verify(backend, "bench", "bench")
    assert credential is not None
    bodies = [[statement(b * 100 + i) for i in range(100)] for b in range(batches)]
    started = time.perf_counter()
    for body in bodies:
        stored = now_stored()
        prepared = [
            prepare(s, version="1.0.3", credential=credential, stored=stored, index=i)
            for i, s in enumerate(body)
        ]
        store_statements(backend, prepared, source="lrs:bench")
    rate = batches * 100 / (time.perf_counter() - started)
    backend.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batches", type=int, default=150, help="batches of 100 statements per throughput run"
    )
    parser.add_argument(
        "--clients", default="1,4,16", help="concurrent clients of the throughput runs, comma-separated"
    )
    parser.add_argument("--seconds", type=float, default=20, help="duration of the paced latency run")
    parser.add_argument("--rate", type=float, default=50, help="requests per second of the latency run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start(Path(tmp) / "lrs.duckdb")
        try:
            clients = [int(c) for c in args.clients.split(",")]
            rates = {c: throughput(base, args.batches, c) for c in clients}
            took = latency(base, args.seconds, args.rate)
        finally:
            proc.terminate()
            proc.wait(30)
        direct = baseline(Path(tmp) / "direct.duckdb", args.batches)
    quantiles = statistics.quantiles(took, n=100)
    print(
        f"LRS on DuckDB, {os.cpu_count()} CPU(s); {args.batches} batches of 100 per run; "
        f"{len(took)} paced POSTs"
    )
    for c, rate in rates.items():
        target = ">= 5,000" if c == 16 else ""
        figure(f"POST batches of 100, {c} client(s): statements/s", rate, "stmt/s", target)
    figure("baseline (validation + store, no HTTP)", direct, "stmt/s")
    figure(f"HTTP LRS ({max(rates)} clients) / baseline", rates[max(rates)] / direct, "x")
    figure(f"single POST at {args.rate:g}/s: p50", quantiles[49], "ms")
    figure(f"single POST at {args.rate:g}/s: p95", quantiles[94], "ms")
    figure(f"single POST at {args.rate:g}/s: p99", quantiles[98], "ms", "<= 20 ms")


if __name__ == "__main__":
    main()
