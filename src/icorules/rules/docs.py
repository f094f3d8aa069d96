"""What a rule says, for people: conditions in plain words, `rules show`, and `rules docs`.

Bidders and assessors read rules, not YAML; everything here is generated from the loaded
rulesets so the published reference can never drift from what `icorules check` runs. What a
rule reads and which parameters it uses come from its compiled form (rules/ir.py); the plain
words follow the condition's text, because they keep the author's own grouping (`not (a or b)`
reads "none of these holds"), which the compiled form has already pushed `not` through.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import re
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from icorules.analysis.facts import FACT_KINDS, field_types
from icorules.rules import ir
from icorules.rules.citations import Citation
from icorules.rules.loader import Rule, RuleBundle, Ruleset

_PHRASE = {
    ast.Lt: "is less than",
    ast.LtE: "is at most",
    ast.Gt: "is more than",
    ast.GtE: "is at least",
    ast.Eq: "is",
    ast.NotEq: "is not",
    ast.In: "is one of",
    ast.NotIn: "is not one of",
}
_SHORT = {  # the phrase without "is", for "x is at least a and at most b"
    ast.Lt: "less than",
    ast.LtE: "at most",
    ast.Gt: "more than",
    ast.GtE: "at least",
    ast.Eq: "equal to",
    ast.NotEq: "not equal to",
}
_FLIPPED = {
    ast.Lt: ast.Gt,
    ast.LtE: ast.GtE,
    ast.Gt: ast.Lt,
    ast.GtE: ast.LtE,
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
}
_ARITH = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷"}
PARAM_RE = re.compile(r"params\.([A-Za-z_][A-Za-z0-9_]*)")


def show_value(value: Any) -> str:
    """A parameter or literal value as people read it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def plain_words(
    condition: str, params: Mapping[str, Any], code: Callable[[str], str] = lambda s: s
) -> str:
    """The condition as a sentence: `not has_board` -> `has_board is false`.

    `code` wraps field and parameter names (backticks in Markdown). The condition must already
    have compiled, so only the whitelisted constructions occur.
    """
    tree = ast.parse(condition.strip(), mode="eval")
    return _Words(params, code).text(tree.body, top=True)


