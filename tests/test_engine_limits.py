"""What durable_rules cannot hold is refused when a ruleset loads (by `rules check` and `lint`
too), what it can hold runs and agrees with the reference backend, anything the engine raises
reaches the caller as EngineError, and what a check may cost is bounded before it starts.

Rulesets that once crashed or hung the engine run in a child process with its address space
capped, so a regression fails the test instead of the test run.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import icorules
from icorules.cli import cli
from icorules.engines import EngineError, durable
from icorules.errors import InputError
from icorules.limits import Limits
from icorules.rules.lint import lint_paths
from tests.proposals import clean_proposal

ROOT = Path(__file__).resolve().parents[1]


def rule(i: int, condition: str, fact: str = "partner", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"T-{i:03d}" if i < 1000 else f"T{chr(64 + i // 1000)}-{i % 1000:03d}",
        "title": "t",
        "severity": "info",
        "source": "s",
        "fact": fact,
        "condition": condition,
        "message": "m",
        "fix": "f",
        **extra,
    }


def write(tmp_path: Path, rules: list[dict[str, Any]], **top: Any) -> Path:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"ruleset": "t/limits", "version": "1", **top, "rules": rules}))
    return path


# -- refused when the ruleset loads ------------------------------------------------------------

REFUSED = {
    "a lone surrogate": (
        [rule(1, "name == '\\ud800'")],
        {},
        "'\\ud800' is half of a surrogate pair, not valid text",
    ),
    "15 groups of and/or": (
        [rule(1, " and ".join(f"(list_size == {i} or service_count == {i})" for i in range(15)))],
        {},
        "the condition has 15 groups of 'and' / 'or'",
    ),
    "65 tests a fact can pass at once": (
        [rule(1, " or ".join(f"list_size != {i}" for i in range(65)))],
        {},
        "the condition makes 65 comparisons other than ==",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_the_engine_cannot_hold_is_refused_at_load(tmp_path: Path, case: str) -> None:
    rules, top, words = REFUSED[case]
    path = write(tmp_path, rules, **top)
    result = CliRunner().invoke(cli, ["rules", "check", str(path)])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"icorules: {path}:1:") and ": rules[0].condition: rule T-001: " in line
    assert words in line, line
    [found] = [f for f in lint_paths([path]) if f.code == "RL011"]
    assert words in found.message


def _agree(bundle: icorules.RuleBundle, proposal: dict[str, Any]) -> list[tuple[str, str]]:
    """The findings of both backends on `proposal`, which must be the same."""
    durable_run = icorules.check(proposal, rulesets=bundle)
    reference_run = icorules.check(proposal, rulesets=bundle, engine="reference")
    found = [(f.rule, f.subject.id) for f in durable_run.findings]
    assert found == [(f.rule, f.subject.id) for f in reference_run.findings]
    return found


def test_a_list_parameter_of_any_length_is_one_field_of_each_fact(tmp_path: Path) -> None:
    """`field in params.LIST` sends each fact whether its value is in the list, not the list:
    three lists of 200 values (once 600 tests, refused) load and run, and agree with the
    reference backend, as does an override of a list with 130 values (once too wide)."""
    years = {f"years_{k}": {"default": list(range(200 * k, 200 * k + 200))} for k in range(3)}
    condition = " or ".join(f"evaluation_years in params.years_{k}" for k in range(3))
    path = write(tmp_path, [rule(1, condition, fact="proposal")], parameters=years)
    bundle = icorules.load_rulesets([path])
    proposal = clean_proposal()
    assert _agree(bundle, proposal) == [("T-001", proposal["id"])]
    path = write(
        tmp_path,
        [rule(1, "list_size in params.a or service_count in params.b")],
        parameters={"a": {"default": [1]}, "b": {"default": list(range(130))}},
    )
    wide = icorules.load_rulesets([path], params={"a": ",".join(map(str, range(130, 260)))})
    assert _agree(wide, proposal)  # every partner provides fewer than 130 services


def test_in_a_list_parameter_compares_as_the_engine_does(tmp_path: Path) -> None:
    """Numbers by value (3 is 3.0) and truth values as themselves (a list of dates is not a
    parameter, so no fact value compared with a list is ever absent)."""
    path = tmp_path / "rules.yaml"
    rules = [
        ("evaluation_years in params.years", "proposal"),
        ("has_board not in params.flags", "proposal"),
    ]
    lines = [
        "ruleset: t/members",
        "version: '1'",
        "parameters:",
        "  years: {default: [3.0, 7]}",
        "  flags: {default: [false]}",
        "rules:",
    ]
    for i, (condition, fact) in enumerate(rules, 1):
        lines += [
            f"  - {{id: T-00{i}, title: t, severity: info, source: s, fact: {fact},",
            f"     condition: '{condition}', message: m, fix: f}}",
        ]
    path.write_text("\n".join(lines) + "\n")
    bundle = icorules.load_rulesets([path])
    proposal = clean_proposal()
    proposal["governance"]["evaluation"]["years"] = 3
    assert {r for r, _ in _agree(bundle, proposal)} == {"T-001", "T-002"}


def test_the_model_counts_what_the_engine_counts() -> None:
    """durable_rules shares a node between equal literal tests, never between tests against
    another field (`$m`), and sends equal tests of one `or` once."""
    network = durable._Network()
    for i, condition in enumerate(["type == 'pct' or type == 'pct'", "type in ['pct', 'school']"]):
        bundle = _bundle([rule(i, condition)])
        assert network.add(durable.translate(bundle.rules[0])) == []
    partner = network.root.children[repr({"kind": "partner"})]
    assert len(partner.children) == 2  # 'pct' once, 'school' once
    before = len(partner.children)
    bundle = _bundle([rule(1, "list_size > service_count"), rule(2, "list_size > service_count")])
    for r in bundle.rules:
        network.add(durable.translate(r))
    assert len(partner.children) == before + 2  # never shared


def _bundle(rules: list[dict[str, Any]], **top: Any) -> icorules.RuleBundle:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return icorules.load_rulesets([write(Path(tmp), rules, **top)])


# -- what once crashed the engine runs, and agrees with the reference backend ------------------

RUNS = """
import json, sys
import icorules
from icorules.output.json_report import render_json
from tests.proposals import clean_proposal
path, params = sys.argv[1], json.loads(sys.argv[2])
p = clean_proposal()
p["organisations"][1]["name"] = "v"
p["organisations"][2]["name"] = "w"
limits = icorules.Limits(expression_length=5000)
bundle = icorules.load_rulesets([path], params=params or None, limits=limits)
durable = icorules.check(p, rulesets=bundle)
reference = icorules.check(p, rulesets=bundle, engine="reference")
print(len(durable.findings), render_json([durable]) == render_json([reference]))
"""

CRASHED = {  # once: a raw durable_rules_engine.error, a hang or a crash; now: findings
    "an 'in' list of 130 equal values": ([rule(1, "type in [" + "'pct', " * 130 + "]")], {}, 1),
    "150 rules each name == 'v' or name == 'v'": (
        [rule(i, "name == 'v' or name == 'v'") for i in range(150)],
        {},
        150,
    ),
    "150 rules each name == 'v' or name == 'w'": (
        [rule(i, "name == 'v' or name == 'w'") for i in range(150)],
        {},
        300,
    ),
    "300 rules with one condition": ([rule(i, "is_practice") for i in range(300)], {}, 900),
    "a list parameter overridden with 129 copies": (
        [rule(1, "type in params.types")],
        {"types": ",".join(["pct"] * 129)},
        1,
    ),
    "14 groups of and/or": (
        [rule(1, " and ".join(f"(list_size >= {i} or service_count >= {i})" for i in range(14)))],
        {},
        3,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CRASHED))
def test_what_once_crashed_the_engine_runs(tmp_path: Path, case: str) -> None:
    rules, params, findings = CRASHED[case]
    path = write(tmp_path, rules, parameters={"types": {"default": ["school"]}})
    done = _bounded([sys.executable, "-c", RUNS, str(path), json.dumps(params)])
    assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    assert done.stdout.split() == [str(findings), "True"]


CLI = [sys.executable, "-c", "from icorules.cli import main; main()"]


def _bounded(args: list[str], gib: int = 1) -> subprocess.CompletedProcess[str]:
    """A child process with `gib` GiB of address space and a minute to finish."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (gib << 30, gib << 30))

    return subprocess.run(
        args, capture_output=True, text=True, timeout=60, check=False, cwd=ROOT, preexec_fn=cap
    )


