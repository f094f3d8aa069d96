"""GitHub Actions workflow commands: each finding as an annotation on its line of the bid.

`::error file=bids/x.json,line=12,col=5,title=GOV-002::message`: GitHub shows these on the
pull request's changed files and in the run's summary. Severity maps to error, warning and
notice. Values are escaped as the runner requires (%, CR, LF, and in properties : and ,), so
text from a bid cannot end the command early or start another; any other control, line- or
paragraph-separator or bidi character is written as a visible escape, as in the terminal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from icorules.errors import printable
from icorules.output.escape import unicode_safe
from icorules.output.options import RenderOptions
from icorules.results.outcome import CheckResult, Outcome
from icorules.rules.loader import RuleBundle

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    escaped = unicode_safe(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(escaped)  # other controls, line separators and bidi overrides, visibly


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: str | int) -> str:
    props = ",".join(f"{k}={_property(str(v))}" for k, v in properties.items())
    return f"::{level} {props}::{_data(message)}" if props else f"::{level}::{_data(message)}"


class GithubRenderer:
    name = "github"
    media_type = "text/plain; charset=utf-8"
    pages = False

    def part(self, result: CheckResult, options: RenderOptions) -> str:
        report = result.report
        lines = []
        for f in report.findings:
            line, column = result.position(f.subject.path)
            where: dict[str, str | int] = {"file": report.proposal.file or report.proposal.id}
            if line is not None:
                where["line"] = line
            if column is not None:
                where["col"] = column
            lines.append(
                command(
                    _LEVEL[f.severity],
                    f"{f.message} Fix: {f.fix}",
                    **where,
                    title=f"{f.rule} {f.title}",
                )
            )
        return "".join(line + "\n" for line in lines)

    def document(
        self, outcomes: Sequence[Outcome], bundle: RuleBundle, options: RenderOptions
    ) -> Iterator[str]:
        for o in outcomes:
            if o.part is not None:
                yield o.part
            for problem in o.problems:
                where: dict[str, str | int] = {"file": problem.file}
                if problem.line is not None:
                    where["line"] = problem.line
                if problem.column is not None:
                    where["col"] = problem.column
                yield command("error", problem.message, **where, title="unreadable input") + "\n"
            if o.internal_error is not None:
                yield command("error", o.internal_error, file=o.path, title="internal error") + "\n"


RENDERER = GithubRenderer()
