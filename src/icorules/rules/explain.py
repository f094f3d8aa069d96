"""Why a rule fired on a subject, or why it did not: its condition with the values it read.

An analyst who doubts a finding needs to see `share (1.00) >= params.share_of_supply (0.25) ✓`,
not the engine's form. Each part of the condition is compiled on its own by the same compiler
the ruleset loader uses and evaluated by the reference backend's evaluator of the typed form
(`holds`, `value`), so an explanation cannot disagree with the rules about what is true; this
module only lays the parts out, in the words and order the rule's author wrote.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from icorules.analysis.facts import Fact, FieldType, field_types
from icorules.engines import Match, Record, derived_record, fact_record
from icorules.engines.reference import MISSING, holds
from icorules.engines.reference import value as value_of
from icorules.errors import InputError, did_you_mean
from icorules.results.findings import Explained, Finding, Subject
from icorules.rules import ir
from icorules.rules.condition import ARITHMETIC, COMPARISONS, compile_condition
from icorules.rules.loader import Rule, RuleBundle
from icorules.rules.syntax import ExpressionError

YES, NO = "✓", "✗"
_OP_TEXT: dict[type[ast.cmpop], str] = {**COMPARISONS, ast.In: "in", ast.NotIn: "not in"}
MAX_GIVEN_SHOWN = 3  # facts shown when no fact of a `given` kind qualifies


def _mark(value: bool) -> str:
    return YES if value else NO


def format_value(value: Any, ftype: FieldType | None = None) -> str:
    """A fact or parameter value as an analyst reads it."""
    if value is MISSING or value is None:
        return "absent"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0")  # the engine keeps 4 decimals; show at least 2
        return text if len(text.split(".")[1]) >= 2 else f"{value:.2f}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


class _Condition:
    """One condition text about one fact: each part's truth and the values it read."""

    def __init__(
        self, text: str, kind: str, params: Mapping[str, Any], fact: Mapping[str, Any]
    ) -> None:
        self.text = " ".join(text.split())
        self.kind = kind
        self.fields = field_types(kind)
        self.params = dict(params)
        self.fact = fact
        self.absent = False

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def compiled(self, text: str) -> ir.Cond:
        return compile_condition(text, self.fields, self.params, self.kind).condition

    def holds(self, node: ast.AST) -> bool:
        return holds(self.compiled(self.segment(node)), self.fact, self.params)

    def lines(self) -> list[str]:
        tree = ast.parse(self.text, mode="eval").body
        return self.node_lines(tree, 0)

    def node_lines(self, node: ast.AST, depth: int) -> list[str]:
        pad = "  " * depth
        if isinstance(node, ast.BoolOp) or (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.Not)
            and isinstance(node.operand, ast.BoolOp)
        ):
            inner = node.operand if isinstance(node, ast.UnaryOp) else node
            assert isinstance(inner, ast.BoolOp)
            is_and = isinstance(inner.op, ast.And)
            if node is inner:
                head = "all of these hold" if is_and else "at least one of these holds"
            else:
                head = "not all of these hold" if is_and else "none of these holds"
            out = [f"{pad}{head}: {_mark(self.holds(node))}"]
            for child in inner.values:
                out += self.node_lines(child, depth + 1)
            return out
        self.absent = False
        text = self.leaf(node)
        note = " (absent: any test of a missing value is false)" if self.absent else ""
        return [f"{pad}{text} {_mark(self.holds(node))}{note}"]

    def leaf(self, node: ast.AST) -> str:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.leaf(node.operand)
            return f"not {inner}" if isinstance(node.operand, ast.Name) else f"not ({inner})"
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            parts = [self.operand(node.left)]
            for left, op, right in zip(operands, node.ops, operands[1:], strict=False):
                shown = self.operand(right)
                if isinstance(left, ast.BinOp) or isinstance(right, ast.BinOp):
                    result = self.arithmetic(left, op, right)
                    if result is not None:
                        if isinstance(left, ast.BinOp):
                            parts[-1] += f" = {result}"
                        else:
                            shown += f" = {result}"
                parts += [_OP_TEXT[type(op)], shown]
            return " ".join(parts)
        return self.operand(node)

    def operand(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            found = self.fact.get(node.id, MISSING)
            if found is MISSING:
                self.absent = True
            return f"{node.id} ({format_value(found, self.fields.get(node.id))})"
        if isinstance(node, ast.Attribute):
            return f"params.{node.attr} ({format_value(self.params.get(node.attr))})"
        if isinstance(node, ast.BinOp):
            symbol = ARITHMETIC.get(type(node.op), "?")
            return f"{self.operand(node.left)} {symbol} {self.operand(node.right)}"
        return self.segment(node)

    def arithmetic(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> str | None:
        """The worked-out value of the arithmetic side of `left op right`."""
        text = f"{self.segment(left)} {_OP_TEXT[type(op)]} {self.segment(right)}"
        try:
            condition = self.compiled(text)
        except ExpressionError:  # e.g. arithmetic on both sides: show no result, not fail
            return None
        if not isinstance(condition, ir.Compare):
            return None
        worked = value_of(condition.right, self.fact, self.params)  # the field is on the left
        return None if worked is MISSING else format_value(worked)


def condition_lines(
    text: str, kind: str, params: Mapping[str, Any], fact: Mapping[str, Any]
) -> list[str]:
    """The condition `text` about a `kind` fact, part by part, with values and ✓ / ✗."""
    return _Condition(text, kind, params, fact).lines()


def _kind_facts(facts: Sequence[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [f for f in facts if f.get("kind") == kind]


def _given_patterns(rule: Rule) -> dict[str, ir.Cond]:
    return {p.kind: p.condition for p in rule.patterns if not p.subject}


def given_lines(rule: Rule, facts: Sequence[Mapping[str, Any]]) -> tuple[list[str], bool]:
    """Lines for the rule's `given` conditions, and whether all of them are met."""
    out: list[str] = []
    met = True
    patterns = _given_patterns(rule)
    for kind, text in rule.given:
        candidates = _kind_facts(facts, kind)
        matching = [f for f in candidates if holds(patterns[kind], f, rule.params)]
        if matching:
            shown = matching[:1]
        else:
            met = False
            shown = candidates[:MAX_GIVEN_SHOWN]
            if not candidates:
                out.append(f"given a '{kind}' fact with {text}: there is no '{kind}' fact {NO}")
                continue
            out.append(f"given a '{kind}' fact with {text}: none has it {NO}")
        pad = "" if matching else "  "
        for fact in shown:
            lines = condition_lines(text, kind, rule.params, fact)
            out.append(f"{pad}given {kind} {fact.get('id', '')}: {lines[0]}")
            out += [f"{pad}  {line}" for line in lines[1:]]
    return out, met


def explain_subject(
    rule: Rule, subject: Mapping[str, Any], facts: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Why `rule` did or did not fire on `subject` (a fact record), in readable lines."""
    lines, met = given_lines(rule, facts)
    if not met:
        return [*lines, "so the condition was not tested"]
    return lines + condition_lines(rule.condition, rule.fact, rule.params, subject)


def tested(rule: Rule, facts: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the rule's condition was tested on at least one subject: a fact of its kind
    exists and every `given` is met (a rule with nothing to test passes vacuously)."""
    if not _kind_facts(facts, rule.fact):
        return False
    return all(
        any(holds(cond, f, rule.params) for f in _kind_facts(facts, kind))
        for kind, cond in _given_patterns(rule).items()
    )


def with_derived(
    bundle: RuleBundle, facts: Iterable[Mapping[str, Any]], fired: Iterable[tuple[str, str]]
) -> list[Record]:
    """The fact records plus those rules derived, rebuilt from (rule id, subject id) matches
    exactly as the engines build them."""
    out = [dict(f) for f in facts]
    for rule_id, subject in fired:
        rule = bundle.rule(rule_id)
        if rule.derive is not None:
            out.append(derived_record(rule.id, rule.derive, subject))
    return out


def split_request(request: str) -> tuple[str, str | None]:
    """`GOV-002` -> (GOV-002, None); `GOV-002:GP3` -> (GOV-002, GP3): one subject only."""
    rule_id, _, subject = request.partition(":")
    return rule_id, subject or None


def check_rule_ids(bundle: RuleBundle, rule_ids: Iterable[str]) -> None:
    """A misspelt id would silently explain nothing."""
    known = {r.id for r in bundle.rules}
    bad = [r for r, _ in map(split_request, rule_ids) if r not in known]
    if bad:
        raise InputError.single(
            "--explain-rule", f"no loaded rule has the id '{bad[0]}'{did_you_mean(bad[0], known)}"
        )


def explain_check(
    bundle: RuleBundle,
    facts: Sequence[Fact],
    matches: Sequence[Match],
    findings: Sequence[Finding],
    *,
    every_finding: bool,
    rule_ids: Sequence[str] = (),
    not_evaluated: Sequence[str] = (),
) -> tuple[list[Finding], list[Explained]]:
    """Findings with `explanation` filled in (all, or those of `rule_ids`), and for each of
    `rule_ids` an explanation of every subject it did not fire on."""
    check_rule_ids(bundle, rule_ids)
    fired = [(m.rule, str(m.subject["id"])) for m in matches]
    known = with_derived(bundle, (fact_record(f) for f in facts), fired)
    by_key = {(f["kind"], f["id"]): f for f in known}
    subjects = {
        (f.kind, f.id): Subject(kind=f.kind, id=f.id, name=str(getattr(f, "name", "")), path=f.path)
        for f in facts
    }
    requests = [split_request(r) for r in rule_ids]
    wanted = {r for r, _ in requests}
    explained_findings = []
    for finding in findings:
        if every_finding or finding.rule in wanted:
            subject_fact = by_key.get((finding.subject.kind, finding.subject.id))
            if subject_fact is not None:
                lines = explain_subject(bundle.rule(finding.rule), subject_fact, known)
                finding = finding.model_copy(update={"explanation": lines})
        explained_findings.append(finding)
    passes: list[Explained] = []
    fired_on = set(fired)
    for rule_id, only in requests:
        rule = bundle.rule(rule_id)
        if rule_id in not_evaluated:
            line = "not evaluated: this rule needs a market context (--market FILE)"
            passes.append(Explained(rule=rule_id, lines=[line]))
            continue
        candidates = [f for f in _kind_facts(known, rule.fact) if only is None or f["id"] == only]
        if not candidates:
            what = f"'{rule.fact}' fact" + (f" with id '{only}'" if only else "")
            line = f"there is no {what} in this proposal, so nothing was tested"
            passes.append(Explained(rule=rule_id, lines=[line]))
        for fact in candidates:
            if (rule_id, fact["id"]) in fired_on:
                continue
            subject = subjects.get((fact["kind"], fact["id"])) or Subject(
                kind=rule.fact, id=fact["id"], name=str(fact.get("name", ""))
            )
            passes.append(
                Explained(rule=rule_id, subject=subject, lines=explain_subject(rule, fact, known))
            )
    return explained_findings, passes
