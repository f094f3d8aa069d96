"""Property tests over everything that reads input: hypothesis makes the input.

- Arbitrary bytes, text and JSON-like documents given to the proposal, market, waiver, ruleset
  and ruleset-test loaders raise nothing but InputError (the library's error for bad input).
- Random conditions and message templates raise nothing but ExpressionError from the compiler,
  and a ruleset built from them either fails to load with InputError or runs without error:
  a ruleset that loads must not fail at run time.
- Valid proposals (generated, not fixed) round-trip through the model unchanged, and checking
  them gives a report or an InputError, never anything else.
- Reports are deterministic: the same input gives byte-identical JSON and text.

Examples per CI run: the sum of EXAMPLES below, 2,000 (printed by test_examples_per_run).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import icorules
from icorules.analysis.facts import FACT_KINDS, field_types
from icorules.engines.durable import pattern_json
from icorules.engines.durable.forms import engine_names
from icorules.errors import InputError
from icorules.inputs.codes import SERVICE_LINES, OrgType, has_visible_character
from icorules.inputs.market import load_market
from icorules.inputs.proposal import Proposal, load_proposal
from icorules.output.json_report import render_json
from icorules.output.text import render_text
from icorules.results.waivers import load_waivers
from icorules.rules import ir
from icorules.rules.condition import ExpressionError, compile_condition
from icorules.rules.loader import load_rulesets
from icorules.rules.testing import run_suite
from tests.proposals import clean_market, clean_proposal

pytestmark = pytest.mark.slow  # thousands of examples: the fast loop (-m "not slow") skips them

EXAMPLES = {
    "bytes": 300,
    "text": 300,
    "documents": 200,
    "mutated_proposals": 300,
    "mutated_markets": 150,
    "conditions": 300,
    "rulesets": 150,
    "round_trip": 200,
    "determinism": 100,
}


# ICORULES_FUZZ_SCALE=20 runs twenty times as many, for a longer hunt than CI has time for.
SCALE = int(os.environ.get("ICORULES_FUZZ_SCALE", "1"))


def fuzz(name: str) -> Callable[[Any], Any]:
    return settings(
        max_examples=EXAMPLES[name] * SCALE,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


def test_examples_per_run() -> None:
    """The number the issue asks to record: hypothesis examples in one CI run, at most."""
    total = sum(EXAMPLES.values())
    print(f"hypothesis examples per run: {total}")
    assert total >= 1000


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A directory for the files hypothesis writes (tmp_path is per test, not per example)."""
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


def only_input_errors(call: Callable[[], Any]) -> Any:
    """Run `call`; InputError is the only exception allowed, and it must say something, with
    every problem on one line."""
    try:
        return call()
    except InputError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert "\n" not in str(problem) and "\r" not in str(problem)
        return None


SUFFIXES = (".json", ".yaml", ".yml", "")


def load_everything(path: Path) -> None:
    bundle = icorules.default_rulesets()
    only_input_errors(lambda: load_proposal(path))
    only_input_errors(lambda: load_market(path))
    only_input_errors(lambda: load_waivers(path, bundle))
    only_input_errors(lambda: load_rulesets([path]))


# -- raw input --------------------------------------------------------------------------------

YAMLISH = st.text(alphabet=":-[]{},&*!|>'\"#%@`?~ \n\tab01.eE+", max_size=200)


@fuzz("bytes")
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_bytes(scratch: Path, data: bytes, suffix: str) -> None:
    path = scratch / f"bytes{suffix}"
    path.write_bytes(data)
    load_everything(path)


@fuzz("text")
@given(text=st.one_of(st.text(max_size=500), YAMLISH), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_text(scratch: Path, text: str, suffix: str) -> None:
    path = scratch / f"text{suffix}"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    load_everything(path)


KEYS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["id", "name", "organisations", "rules", "waivers", "tests", "format", "pct_areas"]
    ),
)
JSONISH = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.text(max_size=20),
        st.dates().map(dt.date.isoformat),
    ),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=40,
)


@fuzz("documents")
@given(document=JSONISH, as_yaml=st.booleans())
def test_arbitrary_documents(scratch: Path, document: Any, as_yaml: bool) -> None:
    if as_yaml:
        path = scratch / "document.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
    else:
        path = scratch / "document.json"
        path.write_text(json.dumps(document))  # NaN and Infinity included: not JSON, refused
    load_everything(path)
    test_file = scratch / "document.test.yaml"
    test_file.write_text(yaml.safe_dump(document, allow_unicode=True))
    only_input_errors(lambda: run_suite([test_file], None))


