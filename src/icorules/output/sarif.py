"""SARIF 2.1.0, for code-scanning viewers (GitHub code scanning, VS Code's SARIF viewer).

One run for the whole invocation. Every loaded rule is described in the driver; every finding
is a result located at its line and column in the proposal file (worked out while the check
held the parsed file); a waived finding carries an accepted external suppression with the
waiver's reason; a passing rule is a result of kind "pass", and a rule that could not be
evaluated one of kind "notApplicable". JSON keeps any text valid, so names need no escaping.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

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
    return sarif.ArtifactLocation(uri=_uri(report))


def _uri(report: Report) -> str:
    return Path(report.proposal.file).as_posix() or report.proposal.id


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


def _rule_result(report: Report, uri: str, rule_id: str, kind: str, text: str) -> dict[str, Any]:
    """A rule's pass or notApplicable, as the SARIF model would dump it (`sarif.Result` with
    these fields): built as a dict, since a bid has ~50 of them (the models cost ~1 ms a bid)
    and the schema test holds the shape."""
    return {
        "ruleId": rule_id,
        "kind": kind,
        "level": sarif.Level.NONE.value,
        "message": {"text": text},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
        "properties": {"proposal": report.proposal.id},
    }


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
    proposal, uri = report.proposal.id, _uri(report)
    out += [
        _rule_result(report, uri, rule_id, "pass", f"{rule_id} passed for {proposal}")
        for rule_id in report.passed
    ]
    for entry in report.not_evaluated:
        where = f" for {entry.pct_area}" if entry.pct_area else ""
        text = f"{entry.rule} was not evaluated{where} in {proposal}: {entry.reason}"
        skipped = _rule_result(report, uri, entry.rule, "notApplicable", text)
        skipped["properties"]["pct_area"] = entry.pct_area
        out.append(skipped)
    return out


def sarif_log(bodies: Sequence[str], bundle: RuleBundle) -> Iterator[str]:
    """The log, in pieces, around the bids' results, each bid's already written where it
    stands (`part`): the same bytes as the whole log written at once, without reading ~100
    results a bid back into Python objects (10,000 bids took 14 s so)."""
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
    text = indented_json(log.model_dump(**_DUMP)) + "\n"
    found = [body for body in bodies if body]
    if not found:
        yield text
        return
    # The run's "results" is the log's first such key: keys are sorted, "runs" comes before
    # anything a rule describes, and a quote inside a text is always escaped.
    before, after = text.split(_NO_RESULTS, 1)
    yield before + '"results": [\n'
    for i, body in enumerate(found):
        yield ",\n" + body if i else body
    yield f"\n{_RUN_KEYS}]{after}"


_NO_RESULTS = '"results": []'
_RUN_KEYS = " " * 6  # how deep the run's keys are indented, and so the end of its results
# A result stands 8 deep in the log; as an item of its own list, indented_json puts it 2 deep.
_SHIFT = " " * 6


class SarifRenderer:
    name = "sarif"
    media_type = "application/sarif+json"
    pages = False

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        """The check's results, each with its rule's index, written as items of the log's
        list of results, indented as they stand in it."""
        order = {rule.id: i for i, rule in enumerate(result.bundle.rules)}
        found = results(result)
        for entry in found:
            entry["ruleIndex"] = order[entry["ruleId"]]
        if not found:
            return ""
        items = indented_json(found)[2:-2]  # the list's "[\n" and "\n]" off
        return _SHIFT + items.replace("\n", "\n" + _SHIFT)

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> Iterator[str]:
        bodies = [o.part for o in outcomes if o.part is not None]
        return sarif_log(bodies, bundle) if bodies else iter(())


RENDERER = SarifRenderer()