# -- whatever the engine raises is an EngineError ------------------------------------------------


@pytest.mark.parametrize("failure", [MemoryError(), RuntimeError("error code: 303")])
def test_anything_the_engine_raises_is_an_engine_error(
    monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    engine = durable.get_engine()
    icorules.check(clean_proposal())  # registered before the host breaks

    def broken(*args: object, **kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(engine._host, "assert_facts", broken)
    with pytest.raises(EngineError, match="durable_rules failed") as caught:
        icorules.check(clean_proposal())
    assert caught.value.__cause__ is failure
    monkeypatch.undo()
    assert len(icorules.check(clean_proposal()).findings) == 1  # and the engine still works


def test_a_ruleset_the_engine_refuses_is_an_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = durable.Engine()

    def refuse(*args: object) -> None:
        raise RuntimeError("Could not create ruleset, error code: 106")

    monkeypatch.setattr(engine._host, "set_rulesets", refuse)
    with pytest.raises(EngineError, match="error code: 106"):
        engine.prepare(icorules.default_rulesets())


# -- cost, bounded before the engine runs --------------------------------------------------------


def test_matches_beyond_the_limit_are_refused_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, [rule(1, "list_size > 1 or list_size > 2 or type == 'pct'")])
    bundle = icorules.load_rulesets([path])
    assert len(
        icorules.check(clean_proposal(), rulesets=bundle, limits=Limits(matches=15)).findings
    )
    with pytest.raises(InputError) as caught:
        icorules.check(clean_proposal(), rulesets=bundle, limits=Limits(matches=14))
    [problem] = caught.value.problems
    assert problem.file == "<proposal>"
    assert "could make 15 matches" in problem.message
    assert (
        "rule T-001 alone could make 15 (5 partner facts, up to 3 matches each)" in problem.message
    )
    assert problem.message.endswith("the matches limit is 14 (raise it with --limit matches=N)")


def test_joins_beyond_the_limit_are_refused_at_the_rule(tmp_path: Path) -> None:
    path = write(tmp_path, [rule(1, "party_count > 0", "agreement", given={"partner": "is_lead"})])
    bundle = icorules.load_rulesets([path])
    icorules.check(clean_proposal(), rulesets=bundle, limits=Limits(join_product=5))
    with pytest.raises(InputError) as caught:
        icorules.check(clean_proposal(), rulesets=bundle, limits=Limits(join_product=4))
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 1)
    assert "rule T-001 joins 5 partner × 1 agreement facts (5 combinations)" in problem.message
    assert "the join_product limit is 4" in problem.message


