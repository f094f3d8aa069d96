"""Reports for CI systems: SARIF 2.1.0 (code-scanning viewers) and JUnit XML (test dashboards).

Both point back into the proposal file: a finding's JSON path is turned into line:column the
same way input errors are, by reading the file again (only when these formats are asked for).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import junitparser
import sarif_pydantic as sarif

from icorules import __version__
from icorules.errors import InputError
from icorules.inputs.documents import Document, load_document
from icorules.results.findings import SEVERITY_RANK, Finding
from icorules.results.report import FailOn, Report
from icorules.rules.loader import Rule, RuleBundle

_LEVEL = {"error": sarif.Level.ERROR, "warning": sarif.Level.WARNING, "info": sarif.Level.NOTE}


def _document(report: Report) -> Document | None:
    if not report.proposal.file:
        return None
    try:
        return load_document(report.proposal.file)
    except InputError:
        return None


def _loc(path: str) -> tuple[str | int, ...]:
    """`organisations[3].pct` -> ('organisations', 3, 'pct')."""
    parts: list[str | int] = []
    for piece in path.replace("]", "").split("."):
        name, *indexes = piece.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) for i in indexes)
    return tuple(parts)


def _position(document: Document | None, finding: Finding) -> tuple[int, int]:
    if document is None:
        return 1, 1
    line, column = document.position(_loc(finding.subject.path))
    return line or 1, column or 1


def _fingerprint(report: Report, f: Finding) -> str:
    """Stable across runs and edits elsewhere in the file, so viewers track a finding."""
    return f"{report.proposal.id}:{f.rule}:{f.subject.kind}:{f.subject.id}"


def _descriptor(rule: Rule) -> sarif.ReportingDescriptor:
    return sarif.ReportingDescriptor(
        id=rule.id,
        name=rule.title,
        short_description=sarif.Message(text=rule.title),
        full_description=sarif.Message(text=rule.source),
        help=sarif.Message(text=f"Fix: {rule.fix}"),
        default_configuration=sarif.ReportingConfiguration(level=_LEVEL[rule.severity].value),
        properties={"ruleset": rule.ruleset, "source": rule.source},
    )


def _result(report: Report, f: Finding, document: Document | None) -> sarif.Result:
    line, column = _position(document, f)
    return sarif.Result(
        rule_id=f.rule,
        level=_LEVEL[f.severity],
        message=sarif.Message(text=f"{f.message} Fix: {f.fix}"),
        locations=[
            sarif.Location(
                physical_location=sarif.PhysicalLocation(
                    artifact_location=_artifact(report),
                    region=sarif.Region(start_line=line, start_column=column),
                ),
                logical_locations=[
                    sarif.LogicalLocation(
                        name=f.subject.id,
                        fully_qualified_name=f.subject.path or "(whole proposal)",
                        kind=f.subject.kind,
                    )
                ],
            )
        ],
        partial_fingerprints={"icorules/v1": _fingerprint(report, f)},
        properties={"evidence": f.evidence, "source": f.source, "proposal": report.proposal.id},
    )


def _artifact(report: Report) -> sarif.ArtifactLocation:
    return sarif.ArtifactLocation(uri=Path(report.proposal.file).as_posix() or report.proposal.id)


def render_sarif(reports: Sequence[Report], bundle: RuleBundle) -> str:
    """One SARIF run for the whole invocation. Every loaded rule is described in the driver;
    every finding is a result located in its file; a waived finding carries an accepted
    external suppression with the waiver's reason; a passing rule is a result of kind "pass"."""
    results: list[dict[str, Any]] = []
    dump = {"mode": "json", "by_alias": True, "exclude_none": True}
    for report in reports:
        document = _document(report)
        results += [_result(report, f, document).model_dump(**dump) for f in report.findings]
        for waived in report.waived:
            result = _result(report, waived.finding, document).model_dump(**dump)
            justification = waived.reason + (
                f" (approved by {waived.approved_by})" if waived.approved_by else ""
            )
            result["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": justification}
            ]
            results.append(result)
        for rule_id in report.passed:
            passed = sarif.Result(
                rule_id=rule_id,
                kind="pass",
                level=sarif.Level.NONE,
                message=sarif.Message(text=f"{rule_id} passed for {report.proposal.id}"),
                locations=[
                    sarif.Location(
                        physical_location=sarif.PhysicalLocation(
                            artifact_location=_artifact(report)
                        )
                    )
                ],
                properties={"proposal": report.proposal.id},
            )
            results.append(passed.model_dump(**dump))
    order = {rule.id: i for i, rule in enumerate(bundle.rules)}
    for result in results:
        result["ruleIndex"] = order[result["ruleId"]]
    log = sarif.Sarif(
        version="2.1.0",
        schema_uri="https://json.schemastore.org/sarif-2.1.0.json",
        runs=[
            sarif.Run(
                tool=sarif.Tool(
                    driver=sarif.ToolDriver(
                        name="icorules",
                        version=__version__,
                        rules=[_descriptor(rule) for rule in bundle.rules],
                    )
                ),
                results=[],
            )
        ],
    )
    data = log.model_dump(**dump)
    data["runs"][0]["results"] = results
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_junit(reports: Sequence[Report], fail_on: FailOn = "error") -> str:
    """A test suite per proposal and a test case per rule: findings at or above `fail_on`
    are failures, lower ones are noted in the case's output, unevaluated rules are skipped."""
    limit = SEVERITY_RANK.get(fail_on, -1)
    xml = junitparser.JUnitXml("icorules")
    for report in reports:
        suite = junitparser.TestSuite(f"{report.proposal.id} ({report.proposal.file or 'data'})")
        by_rule: dict[str, list[Finding]] = {}
        for f in report.findings:
            by_rule.setdefault(f.rule, []).append(f)
        waived: dict[str, list[str]] = {}
        for w in report.waived:
            waived.setdefault(w.finding.rule, []).append(
                f"waived: {w.finding.subject.path or w.finding.subject.id}: {w.reason}"
            )
        for rule in sorted({*by_rule, *waived, *report.passed, *report.not_evaluated}):
            case = junitparser.TestCase(rule, classname=report.proposal.id, time=0.0)
            found = by_rule.get(rule, [])
            failing = [f for f in found if SEVERITY_RANK[f.severity] <= limit]
            if failing:
                case.result = [
                    junitparser.Failure(f"{f.subject.id}: {f.message}", f.severity) for f in failing
                ]
            elif rule in report.not_evaluated:
                case.result = [junitparser.Skipped("needs a market context (--market FILE)")]
            notes = [f"{f.severity}: {f.subject.path or f.subject.id}: {f.message}" for f in found]
            notes += waived.get(rule, [])
            if notes:
                case.system_out = "\n".join(notes)
            suite.add_testcase(case)
        suite.update_statistics()
        xml.add_testsuite(suite)
    xml.update_statistics()
    text: bytes = xml.tostring()
    return text.decode("utf-8") + "\n"