class _Words:
    def __init__(self, params: Mapping[str, Any], code: Callable[[str], str]) -> None:
        self.params = params
        self.code = code

    def text(self, node: ast.AST, top: bool = False) -> str:
        if isinstance(node, ast.BoolOp):
            word = " and " if isinstance(node.op, ast.And) else " or "
            parts = word.join(self.text(v) for v in node.values)
            return parts if top else f"({parts})"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = node.operand
            if isinstance(inner, ast.Name):
                return f"{self.code(inner.id)} is false"
            if isinstance(inner, ast.BoolOp):
                head = "none of these holds" if isinstance(inner.op, ast.Or) else "not all of"
                parts = "; ".join(self.text(v, top=True) for v in inner.values)
                return f"{head}: ({parts})"
            return f"it is not so that {self.text(inner)}"
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name):
            return f"{self.code(node.id)} is true"
        return self.operand(node)

    def compare(self, node: ast.Compare) -> str:
        operands = [node.left, *node.comparators]
        pairs = []
        for left, op, right in zip(operands, node.ops, operands[1:], strict=False):
            kind = type(op)
            if not _is_field(left) and _is_field(right) and kind in _FLIPPED:
                left, right, kind = right, left, _FLIPPED[kind]
            pairs.append((left, kind, right))
        words: list[str] = []
        for i, (left, kind, right) in enumerate(pairs):
            same = i and ast.dump(pairs[i - 1][0]) == ast.dump(left) and kind in _SHORT
            if same:
                words.append(f"{_SHORT[kind]} {self.operand(right)}")
            else:
                words.append(f"{self.operand(left)} {_PHRASE[kind]} {self.operand(right)}")
        return " and ".join(words)

    def operand(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return self.code(node.id)
        if isinstance(node, ast.Attribute):
            value = self.params.get(node.attr)
            return f"{self.code('params.' + node.attr)} ({show_value(value)})"
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return f"'{node.value}'"
            return show_value(node.value)
        if isinstance(node, ast.List | ast.Tuple):
            return ", ".join(self.operand(e) for e in node.elts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return f"-{self.operand(node.operand)}"
        if isinstance(node, ast.BinOp):
            symbol = _ARITH.get(type(node.op), "?")
            return f"{self.operand(node.left)} {symbol} {self.operand(node.right)}"
        return ast.unparse(node)


def _is_field(node: ast.AST) -> bool:
    return isinstance(node, ast.Name)


def shown_path(file: str) -> str:
    """A path under the working directory as a relative one: shorter, and the same on every
    machine."""
    try:
        return str(Path(file).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return file


def params_used(rule: Rule) -> list[str]:
    """Parameters the rule's condition, `given`, message or fix refer to, in order."""
    patterns = [rule.patterns[-1], *rule.patterns[:-1]]  # its own condition first
    found = [name for p in patterns for name in ir.params_read(p.condition)]
    for text in (rule.message, rule.fix):
        for _, name, _, _ in string.Formatter().parse(text):
            if name and name.startswith("params."):
                found.append(name.removeprefix("params."))
    return [n for n in dict.fromkeys(found) if n in rule.params]


def given_reads(rule: Rule) -> list[tuple[str, str]]:
    """(kind, field) pairs the rule's `given` conditions read."""
    return [
        (p.kind, name)
        for p in rule.patterns
        if not p.subject
        for name in ir.fields_read(p.condition)
    ]


def template_fields(rule: Rule) -> list[str]:
    """Fields and parameters the message and fix show."""
    names: list[str] = []
    for text in (rule.message, rule.fix):
        for _, name, _, _ in string.Formatter().parse(text):
            if name and name not in names:
                names.append(name)
    return names


def _field_doc(kind: str, name: str) -> tuple[str, str]:
    """(type label, description) of a fact field."""
    if name == "id":
        return "text", "The subject's id."
    ftype = field_types(kind)[name]
    info = FACT_KINDS[kind].model_fields[name]
    label = ftype.label + (" or absent" if ftype.nullable else "")
    return label, info.description or ""


def _ruleset_of(bundle: RuleBundle, rule: Rule) -> Ruleset:
    return next(rs for rs in bundle.rulesets if rs.name == rule.ruleset)


def rule_details(bundle: RuleBundle, rule: Rule) -> dict[str, Any]:
    """Everything `rules show` prints, as data (also its JSON form)."""
    ruleset = _ruleset_of(bundle, rule)
    reads = [
        {"fact": rule.fact, "field": n, "type": t, "meaning": d}
        for n in rule.reads
        for t, d in [_field_doc(rule.fact, n)]
    ]
    reads += [
        {"fact": k, "field": n, "type": t, "meaning": d}
        for k, n in given_reads(rule)
        for t, d in [_field_doc(k, n)]
    ]
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "ruleset": rule.ruleset,
        "version": ruleset.version,
        "file": shown_path(rule.file),
        "line": rule.line,
        "fact": rule.fact,
        "description": rule.description,
        "source": rule.source,
        "citations": [_citation(cite, ruleset) for cite in rule.cites],
        "needs_format": rule.needs_format,
        "condition": rule.condition,
        "fires_when": plain_words(rule.condition, rule.params),
        "given": [
            {"fact": kind, "condition": text, "in_words": plain_words(text, rule.params)}
            for kind, text in rule.given
        ],
        "parameters": [
            {
                "name": name,
                "value": _json_value(rule.params[name]),
                "unit": ruleset.parameter_info[name].unit,
                "in_words": ruleset.parameter_info[name].describe(rule.params[name]),
                "meaning": ruleset.parameter_info[name].description,
            }
            for name in params_used(rule)
        ],
        "reads": reads,
        "message": rule.message,
        "fix": rule.fix,
        "shows": template_fields(rule),
        "derives": (
            {"fact": rule.derive.kind, "fields": dict(rule.derive.fields)} if rule.derive else None
        ),
        "needs_market": rule.needs_market,
    }


def _citation(cite: Citation, ruleset: Ruleset) -> dict[str, str]:
    """One citation as data, with its reference in full."""
    out = {key: value for key, value in dataclasses.asdict(cite).items() if value is not None}
    reference = ruleset.references.get(cite.ref or "")
    if reference is not None:
        out["reference"] = reference.text
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def rule_text(bundle: RuleBundle, rule: Rule) -> str:
    """`icorules rules show ID` as text: one labelled line per part of the rule."""
    d = rule_details(bundle, rule)
    out = [f"{rule.id}  {rule.title}", ""]

    def row(label: str, value: str) -> None:
        lines = value.splitlines() or [""]
        out.append(f"  {label + ':':<14}{lines[0]}")
        out.extend(f"  {'':<14}{line}" for line in lines[1:])

    row("severity", rule.severity)
    where = f"{d['file']}:{rule.line}" if rule.line else d["file"]
    row("ruleset", f"{rule.ruleset} (version {d['version']}), {where}")
    needs = " (needs --market)" if rule.needs_market else ""
    needs += " (needs a format-2 proposal)" if rule.needs_format == 2 else ""
    row("about", f"each '{rule.fact}' fact{needs}")
    if rule.description:
        row("decision", rule.description)
    row("source", rule.source)
    for g in d["given"]:
        row("only when", f"a '{g['fact']}' fact has: {g['in_words']}")
    row("fires when", d["fires_when"])
    row("condition", rule.condition)
    if d["parameters"]:
        row(
            "parameters",
            "\n".join(
                f"params.{p['name']} = {p['in_words']}"
                + (f": {p['meaning']}" if p["meaning"] else "")
                for p in d["parameters"]
            ),
        )
    row(
        "reads",
        "\n".join(
            f"{r['fact']}.{r['field']} ({r['type']})" + (f": {m}" if (m := r["meaning"]) else "")
            for r in d["reads"]
        ),
    )
    row("message", rule.message)
    row("fix", rule.fix)
    if rule.derive is not None:
        fields = ", ".join(f"{k}: {v}" for k, v in rule.derive.fields.items())
        row("derives", f"a '{rule.derive.kind}' fact ({fields}) for other rules' 'given'")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _md_code(text: str) -> str:
    return f"`{text}`"


def _anchor(rule: Rule) -> str:
    return re.sub(r"[^a-z0-9 -]", "", f"{rule.id}: {rule.title}".lower()).replace(" ", "-")


def rules_markdown(bundle: RuleBundle) -> str:
    """The rule reference (`docs/rules.md`): what each rule checks, in words a bidder reads."""
    lines = [
        "# Rule reference",
        "",
        "<!-- Generated by `icorules rules docs`; do not edit by hand. -->",
        "",
        "Every rule a proposal is checked against: what it checks, when it fires, the source it",
        "cites and what to do about a finding. Severity: `error` makes `icorules check` exit 1 by",
        "default; `warning` is a risk for the assessor; `info` is a classification or note.",
        "Field names are those of the fact catalogue ([facts.md](facts.md)).",
        "",
        "| rule | severity | title |",
        "|---|---|---|",
    ]
    lines += [
        f"| [{r.id}](#{_anchor(r)}) | {r.severity} | {_cell(r.title)} |" for r in bundle.rules
    ]
    lines.append("")
    for ruleset in bundle.rulesets:
        lines += [f"## {ruleset.name} (version {ruleset.version})", ""]
        if ruleset.description:
            lines += [_cell(ruleset.description), ""]
        if ruleset.parameters:
            lines += ["| parameter | value | unit | meaning |", "|---|---|---|---|"]
            for name, value in ruleset.parameters.items():
                info = ruleset.parameter_info[name]
                lines.append(
                    f"| `{name}` | {_cell(show_value(value))} | {_cell(info.unit_words)} | "
                    f"{_cell(info.description)} |"
                )
            lines.append("")
        for rule in sorted(ruleset.rules, key=lambda r: r.id):
            lines += _rule_markdown(rule)
        if ruleset.references:
            lines += [f"### References of {ruleset.name}", ""]
            for key, reference in ruleset.references.items():
                note = f" {_cell(reference.note)}" if reference.note else ""
                lines.append(f"- `{key}`: {_cell(reference.text)}.{note}")
            lines.append("")
    return "\n".join(lines)


def _rule_markdown(rule: Rule) -> list[str]:
    needs = " Needs a market context (`--market`)." if rule.needs_market else ""
    if rule.needs_format == 2:
        needs += " Needs a format-2 proposal (not evaluated for format 1)."
    lines = [
        f"### {rule.id}: {rule.title}",
        "",
        f"**{rule.severity}** · about each `{rule.fact}` fact.{needs}",
        "",
    ]
    if rule.description:
        lines += [_cell(rule.description), ""]
    for kind, text in rule.given:
        words = plain_words(text, rule.params, _md_code)
        lines.append(f"- Applies only when a `{kind}` fact has: {words}.")
    lines.append(f"- Fires when: {_cell(plain_words(rule.condition, rule.params, _md_code))}.")
    lines.append(f"- Condition: `{_cell(rule.condition)}`")
    if rule.derive is not None:
        fields = ", ".join(f"{k}: {v}" for k, v in rule.derive.fields.items())
        lines.append(f"- Derives a `{rule.derive.kind}` fact ({fields}).")
    lines.append(f"- Source: {_cell(rule.source)}")
    lines.append(f"- Message: {_cell(rule.message)}")
    lines.append(f"- Fix: {_cell(rule.fix)}")
    lines.append("")
    return lines