def test_a_derived_fact_counts_only_where_its_values_can_match(tmp_path: Path) -> None:
    """Ten rules each derive a classification with their own name for each partner; ten rules
    each wait for one of those names. Each join is 5 × 5, not 5 × (every classification)."""
    rules = [
        rule(
            i,
            "is_practice or not is_practice",
            derive={"kind": "classification", "fields": {"name": f"c{i}"}},
        )
        for i in range(10)
    ]
    rules += [
        rule(10 + i, "is_practice", given={"classification": f"name == 'c{i}'"}) for i in range(10)
    ]
    bundle = icorules.load_rulesets([write(tmp_path, rules)])
    from icorules.analysis.derive import derive_facts
    from icorules.analysis.graph import build_graph
    from icorules.engines import estimate, fact_record

    facts = [
        fact_record(f) for f in derive_facts(build_graph(icorules.load_proposal(clean_proposal())))
    ]
    cost = estimate(bundle, facts)
    assert cost.join_product == 10 * 5 * 5
    assert cost.biggest_join is not None and cost.biggest_join.factors == (
        ("classification", 5, 1),
        ("partner", 5, 1),
    )


def test_the_cost_limits_are_command_line_limits(tmp_path: Path) -> None:
    path = write(tmp_path, [rule(1, "is_practice")])
    bid = tmp_path / "bid.json"
    bid.write_text(json.dumps(clean_proposal()))
    args = ["check", str(bid), "-r", str(path), "--fail-on", "never"]
    assert CliRunner().invoke(cli, [*args, "--limit", "matches=5"]).exit_code == 0
    result = CliRunner().invoke(cli, [*args, "--limit", "matches=4"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"icorules: {bid}: the rules could make 5 matches")


def big_bid(organisations: int, agreements: int) -> dict[str, Any]:
    bid = clean_proposal()
    bid["organisations"] += [
        {
            "id": f"P{i}",
            "name": f"Practice {i}",
            "type": "gp_practice",
            "pct": "5AA",
            "list_size": 1000 + i,
            "provides": ["general_practice"],
        }
        for i in range(organisations - len(bid["organisations"]))
    ]
    ids = [o["id"] for o in bid["organisations"]]
    bid["agreements"] = [
        {
            "id": f"A{i}",
            "type": "alliance",
            "parties": [ids[i % len(ids)], ids[(i + 1) % len(ids)]],
            "services": ["general_practice"],
        }
        for i in range(agreements)
    ]
    return bid


JOIN_RULESET = """\
ruleset: t/join
version: "1"
rules:
  - id: J-001
    title: join
    severity: info
    source: s
    fact: agreement
    given: {partner: "list_size >= 0"}
    condition: "party_count > 0"
    message: m
    fix: f
"""


@pytest.mark.slow
def test_a_join_of_1000_partners_and_5000_agreements_is_refused_before_it_runs(
    tmp_path: Path,
) -> None:
    """Once: 3.9 GB, then a MemoryError traceback. Now: refused, naming the limit, in bounded
    time and memory."""
    assert len(JOIN_RULESET.splitlines()) == 12
    (tmp_path / "bid.json").write_text(json.dumps(big_bid(1000, 5000)))
    (tmp_path / "join.yaml").write_text(JOIN_RULESET)
    done = _bounded([*CLI, "check", str(tmp_path / "bid.json"), "-r", str(tmp_path / "join.yaml")])
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"icorules: {tmp_path / 'join.yaml'}:4: rule J-001 joins 1,000 partner")
    assert "(5,000,000 combinations)" in line and "the join_product limit is 250,000" in line


