"""JSON's fast path (documents._fast_json: orjson, and the document written out again to read
its depth and count its keys) vouches only for what the exact path accepts, and gives the same
data: anything else is parsed again by Python's json, which says what is wrong and where."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icorules.errors import InputError
from icorules.inputs import documents
from icorules.limits import Limits

_KEYS = st.sampled_from(["a", "b", "id", "c:d", "é", "x y"])
_TEXT = st.text(alphabet=st.sampled_from('ab:é \\"\n\u2028'), max_size=6)


def _string(text: str, escape_colons: bool) -> str:
    written = json.dumps(text, ensure_ascii=False)
    return written.replace(":", "\\u003a") if escape_colons else written


@st.composite
def _scalar(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return _string(draw(_TEXT), draw(st.booleans()))
    if kind == 1:
        return str(draw(st.integers(-(2**70), 2**70)))
    if kind == 2:
        return repr(draw(st.floats(allow_nan=False, allow_infinity=False)))
    return draw(st.sampled_from(["true", "false", "null"]))


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Lists, and objects whose keys may repeat (JSON text, written by hand)."""
    pairs = st.lists(st.tuples(_KEYS, children, st.booleans()), max_size=4)
    objects = pairs.map(
        lambda kvs: "{" + ", ".join(f"{_string(k, colon)}: {v}" for k, v, colon in kvs) + "}"
    )
    lists = st.lists(children, max_size=4).map(lambda items: "[" + ",".join(items) + "]")
    return objects | lists


DOCUMENTS = st.recursive(_scalar(), _containers, max_leaves=30)


def _exact(text: str, limits: Limits) -> Any:
    """What the exact path says: the data, or InputError."""
    data = documents._parse_json(text, "doc.json", limits)
    documents._check_shape(data, "doc.json", limits, text if "\\u" in text else None)
    return data


@settings(max_examples=1500, deadline=None)
@given(DOCUMENTS, st.integers(1, 6), st.integers(1, 40))
def test_the_fast_path_vouches_only_for_what_the_exact_path_accepts(
    text: str, depth: int, values: int
) -> None:
    limits = Limits(depth=depth, values=values)
    fast = documents._fast_json(text, limits)
    try:
        exact = _exact(text, limits)
    except InputError:
        assert fast is documents._UNSURE
        return
    if fast is not documents._UNSURE:
        assert fast == exact
        assert json.dumps(fast) == json.dumps(exact)  # ints stay ints, floats floats


def _depth(value: Any) -> int:
    """How deep the deepest value lies (the document itself: 0)."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return 1 + max(map(_depth, items)) if items else 0


@settings(max_examples=500, deadline=None)
@given(DOCUMENTS, st.integers(1, 6))
def test_depth_read_from_the_indented_document_is_the_depth(text: str, depth: int) -> None:
    try:
        data = orjson.loads(text)  # as the fast path reads it
    except orjson.JSONDecodeError:
        return
    written = orjson.dumps(data, option=orjson.OPT_INDENT_2)
    assert documents._too_deep(written, Limits(depth=depth)) == (_depth(data) > depth)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a": {"b": 1, "b": 1}, "c": ":"}',
        '{"k\\u003a": 1, "k\\u003a": 1}',
        '{"a": "\\u003a", "a": ":"}',
    ],
)
def test_a_repeated_key_is_never_vouched_for(text: str) -> None:
    assert documents._fast_json(text, Limits()) is documents._UNSURE


def test_a_bid_is_vouched_for_and_a_deep_one_is_not() -> None:
    assert documents._fast_json('{"a": [1, {"b": ":"}]}', Limits(depth=3)) == {"a": [1, {"b": ":"}]}
    assert documents._fast_json('{"a": [1, {"b": ":"}]}', Limits(depth=2)) is documents._UNSURE
    deep = "[" * 300 + "]" * 300  # deeper than orjson writes: the exact path decides
    assert documents._fast_json(deep, Limits(depth=400)) is documents._UNSURE
    assert _exact(deep, Limits(depth=400)) is not None