# -- proposals and markets that are nearly right ---------------------------------------------

ODD_VALUES = st.one_of(
    JSONISH,
    st.sampled_from(
        ["GP1", "GP2", "PCT1", "LA1", "5AA", "", " ", "2008-02-30", "gp_practice", -1, 0, 2**63]
    ),
)


def paths_of(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_of(item, (*at, index))


@st.composite
def mutated(draw: st.DrawFn, base: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`base()` with one to four edits: a value replaced, a key or item removed, an item
    repeated, or a key added."""
    document = base()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = [p for p in paths_of(document) if p]
        at = draw(st.sampled_from(paths))
        parent = document
        for part in at[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "remove", "repeat", "add"]))
        if action == "replace":
            parent[at[-1]] = draw(ODD_VALUES)
        elif action == "remove":
            del parent[at[-1]]
        elif action == "repeat" and isinstance(parent, list):
            parent.append(parent[at[-1]])
        elif action == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(ODD_VALUES)
    return document


@fuzz("mutated_proposals")
@given(proposal=mutated(clean_proposal))
def test_nearly_valid_proposals_give_a_report_or_input_errors(proposal: dict[str, Any]) -> None:
    only_input_errors(lambda: icorules.check(proposal))


@fuzz("mutated_markets")
@given(market=mutated(clean_market))
def test_nearly_valid_markets_give_a_report_or_input_errors(market: dict[str, Any]) -> None:
    only_input_errors(lambda: icorules.check(clean_proposal(), market=market))


# -- conditions, templates and the rulesets made of them ---------------------------------------

TOKENS = [
    *list(field_types("proposal"))[:12],
    "params.min_years",
    "params.types",
    "params.__class__",
    "0",
    "1",
    "-1",
    "2.5",
    "0.12345",
    "1e308",
    "9007199254740993",
    "'pooled'",
    "'x'",
    "True",
    "False",
    "None",
    "<",
    "<=",
    "==",
    "!=",
    ">",
    ">=",
    "in",
    "not in",
    "and",
    "or",
    "not",
    "+",
    "-",
    "*",
    "/",
    "**",
    "//",
    "%",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "lambda",
    ":",
    "__import__",
    "if",
    "else",
    "for",
    "is",
    "{",
    "}",
]
CONDITIONS = st.one_of(
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14).map(" ".join),
    st.text(max_size=80),
)
PARAMS = {"min_years": 3, "types": ["pct", "care_trust"], "start": dt.date(2008, 12, 31)}
ALLOWED_KEYS = {"$and", "$or", "$lt", "$lte", "$gt", "$gte", "$neq", "$add", "$sub", "$mul"}
ALLOWED_KEYS |= {"$div", "$m", "$l", "$r"}


def keys_of(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys_of(item)


@fuzz("conditions")
@given(text=CONDITIONS, kind=st.sampled_from(sorted(FACT_KINDS)))
def test_conditions_compile_or_raise_expression_error(text: str, kind: str) -> None:
    fields = field_types(kind)
    try:
        compiled = compile_condition(text, fields, PARAMS, kind)
    except ExpressionError as exc:
        assert exc.message
        return
    engine_form, values = pattern_json(ir.Pattern(kind, compiled.condition, True), PARAMS)
    json.dumps([engine_form, values])  # plain data only
    short = engine_names(kind)
    names = {"ref" if f == "id" else short[f] for f in fields} | {"kind"} | set(values)
    assert set(keys_of(engine_form)) <= ALLOWED_KEYS | names
    assert set(compiled.reads) <= set(fields)


PROPOSAL_FIELDS = field_types("proposal")
NUMERIC = sorted(n for n, t in PROPOSAL_FIELDS.items() if t.base in (int, float))
FLAGS = sorted(n for n, t in PROPOSAL_FIELDS.items() if t.base is bool)
CHOICES = sorted(n for n, t in PROPOSAL_FIELDS.items() if t.choices)
NUMBERS = st.one_of(
    st.integers(min_value=-5, max_value=300_000).map(str),
    st.decimals(min_value=0, max_value=100, places=2).map(str),
    st.just("params.min_years"),
)


@st.composite
def comparison(draw: st.DrawFn) -> str:
    """One test a policy analyst might write about a proposal (all of them compile)."""
    shape = draw(st.sampled_from(["number", "arithmetic", "flag", "choice", "date"]))
    if shape == "flag":
        flag = draw(st.sampled_from(FLAGS))
        return draw(st.sampled_from([flag, f"{flag} == True", f"{flag} != False"]))
    if shape == "choice":
        name = draw(st.sampled_from(CHOICES))
        options = draw(
            st.lists(st.sampled_from(PROPOSAL_FIELDS[name].choices), min_size=1, unique=True)
        )
        return f"{name} {draw(st.sampled_from(['in', 'not in']))} {options!r}"
    if shape == "date":
        return f"implementation_date {draw(st.sampled_from(['<', '>=', '==']))} params.start"
    op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
    left = draw(st.sampled_from(NUMERIC))
    if shape == "arithmetic":
        right = f"{draw(st.sampled_from(NUMERIC))} {draw(st.sampled_from('+-*'))} {draw(NUMBERS)}"
        return f"{left} {op} {right}"
    return f"{left} {op} {draw(NUMBERS)}"


WELL_FORMED = st.recursive(
    comparison(),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda ab: f"({ab[0]}) and ({ab[1]})"),
        st.tuples(inner, inner).map(lambda ab: f"({ab[0]}) or ({ab[1]})"),
        inner.map(lambda a: f"not ({a})"),
    ),
    max_leaves=8,
)
RULE_CONDITIONS = st.one_of(WELL_FORMED, WELL_FORMED, WELL_FORMED, CONDITIONS)

TEMPLATE_PARTS = [
    "{name}",
    "{evaluation_years}",
    "{implementation_date:%B %Y}",
    "{evaluation_years:.1f}",
    "{params.min_years}",
    "{params.start:%d %B}",
    "{",
    "}",
    "{{",
    "}}",
    "{name.__class__}",
    "{name[0]}",
    "{name!r}",
    "{name:>200}",
    "{name:{evaluation_years}}",
    "{0}",
    "{}",
    "text ",
    "%s",
]
GOOD_PARTS = [p for p in TEMPLATE_PARTS[:6] if "{" in p] + ["text "]
TEMPLATES = st.one_of(
    st.lists(st.sampled_from(GOOD_PARTS), min_size=1, max_size=4).map("".join),
    st.lists(st.sampled_from(TEMPLATE_PARTS), min_size=1, max_size=5).map("".join),
    st.text(min_size=1, max_size=40),
)


@fuzz("rulesets")
@given(condition=RULE_CONDITIONS, message=TEMPLATES, dated=st.booleans())
def test_a_ruleset_that_loads_runs(
    scratch: Path, condition: str, message: str, dated: bool
) -> None:
    """The promise of the loader: what it accepts, the engine and the reports can run."""
    ruleset = {
        "ruleset": "fuzz/one",
        "version": "1",
        "parameters": {
            "min_years": {"default": 3},
            "types": {"default": ["pct", "care_trust"]},
            "start": {"default": dt.date(2008, 12, 31)},
        },
        "rules": [
            {
                "id": "FUZZ-001",
                "title": "t",
                "severity": "warning",
                "source": "s",
                "fact": "proposal",
                "condition": condition,
                "message": message,
                "fix": "f",
            }
        ],
    }
    path = scratch / "fuzz.yaml"
    path.write_text(yaml.safe_dump(ruleset, allow_unicode=True))
    bundle = only_input_errors(lambda: load_rulesets([path]))
    assume(bundle is not None)
    proposal = clean_proposal()
    if not dated:
        del proposal["implementation_date"]
    report = icorules.check(proposal, rulesets=bundle)  # no exception of any kind allowed
    reference = icorules.check(proposal, rulesets=bundle, engine="reference")
    assert render_json([report]) == render_json([reference])


# -- valid proposals: round trip and determinism ----------------------------------------------

NAMES = st.text(
    alphabet=st.characters(blacklist_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1, max_size=40
).filter(lambda s: s.strip() and has_visible_character(s))  # text must show something
SERVICES = sorted(SERVICE_LINES)
PCT_CODES = ["5AA", "5AB", "5NE"]


@st.composite
def proposals(draw: st.DrawFn) -> dict[str, Any]:
    """Valid proposals of many shapes, built so every reference resolves."""
    codes = draw(st.lists(st.sampled_from(PCT_CODES), min_size=1, max_size=3, unique=True))
    orgs: list[dict[str, Any]] = [
        {"id": "PCT1", "name": draw(NAMES), "type": "pct", "pct": codes[0]},
    ]
    for i in range(draw(st.integers(min_value=1, max_value=6))):
        practice: dict[str, Any] = {
            "id": f"GP{i}",
            "name": draw(NAMES),
            "type": "gp_practice",
            "pct": draw(st.sampled_from(codes)),
            "provides": draw(st.lists(st.sampled_from(SERVICES), max_size=3, unique=True)),
        }
        if draw(st.booleans()):
            practice["list_size"] = draw(st.integers(min_value=0, max_value=2_000_000))
        orgs.append(practice)
    others = [t.value for t in OrgType if t not in (OrgType.gp_practice, OrgType.other)]
    for i in range(draw(st.integers(min_value=0, max_value=4))):
        orgs.append(
            {
                "id": f"ORG-{i}",
                "name": draw(NAMES),
                "type": draw(st.sampled_from(others)),
                "provides": draw(st.lists(st.sampled_from(SERVICES), max_size=4, unique=True)),
                "commissions": draw(st.lists(st.sampled_from(SERVICES), max_size=2, unique=True)),
            }
        )
    ids = [o["id"] for o in orgs]
    some = st.lists(st.sampled_from(ids), min_size=2, max_size=len(ids), unique=True)
    agreements = [
        {
            "id": f"A{i}",
            "type": draw(st.sampled_from(["alliance", "service_contract", "referral"])),
            "parties": draw(some),
            "services": draw(st.lists(st.sampled_from(SERVICES), max_size=3, unique=True)),
            "exclusive_referral": draw(st.booleans()),
        }
        for i in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    governance: dict[str, Any] = {}
    if draw(st.booleans()):
        governance["board"] = {"members": [{"organisation": o} for o in draw(some)]}
    if draw(st.booleans()):
        governance["dispute_resolution"] = {"description": draw(NAMES), "parties": draw(some)}
    if draw(st.booleans()):
        governance["evaluation"] = {
            "independent": draw(st.booleans()),
            "years": draw(st.integers(min_value=0, max_value=20)),
            "data_submission_parties": draw(some),
        }
    if draw(st.booleans()):
        governance["budget"] = {
            "model": draw(st.sampled_from(["indicative_pbc", "pooled", "hard"]))
        }
    proposal: dict[str, Any] = {
        "format": "icorules/proposal/1",
        "id": "fuzz-bid",
        "name": draw(NAMES),
        "lead": draw(st.sampled_from(ids)),
        "population_basis": draw(st.sampled_from(["registered_list", "geographic"])),
        "care_categories": draw(
            st.lists(st.sampled_from(["older_people", "urgent_care"]), unique=True)
        ),
        "pct_areas": [
            {
                "code": code,
                "name": draw(NAMES),
                "population": draw(st.integers(min_value=1, max_value=20_000_000)),
            }
            for code in codes
        ],
        "organisations": orgs,
        "agreements": agreements,
        "governance": governance,
    }
    if draw(st.booleans()):
        proposal["implementation_date"] = draw(
            st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))
        ).isoformat()
    return proposal


@fuzz("round_trip")
@given(data=proposals())
def test_valid_proposals_round_trip(scratch: Path, data: dict[str, Any]) -> None:
    model = load_proposal(data)
    assert Proposal.model_validate(model.model_dump()) == model
    assert Proposal.model_validate(model.model_dump(mode="json")) == model
    assert Proposal.model_validate_json(model.model_dump_json()) == model
    for suffix, dump in ((".json", json.dumps), (".yaml", yaml.safe_dump)):
        path = scratch / f"round-trip{suffix}"
        path.write_text(dump(model.model_dump(mode="json")))
        assert load_proposal(path) == model


@fuzz("determinism")
@given(data=proposals(), with_market=st.booleans())
def test_reports_are_deterministic(data: dict[str, Any], with_market: bool) -> None:
    market = clean_market() if with_market else None
    first = only_input_errors(lambda: icorules.check(data, market=market))
    assume(first is not None)  # a market may disagree with a generated bid; that is refused
    again = icorules.check(data, market=market)
    model = icorules.check(load_proposal(data), market=market)
    assert render_json([first]) == render_json([again]) == render_json([model])
    assert render_text([first]) == render_text([again])
