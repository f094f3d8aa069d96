"""`icorules lint`: mistakes in ruleset files that loading alone does not make obvious.

`rules check` answers "does it load?"; lint also asks "is it what the team meant?": a rule no
bidder could ever trigger, one that fires on every bid, a citation or fix hint left out, a
parameter nobody uses, a classification that no rule derives. Every finding has a stable code
(like ruff or Semgrep) so a team can discuss, document and `--ignore` it.

Static truth (RL006/RL007) is decided on the typed condition every backend runs (rules/truth.py).
What the engines cannot hold is reported as it is when the ruleset loads (RL011).
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from icorules.analysis.facts import FACT_KINDS, field_types
from icorules.engines import derived_record
from icorules.engines.reference import holds
from icorules.errors import InputError, Problem
from icorules.inputs.documents import Document, load_document
from icorules.inputs.validation import pydantic_problems
from icorules.limits import DEFAULT_LIMITS
from icorules.rules.citations import Reference, keys_cited, references_of, uncited
from icorules.rules.condition import compile_condition
from icorules.rules.docs import PARAM_RE
from icorules.rules.loader import _compile_rule, ruleset_files
from icorules.rules.spec import (
    RULE_ID_PATTERN,
    ParameterSpec,
    RulesetSpec,
    RuleSpec,
)
from icorules.rules.syntax import ExpressionError
from icorules.rules.truth import static_verdicts

__all__ = ["CODES", "LintFinding", "lint_paths", "static_verdicts"]


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    summary: str


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code(
            "RL001", "malformed-id", "A rule id is missing or not in the form GOV-002 / GOV-002a."
        ),
        Code("RL002", "duplicate-id", "Two rules share an id."),
        Code(
            "RL003",
            "missing-citation",
            "A rule cites no reference (`cite:`), only a `source` text or nothing.",
        ),
        Code("RL004", "missing-fix", "A rule has no `fix` hint."),
        Code("RL005", "unused-parameter", "A parameter is declared but no rule uses it."),
        Code("RL006", "never-true", "A condition, or part of one, can never be true."),
        Code("RL007", "always-true", "A condition, or part of one, is always true."),
        Code(
            "RL008",
            "template-field",
            "A message or fix names an unknown field or parameter, or formats it wrongly.",
        ),
        Code("RL009", "never-produced", "A rule waits for a derived fact that no rule derives."),
        Code(
            "RL010",
            "duplicate-condition",
            "Two rules test the same fact kind with the same condition.",
        ),
        Code("RL011", "invalid-rule", "A rule does not load (wrong key, kind, type, condition)."),
        Code("RL012", "invalid-ruleset", "The file's top level does not load."),
        Code(
            "RL013",
            "changed-without-version",
            "A rule or parameter changed since --base, but its ruleset's version did not.",
        ),
        Code("RL014", "unused-reference", "A reference is declared but no rule cites it."),
    )
}

RULE_ID = re.compile(RULE_ID_PATTERN)
_PLACEHOLDER_ID = "LINT-000"


@dataclass(frozen=True, order=True)
class LintFinding:
    file: str
    line: int
    column: int
    code: str
    message: str
    rule: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.code} {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "name": CODES[self.code].name,
            "message": self.message,
            "rule": self.rule,
        }


@dataclass
class _RuleInfo:
    """What the cross-file checks need to know about one rule that validated."""

    id: str
    spec: RuleSpec
    document: Document
    loc: tuple[str | int, ...]
    params: dict[str, Any]


def lint_paths(
    paths: Iterable[str | Path],
    ignore: Iterable[str] = (),
    base: Iterable[str | Path] | None = None,
) -> list[LintFinding]:
    """Lint ruleset files and directories, against an earlier copy of them if `base` is given
    (RL013); raises InputError if a file cannot be read."""
    files = ruleset_files(list(paths))
    documents = []
    unreadable: list[Problem] = []
    for file in files:
        try:
            documents.append(load_document(file))
        except InputError as exc:
            unreadable.extend(exc.problems)
    if unreadable:
        raise InputError(unreadable)
    linter = _Linter()
    for document in documents:
        linter.lint_document(document)
    linter.cross_checks()
    if base is not None:
        from icorules.rules.versioning import base_documents, unbumped_changes

        for document, loc, message, rule in unbumped_changes(documents, base_documents(base)):
            linter.add(document, loc, "RL013", message, rule)
    skip = set(ignore)
    return sorted(f for f in linter.findings if f.code not in skip)


class _Linter:
    def __init__(self) -> None:
        self.findings: list[LintFinding] = []
        self.rules: list[_RuleInfo] = []
        self.ids: dict[str, tuple[str, int]] = {}

    def add(
        self,
        document: Document,
        loc: Sequence[str | int],
        code: str,
        message: str,
        rule: str | None = None,
    ) -> None:
        line, column = document.position(loc)
        self.findings.append(
            LintFinding(document.name, line or 1, column or 1, code, message, rule)
        )

    def add_problem(self, problem: Problem, code: str, rule: str | None = None) -> None:
        self.findings.append(
            LintFinding(
                problem.file, problem.line or 1, problem.column or 1, code, problem.message, rule
            )
        )

    # -- one file ---------------------------------------------------------------------

    def lint_document(self, document: Document) -> None:
        data = document.data
        if not isinstance(data, dict):
            self.add(
                document,
                (),
                "RL012",
                "a ruleset file is a YAML mapping with 'ruleset', 'version' and 'rules'",
            )
            return
        try:
            RulesetSpec.model_validate(data)
        except ValidationError as exc:
            for problem in pydantic_problems(exc, RulesetSpec, document, document.name):
                code = "RL011" if problem.message.startswith("rules[") else "RL012"
                self.add_problem(problem, code)
        ruleset = data.get("ruleset") if isinstance(data.get("ruleset"), str) else "unnamed"
        raw_params = data.get("parameters")
        declared: dict[Any, Any] = raw_params if isinstance(raw_params, dict) else {}
        params: dict[str, Any] = {}
        for name, raw in declared.items():
            with contextlib.suppress(ValidationError):  # if not, reported above as RL012
                params[str(name)] = ParameterSpec.model_validate(raw).default
        references = references_of(data.get("references"))
        rules_value = data.get("rules")
        raw_rules: list[Any] = rules_value if isinstance(rules_value, list) else []
        used: set[str] = set()
        cited: set[str] = set()
        for index, raw in enumerate(raw_rules):
            if isinstance(raw, dict):
                used |= _params_named(raw)
                cited |= keys_cited(raw)
                self.lint_rule(document, ("rules", index), raw, str(ruleset), params, references)
        for key in references:
            if key not in cited:
                self.add(
                    document,
                    ("references", key),
                    "RL014",
                    f"reference '{key}' is declared but no rule cites it "
                    f"(cite it with {{ref: {key}, quote: ...}}, or delete it)",
                )
        for name in declared:
            if name not in used:
                self.add(
                    document,
                    ("parameters", name),
                    "RL005",
                    f"parameter '{name}' is declared but no rule uses it "
                    f"(write params.{name} in a condition, message or fix, or delete it)",
                )

    def lint_rule(
        self,
        document: Document,
        loc: tuple[str | int, ...],
        raw: dict[str, Any],
        ruleset: str,
        params: dict[str, Any],
        references: dict[str, Reference] | None = None,
    ) -> None:
        patched = dict(raw)
        rule_id = raw.get("id")
        shown_id = rule_id if isinstance(rule_id, str) else None
        if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
            patched["id"] = _PLACEHOLDER_ID
            if rule_id is None:
                self.add(document, loc, "RL001", "the rule has no id")
            else:
                self.add(
                    document,
                    (*loc, "id"),
                    "RL001",
                    f"'{rule_id}' is not a rule id: use capital letters, a hyphen and three "
                    "digits, with an optional lower-case letter (GOV-002, GOV-002a)",
                    shown_id,
                )
        else:
            line, _ = document.position(loc)
            if rule_id in self.ids:
                first_file, first_line = self.ids[rule_id]
                self.add(
                    document,
                    (*loc, "id"),
                    "RL002",
                    f"rule id '{rule_id}' is also used at {first_file}:{first_line}",
                    rule_id,
                )
            else:
                self.ids[rule_id] = (document.name, line or 1)
        self.citation(document, loc, raw, patched, shown_id)
        value = raw.get("fix")
        if not isinstance(value, str) or not value.strip():
            patched["fix"] = "-"
            at = (*loc, "fix") if "fix" in raw else loc
            what = "fix hint ('fix': what the bid author should do)"
            self.add(document, at, "RL004", f"rule {shown_id or '?'} has no {what}", shown_id)
        try:
            spec = RuleSpec.model_validate(patched)
        except ValidationError as exc:
            for problem in pydantic_problems(exc, RuleSpec, document, document.name, loc):
                self.add_problem(problem, "RL011", shown_id)
            return
        spec = spec.model_copy(update={"id": shown_id or "?"})
        _, problems = _compile_rule(spec, loc, document, ruleset, params, references=references)
        prefix = re.escape(_path(loc))
        template = re.compile(rf"^{prefix}\.(message|fix)\b")
        for problem in problems:
            code = "RL008" if template.match(problem.message) else "RL011"
            self.add_problem(problem, code, shown_id)
        if spec.fact in FACT_KINDS:
            self.static_truth(
                document, (*loc, "condition"), spec, spec.condition, spec.fact, params
            )
            for kind, text in spec.given.items():
                if kind in FACT_KINDS:
                    self.static_truth(document, (*loc, "given", kind), spec, text, kind, params)
        self.rules.append(_RuleInfo(shown_id or "?", spec, document, loc, params))

    def citation(
        self,
        document: Document,
        loc: tuple[str | int, ...],
        raw: dict[str, Any],
        patched: dict[str, Any],
        shown_id: str | None,
    ) -> None:
        """RL003 for a rule that cites no reference: none at all, or only a `source` text."""
        found = uncited(raw, f"rule {shown_id or '?'}")
        if found is not None:
            key, message = found
            if key is None:
                patched.pop("cite", None)
                patched["source"] = "-"
            self.add(document, (*loc, key) if key else loc, "RL003", message, shown_id)

    def static_truth(
        self,
        document: Document,
        loc: tuple[str | int, ...],
        spec: RuleSpec,
        text: str,
        kind: str,
        params: dict[str, Any],
    ) -> None:
        for verdict, segment, whole in static_verdicts(text, kind, params):
            what = "the condition" if loc[-1] == "condition" else f"the 'given' {kind} condition"
            if verdict == "never":
                consequence = (
                    "so the rule never fires"
                    if loc[-1] == "condition"
                    else "so the rule never applies"
                )
                message = (
                    f"{what} can never be true ({segment}), {consequence}"
                    if whole
                    else f"part of {what} can never be true: {segment}"
                )
                self.add(document, loc, "RL006", f"rule {spec.id}: {message}", spec.id)
            else:
                message = (
                    f"{what} is always true ({segment}), so it holds for every '{kind}' fact"
                    if whole
                    else f"part of {what} is always true, so it tests nothing: {segment}"
                )
                self.add(document, loc, "RL007", f"rule {spec.id}: {message}", spec.id)

    # -- across files -----------------------------------------------------------------

    def cross_checks(self) -> None:
        self.never_produced()
        self.duplicate_conditions()

    def never_produced(self) -> None:
        producers: dict[str, list[dict[str, Any]]] = {}
        for info in self.rules:
            derive = info.spec.derive
            if derive is not None and derive.kind in FACT_KINDS:
                producers.setdefault(derive.kind, []).append(derived_record(info.id, derive, "x"))
        for info in self.rules:
            waits: list[tuple[str, str, tuple[str, ...]]] = [
                (k, t, ("given", k)) for k, t in info.spec.given.items()
            ]
            waits.append((info.spec.fact, info.spec.condition, ("condition",)))
            for kind, text, at in waits:
                if kind not in FACT_KINDS or not FACT_KINDS[kind].derived:
                    continue
                try:
                    compiled = compile_condition(text, field_types(kind), info.params, kind)
                except ExpressionError:
                    continue  # reported as RL011
                made = producers.get(kind, [])
                if any(holds(compiled.condition, fact, info.params) for fact in made):
                    continue
                shown = set(field_types(kind)) - {"id"}
                offered = sorted(
                    {", ".join(f"{k}: {v}" for k, v in f.items() if k in shown) for f in made}
                )
                also = f" (the loaded rules derive: {'; '.join(offered)})" if offered else ""
                self.add(
                    info.document,
                    (*info.loc, *at),
                    "RL009",
                    f"rule {info.id} waits for a '{kind}' fact with {' '.join(text.split())}, "
                    f"but no loaded rule derives one{also}",
                    info.id,
                )

    def duplicate_conditions(self) -> None:
        seen: dict[tuple[Any, ...], _RuleInfo] = {}
        for info in self.rules:
            try:
                key = (
                    info.spec.fact,
                    _shape(info.spec.condition),
                    tuple(sorted((k, _shape(t)) for k, t in info.spec.given.items())),
                )
            except SyntaxError:
                continue
            if key in seen:
                first = seen[key]
                line, _ = first.document.position(first.loc)
                self.add(
                    info.document,
                    (*info.loc, "condition"),
                    "RL010",
                    f"rule {info.id} tests the same '{info.spec.fact}' condition as "
                    f"{first.id} ({first.document.name}:{line}): one of them is redundant, "
                    "or one was meant to differ",
                    info.id,
                )
            else:
                seen[key] = info


def _path(loc: Sequence[str | int]) -> str:
    from icorules.inputs.documents import json_path

    return json_path(loc)


def _shape(text: str) -> str:
    """A condition with layout and redundant brackets ignored (as written if it is too big or
    too deep to parse safely; the rule's own load error reports that)."""
    if len(text) > DEFAULT_LIMITS.expression_length:
        return text
    try:
        return ast.dump(ast.parse(text.strip(), mode="eval"))
    except (SyntaxError, RecursionError, MemoryError):
        return text


def _params_named(raw: Mapping[str, Any]) -> set[str]:
    texts = [raw.get("condition"), raw.get("message"), raw.get("fix")]
    if isinstance(raw.get("given"), dict):
        texts += list(raw["given"].values())
    return {name for t in texts if isinstance(t, str) for name in PARAM_RE.findall(t)}
