"""SARIF 2.1.0, for code-scanning viewers (GitHub code scanning, VS Code's SARIF viewer).

One run for the whole invocation. Every loaded rule is described in the driver; every finding
is a result located at its line and column in the proposal file (worked out while the check
held the parsed file); a waived finding carries an accepted external suppression with the
waiver's reason; a passing rule is a result of kind "pass", and a rule that could not be
evaluated one of kind "notApplicable". JSON keeps any text valid, so names need no escaping.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import sarif_pydantic as sarif

from icorules import __version__
from icorules.output.json_report import indented_json
from icorules.output.options import RenderOptions
from icorules.results.findings import Finding
from icorules.results.outcome import CheckResult, Outcome
from icorules.results.report import Report
from icorules.rules.loader import Rule, RuleBundle

_LEVEL = {"error": sarif.Level.ERROR, "warning": sarif.Level.WARNING, "info": sarif.Level.NOTE}
_DUMP: dict[str, Any] = {"mode": "json", "by_alias": True, "exclude_none": True}


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


def _artifact(report: Report) -> sarif.ArtifactLocation:
    return sarif.ArtifactLocation(uri=Path(report.proposal.file).as_posix() or report.proposal.id)


def _finding(result: CheckResult, f: Finding) -> dict[str, Any]:
    report = result.report
    line, column = result.position(f.subject.path)
    located = sarif.Result(
        rule_id=f.rule,
        level=_LEVEL[f.severity],
        message=sarif.Message(text=f"{f.message} Fix: {f.fix}"),
        locations=[
            sarif.Location(
                physical_location=sarif.PhysicalLocation(
                    artifact_location=_artifact(report),
                    region=sarif.Region(start_line=line or 1, start_column=column or 1),
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
    data: dict[str, Any] = located.model_dump(**_DUMP)
    return data


def _rule_result(report: Report, rule_id: str, kind: str, text: str) -> dict[str, Any]:
    outcome = sarif.Result(
        rule_id=rule_id,
        kind=kind,
        level=sarif.Level.NONE,
        message=sarif.Message(text=text),
        locations=[
            sarif.Location(
                physical_location=sarif.PhysicalLocation(artifact_location=_artifact(report))
            )
        ],
        properties={"proposal": report.proposal.id},
    )
    data: dict[str, Any] = outcome.model_dump(**_DUMP)
    return data


def results(result: CheckResult) -> list[dict[str, Any]]:
    """The SARIF results of one check."""
    report = result.report
    out = [_finding(result, f) for f in report.findings]
    for waived in report.waived:
        suppressed = _finding(result, waived.finding)
        justification = waived.reason + (
            f" (approved by {waived.approved_by})" if waived.approved_by else ""
        )
        suppressed["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": justification}
        ]
        out.append(suppressed)
    proposal = report.proposal.id
    out += [
        _rule_result(report, rule_id, "pass", f"{rule_id} passed for {proposal}")
        for rule_id in report.passed
    ]
    for entry in report.not_evaluated:
        where = f" for {entry.pct_area}" if entry.pct_area else ""
        text = f"{entry.rule} was not evaluated{where} in {proposal}: {entry.reason}"
        skipped = _rule_result(report, entry.rule, "notApplicable", text)
        skipped["properties"]["pct_area"] = entry.pct_area
        out.append(skipped)
    return out


def sarif_log(parts: Sequence[list[dict[str, Any]]], bundle: RuleBundle) -> str:
    order = {rule.id: i for i, rule in enumerate(bundle.rules)}
    combined = [r for part in parts for r in part]
    for r in combined:  # the parts were read for this log alone, so they are changed in place
        r["ruleIndex"] = order[r["ruleId"]]
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
    data = log.model_dump(**_DUMP)
    data["runs"][0]["results"] = combined
    return indented_json(data) + "\n"


class SarifRenderer:
    name = "sarif"
    media_type = "application/sarif+json"
    pages = False

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        """The check's results as compact JSON, for `document` to read back."""
        found = results(result)
        try:
            return orjson.dumps(found).decode()
        except (orjson.JSONEncodeError, TypeError):  # a lone surrogate, an integer past 64 bits
            return _BY_PYTHON + json.dumps(found, ensure_ascii=False)

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> tuple[str, ...]:
        parts = [_read(o.part) for o in outcomes if o.part is not None]
        return (sarif_log(parts, bundle),) if parts else ()


# A part orjson could not write starts with this (JSON allows it), so it is read back by
# Python's json too: orjson's reader would make an integer past 64 bits a float.
_BY_PYTHON = " "


def _read(part: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (
        json.loads(part) if part.startswith(_BY_PYTHON) else orjson.loads(part)
    )
    return data


RENDERER = SarifRenderer()
