"""The durable_rules wrapper: chaining, de-duplication, sessions, threads, surfaced errors."""

from __future__ import annotations

import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import icorules
from icorules import engine as engine_module
from icorules.engine import Engine, EngineError
from icorules.report import render_json
from tests.proposals import clean_proposal, edited, org

HEADER = """\
ruleset: test/{name}
version: "1"
rules:
"""


def ruleset(tmp_path: Path, name: str, rules: str) -> icorules.RuleBundle:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEADER.format(name=name) + textwrap.dedent(rules))
    return icorules.load_rulesets([path])


RULE = """\
  - id: {id}
    title: t
    severity: {severity}
    source: s
    fact: {fact}
    condition: "{condition}"
    message: m
    fix: f
"""


def rule(id: str, fact: str, condition: str, severity: str = "warning", extra: str = "") -> str:
    return RULE.format(id=id, fact=fact, condition=condition, severity=severity) + extra


def fired(report: icorules.Report) -> list[tuple[str, str]]:
    return sorted((f.rule, f.subject.id) for f in report.findings)


def test_derived_facts_chain_into_other_rules(tmp_path: Path) -> None:
    derive = "    derive: {kind: classification, fields: {name: widget}}\n"
    given = "    given: {classification: name == 'widget'}\n"
    bundle = ruleset(
        tmp_path,
        "chain",
        rule("T-001", "proposal", "practice_count > 0", extra=derive)
        + rule("T-002", "classification", "name == 'widget'")
        + rule("T-003", "partner", "is_practice", extra=given)
        + rule("T-004", "classification", "name == 'gadget'"),
    )
    report = icorules.check(clean_proposal(), rulesets=bundle)
    assert fired(report) == [
        ("T-001", "clean-bid"),
        ("T-002", "T-001/clean-bid"),
        ("T-003", "GP1"),
        ("T-003", "GP2"),
        ("T-003", "GP3"),
    ]
    assert report.passed == ["T-004"]


def test_given_blocks_when_no_fact_matches(tmp_path: Path) -> None:
    bundle = ruleset(
        tmp_path,
        "given",
        rule(
            "T-001",
            "partner",
            "is_practice",
            extra="    given: {proposal: budget_model == 'hard'}\n",
        ),
    )
    assert fired(icorules.check(clean_proposal(), rulesets=bundle)) == []


def test_or_branches_fire_once(tmp_path: Path) -> None:
    bundle = ruleset(tmp_path, "or", rule("T-001", "partner", "is_practice or list_size > 100"))
    assert fired(icorules.check(clean_proposal(), rulesets=bundle)) == [
        ("T-001", "GP1"),
        ("T-001", "GP2"),
        ("T-001", "GP3"),
    ]


def test_facts_no_rule_reads_do_not_lose_matches(tmp_path: Path) -> None:
    # Only pct_area facts match; every other fact is "not handled" by the engine.
    bundle = ruleset(tmp_path, "unmatched", rule("T-001", "pct_area", "population > 1"))
    assert fired(icorules.check(clean_proposal(), rulesets=bundle)) == [("T-001", "5AA")]


def test_many_matches_beyond_one_action_batch(tmp_path: Path) -> None:
    p = clean_proposal()
    for i in range(engine_module.CAP + 5):
        p["organisations"].append(
            {"id": f"V{i}", "name": f"Charity {i}", "type": "voluntary_organisation"}
        )
    bundle = ruleset(tmp_path, "many", rule("T-001", "partner", "type == 'voluntary_organisation'"))
    assert len(icorules.check(p, rulesets=bundle).findings) == engine_module.CAP + 5


def test_sessions_are_released_past_the_engine_cap(tmp_path: Path) -> None:
    # durable_rules refuses a 1,025th live session; each check must delete its own.
    bundle = ruleset(tmp_path, "sessions", rule("T-001", "partner", "is_practice"))
    proposal = icorules.load_proposal(clean_proposal())
    for _ in range(1100):
        report = icorules.check(proposal, rulesets=bundle)
    assert len(report.findings) == 3


def test_threads_get_the_same_answers_as_one_thread() -> None:
    proposals = [edited(lambda p, i=i: org(p, "GP2").update(list_size=i)) for i in range(40)]
    expected = [render_json([icorules.check(p)]) for p in proposals]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda p: render_json([icorules.check(p)]), proposals))
    assert got == expected


def test_an_action_failure_is_raised_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine()

    def broken(*args: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(engine, "_derive", broken)
    bundle = icorules.default_rulesets()
    facts = _facts(clean_proposal())
    with pytest.raises(EngineError, match="boom"):
        engine.run(bundle, facts)


def test_missing_engine_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "durable", None)
    with pytest.raises(EngineError, match=r"supports Python 3\.11 and 3\.12"):
        engine_module._import_durable()


def _facts(data: dict) -> list[dict]:
    from icorules.facts import derive_facts
    from icorules.graph import build_graph

    return [f.engine_dict() for f in derive_facts(build_graph(icorules.load_proposal(data)))]


def test_rules_that_need_a_market_stay_silent_without_one(tmp_path: Path) -> None:
    bundle = ruleset(
        tmp_path, "m", rule("MK-001", "partner", "is_practice", extra="    needs_market: true\n")
    )
    report = icorules.check(clean_proposal(), rulesets=bundle)
    assert report.findings == [] and report.passed == []
    assert report.not_evaluated == ["MK-001"]


def test_input_errors_survive_a_process_boundary() -> None:
    import pickle

    from icorules.errors import InputError, Problem

    error = InputError([Problem("bid.json", 3, 7, "bad"), Problem("bid.json", 1, 1, "worse")])
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and str(copy) == str(error)
