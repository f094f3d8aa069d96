"""Ruleset tests a policy team writes as YAML, and the rule coverage they reach.

A test file ends in `.test.yaml` (so it is never loaded as a ruleset). Each case names a
proposal (a file, an inline mapping, or a base named under `proposals:`), optionally a small
`patch` over it, and the findings it must and must not give:

    proposals:
      riverside: {...}                                   # a base proposal, by name
    tests:
      - name: a partner outside the dispute procedure is caught
        proposal: riverside                              # or a file, relative to this one
        patch:
          - {remove: "governance.dispute_resolution.parties[GP3]"}
        market: ../../examples/markets/morecambe-bay.json  # optional; or a name under markets:
        params: {max_pct_population_share: 0.5}            # optional
        expect:
          - {rule: GOV-002, subject: GP3}                  # subject is optional
        expect_absent: [GOV-001]

Coverage is what conftest and OPA users ask for: which rules no case makes fire, and which no
case makes pass. A case makes a rule pass only if the rule's condition was actually tested on
some subject (a fact of its kind exists and its `given` is met) and it did not fire; a rule
that had nothing to look at has not been shown to pass.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from icorules.analysis.derive import derive_facts
from icorules.analysis.graph import build_graph
from icorules.engines import fact_record
from icorules.errors import InputError, Problem, did_you_mean
from icorules.inputs.documents import Document, load_document
from icorules.inputs.kinds import refuse_other_kind
from icorules.inputs.market import load_market
from icorules.inputs.proposal import load_proposal
from icorules.inputs.validation import pydantic_problems
from icorules.rules.docs import shown_path
from icorules.rules.explain import tested, with_derived
from icorules.rules.loader import RuleBundle, bundled_ruleset_dir, load_rulesets
from icorules.rules.patches import PatchError, PatchOp, apply_patch

__all__ = ["PatchOp", "TestResult", "TestRun", "apply_patch", "render_test_run", "run_suite"]

TEST_SUFFIX = ".test.yaml"
_UNSET: Any = object()


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: str
    subject: str | None = None


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    proposal: str | dict[str, Any]
    patch: list[PatchOp] = Field(default_factory=list)
    market: str | dict[str, Any] | None = None
    market_patch: list[PatchOp] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    expect: list[Expectation] = Field(default_factory=list)
    expect_absent: list[str] = Field(default_factory=list)


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    proposals: dict[str, dict[str, Any]] = Field(default_factory=dict)
    markets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    tests: list[Case] = Field(min_length=1)


@dataclass(frozen=True)
class Miss:
    """An expected finding that did not appear."""

    rule: str
    subject: str | None
    fired_on: tuple[str, ...]  # where the rule fired instead

    def __str__(self) -> str:
        return f"{self.rule} on {self.subject}" if self.subject else self.rule


@dataclass(frozen=True)
class TestResult:
    """One case: what it expected, what happened, and which rules it made fire or pass."""

    __test__ = False  # not a pytest test class

    file: str
    name: str
    line: int | None = None
    missing: tuple[Miss, ...] = ()
    unexpected: tuple[tuple[str, str], ...] = ()  # (rule, subject) that fired but must not
    findings: tuple[tuple[str, str], ...] = ()
    rules_fired: frozenset[str] = field(default_factory=frozenset)
    rules_passed: frozenset[str] = field(default_factory=frozenset)

    @property
    def passed(self) -> bool:
        return not self.missing and not self.unexpected

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def failures(self) -> list[str]:
        """The difference between expected and actual findings, one line each: `-` expected
        but missing, `+` present but expected absent."""
        rows = []
        for miss in self.missing:
            if miss.fired_on:
                rows.append((f"- {miss}", f"expected; it fired on {', '.join(miss.fired_on)}"))
            else:
                rows.append((f"- {miss}", "expected; it did not fire"))
        rows += [(f"+ {r} on {s}", "fired; expected not to") for r, s in self.unexpected]
        width = max((len(a) for a, _ in rows), default=0)
        return [f"{a:<{width}}  {b}" for a, b in rows]


@dataclass(frozen=True)
class Coverage:
    """Which rules the cases made fire and made pass."""

    rules: tuple[str, ...]
    fired: frozenset[str]
    passed: frozenset[str]

    @property
    def never_fired(self) -> list[str]:
        return [r for r in self.rules if r not in self.fired]

    @property
    def never_passed(self) -> list[str]:
        return [r for r in self.rules if r not in self.passed]

    @staticmethod
    def _percent(done: int, total: int) -> float:
        return 100.0 if total == 0 else round(100.0 * done / total, 1)

    @property
    def fire_percent(self) -> float:
        return self._percent(len(self.rules) - len(self.never_fired), len(self.rules))

    @property
    def pass_percent(self) -> float:
        return self._percent(len(self.rules) - len(self.never_passed), len(self.rules))

    def meets(self, minimum: float) -> bool:
        return min(self.fire_percent, self.pass_percent) >= minimum


@dataclass(frozen=True)
class TestRun:
    __test__ = False

    results: tuple[TestResult, ...]
    coverage: Coverage

    @property
    def failed(self) -> int:
        return sum(not r.passed for r in self.results)

    def as_json(self, min_coverage: float | None = None) -> dict[str, Any]:
        cov = self.coverage
        return {
            "cases": [
                {
                    "file": shown_path(r.file),
                    "line": r.line,
                    "name": r.name,
                    "passed": r.passed,
                    "missing": [
                        {"rule": m.rule, "subject": m.subject, "fired_on": list(m.fired_on)}
                        for m in r.missing
                    ],
                    "unexpected": [{"rule": a, "subject": b} for a, b in r.unexpected],
                    "findings": [{"rule": a, "subject": b} for a, b in r.findings],
                }
                for r in self.results
            ],
            "summary": {"passed": len(self.results) - self.failed, "failed": self.failed},
            "coverage": {
                "rules": len(cov.rules),
                "fire_percent": cov.fire_percent,
                "pass_percent": cov.pass_percent,
                "never_fired": cov.never_fired,
                "never_passed": cov.never_passed,
                "min_coverage": min_coverage,
                "meets_minimum": None if min_coverage is None else cov.meets(min_coverage),
            },
        }


def find_test_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = bundled_ruleset_dir() if str(raw) == "@bundled" else Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob(f"*{TEST_SUFFIX}") if p.is_file()))
        else:
            files.append(path)
    return files


def default_test_paths(rulesets: Sequence[str | Path] | None) -> list[Path]:
    """Without a PATH, the tests beside the rulesets (or the bundled ruleset's own tests)."""
    if not rulesets:
        return [bundled_ruleset_dir() / "tests"]
    out = []
    for raw in rulesets:
        path = bundled_ruleset_dir() if str(raw) == "@bundled" else Path(raw)
        out.append(path if path.is_dir() else path.parent)
    return out


def run_tests(
    paths: Iterable[str | Path], rulesets: Iterable[str | Path] | None
) -> list[TestResult]:
    """Run every test case; raises InputError if a test file or what it names is malformed."""
    return list(run_suite(paths, rulesets).results)


def run_suite(paths: Iterable[str | Path], rulesets: Iterable[str | Path] | None) -> TestRun:
    """Run every case in the test files under `paths` and measure rule coverage."""
    paths = list(paths)
    files = find_test_files(paths)
    if not files:
        looked = ", ".join(map(str, paths))
        raise InputError.single(
            looked,
            f"no *{TEST_SUFFIX} files found here (looked in {looked} and the folders below); "
            f"rule tests sit beside the rulesets they test, or give their folder as PATH",
        )
    ruleset_paths = None if rulesets is None else list(rulesets)
    bundles: dict[tuple[tuple[str, Any], ...], RuleBundle] = {}

    def bundle_for(params: dict[str, Any]) -> RuleBundle:
        key = tuple(sorted((k, str(v)) for k, v in params.items()))
        if key not in bundles:
            bundles[key] = load_rulesets(ruleset_paths, params)
        return bundles[key]

    base = bundle_for({})
    results: list[TestResult] = []
    for file in files:
        document = load_document(file)
        refuse_other_kind(document.data, "ruletests", document, document.name)
        try:
            spec = CaseFile.model_validate(document.data)
        except ValidationError as exc:
            raise InputError(pydantic_problems(exc, CaseFile, document, document.name)) from None
        for index, case in enumerate(spec.tests):
            bundle = bundle_for(case.params)
            _check_rule_ids(case, index, document, bundle)
            results.append(_run_case(case, index, spec, document, file, bundle))
    fired = frozenset().union(*(r.rules_fired for r in results))
    passed = frozenset().union(*(r.rules_passed for r in results))
    return TestRun(tuple(results), Coverage(tuple(r.id for r in base.rules), fired, passed))


def _run_case(
    case: Case, index: int, spec: CaseFile, document: Document, file: Path, bundle: RuleBundle
) -> TestResult:
    from icorules.api import check

    where = document.problem(("tests", index), "")
    prefix = f"{where.file}:{where.line}: test '{case.name}'"
    try:
        proposal = _source(case.proposal, spec.proposals, file, case.patch, ("patch",))
        market = None
        if case.market is not None:
            market = _source(case.market, spec.markets, file, case.market_patch, ("market_patch",))
        report = check(proposal, market=market, rulesets=bundle)
        model = load_proposal(proposal)
        context = load_market(market) if market is not None else None
        facts = [fact_record(f) for f in derive_facts(build_graph(model, context))]
    except PatchError as exc:
        at = document.problem(("tests", index, *exc.loc), f"{exc} (test '{case.name}')")
        raise InputError([at]) from None
    except InputError as exc:
        raise InputError(
            [Problem(p.file, p.line, p.column, f"{p.message} ({prefix})") for p in exc.problems]
        ) from None
    got = [(f.rule, f.subject.id) for f in [*report.findings, *(w.finding for w in report.waived)]]
    known = with_derived(bundle, facts, got)
    fired = frozenset(rule for rule, _ in got)
    passed = frozenset(
        r.id
        for r in bundle.rules
        if r.id not in fired and r.id not in report.rules_not_evaluated and tested(r, known)
    )
    missing, unexpected = _compare(case, got)
    return TestResult(
        file=str(file),
        name=case.name,
        line=where.line,
        missing=missing,
        unexpected=unexpected,
        findings=tuple(got),
        rules_fired=fired,
        rules_passed=passed,
    )


def _compare(
    case: Case, got: list[tuple[str, str]]
) -> tuple[tuple[Miss, ...], tuple[tuple[str, str], ...]]:
    missing = []
    for want in case.expect:
        on = tuple(sorted({s for r, s in got if r == want.rule}))
        if (want.subject is None and not on) or (
            want.subject is not None and want.subject not in on
        ):
            missing.append(Miss(want.rule, want.subject, on))
    absent = set(case.expect_absent)
    unexpected = tuple(sorted({(r, s) for r, s in got if r in absent}))
    return tuple(missing), unexpected


def _check_rule_ids(case: Case, index: int, document: Any, bundle: RuleBundle) -> None:
    """A misspelt rule id would make an expectation pass without testing anything."""
    known = {rule.id for rule in bundle.rules}
    named: list[tuple[tuple[str | int, ...], str]] = [
        (("expect", i, "rule"), e.rule) for i, e in enumerate(case.expect)
    ]
    named += [(("expect_absent", i), rule) for i, rule in enumerate(case.expect_absent)]
    problems = [
        document.problem(
            ("tests", index, *loc), f"no loaded rule has the id '{rule}'{did_you_mean(rule, known)}"
        )
        for loc, rule in named
        if rule not in known
    ]
    if problems:
        raise InputError(problems)


def _source(
    source: str | dict[str, Any],
    named: dict[str, dict[str, Any]],
    test_file: Path,
    patch: list[PatchOp],
    loc: tuple[str, ...],
) -> str | dict[str, Any]:
    """A named base, an inline mapping or a file path; patched if the case says so."""
    if isinstance(source, dict):
        data: Any = copy.deepcopy(source)
    elif source in named:
        data = copy.deepcopy(named[source])
    else:
        path = Path(source)
        resolved = str(path if path.is_absolute() else (test_file.parent / path))
        if not patch:
            return resolved
        data = load_document(resolved).data
    for i, op in enumerate(patch):
        try:
            apply_patch(data, op)
        except PatchError as exc:
            raise PatchError(str(exc), (*loc, i)) from None
    return data  # type: ignore[no-any-return]


def render_test_run(run: TestRun, min_coverage: float | None = None) -> str:
    """PASS/FAIL per case with the difference for failures, then the rule coverage."""
    out: list[str] = []
    for r in run.results:
        where = f"{shown_path(r.file)}:{r.line}" if r.line else shown_path(r.file)
        out.append(f"{'PASS' if r.passed else 'FAIL'}  {where}  {r.name}")
        if not r.passed:
            out += [f"      {line}" for line in r.failures]
            fired = ", ".join(f"{rule} on {subject}" for rule, subject in r.findings)
            out.append(f"      all findings: {fired or 'none'}")
    out += ["", f"{len(run.results) - run.failed} passed, {run.failed} failed"]
    cov = run.coverage
    out.append(
        f"Rule coverage of {len(cov.rules)} rules: {cov.fire_percent:.1f}% fire in some case, "
        f"{cov.pass_percent:.1f}% pass in some case"
    )
    if cov.never_fired:
        out.append(f"  never fire: {', '.join(cov.never_fired)}")
    if cov.never_passed:
        out.append(f"  never pass: {', '.join(cov.never_passed)}")
    if min_coverage is not None and not cov.meets(min_coverage):
        out.append(f"Coverage is below --min-coverage {min_coverage:g}%.")
    return "\n".join(out) + "\n"
