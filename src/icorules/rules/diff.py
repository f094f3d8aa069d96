"""`icorules diff OLD NEW`: what changed between two drafts of a ruleset, for publishing.

Rules are matched by id, which is stable by policy (docs/rulesets.md), so a renamed title is a
change to a rule, not a removal and an addition. Conditions are compared in their compiled form
(rules/ir.py): re-wrapping a long condition, adding brackets or writing `not x > 5` for
`x <= 5` is not a change, because the rule tests the same thing. A rule whose
text is untouched but whose parameter default moved is reported as changed, because it now
fires on different bids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from icorules.rules import ir
from icorules.rules.docs import params_used, plain_words, show_value
from icorules.rules.loader import Rule, RuleBundle, Ruleset

# (field, label) in the order changes are shown; the first five are shown as before/after lines
_TEXT_FIELDS = ("title", "condition", "message", "fix", "source")
_INLINE_FIELDS = ("severity", "fact", "ruleset", "needs_market")


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None
    new: str | None

    @property
    def long(self) -> bool:
        return self.field in _TEXT_FIELDS or self.field.startswith("given ")

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class RuleChange:
    id: str
    title: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class RulesetsDiff:
    old_label: str
    new_label: str
    old_rules: int
    new_rules: int
    rulesets: tuple[Change, ...]  # field "added" / "removed" / "NAME version" / "NAME description"
    parameters: tuple[Change, ...]  # field "RULESET/NAME" (+ " description")
    added: tuple[Rule, ...]
    removed: tuple[Rule, ...]
    changed: tuple[RuleChange, ...]
    unchanged: int = field(default=0)

    @property
    def empty(self) -> bool:
        return not (self.rulesets or self.parameters or self.added or self.removed or self.changed)


def _text(value: Any) -> str:
    return " ".join(str(value).split())


def _given(rule: Rule) -> dict[str, ir.Cond]:
    return {p.kind: p.condition for p in rule.patterns if not p.subject}


def _value(value: Any) -> str:
    return show_value(value)


def diff_bundles(old: RuleBundle, new: RuleBundle, old_label: str, new_label: str) -> RulesetsDiff:
    """Everything that differs between two loaded sets of rulesets."""
    old_sets = {rs.name: rs for rs in old.rulesets}
    new_sets = {rs.name: rs for rs in new.rulesets}
    rulesets: list[Change] = []
    parameters: list[Change] = []
    for name in sorted(old_sets.keys() | new_sets.keys()):
        before, after = old_sets.get(name), new_sets.get(name)
        rulesets += _ruleset_changes(name, before, after)
        parameters += _parameter_changes(name, before, after)
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    changed = []
    unchanged = 0
    for rule_id in sorted(old_rules.keys() & new_rules.keys()):
        changes = rule_changes(old_rules[rule_id], new_rules[rule_id])
        if changes:
            changed.append(RuleChange(rule_id, new_rules[rule_id].title, tuple(changes)))
        else:
            unchanged += 1
    return RulesetsDiff(
        old_label=old_label,
        new_label=new_label,
        old_rules=len(old_rules),
        new_rules=len(new_rules),
        rulesets=tuple(rulesets),
        parameters=tuple(parameters),
        added=tuple(new_rules[i] for i in sorted(new_rules.keys() - old_rules.keys())),
        removed=tuple(old_rules[i] for i in sorted(old_rules.keys() - new_rules.keys())),
        changed=tuple(changed),
        unchanged=unchanged,
    )


def _ruleset_changes(name: str, before: Ruleset | None, after: Ruleset | None) -> list[Change]:
    if before is None:
        return [Change("added", None, f"{name} (version {after.version})")] if after else []
    if after is None:
        return [Change("removed", f"{name} (version {before.version})", None)]
    out = []
    if before.version != after.version:
        out.append(Change(f"{name} version", before.version, after.version))
    if _text(before.description) != _text(after.description):
        out.append(Change(f"{name} description", before.description, after.description))
    return out


def _parameter_changes(name: str, before: Ruleset | None, after: Ruleset | None) -> list[Change]:
    old_params = dict(before.parameters) if before else {}
    new_params = dict(after.parameters) if after else {}
    out = []
    for param in sorted(old_params.keys() | new_params.keys()):
        a = _value(old_params[param]) if param in old_params else None
        b = _value(new_params[param]) if param in new_params else None
        if a != b:
            out.append(Change(f"{name}/{param}", a, b))
        elif before is not None and after is not None:
            da = before.parameter_docs.get(param, "")
            db = after.parameter_docs.get(param, "")
            if _text(da) != _text(db):
                out.append(Change(f"{name}/{param} description", da, db))
    return out


def rule_changes(old: Rule, new: Rule) -> list[Change]:
    """What differs between two versions of one rule (an empty list if nothing that matters)."""
    out: list[Change] = []
    for name in _TEXT_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        same = old.condition_ir == new.condition_ir if name == "condition" else _text(a) == _text(b)
        if not same:
            out.append(Change(name, _text(a), _text(b)))
    for name in _INLINE_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.append(Change(name, _value(a), _value(b)))
    old_given, new_given = dict(old.given), dict(new.given)
    old_ir, new_ir = _given(old), _given(new)
    for kind in sorted(old_given.keys() | new_given.keys()):
        a, b = old_given.get(kind), new_given.get(kind)
        if a is None or b is None or old_ir.get(kind) != new_ir.get(kind):
            out.append(Change(f"given {kind}", a, b))
    a_derive = _derive_text(old)
    b_derive = _derive_text(new)
    if a_derive != b_derive:
        out.append(Change("derives", a_derive, b_derive))
    for name in sorted(set(params_used(old)) | set(params_used(new))):
        a = _value(old.params[name]) if name in old.params else None
        b = _value(new.params[name]) if name in new.params else None
        if a != b:
            out.append(Change(f"params.{name}", a, b))
    return out


def _derive_text(rule: Rule) -> str | None:
    if rule.derive is None:
        return None
    fields = ", ".join(f"{k}: {v}" for k, v in sorted(rule.derive.fields.items()))
    return f"{rule.derive.kind} ({fields})"


# -- output ---------------------------------------------------------------------------------


def _summary_line(d: RulesetsDiff) -> str:
    if d.empty:
        return "No changes."
    return (
        f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed, "
        f"{d.unchanged} unchanged"
    )


def render_text(d: RulesetsDiff) -> str:
    out = [
        f"Comparing {d.old_label} ({d.old_rules} rules) with {d.new_label} ({d.new_rules} rules)"
    ]
    if d.rulesets:
        out += ["", "Rulesets"]
        out += [f"  {_arrow(c)}" for c in d.rulesets]
    if d.parameters:
        out += ["", "Parameters"]
        out += [f"  {_arrow(c)}" for c in d.parameters]
    if d.added:
        out += ["", f"Rules added ({len(d.added)})"]
        out += [f"  + {r.id}  {r.severity}  {r.title}" for r in d.added]
    if d.removed:
        out += ["", f"Rules removed ({len(d.removed)})"]
        out += [f"  - {r.id}  {r.severity}  {r.title}" for r in d.removed]
    if d.changed:
        out += ["", f"Rules changed ({len(d.changed)})"]
        for rc in d.changed:
            out.append(f"  ~ {rc.id}  {rc.title}")
            for c in rc.changes:
                if c.long:
                    out.append(f"      {c.field}:")
                    if c.old is not None:
                        out.append(f"        - {c.old}")
                    if c.new is not None:
                        out.append(f"        + {c.new}")
                else:
                    out.append(f"      {c.field}: {c.old or '(none)'} → {c.new or '(none)'}")
    out += ["", _summary_line(d)]
    return "\n".join(out) + "\n"


def _arrow(c: Change) -> str:
    if c.field == "added":
        return f"+ {c.new} added"
    if c.field == "removed":
        return f"- {c.old} removed"
    if c.old is None:
        return f"+ {c.field} = {c.new} (new)"
    if c.new is None:
        return f"- {c.field} (was {c.old}) removed"
    return f"{c.field}: {c.old} → {c.new}"


def render_json(d: RulesetsDiff) -> dict[str, Any]:
    return {
        "old": d.old_label,
        "new": d.new_label,
        "rulesets": [c.as_json() for c in d.rulesets],
        "parameters": [c.as_json() for c in d.parameters],
        "added": [_rule_json(r) for r in d.added],
        "removed": [_rule_json(r) for r in d.removed],
        "changed": [
            {"id": rc.id, "title": rc.title, "changes": [c.as_json() for c in rc.changes]}
            for rc in d.changed
        ],
        "summary": {
            "added": len(d.added),
            "removed": len(d.removed),
            "changed": len(d.changed),
            "unchanged": d.unchanged,
        },
    }


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "ruleset": rule.ruleset,
        "condition": rule.condition,
    }


def _cell(text: str | None) -> str:
    return "—" if text is None else _text(text).replace("|", "\\|")


def render_markdown(d: RulesetsDiff) -> str:
    """A change note a policy team can publish with a new draft of the prospectus rules."""
    out = [f"# Rule changes: {d.old_label} → {d.new_label}", "", _summary_line(d) + ".", ""]
    if d.rulesets or d.parameters:
        out += ["## Rulesets and parameters", "", "| what | before | after |", "|---|---|---|"]
        for c in (*d.rulesets, *d.parameters):
            what = {"added": "ruleset added", "removed": "ruleset removed"}.get(c.field, c.field)
            out.append(f"| {_cell(what)} | {_cell(c.old)} | {_cell(c.new)} |")
        out.append("")
    if d.added:
        out += [
            "## New rules",
            "",
            "| rule | severity | title | fires when |",
            "|---|---|---|---|",
        ]
        for r in d.added:
            words = plain_words(r.condition, r.params, lambda s: f"`{s}`")
            out.append(f"| {r.id} | {r.severity} | {_cell(r.title)} | {_cell(words)} |")
        out.append("")
    if d.removed:
        out += ["## Withdrawn rules", "", "| rule | severity | title |", "|---|---|---|"]
        out += [f"| {r.id} | {r.severity} | {_cell(r.title)} |" for r in d.removed]
        out.append("")
    if d.changed:
        out += ["## Changed rules", ""]
        for rc in d.changed:
            out += [f"### {rc.id}: {_cell(rc.title)}", "", "| | before | after |", "|---|---|---|"]
            for c in rc.changes:
                code = c.field in ("condition",) or c.field.startswith("given ")
                old = f"`{_cell(c.old)}`" if code and c.old is not None else _cell(c.old)
                new = f"`{_cell(c.new)}`" if code and c.new is not None else _cell(c.new)
                out.append(f"| {c.field} | {old} | {new} |")
            out.append("")
    return "\n".join(out)