@pytest.mark.slow
def test_1000_rules_of_60_tests_over_1000_organisations_are_refused_before_they_run(
    tmp_path: Path,
) -> None:
    """Once: 3.5 GB, then SIGSEGV. Now: refused, naming the limit, in bounded time and memory."""
    rules = [
        rule(
            i,
            " or ".join(f"list_size == {i * 60 + j}" for j in range(30))
            + " or "
            + " or ".join(f"list_size > {i * 60 + j}" for j in range(30)),
        )
        for i in range(1000)
    ]
    path = write(tmp_path, rules)
    (tmp_path / "bid.json").write_text(json.dumps(big_bid(1000, 10)))
    bid = str(tmp_path / "bid.json")
    done = _bounded([*CLI, "check", bid, "-r", str(path), "--limit", "expression_length=5000"])
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"icorules: {tmp_path / 'bid.json'}: the rules could make 31,000,000")
    assert "the matches limit is 250,000" in line


# -- planning stays linear ------------------------------------------------------------------------


@pytest.mark.slow
def test_planning_engine_rulesets_is_linear_in_the_rules(tmp_path: Path) -> None:
    """Once quadratic (first fit over every engine ruleset so far): 5,000 rules of 40 range
    tests each took 44 s to plan, one engine ruleset each."""

    def timed(count: int) -> float:
        rules = [
            rule(i, " or ".join(f"list_size > {i * 100 + j}" for j in range(40)))
            for i in range(count)
        ]
        bundle = icorules.load_rulesets(
            [write(tmp_path, rules)], limits=Limits(expression_length=5000)
        )
        best = float("inf")
        for _ in range(2):
            started = time.process_time()
            chunks = durable.plan(bundle)
            best = min(best, time.process_time() - started)
        assert len(chunks) == count  # 40 range tests a fact can pass: one rule per ruleset
        return best

    small, large = timed(500), timed(2000)
    assert large < 8 * small + 0.5, (small, large)  # linear: about 4 times
