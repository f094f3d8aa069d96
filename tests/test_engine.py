"""The durable_rules wrapper: chaining, de-duplication, sessions, threads, surfaced errors."""

from __future__ import annotations

import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import icorules
from icorules.engines import EngineError, get_backend
from icorules.engines import durable as engine_module
from icorules.engines.durable import Engine
from icorules.output.json_report import render_json
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


# T-001 derives a classification; T-002 reads it, T-003 waits for it, T-004 wants another one.
CHAIN = (
    rule(
        "T-001",
        "proposal",
        "practice_count > 0",
        extra="    derive: {kind: classification, fields: {name: widget}}\n",
    )
    + rule("T-002", "classification", "name == 'widget'")
    + rule(
        "T-003", "partner", "is_practice", extra="    given: {classification: name == 'widget'}\n"
    )
    + rule("T-004", "classification", "name == 'gadget'")
)


def test_derived_facts_chain_into_other_rules(tmp_path: Path) -> None:
    bundle = ruleset(tmp_path, "chain", CHAIN)
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


def test_many_matches_beyond_one_action_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module.forms, "CAP", 50)  # proposals are capped at 1,000 partners
    p = clean_proposal()
    for i in range(engine_module.forms.CAP + 5):
        p["organisations"].append(
            {"id": f"V{i}", "name": f"Charity {i}", "type": "voluntary_organisation"}
        )
    bundle = ruleset(tmp_path, "many", rule("T-001", "partner", "type == 'voluntary_organisation'"))
    assert len(icorules.check(p, rulesets=bundle).findings) == engine_module.forms.CAP + 5


@pytest.mark.slow
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

    monkeypatch.setattr(engine_module.host, "Match", broken)
    bundle = icorules.default_rulesets()
    facts = _facts(clean_proposal())
    with pytest.raises(EngineError, match="boom"):
        engine.run(engine.prepare(bundle), facts)


def test_missing_engine_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)
    with pytest.raises(EngineError, match=r"supports Python 3\.11 and 3\.12"):
        engine_module._import_durable()


def _facts(data: dict) -> list[dict]:
    from icorules.analysis.derive import derive_facts
    from icorules.analysis.graph import build_graph
    from icorules.engines import fact_record

    return [fact_record(f) for f in derive_facts(build_graph(icorules.load_proposal(data)))]


def test_rules_that_need_a_market_stay_silent_without_one(tmp_path: Path) -> None:
    bundle = ruleset(
        tmp_path, "m", rule("MK-001", "partner", "is_practice", extra="    needs_market: true\n")
    )
    report = icorules.check(clean_proposal(), rulesets=bundle)
    assert report.findings == [] and report.passed == []
    assert report.rules_not_evaluated == ["MK-001"]


def test_input_errors_survive_a_process_boundary() -> None:
    import pickle

    from icorules.errors import InputError, Problem

    error = InputError([Problem("bid.json", 3, 7, "bad"), Problem("bid.json", 1, 1, "worse")])
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and str(copy) == str(error)


# -- bundles split over several engine rulesets ---------------------------------------------


def test_derived_facts_reach_rules_in_every_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One rule per engine ruleset: the derived fact must cross from the first to the others.
    monkeypatch.setattr(engine_module.network, "CHUNK_RULES", 1)
    bundle = ruleset(tmp_path, "chunked", CHAIN)
    assert len(engine_module.plan(bundle)) == 4
    report = icorules.check(clean_proposal(), rulesets=bundle)
    assert fired(report) == [
        ("T-001", "clean-bid"),
        ("T-002", "T-001/clean-bid"),
        ("T-003", "GP1"),
        ("T-003", "GP2"),
        ("T-003", "GP3"),
    ]


@pytest.mark.slow
def test_plan_keeps_each_kind_under_the_sibling_limit(tmp_path: Path) -> None:
    rules = "".join(rule(f"T-{i:03d}", "partner", f"list_size == {i}") for i in range(600))
    rules += rule("U-001", "proposal", "practice_count > 0")
    chunks = engine_module.plan(ruleset(tmp_path, "wide", rules))
    assert sum(len(c.rules) for c in chunks) == 601
    for chunk in chunks:
        assert len(chunk.rules) <= engine_module.CHUNK_RULES
        network = engine_module._Network()  # the engine's tables, as the chunk fills them
        for form in chunk.forms:
            assert network.add(form) == []
        for node in network.root.children.values():  # one per kind: their tests side by side
            assert len(node.children) <= engine_module.MAX_CHILDREN


WIDE_RULES = """
import sys, textwrap
from pathlib import Path
import icorules
from tests.proposals import clean_proposal
rules = "".join(
    textwrap.dedent(f'''
      - id: T-{i:03d}
        title: t
        severity: info
        source: s
        fact: partner
        condition: "list_size == {i * 1000}"
        message: m
        fix: f
    ''')
    for i in range(600)
)
path = Path(sys.argv[1])
path.write_text("ruleset: test/wide\\nversion: '1'\\nrules:\\n" + textwrap.indent(rules, "  "))
report = icorules.check(clean_proposal(), rulesets=[path])
print(sorted((f.rule, f.subject.id) for f in report.findings))
"""


