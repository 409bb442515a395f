"""Benchmark: strict xAPI validation and full import of a JSON Lines file.

Generates N realistic LMS statements (quiz answers with interaction definitions, lesson
completions with scores and durations, video views with click extensions, class attendance from
the classroom platform; a tenth without id), writes them to a temporary JSON Lines file, then
measures, on the same lines:

* **baseline** — ``json.loads`` of every line (the floor any Python importer pays);
* **validation** — :func:`learnsight.xapi.parse_statement` of every line (strict, JSON text fast
  path in pydantic-core);
* **full ingest** — :func:`learnsight.ingest.xapi_json.ingest_xapi` into a fresh DuckDB store
  (validation, the column batch, duplicate and conflict checks, the store's transaction).

Statements per second are printed for wall-clock and for CPU time: this process's, all threads
(DuckDB's included), plus the validation worker processes the import forks (the CPU figure is
steadier on a shared machine), with each step's ratio to the baseline measured in the same run.
One-off costs of a process's first import are paid before the timings and printed apart: the
validators are built, and pyarrow imports pandas on its first ``pa.array`` call when pandas is
installed.  Nothing is asserted.

Run::

    python benchmarks/bench_xapi_ingest.py            # 100,000 statements
    python benchmarks/bench_xapi_ingest.py -n 20000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from learnsight.ingest.xapi_json import ingest_xapi
from learnsight.store import open_store
from learnsight.xapi import parse_statement, vocab

LMS = "https://lms.example.edu"


def _statement(rng: random.Random, i: int) -> dict[str, Any]:
    student = rng.randrange(5000)
    course = f"{LMS}/course/{rng.randrange(40)}"
    kind = rng.random()
    statement: dict[str, Any] = {
        "actor": {
            "objectType": "Agent",
            "name": f"Student {student}",
            "account": {"homePage": LMS, "name": f"s{student:05d}"},
        },
        "timestamp": f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T"
        f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}."
        f"{rng.randrange(1000):03d}Z",
        "context": {
            "registration": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "platform": vocab.SOURCE_LMS,
            "language": "en-US",
            "contextActivities": {
                "parent": [{"objectType": "Activity", "id": f"{course}/unit/{rng.randrange(12)}"}],
                "grouping": [
                    {
                        "objectType": "Activity",
                        "id": course,
                        "definition": {"type": vocab.COURSE, "name": {"en-US": "Course"}},
                    }
                ],
            },
        },
        "version": "1.0.3",
    }
    if kind < 0.4:
        statement["verb"] = {"id": vocab.ANSWERED, "display": {"en-US": "answered"}}
        statement["object"] = {
            "objectType": "Activity",
            "id": f"{course}/quiz/{rng.randrange(50)}",
            "definition": {
                "name": {"en-US": "Question"},
                "type": vocab.QUESTION,
                "interactionType": "choice",
                "correctResponsesPattern": ["b"],
                "choices": [{"id": c, "description": {"en-US": c.upper()}} for c in "abcd"],
            },
        }
        correct = rng.random() < 0.7
        statement["result"] = {
            "success": correct,
            "response": "b" if correct else "c",
            "duration": f"PT{rng.randrange(5, 300)}S",
        }
    elif kind < 0.7:
        statement["verb"] = {"id": vocab.COMPLETED, "display": {"en-US": "completed"}}
        statement["object"] = {
            "objectType": "Activity",
            "id": f"{course}/lesson/{rng.randrange(80)}",
            "definition": {"name": {"en-US": "Lesson"}, "type": vocab.LESSON},
        }
        raw = rng.randrange(0, 101)
        statement["result"] = {
            "score": {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100},
            "completion": True,
            "duration": f"PT{rng.randrange(1, 90)}M",
        }
    elif kind < 0.9:
        statement["verb"] = {"id": vocab.WATCHED, "display": {"en-US": "played"}}
        statement["object"] = {
            "objectType": "Activity",
            "id": f"{course}/video/{rng.randrange(30)}",
            "definition": {"name": {"en-US": "Video"}, "type": vocab.VIDEO},
        }
        statement["result"] = {
            "duration": f"PT{rng.randrange(10, 3000)}.5S",
            "extensions": {vocab.EXT_CLICKS: rng.randrange(1, 40)},
        }
    else:
        statement["verb"] = {"id": vocab.ATTENDED, "display": {"en-US": "attended"}}
        statement["object"] = {
            "objectType": "Activity",
            "id": f"{course}/session/{rng.randrange(60)}",
            "definition": {"type": vocab.CLASS_SESSION},
        }
        statement["context"]["platform"] = vocab.SOURCE_CLASSROOM
    if i % 10:
        statement["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return statement


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of its finished child processes.

    Validation workers are children of the fork server, not of this process, so their CPU time is
    not included: with workers, the CPU column measures this process's own share of the work.
    """
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _measure(label: str, count: int, step: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    step()
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    print(f"  {label:<32} {count / wall:>12,.0f} {count / cpu:>12,.0f}")
    return count / wall, count / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="statements (default 100,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workers", type=int, default=0, help="validation processes (0: one per CPU, as the CLI)"
    )
    parser.add_argument(
        "--campus",
        action="store_true",
        help="use the synthetic campus's LMS export (learnsight simulate --out) instead of the "
        "generated mix of heavier statements; -n then caps the count",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "statements.jsonl"
        if args.campus:
            from learnsight.simulate.campus import CampusConfig, export_sources, simulate_campus

            campus = simulate_campus(CampusConfig(n_students=300, seed=args.seed))
            exported = export_sources(campus, Path(tmp) / "campus")["lms"]
            with exported.open(encoding="utf-8") as src, source.open("w", encoding="utf-8") as fh:
                for _, line in zip(range(args.n), src, strict=False):
                    fh.write(line)
        else:
            with source.open("w", encoding="utf-8") as fh:
                for i in range(args.n):
                    fh.write(json.dumps(_statement(rng, i)) + "\n")
        lines = source.read_text(encoding="utf-8").splitlines()
        args.n = len(lines)
        size = source.stat().st_size
        kind = "synthetic-campus LMS statements" if args.campus else "generated statements"
        print(f"{args.n:,} {kind}, {size / 1e6:.1f} MB, {size / args.n:.0f} bytes each")
        print(f"  {'step':<32} {'wall st/s':>12} {'CPU st/s':>12}")
        parse_statement(lines[0])  # build the validators before timing
        started = time.perf_counter()
        pa.array(["warm-up"])  # pyarrow's one-off pandas import (when pandas is installed)
        print(f"  (one-off: pyarrow's first pa.array call {time.perf_counter() - started:.2f} s)")

        def loads() -> None:
            for line in lines:
                json.loads(line)

        def validate() -> None:
            for line in lines:
                parse_statement(line)

        base_wall, base_cpu = _measure("baseline: json.loads", args.n, loads)
        val_wall, val_cpu = _measure("strict validation", args.n, validate)
        with open_store(Path(tmp) / "bench.duckdb") as store:
            ing_wall, ing_cpu = _measure(
                "full ingest (validate + store)",
                args.n,
                lambda: ingest_xapi(store, source, workers=args.workers or None),
            )
            written = store.count_statements()
        print(f"  stored {written:,} statements")
        print("ratio to the json.loads baseline (wall / CPU):")
        print(f"  strict validation   {val_wall / base_wall:.2f} / {val_cpu / base_cpu:.2f}")
        print(f"  full ingest         {ing_wall / base_wall:.2f} / {ing_cpu / base_cpu:.2f}")
        print(f"full ingest / strict validation: {ing_wall / val_wall:.2f} / {ing_cpu / val_cpu:.2f}")


if __name__ == "__main__":
    main()
