"""Ruleset tests a policy team writes as YAML: a proposal, and the findings it must (not) give.

A test file ends in `.test.yaml` (so it is never loaded as a ruleset):

    tests:
      - name: a partner outside the dispute procedure is caught
        proposal: ../../examples/church-view-defects.json   # relative to this file, or inline
        market: ../../examples/markets/morecambe-bay.json    # optional
        params: {max_pct_population_share: 0.5}             # optional
        expect:
          - {rule: GOV-002, subject: SUN-IS}                # subject is optional
        expect_absent: [GOV-001]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from icorules.documents import load_document
from icorules.errors import InputError, Problem, did_you_mean
from icorules.model import pydantic_problems
from icorules.rules.loader import RuleBundle, load_rulesets

TEST_SUFFIX = ".test.yaml"


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: str
    subject: str | None = None


class TestCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    proposal: str | dict[str, Any]
    market: str | dict[str, Any] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    expect: list[Expectation] = Field(default_factory=list)
    expect_absent: list[str] = Field(default_factory=list)


class TestFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tests: list[TestCase] = Field(min_length=1)


@dataclass(frozen=True)
class TestResult:
    file: str
    name: str
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def test_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(path.rglob(f"*{TEST_SUFFIX}")))
        else:
            files.append(path)
    return files


def run_tests(
    paths: Iterable[str | Path], rulesets: Iterable[str | Path] | None
) -> list[TestResult]:
    """Run every test case; raises InputError if a test file or what it names is malformed."""
    from icorules.api import check

    files = test_files(paths)
    if not files:
        raise InputError.single(", ".join(map(str, paths)), f"no *{TEST_SUFFIX} files found")
    ruleset_paths = None if rulesets is None else list(rulesets)
    bundles: dict[tuple[tuple[str, Any], ...], RuleBundle] = {}
    results: list[TestResult] = []
    for file in files:
        document = load_document(file)
        try:
            spec = TestFile.model_validate(document.data)
        except ValidationError as exc:
            raise InputError(pydantic_problems(exc, TestFile, document, document.name)) from None
        for index, case in enumerate(spec.tests):
            key = tuple(sorted(case.params.items()))
            if key not in bundles:
                bundles[key] = load_rulesets(ruleset_paths, case.params)
            _check_rule_ids(case, index, document, bundles[key])
            where = document.problem(("tests", index), "")
            try:
                report = check(
                    _resolve(case.proposal, file),
                    market=_resolve(case.market, file) if case.market is not None else None,
                    rulesets=bundles[key],
                )
            except InputError as exc:
                prefix = f"{where.file}:{where.line}: test '{case.name}'"
                raise InputError(
                    [
                        Problem(p.file, p.line, p.column, f"{p.message} ({prefix})")
                        for p in exc.problems
                    ]
                ) from None
            results.append(TestResult(str(file), case.name, tuple(_failures(case, report))))
    return results


def _check_rule_ids(case: TestCase, index: int, document: Any, bundle: RuleBundle) -> None:
    """A misspelt rule id would make an expectation pass without testing anything."""
    known = {rule.id for rule in bundle.rules}
    named = [(("expect", i, "rule"), e.rule) for i, e in enumerate(case.expect)]
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


def _resolve(source: str | dict[str, Any], test_file: Path) -> str | dict[str, Any]:
    if isinstance(source, dict):
        return source
    path = Path(source)
    return str(path if path.is_absolute() else (test_file.parent / path))


def _failures(case: TestCase, report: Any) -> list[str]:
    got = {(f.rule, f.subject.id) for f in report.findings}
    failures = []
    for want in case.expect:
        if want.subject is None:
            if not any(rule == want.rule for rule, _ in got):
                failures.append(f"expected {want.rule} to fire; it did not")
        elif (want.rule, want.subject) not in got:
            on = sorted(s for r, s in got if r == want.rule)
            failures.append(
                f"expected {want.rule} on {want.subject}; it fired on "
                f"{', '.join(on) if on else 'nothing'}"
            )
    for rule in case.expect_absent:
        on = sorted(s for r, s in got if r == rule)
        if on:
            failures.append(f"expected {rule} not to fire; it fired on {', '.join(on)}")
    return failures