@pytest.mark.slow
def test_more_sibling_tests_than_one_engine_ruleset_survives(tmp_path: Path) -> None:
    """600 tests on one field hang a single durable_rules ruleset on the first assert; split,
    they run. In a child process, so a regression fails instead of hanging the suite."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", WIDE_RULES, str(tmp_path / "wide.yaml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    expected = [("T-000", "LA1"), ("T-000", "PCT1"), ("T-005", "GP3")]
    assert done.stdout.strip() == str([*expected, ("T-007", "GP2"), ("T-008", "GP1")])


def test_matches_carry_the_full_facts_not_what_the_engine_was_sent() -> None:
    bundle = icorules.default_rulesets()
    facts = _facts(clean_proposal())
    by_id = {(f["kind"], f["id"]): f for f in facts}
    engine = Engine()
    matches = engine.run(engine.prepare(bundle), facts)
    assert matches
    for match in matches:
        if (match.subject["kind"], match.subject["id"]) in by_id:
            assert match.subject is by_id[match.subject["kind"], match.subject["id"]]
        assert "sid" not in match.subject


def test_each_chunk_is_asserted_once_per_round_even_with_facts_no_rule_reads() -> None:
    # A fact that no rule matches made durable_rules' own host raise MessageNotHandledException,
    # encode the whole batch again and defer the other actions; driven directly, the C core only
    # returns a code: one assert per chunk and round, and the matches are all there.
    engine = Engine()
    calls: list[str] = []
    real = engine._host.assert_facts
    engine._host.assert_facts = lambda name, facts: calls.append(name) or real(name, facts)  # type: ignore[method-assign]
    bundle = icorules.default_rulesets()
    facts = _facts(clean_proposal())
    matches = engine.run(engine.prepare(bundle), facts)
    rounds = 1 + any(bundle.rule(m.rule).derive for m in matches)  # derived facts: a second
    assert len(calls) == rounds * len(engine_module.plan(bundle))
    reference = get_backend("reference")
    want = {(m.rule, m.subject["id"]) for m in reference.run(reference.prepare(bundle), facts)}
    assert {(m.rule, m.subject["id"]) for m in matches} == want


RANGE_RULES = """
import json, sys
from pathlib import Path
import icorules
from icorules.rules import loader
from tests.proposals import clean_proposal
loader.MAX_RANGE_TESTS = 10_000  # the loader's bound for a whole run; the engine splits anyway
rules = [
    {"id": f"T-{i:03d}", "title": "t", "severity": "info", "source": "s", "fact": "partner",
     "condition": f"list_size > {i * 100}", "message": "m", "fix": "f"}
    for i in range(200)
]
path = Path(sys.argv[1])
path.write_text(json.dumps({"ruleset": "test/ranges", "version": "1", "rules": rules}))
bundle = icorules.load_rulesets([path])
durable = icorules.check(clean_proposal(), rulesets=bundle)
reference = icorules.check(clean_proposal(), rulesets=bundle, engine="reference")
print(len(durable.findings), durable.findings == reference.findings)
"""


@pytest.mark.slow
def test_facts_passing_many_range_tests_do_not_crash_the_engine(tmp_path: Path) -> None:
    """GP1 (8,000 patients) passes 80 `list_size > N` tests: more than 64 under one node fail
    with error 303 or crash durable_rules; split into rulesets of at most CHUNK_RANGE_TESTS,
    they run. In a child process, so a regression fails instead of taking the suite down."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", RANGE_RULES, str(tmp_path / "ranges.json")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["200", "True"]  # 80 + 70 + 50 findings on the 3 practices


def test_a_check_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    proposal = clean_proposal()
    assert gc.isenabled()
    icorules.check(proposal)
    assert gc.isenabled()
    gc.disable()
    try:
        icorules.check(proposal)
        assert not gc.isenabled()
    finally:
        gc.enable()


# A check sends the rows' values as derive gives them (engines.normalized): an absent date as
# None, enums as members, shares unrounded. Each of these is read by a rule here, and by the
# bundled rules (dates against a parameter, types against a list parameter, shares).
AS_SENT = (
    rule("T-201", "proposal", "implementation_date > params.start")
    + rule("T-202", "proposal", "implementation_date != params.start")
    + rule("T-206", "proposal", "lead_type == 'gp_practice'")
    + rule("T-203", "partner", "type in ['gp_practice', 'local_authority']")
    + rule("T-204", "pct_area", "population_share == {share}")
    + "parameters:\n  start: {default: 2008-11-01, description: d, unit: date}\n"
)


@pytest.mark.parametrize("start", ["2008-11-01", None, "2009-06-30"])
def test_rows_as_sent_match_as_their_normalized_records_do(tmp_path: Path, start: str) -> None:
    from icorules.analysis.derive import derive_rows
    from icorules.analysis.graph import build_graph
    from icorules.engines import normalized

    def data(p: dict) -> None:
        p["implementation_date"] = start
        p["pct_areas"][0]["population"] = 81_000  # a share with more than 4 decimal places

    engine, reference = Engine(), get_backend("reference")
    rows = derive_rows(build_graph(icorules.load_proposal(edited(data))))
    sent = [values for _, values in rows]
    assert (sent[0]["implementation_date"] is None) == (start is None)
    share = next(r["population_share"] for r in sent if r["kind"] == "pct_area")
    assert round(share, 4) != share  # equal to the rule's number only as rules see it
    extra = ruleset(tmp_path, "as-sent", AS_SENT.replace("{share}", str(round(share, 4))))
    for bundle in (icorules.default_rulesets(), extra):
        got = engine.run(engine.prepare(bundle), sent)
        records = [normalized(r) for r in sent]
        want = {(m.rule, m.subject["id"]) for m in engine.run(engine.prepare(bundle), records)}
        assert {(m.rule, m.subject["id"]) for m in got} == want
        assert {
            (m.rule, m.subject["id"]) for m in reference.run(reference.prepare(bundle), sent)
        } == want
    fired_extra = {m.rule for m in engine.run(engine.prepare(extra), sent)}
    later = start == "2009-06-30"
    assert ("T-201" in fired_extra) == ("T-202" in fired_extra) == later  # absent: false
    assert {"T-203", "T-204", "T-206"} <= fired_extra
