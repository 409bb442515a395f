"""Property tests: valid agents round-trip; junk never escapes as anything but a validation error."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from learnsight.errors import StatementValidationError
from learnsight.xapi import parse_statement
from learnsight.xapi.keys import account_key, mbox_key, mbox_sha1sum_key, openid_key

BASE: dict[str, Any] = {
    "actor": {"mbox": "mailto:ana@example.org"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}},
    "object": {"id": "http://example.org/a", "definition": {"name": {"en": "A"}}},
    "result": {"score": {"scaled": 0.5}, "success": True},
    "context": {"contextActivities": {"parent": [{"id": "http://example.org/p"}]}},
    "timestamp": "2024-03-01T09:30:00Z",
}

_local = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20)
_domain = st.from_regex(r"[a-z][a-z0-9]{0,10}\.(org|edu|com)", fullmatch=True)
_names = st.text(min_size=0, max_size=30)


@st.composite
def agents(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid Agent and its expected actor key."""
    kind = draw(st.sampled_from(["mbox", "mbox_sha1sum", "openid", "account"]))
    agent: dict[str, Any] = {}
    if draw(st.booleans()):
        agent["objectType"] = "Agent"
    if draw(st.booleans()):
        agent["name"] = draw(_names)
    if kind == "mbox":
        agent["mbox"] = f"mailto:{draw(_local)}@{draw(_domain)}"
        key = mbox_key(agent["mbox"])
    elif kind == "mbox_sha1sum":
        digest = hashlib.sha1(draw(_local).encode()).hexdigest()
        agent["mbox_sha1sum"] = digest.upper() if draw(st.booleans()) else digest
        key = mbox_sha1sum_key(agent["mbox_sha1sum"])
    elif kind == "openid":
        agent["openid"] = f"https://{draw(_domain)}/{draw(_local)}"
        key = openid_key(agent["openid"])
    else:
        home = f"https://{draw(_domain)}"
        name = draw(_names)
        agent["account"] = {"homePage": home, "name": name}
        key = account_key(home, name)
    return agent, key


@settings(max_examples=150, deadline=None)
@given(agents())
def test_valid_agents_round_trip(case: tuple[dict[str, Any], str]) -> None:
    agent, key = case
    stmt = parse_statement({**BASE, "actor": agent})
    assert stmt.actor.key() == key
    assert stmt.to_dict()["actor"] == agent
    assert parse_statement(stmt.to_dict()) == stmt


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "id",
        "objectType",
        "mbox",
        "member",
        "definition",
        "score",
        "scaled",
        "contextActivities",
        "parent",
        "display",
        "version",
        "authority",
        "attachments",
        "extensions",
        "interactionType",
        "choices",
    ]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_paths(v, (*prefix, i)))
    return found


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_statements_raise_only_statement_validation_errors(data: st.DataObject) -> None:
    statement = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(statement)[1:]))
        node: Any = statement
        for step in path[:-1]:
            node = node[step]
        if data.draw(st.booleans()) and isinstance(node, dict):
            node[data.draw(_keys)] = data.draw(_json)
        else:
            node[path[-1]] = data.draw(_json)
    for form in (statement, json.dumps(statement)):
        try:
            parse_statement(form)
        except StatementValidationError as exc:
            assert exc.errors
            assert all(isinstance(p, str) and isinstance(m, str) for p, m in exc.errors)


@settings(max_examples=200, deadline=None)
@given(_json | st.text(max_size=50))
@example({"\x1e": None})  # a key starting with the union-tag prefix (found by hypothesis)
@example({"\x1eactor:Agent": 1})
def test_arbitrary_input_raises_only_statement_validation_errors(value: Any) -> None:
    with contextlib.suppress(StatementValidationError):
        parse_statement(value)
