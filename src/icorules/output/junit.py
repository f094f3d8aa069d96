"""JUnit XML, for test dashboards (Jenkins, GitLab, Azure DevOps).

A test suite per proposal and a test case per rule: findings at or above --fail-on are
failures, lower ones are noted in the case's output, waived ones too, and rules that were not
evaluated are skipped with the reason. Text from inputs passes through `xml_text`, so the file
is well-formed XML 1.0 whatever a bid's names hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import junitparser

from icorules.output.escape import xml_text
from icorules.output.options import RenderOptions
from icorules.results.findings import SEVERITY_RANK, Finding
from icorules.results.outcome import CheckResult, Outcome
from icorules.results.report import FailOn, Report
from icorules.rules.loader import RuleBundle


def suite_of(report: Report, fail_on: FailOn) -> junitparser.TestSuite:
    limit = SEVERITY_RANK.get(fail_on, -1)
    proposal = report.proposal
    suite = junitparser.TestSuite(xml_text(f"{proposal.id} ({proposal.file or 'data'})"))
    by_rule: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule, []).append(f)
    waived: dict[str, list[str]] = {}
    for w in report.waived:
        waived.setdefault(w.finding.rule, []).append(
            f"waived: {w.finding.subject.path or w.finding.subject.id}: {w.reason}"
        )
    unevaluated: dict[str, list[str]] = {}
    for entry in report.not_evaluated:
        where = f"for {entry.pct_area}: " if entry.pct_area else ""
        unevaluated.setdefault(entry.rule, []).append(f"not evaluated {where}{entry.reason}")
    cases = []
    for rule in sorted({*by_rule, *waived, *report.passed, *unevaluated}):
        case = junitparser.TestCase(rule, classname=xml_text(proposal.id), time=0.0)
        found = by_rule.get(rule, [])
        failing = [f for f in found if SEVERITY_RANK[f.severity] <= limit]
        if failing:
            case.result = [
                junitparser.Failure(xml_text(f"{f.subject.id}: {f.message}"), f.severity)
                for f in failing
            ]
        elif rule in unevaluated:
            case.result = [junitparser.Skipped(xml_text("; ".join(unevaluated[rule])))]
        notes = [f"{f.severity}: {f.subject.path or f.subject.id}: {f.message}" for f in found]
        notes += waived.get(rule, [])
        if notes:
            case.system_out = xml_text("\n".join(notes))
        cases.append(case)
    suite.add_testcases(cases)  # one count at the end (add_testcase counts the suite again)
    return suite


def junit_xml(suites: Sequence[junitparser.TestSuite]) -> str:
    xml = junitparser.JUnitXml("icorules")
    for suite in suites:
        # Appended, not `add_testsuite`: that compares each suite with every one before it
        # (to merge equal ones; a bid's suite is named by its file, so none are equal).
        xml.append(suite)
    # The suites' own totals, added up (`update_statistics` would count every case again).
    xml.tests = sum(suite.tests for suite in suites)
    xml.failures = sum(suite.failures for suite in suites)
    xml.errors = sum(suite.errors for suite in suites)
    xml.skipped = sum(suite.skipped for suite in suites)
    xml.time = round(sum(suite.time for suite in suites), 3)
    text: bytes = xml.tostring()
    return text.decode("utf-8") + "\n"


def render_junit(reports: Sequence[Report], fail_on: FailOn = "error") -> str:
    """Reports as JUnit XML (for callers holding reports)."""
    return junit_xml([suite_of(r, fail_on) for r in reports])


class JunitRenderer:
    name = "junit"
    media_type = "application/xml"
    pages = False

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        text: bytes = suite_of(result.report, options.fail_on).tostring()
        return text.decode("utf-8")

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> tuple[str, ...]:
        suites = [junitparser.TestSuite.fromstring(o.part) for o in outcomes if o.part is not None]
        return (junit_xml(suites),) if suites else ()


RENDERER = JunitRenderer()
