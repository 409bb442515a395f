"""Vectorised ids and helpers of the simulator agree with their scalar definitions."""

from __future__ import annotations

import doctest
import uuid
from datetime import datetime

import numpy as np
import pyarrow as pa

from learnsight.simulate import frame
from learnsight.simulate.frame import SIM_COLUMNS, expand, with_ids
from learnsight.store.schema import STATEMENT_COLUMNS
from learnsight.xapi.ids import NAMESPACE, deterministic_id


def test_ids_equal_deterministic_id() -> None:
    n = 3
    ts = [datetime(2024, 9, 2, 7, 30, s) for s in range(n)]
    cols: dict[str, pa.Array] = {name: pa.nulls(n, STATEMENT_COLUMNS[name]) for name in SIM_COLUMNS}
    cols.update(
        actor_key=pa.array(["account:https://campus.example.edu|S0001"] * n),
        verb_id=pa.array(["v"] * n),
        object_id=pa.array(["o1", "o2", "é"]),
        ts=pa.array(ts, type=pa.timestamp("us")),
        source=pa.array(["canteen"] * n),
        k=pa.array([0, 1, 2], type=pa.int64()),
    )
    out = with_ids(pa.table(cols), seed=42)
    for i in range(n):
        expected = deterministic_id(
            "simulate",
            42,
            "canteen",
            "v",
            cols["actor_key"][i].as_py(),
            cols["object_id"][i].as_py(),
            str(ts[i]),
            i,
        )
        assert out.column("id")[i].as_py() == str(expected)


def test_uuid_layout_matches_uuid5() -> None:
    import hashlib

    names = [f"name-{i}" for i in range(200)]
    digests = pa.array([hashlib.sha1(NAMESPACE.bytes + name.encode()).hexdigest() for name in names])
    laid_out = frame._uuid_text(digests.slice(1)).to_pylist()
    assert laid_out == [str(uuid.uuid5(NAMESPACE, name)) for name in names[1:]]


def test_expand() -> None:
    parent, k = expand(np.array([0, 3, 1]))
    assert parent.tolist() == [1, 1, 1, 2]
    assert k.tolist() == [0, 1, 2, 0]


def test_docstring_examples() -> None:
    from learnsight.simulate import campus

    for module in (frame, campus):
        assert doctest.testmod(module).failed == 0
