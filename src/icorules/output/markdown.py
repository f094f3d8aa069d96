"""The Markdown report: for a wiki page, a pull request comment or an assessor's notes.

A batch gets a summary table first, then each proposal's findings, waivers and the rules that
passed (auditors ask for those). Text from inputs is escaped (`markdown_text`), so a bid
cannot put HTML, images or links into the page.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

from icorules.output.escape import markdown_code, markdown_text
from icorules.output.options import RenderOptions
from icorules.results.outcome import CheckResult, Outcome
from icorules.results.report import FailOn, Report
from icorules.rules.loader import RuleBundle

# Escaped once per text: a rule's title, fix and source recur in every bid (escaping them again
# was most of a bid's Markdown, 0.4 ms).
_t = functools.lru_cache(maxsize=4096)(markdown_text)


def report_markdown(report: Report, fail_on: FailOn, bundle: RuleBundle) -> str:
    """One proposal's section."""
    p, s = report.proposal, report.summary
    rules = {rule.id: rule for rule in bundle.rules}
    verdict = "**fails**" if report.fails(fail_on) else "**passes**"
    out = [f"## {_t(p.name)} ({markdown_code(p.id)})", ""]
    if p.file:
        out += [f"File: {markdown_code(p.file)}", ""]
    out += [
        f"Verdict: {verdict} — {_n(s.error, 'error')}, {_n(s.warning, 'warning')}, "
        f"{_n(s.info, 'note')}, "
        f"{s.passed} rules passed, {s.waived} waived, {s.not_evaluated} not evaluated"
        + (f", {s.ignored} ignored." if s.ignored else "."),
        "",
    ]
    out += [f"> Input warning: {_t(w)}" for w in report.warnings]
    if report.warnings:
        out.append("")
    if report.findings:
        out += [
            "| Severity | Rule | Subject | Finding | Fix | Source |",
            "|---|---|---|---|---|---|",
        ]
        for f in report.findings:
            out.append(
                f"| {f.severity} | {f.rule} | {markdown_code(f.subject.path or f.subject.id)} | "
                f"{_t(f.message)} | {_t(f.fix)} | {_t(f.source)} |"
            )
        out.append("")
    if report.waived:
        out += ["Waived:", ""]
        out += [
            f"- {w.finding.rule} on {markdown_code(w.finding.subject.id)}: {_t(w.reason)}"
            + (f" (approved by {_t(w.approved_by)})" if w.approved_by else "")
            for w in report.waived
        ]
        out.append("")
    if report.passed:
        out += [
            "Passed:",
            "",
            "| Rule | Severity if it fired | Check | Source |",
            "|---|---|---|---|",
        ]
        for rule_id in report.passed:
            rule = rules.get(rule_id)
            out.append(
                f"| {rule_id} | {rule.severity} | {_t(rule.title)} | {_t(rule.source)} |"
                if rule
                else f"| {rule_id} | | | |"
            )
        out.append("")
    for group in report.not_evaluated_groups():
        out += [f"Not evaluated {_t(group.describe())}: {', '.join(group.rules)}", ""]
    if report.ignored:
        out += [f"Ignored (--select/--ignore): {', '.join(report.ignored)}", ""]
    return "\n".join(out)  # the document puts the line breaks between parts


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class MarkdownRenderer:
    name = "markdown"
    media_type = "text/markdown; charset=utf-8"
    pages = False

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        return report_markdown(result.report, options.fail_on, result.bundle)

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> Iterator[str]:
        out: list[str] = []
        if len(outcomes) > 1:
            out += ["# icorules results", ""]
            out += [
                "| Proposal | Errors | Warnings | Notes | Waived | Verdict |",
                "|---|--:|--:|--:|--:|---|",
            ]
            for o in outcomes:
                s = o.summary
                counts = (
                    f"{s.error} | {s.warning} | {s.info} | {s.waived}" if s else "- | - | - | -"
                )
                out.append(f"| {_t(o.path)} | {counts} | {o.verdict(options.fail_on)} |")
            out.append("")
        for o in outcomes:
            if o.part is not None:
                out.append(o.part)
                continue
            out += [f"## {_t(o.path)}", "", "Could not be checked:", ""]
            out += [f"- {_t(str(p))}" for p in o.problems] or [f"- {_t(o.internal_error or '')}"]
            out.append("")
        # "\n".join(out).rstrip("\n") + "\n", in pieces: the lines after the last with text
        # add only line breaks, which the end drops.
        last = max((i for i, line in enumerate(out) if line.rstrip("\n")), default=-1)
        for line in out[:last]:
            yield line + "\n"
        yield out[last].rstrip("\n") + "\n" if last >= 0 else "\n"


RENDERER = MarkdownRenderer()
