"""The durable_rules backend: the only module that imports durable_rules or speaks its JSON.

Rules arrive as typed conditions (icorules.rules.ir) and facts as plain records; this module
turns both into durable_rules' form (`$and`, `$lt`, `$m`, dates as YYYYMMDD, a fact's own id as
`ref`) and back. durable_rules has sharp edges (shared/design/DURABLE_RULES_NOTES.md, and its C
source, src/rules/*.c); each is handled here:

- rulesets cannot be unregistered, so each distinct engine ruleset is registered once per
  process, keyed by a hash of its JSON, and reused. Parameter values are not part of that JSON:
  each fact a chunk gets carries them as extra fields (`_0`, `_1`, ...: one per parameter
  value, and one per place of a list parameter's different values, padded with null, which no
  fact value equals, to a power of two up to 16 and a multiple of 16 above) and conditions
  compare with them by `$m`. So a new set of parameter values registers nothing new, or one of
  a few list sizes;
- the engine's tables have fixed sizes (rete.h, rules.h, events.c, state.h) and it hangs,
  fails or corrupts memory past them: 512 tests under one node (NEXT_BUCKET_LENGTH; a full
  table hangs the first assert), 128 `or`s ending at one node (NEXT_LIST_LENGTH, error 107),
  256 patterns ending at one node (BETA_LIST_LENGTH, error 108), 64 nodes a fact passes at
  once while it is matched (MAX_STACK_SIZE, error 303: a test other than plain equality can
  pass beside its siblings, and every `or` ending at a node is pushed), 16 and/or groups in
  one pattern (MAX_SEQUENCE_EXPRESSIONS, error 113), 255 properties per fact (error 302),
  4,096 rules (error 106). Equal literal tests share a node; a test against `$m` or arithmetic
  never does (compareValue compares string offsets). `_Network` models exactly that, so
  `rule_problems` refuses at load what one rule cannot fit (the loader reports it, located),
  and `plan` packs a bundle into engine rulesets ("chunks") that stay inside every table.
  Equal tests in one `and`/`or` are sent once, and nested groups of the same kind are merged;
- every chunk runs in the same check. Actions only record derived facts, and the check asserts
  them into every chunk that reads their kind, round after round until none is new, so
  chaining works across chunks exactly as within one;
- sessions are capped at 1,024 per ruleset, so every check uses a fresh session id and deletes
  it in `finally` (memory stays flat over a batch);
- the stock Host runs actions on timer threads; `_QuietHost` disables them, so actions run
  synchronously in the caller's thread, and a process-wide lock serialises all use. What a run
  collects (matches, derived facts, errors, the facts by engine id) lives in a `_Run` kept by
  session id, which each action looks up from `c.s.sid`;
- a fact that no rule matches raises MessageNotHandledException, which JSON-encodes the whole
  batch again for its message and defers the other actions. Each chunk therefore has, per fact
  kind it reads, a `~handled/KIND` rule whose first pattern takes every fact of that kind and
  whose second never matches: every fact is handled and no action runs for it. (The exception
  is still caught, and the deferred actions flushed with `update_state`.) Facts of kinds a
  chunk never reads are not sent to it at all;
- JSON encoding dominates the engine's cost, so a chunk is sent only the fields its rules read
  (plus kind, id and ref, and its parameter fields); matches are mapped back to the caller's
  records by id;
- exceptions inside actions are swallowed by the engine, so actions catch everything and the
  error is re-raised after the run; anything else the engine raises (its own error codes, a
  MemoryError inside its Python callbacks) becomes EngineError, and its logger is kept quiet;
- `$or` fires once per true branch (and `given` once per matching fact): matches are
  de-duplicated on (rule, subject fact); every rule has `cap`, so an action is called once per
  rule with all its matches, not once per match;
- identical facts without an id are refused: every fact's engine id is "<kind>:<id>";
- floats such as 1e-07 fail to parse and integer division truncates: numbers are rounded to 4
  decimal places, dates become YYYYMMDD integers, and a divisor is always sent as a float;
- `set_rulesets` mutates its argument, so it gets a fresh copy;
- found here: `delete_state` segfaults for a session in which no action ran (first seen with
  a join rule; it happens with plain rules too). Every session therefore asserts a `~session`
  fact that a no-op rule matches, so at least one action always runs (tests/test_engine.py).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import itertools
import json
import logging
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from icorules.engines.base import (
    EngineError,
    Match,
    Record,
    RuleProblem,
    derived_record,
    gc_paused,
)
from icorules.errors import InputError, Problem
from icorules.rules import ir

if TYPE_CHECKING:
    from icorules.rules.loader import Rule, RuleBundle

CAP = 1000  # matches handed to one action call
CHUNK_RULES = 300  # rules in one engine ruleset (4,096 fail to compile; ~400 is the safe zone)
# durable_rules 2.0.28's fixed tables, as many entries as stay safe in each:
MAX_CHILDREN = 511  # NEXT_BUCKET_LENGTH 512: tests under one node (full, the lookup never ends)
MAX_FORWARDS = 127  # NEXT_LIST_LENGTH 128: `or`s that end at one node
MAX_BETAS = 255  # BETA_LIST_LENGTH 256: patterns that end at one node
MAX_STACK = 64  # MAX_STACK_SIZE: nodes one fact can have pending while it is matched
MAX_GROUPS = 15  # MAX_SEQUENCE_EXPRESSIONS 32: two entries per $and/$or in one pattern
MAX_PATTERNS = 16  # MAX_MESSAGE_FRAMES: patterns (a rule's fact and its `given`s) per rule
MAX_PROPERTIES = 250  # MAX_OBJECT_PROPERTIES 255 per fact, less a margin
MAX_TESTS = 400  # comparisons in one condition, as written (a list parameter: its values)
SENTINEL = {"kind": "~session", "id": "~session"}
SENTINEL_RULE = "~session"
HANDLED_RULE = "~handled/"  # + kind: takes every fact of the kind, never fires
SUBJECT = "subject"
_ALWAYS_SENT = ("kind", "id", "ref")
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
_ARITH = {"+": "$add", "-": "$sub", "*": "$mul", "/": "$div"}
_JOINS = {"and": "$and", "or": "$or"}


def _canon(test: Any) -> str:
    """A key equal for equal tests (within this process: tests are built in one fixed way)."""
    return repr(test)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def engine_value(value: Any) -> Any:
    """A value as durable_rules compares it: dates as YYYYMMDD, numbers to 4 decimal places."""
    if isinstance(value, dt.date):
        return value.year * 10_000 + value.month * 100 + value.day
    if isinstance(value, float):
        return round(value, 4)
    return value


def _literal(value: Any) -> Any:
    """A constant in a condition: equal constants must be equal JSON, so that they share a
    node (2.0 and 2 would not), and whole floats compare the same as whole numbers."""
    value = engine_value(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def engine_fact(record: Mapping[str, Any]) -> dict[str, Any]:
    """A caller's record as durable_rules must get it: a unique id, its own id as `ref`,
    dates as YYYYMMDD and numbers to 4 decimal places."""
    out = dict(record)
    for name in _converted(record["kind"]):  # a hot path: only the fields that need it
        if name in out:
            out[name] = engine_value(out[name])
    out["id"] = f"{record['kind']}:{record['id']}"
    out["ref"] = record["id"]
    return out


@functools.cache
def _converted(kind: str) -> tuple[str, ...]:
    """The fields of a kind whose values durable_rules needs in another form (dates, and
    numbers a derived fact may give with more decimal places)."""
    from icorules.analysis.facts import FACT_KINDS, field_types

    if kind not in FACT_KINDS:
        return ()
    return tuple(n for n, t in field_types(kind).items() if t.base in (dt.date, float))


# -- rules in durable_rules' form -------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """A field the facts of a chunk carry for a parameter: a fixed value (a parameter, or
    arithmetic on parameters), or one place of a list parameter."""

    ruleset: str
    value: ir.Value | None = None
    param: str = ""
    index: int = 0
    divisor: bool = False

    def fill(self, params: Mapping[str, Any]) -> Any:
        if self.value is not None:
            value = ir.param_value(self.value, params)
            return float(value) if self.divisor else engine_value(value)
        values = _distinct(params[self.param])
        return values[self.index] if self.index < len(values) else None


def _distinct(values: Sequence[Any]) -> list[Any]:
    return list(dict.fromkeys(engine_value(v) for v in values))


def _value_key(value: ir.Value) -> str:
    if isinstance(value, ir.FieldRef):
        return f"f:{value.name}"
    if isinstance(value, ir.Const):
        return f"c:{type(value.value).__name__}:{value.value!r}"
    if isinstance(value, ir.ParamRef):
        return f"p:{value.name}"
    return f"({_value_key(value.left)}{value.op}{_value_key(value.right)})"


@dataclass
class _Form:
    """One rule in durable_rules' JSON, with what it sends and what the engine must hold."""

    rule: Rule
    patterns: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    fields: dict[str, set[str]] = field(default_factory=dict)  # kind -> engine fields read
    slots: dict[str, dict[str, _Slot]] = field(default_factory=dict)  # kind -> slot fields
    padding: dict[str, int] = field(default_factory=dict)  # kind -> null places sent

    def definition(self) -> dict[str, Any]:
        return {"all": [{alias: pattern} for alias, _, pattern in self.patterns], "cap": CAP}


class _Translator:
    def __init__(self, form: _Form, ruleset: str, params: Mapping[str, Any]) -> None:
        self.form = form
        self.ruleset = ruleset
        self.params = params
        self.kind = ""

    def pattern(self, pattern: ir.Pattern) -> dict[str, Any]:
        self.kind = pattern.kind
        form = self.form
        form.fields.setdefault(pattern.kind, set(_ALWAYS_SENT))
        form.slots.setdefault(pattern.kind, {})
        body = self.condition(pattern.condition)
        parts = body["$and"] if set(body) == {"$and"} else [body]
        alias = SUBJECT if pattern.subject else f"given_{pattern.kind}"
        json_form = {"$and": [{"kind": pattern.kind}, *parts]}
        form.patterns.append((alias, pattern.kind, json_form))
        return json_form

    def condition(self, cond: ir.Cond) -> dict[str, Any]:
        if isinstance(cond, ir.BoolOp):
            return _join(_JOINS[cond.op], [self.condition(part) for part in cond.parts])
        name = self.field(cond.left)
        if isinstance(cond, ir.Compare):
            right = self.value(cond.right)
            return {name: right} if cond.op == "==" else {_OPS[cond.op]: {name: right}}
        if isinstance(cond.choices, ir.ParamRef):
            rights: list[Any] = self.list_slots(cond.choices.name)
        else:
            rights = [self.value(choice) for choice in cond.choices]
        tests = [{"$neq": {name: r}} if cond.negated else {name: r} for r in rights]
        return _join("$and" if cond.negated else "$or", tests)

    def field(self, ref: ir.FieldRef) -> str:
        name = "ref" if ref.name == "id" else ref.name
        self.form.fields[self.kind].add(name)
        return name

    def value(self, value: ir.Value, divisor: bool = False) -> Any:
        if isinstance(value, ir.FieldRef):
            return {"$m": self.field(value)}
        if isinstance(value, ir.Const):
            return float(value.value) if divisor else _literal(value.value)  # type: ignore[arg-type]
        if ir.fixed(value):
            name = "_p" + _digest(f"{self.ruleset}|{_value_key(value)}|{divisor}")
            self.form.slots[self.kind][name] = _Slot(self.ruleset, value, divisor=divisor)
            return {"$m": name}
        assert isinstance(value, ir.Arith)
        left, right = self.value(value.left), self.value(value.right, value.op == "/")
        return {_ARITH[value.op]: {"$l": left, "$r": right}}

    def list_slots(self, param: str) -> list[dict[str, str]]:
        count = len(_distinct(self.params[param]))
        size = _places(count)
        base = "_l" + _digest(f"{self.ruleset}|{param}|{size}")
        self.form.padding[self.kind] = self.form.padding.get(self.kind, 0) + size - count
        out = []
        for index in range(size):
            name = f"{base}_{index}"
            self.form.slots[self.kind][name] = _Slot(self.ruleset, param=param, index=index)
            out.append({"$m": name})
        return out


def _places(count: int) -> int:
    """Places for a list of `count` different values: a power of two up to 16, then a multiple
    of 16. Few sizes, so few engine rulesets however the list changes; little padding sent."""
    if count > 16:
        return -(-count // 16) * 16
    size = 1
    while size < count:
        size *= 2
    return size


def _join(key: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """`key` over `parts`, with groups of the same kind merged and equal tests sent once."""
    items: dict[str, dict[str, Any]] = {}
    for part in parts:
        for item in part[key] if set(part) == {key} else [part]:
            items.setdefault(_canon(item), item)
    found = list(items.values())
    return found[0] if len(found) == 1 else {key: found}


def translate(rule: Rule) -> _Form:
    """`rule` in durable_rules' JSON, `given` patterns first and its own fact's last."""
    translator = _Translator(_Form(rule), rule.ruleset, rule.params)
    for pattern in rule.patterns:
        translator.pattern(pattern)
    return translator.form


def pattern_json(
    pattern: ir.Pattern, params: Mapping[str, Any], ruleset: str = ""
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One pattern in durable_rules' JSON, and the parameter fields its facts carry, with these
    values (what tests and `bench/` look at)."""
    form = _Form(None)  # type: ignore[arg-type]
    json_form = _Translator(form, ruleset, params).pattern(pattern)
    slots = form.slots[pattern.kind]
    return json_form, {name: slot.fill(params) for name, slot in slots.items()}


# -- the engine's network, as far as its tables go ------------------------------------------


class _Node:
    """An alpha node: its tests (shared when equal and literal), the `or`s and patterns that
    end at it, and how many nodes a fact that passes it can push at once."""

    __slots__ = ("betas", "children", "forwards", "groups", "kind", "solo")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.children: dict[str, _Node] = {}
        self.groups: dict[str, int] = {}  # equality tests with different values: one can pass
        self.solo = 0  # other tests: all may pass
        self.forwards = 0  # `or`s ending here: each is pushed whenever this node passes
        self.betas = 0

    @property
    def pushes(self) -> int:
        return len(self.groups) + self.solo + self.forwards


@dataclass(frozen=True)
class _Excess:
    table: str  # "children", "forwards", "betas", "stack", "properties", "rules"
    kind: str
    amount: int


class _Network:
    """The alpha network one engine ruleset builds (rete.c createAlpha, findAlpha, linkAlpha),
    kept as counts against the engine's tables. Rules are added with `add`, which leaves the
    network as it was if the rule does not fit."""

    def __init__(self) -> None:
        self.root = _Node("")
        self.stack: dict[str, int] = {}  # kind -> sum of (pushes - 1) over its nodes
        self.properties: dict[str, set[str]] = {}
        self.rules = 0
        self._log: list[tuple[Any, ...]] = []  # what `add` changed, to undo it
        self._touched: list[_Node] = []
        self._serial = itertools.count()
        self._pattern({"kind": SENTINEL["kind"]}, "")

    def add(self, form: _Form, force: bool = False) -> list[_Excess]:
        """Add a rule; if it overflows a table, undo it (unless `force`) and say where."""
        self._log, self._touched = [], []
        self.rules += 1
        for kind in form.fields:
            old = self.properties.get(kind)
            if old is None:
                old = set()
                self._pattern({"kind": kind}, kind)  # ~handled/KIND: takes every fact ...
                self._pattern({"kind": "~never"}, "")  # ... and waits for one that never comes
            self._log.append(("properties", kind, self.properties.get(kind)))
            self.properties[kind] = old | {"sid"} | form.fields[kind] | form.slots[kind].keys()
        for _, kind, pattern in form.patterns:
            self._pattern(pattern, kind)
        excess = self._excess(form)
        if excess and not force:
            self._undo()
        return excess

    def _undo(self) -> None:
        self.rules -= 1
        for entry in reversed(self._log):
            what = entry[0]
            if what == "child":
                _, parent, key, group = entry
                del parent.children[key]
                if group is None:
                    parent.solo -= 1
                elif parent.groups[group] == 1:
                    del parent.groups[group]
                else:
                    parent.groups[group] -= 1
            elif what == "forward":
                entry[1].forwards -= 1
            elif what == "beta":
                entry[1].betas -= 1
            elif what == "stack":
                self.stack[entry[1]] -= entry[2]
            elif entry[2] is None:  # properties of a kind first seen
                del self.properties[entry[1]]
            else:
                self.properties[entry[1]] = entry[2]

    def _excess(self, form: _Form) -> list[_Excess]:
        out = []
        if self.rules > CHUNK_RULES:
            out.append(_Excess("rules", "", self.rules))
        for node in self._touched:
            for table, amount, most in (
                ("children", len(node.children), MAX_CHILDREN),
                ("forwards", node.forwards, MAX_FORWARDS),
                ("betas", node.betas, MAX_BETAS),
            ):
                if amount > most:
                    out.append(_Excess(table, node.kind, amount))
        for kind in form.fields:
            if 1 + self.stack.get(kind, 0) > MAX_STACK:
                out.append(_Excess("stack", kind, 1 + self.stack[kind]))
            if len(self.properties[kind]) > MAX_PROPERTIES:
                out.append(_Excess("properties", kind, len(self.properties[kind])))
        return list(dict.fromkeys(out))

    def _pattern(self, pattern: dict[str, Any], kind: str) -> None:
        end = self._alpha(pattern, self.root, kind, "")
        end.betas += 1
        self._log.append(("beta", end))
        self._touched.append(end)

    def _alpha(self, cond: dict[str, Any], parent: _Node, kind: str, scope: str) -> _Node:
        ((name, arg),) = cond.items()
        if name == "$and":
            node = parent
            for item in arg:
                node = self._alpha(item, node, kind, scope)
            return node
        if name == "$or":
            forward = _Node(kind)  # a fresh forward node for every `or`, never shared
            inner = str(next(self._serial))
            for item in arg:
                self._link(self._alpha(item, parent, kind, inner), forward)
            return forward
        operator = name.startswith("$")
        ((prop, right),) = arg.items() if operator else ((name, arg),)
        if isinstance(right, dict):  # `$m` or arithmetic: a node of its own, always
            key, group = f"#{next(self._serial)}", None
            slot = right.get("$m", "")
            if not operator and slot.startswith("_l"):  # one place of a list parameter
                group = f"{prop}~{slot.rsplit('_', 1)[0]}~{scope or key}"
        else:
            key = _canon(cond)
            group = None if operator else f"{prop}="
        found = parent.children.get(key)
        if found is not None:
            return found
        node = parent.children[key] = _Node(kind)
        before = len(parent.groups) + parent.solo + parent.forwards
        if group is None:
            parent.solo += 1
        else:
            parent.groups[group] = parent.groups.get(group, 0) + 1
        self._log.append(("child", parent, key, group))
        self._pushed(parent, before)
        return node

    def _link(self, node: _Node, forward: _Node) -> None:
        before = len(node.groups) + node.solo + node.forwards
        node.forwards += 1
        self._log.append(("forward", node))
        self._pushed(node, before)

    def _pushed(self, node: _Node, before: int) -> None:
        self._touched.append(node)
        after = len(node.groups) + node.solo + node.forwards
        change = (after > 1) * (after - 1) - (before > 1) * (before - 1)
        if change and node.kind:
            self.stack[node.kind] = self.stack.get(node.kind, 0) + change
            self._log.append(("stack", node.kind, change))


# -- what one rule needs, checked when it loads -----------------------------------------------


def _leaves(cond: dict[str, Any]) -> int:
    ((key, arg),) = cond.items()
    return sum(_leaves(c) for c in arg) if key in ("$and", "$or") else 1


def _groups(cond: dict[str, Any]) -> int:
    ((key, arg),) = cond.items()
    return 1 + sum(_groups(c) for c in arg) if key in ("$and", "$or") else 0


def _excess_message(excess: _Excess) -> str:
    amount = excess.amount
    if excess.table == "stack":
        return (
            f"the condition makes {amount} comparisons other than == (such as <, >=, != or "
            f"arithmetic); the engine allows at most {MAX_STACK} in one condition (more crash "
            "it): split it into several rules"
        )
    if excess.table == "properties":
        return (
            f"the engine would get {amount} fields with each '{excess.kind}' fact (those the "
            "rule reads, and a place for each value of the parameters it compares with); it "
            f"takes at most {MAX_PROPERTIES}: use fewer or shorter list parameters"
        )
    if excess.table == "children":
        return (
            f"the condition puts {amount} comparisons side by side (each value of a list "
            "parameter takes a place, and a list's places are rounded up to a power of two); "
            f"the engine allows at most {MAX_CHILDREN} (more make it hang): split it into "
            "several rules"
        )
    most = {"forwards": MAX_FORWARDS, "betas": MAX_BETAS}.get(excess.table, CHUNK_RULES)
    return (
        f"{amount} parts of the condition end in the same test; the engine allows at most "
        f"{most}: split it into several rules"
    )


def rule_problems(rule: Rule) -> list[RuleProblem]:
    """What in `rule`, with its parameter values, durable_rules could not hold even in an
    engine ruleset of its own: the first problem in each of its patterns."""
    form = translate(rule)
    found: dict[str, str] = {}
    leaves = sum(_leaves(pattern) - 1 for _, _, pattern in form.patterns)
    groups = max(_groups(pattern) for _, _, pattern in form.patterns)
    if 2 * leaves < MAX_STACK and groups <= MAX_GROUPS and not any(form.slots.values()):
        return []  # each test pushes at most one node and ends at most one `or`: it fits
    if len(form.patterns) > MAX_PATTERNS:
        found[rule.fact] = (
            f"the rule has {len(form.patterns)} patterns (its fact and each 'given'); the "
            f"engine allows at most {MAX_PATTERNS}"
        )
    for _, kind, pattern in form.patterns:
        tests = _leaves(pattern) - 1 - form.padding.get(kind, 0)  # not the kind, not padding
        if tests > MAX_TESTS:
            found.setdefault(
                kind,
                f"the condition makes {tests} comparisons (an 'in' list counts one per value); "
                f"the engine allows at most {MAX_TESTS} in one condition (more make it hang): "
                "split it into several rules",
            )
    excess = _Network().add(form, force=True)
    order = {"stack": 0, "properties": 2, "children": 3, "forwards": 4, "betas": 5}
    for item in sorted(excess, key=lambda e: order.get(e.table, 9)):
        found.setdefault(item.kind or rule.fact, _excess_message(item))
    for _, kind, pattern in form.patterns:
        groups = _groups(pattern) - 1  # the kind's own `and` is not the rule's
        if groups > MAX_GROUPS - 1:
            found.setdefault(
                kind,
                f"the condition has {groups} groups of 'and' / 'or' (each list after 'in' and "
                f"each chain such as 1 < x < 5 is one); the engine allows at most "
                f"{MAX_GROUPS - 1} in one condition: split it into several rules",
            )
    return [RuleProblem(None if k == rule.fact else k, m) for k, m in found.items()]


# -- engine rulesets --------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """One engine ruleset: some of a bundle's rules, and what facts of each kind it gets."""

    forms: tuple[_Form, ...]
    fields: Mapping[str, tuple[str, ...]]  # fact kind -> the fields its rules here read
    slots: Mapping[str, Mapping[str, _Slot]]  # fact kind -> its parameter fields
    # A rule names a parameter field after its ruleset and value (`_p3f2a…`); within one engine
    # ruleset a short name does (`_0`): every fact carries these, and JSON is the cost.
    short: Mapping[str, str] = field(default_factory=dict)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(form.rule for form in self.forms)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self.fields)

    def definition(self) -> dict[str, Any]:
        """The durable_rules JSON form (no actions), with the session sentinel rule and a
        rule per kind that handles every fact of it without firing."""
        out = {form.rule.id: _renamed(form.definition(), self.short) for form in self.forms}
        out[SENTINEL_RULE] = {"all": [{"session": {"kind": SENTINEL["kind"]}}], "cap": CAP}
        for kind in sorted(self.fields):
            out[HANDLED_RULE + kind] = {
                "all": [{"fact": {"kind": kind}}, {"never": {"kind": "~never"}}],
                "cap": CAP,
            }
        return out

    def digest(self) -> str:
        """Names the engine ruleset: same rules (and derivations), same registration."""
        derives = {
            f.rule.id: [f.rule.derive.kind, dict(f.rule.derive.fields)]
            for f in self.forms
            if f.rule.derive
        }
        material = json.dumps([self.definition(), derives], sort_keys=True)
        return hashlib.sha256(material.encode()).hexdigest()

    def values(self, bundle: RuleBundle) -> dict[str, dict[str, Any]]:
        """The parameter fields each fact of a kind carries, with `bundle`'s values."""
        params = {rule.ruleset: rule.params for rule in bundle.rules}
        out: dict[str, dict[str, Any]] = {}
        for kind, slots in self.slots.items():
            out[kind] = {
                self.short[name]: slot.fill(params[slot.ruleset]) for name, slot in slots.items()
            }
            if any(slot.divisor and out[kind][self.short[n]] == 0 for n, slot in slots.items()):
                rule = next(f.rule for f in self.forms if kind in f.fields)
                raise InputError([Problem(rule.file, rule.line, None, "division by zero")])
        return out


WINDOW = 4  # engine rulesets still being filled: a rule tries these, newest first


def plan(bundle: RuleBundle) -> list[Chunk]:
    """Split a bundle into engine rulesets whose tables hold (see `_Network`). Each rule tries
    the few rulesets still open, newest first, skipping those a rule of the same kind has
    already overflowed, so planning stays linear in the rules."""
    with gc_paused():  # many small objects, no cycles: collector passes would make it quadratic
        bins = _pack([translate(rule) for rule in bundle.rules])
    chunks = []
    for forms in bins:
        fields: dict[str, set[str]] = {}
        slots: dict[str, dict[str, _Slot]] = {}
        for form in forms:
            for kind, names in form.fields.items():
                fields.setdefault(kind, set()).update(names)
                slots.setdefault(kind, {}).update(form.slots[kind])
        short: dict[str, str] = {}
        for form in forms:
            for named in form.slots.values():
                for name in named:
                    short.setdefault(name, f"_{len(short)}")
        chunks.append(
            Chunk(
                tuple(forms),
                {k: tuple(sorted(v)) for k, v in sorted(fields.items())},
                {k: dict(sorted(v.items())) for k, v in sorted(slots.items())},
                short,
            )
        )
    return chunks


def _renamed(node: Any, names: Mapping[str, str]) -> Any:
    """`node` with each `{"$m": name}` of a parameter field given its short name."""
    if isinstance(node, dict):
        if len(node) == 1 and node.get("$m") in names:
            return {"$m": names[node["$m"]]}
        return {key: _renamed(value, names) for key, value in node.items()}
    if isinstance(node, list):
        return [_renamed(item, names) for item in node]
    return node


def _pack(forms: Sequence[_Form]) -> list[list[_Form]]:
    bins: list[list[_Form]] = []
    open_bins: list[tuple[_Network, list[_Form], set[str]]] = []  # a closed one's network goes
    for form in forms:
        for network, members, full in reversed(open_bins):
            if network.rules >= CHUNK_RULES or not full.isdisjoint(form.fields):
                continue
            excess = network.add(form)
            if not excess:
                members.append(form)
                break
            full.update(e.kind for e in excess if e.kind)
        else:  # a rule that fits nowhere open starts a ruleset (alone, it fits: rule_problems)
            network = _Network()
            network.add(form, force=True)
            bins.append([form])
            open_bins.append((network, bins[-1], set()))
            if len(open_bins) > WINDOW:
                open_bins.pop(0)
    return bins


def project(
    facts: Sequence[Mapping[str, Any]],
    fields: Mapping[str, tuple[str, ...]],
    values: Mapping[str, Mapping[str, Any]],
    sid: str,
) -> list[dict[str, Any]]:
    """The facts of the kinds in `fields`, each with only those fields and its kind's
    parameter fields, in session `sid`."""
    out = []
    for fact in facts:
        kind = fact["kind"]
        names = fields.get(kind)
        if names is not None:
            sent = {name: fact[name] for name in names if name in fact}
            sent.update(values.get(kind, ()))
            sent["sid"] = sid
            out.append(sent)
    return out


# -- the host ---------------------------------------------------------------------------------


def _import_durable() -> Any:
    try:
        from durable import engine as durable_engine
    except ImportError as exc:  # e.g. Python 3.13+, where the C extension does not import
        import sys

        raise EngineError(
            f"the durable_rules engine cannot be loaded on Python "
            f"{sys.version_info.major}.{sys.version_info.minor} ({exc}); "
            "icorules supports Python 3.11 and 3.12"
        ) from None
    # Its host logs a traceback for what it then raises; we raise it as EngineError instead.
    quiet = logging.getLogger("durable")
    if not any(isinstance(h, logging.NullHandler) for h in quiet.handlers):
        quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    return durable_engine


@dataclass(frozen=True)
class _Ready:
    name: str
    fields: Mapping[str, tuple[str, ...]]
    values: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Prepared:
    """A bundle registered with this process's engine, with its parameter values."""

    bundle: RuleBundle
    chunks: tuple[_Ready, ...]


class _Run:
    """What one check collects while the engine runs (found by its session id)."""

    def __init__(self, bundle: RuleBundle) -> None:
        self.bundle = bundle
        self.matches: list[Match] = []
        self.seen: set[tuple[str, str]] = set()
        self.derived: list[Record] = []
        self.errors: list[BaseException] = []
        self.known: dict[str, Record] = {}  # engine id -> the caller's record

    def record(self, rule_id: str, items: Sequence[Any]) -> None:
        try:
            rule = self.bundle.rule(rule_id)
            for item in items:
                match = item._d
                key = (rule_id, match[SUBJECT]["id"])  # `given` asks "is there one?"
                if key in self.seen:
                    continue
                self.seen.add(key)
                subject = self.known[key[1]]  # the full record, not the fields sent
                given = {
                    alias.removeprefix("given_"): self.known[sent["id"]]
                    for alias, sent in match.items()
                    if alias != SUBJECT
                }
                self.matches.append(Match(rule_id, subject, given))
                if rule.derive is not None:
                    self.derived.append(derived_record(rule_id, rule.derive, subject["id"]))
        except BaseException as exc:  # the engine would swallow it
            self.errors.append(exc)


class Engine:
    """The durable_rules backend: one process-wide host; safe to call from several threads
    (one at a time)."""

    name = "durable_rules"

    def __init__(self) -> None:
        durable = _import_durable()
        self._not_handled = durable.MessageNotHandledException

        class _QuietHost(durable.Host):  # type: ignore[misc, name-defined]
            def _run(self) -> None:  # no timer threads: actions run in the caller's thread
                pass

        self._host = _QuietHost()
        self._lock = threading.Lock()
        self._registered: dict[str, str] = {}  # digest of a chunk -> engine ruleset name
        # A weak cache, so bundles a caller drops are freed (their engine rulesets cannot be,
        # which is why parameter values are not part of them).
        self._prepared: weakref.WeakKeyDictionary[RuleBundle, tuple[_Ready, ...]] = (
            weakref.WeakKeyDictionary()
        )
        self._sids = itertools.count(1)
        self._runs: dict[str, _Run] = {}

    @property
    def registered(self) -> int:
        """Engine rulesets registered in this process (they are never freed)."""
        return len(self._registered)

    def rule_problems(self, rule: Rule) -> list[RuleProblem]:
        return rule_problems(rule)

    def prepare(self, bundle: RuleBundle) -> Prepared:
        with self._lock:
            chunks = self._prepared.get(bundle)
            if chunks is None:
                problems = [
                    Problem(rule.file, rule.line, None, f"rule {rule.id}: {p.message}")
                    for rule in ([] if bundle.checked else bundle.rules)
                    for p in rule_problems(rule)
                ]
                if problems:
                    raise InputError(problems)
                chunks = tuple(
                    _Ready(self._register(chunk), chunk.fields, chunk.values(bundle))
                    for chunk in plan(bundle)
                )
                self._prepared[bundle] = chunks
            return Prepared(bundle, chunks)

    def run(self, prepared: Prepared, facts: Sequence[Record]) -> list[Match]:
        """Assert `facts` and return every rule match, derived facts chained in."""
        with self._lock:
            sid = str(next(self._sids))
            run = self._runs[sid] = _Run(prepared.bundle)
            opened: list[str] = []
            try:
                with gc_paused():
                    pending = self._known(run, facts)
                    while pending and not run.errors:
                        for chunk in prepared.chunks:
                            batch = project(pending, chunk.fields, chunk.values, sid)
                            if not batch:
                                continue
                            if chunk.name not in opened:
                                opened.append(chunk.name)
                                batch.insert(0, {**SENTINEL, "sid": sid})
                            self._assert(chunk.name, sid, batch)
                        # Derived facts go to every chunk that reads them, until none is new.
                        pending, run.derived = self._known(run, run.derived), []
            finally:
                del self._runs[sid]
                failed = self._delete(opened, sid)
            if run.errors:
                raise EngineError(f"a rule action failed: {run.errors[0]!r}") from run.errors[0]
            if failed is not None:
                raise EngineError(f"durable_rules failed: {failed!r}") from failed
            return run.matches

    @staticmethod
    def _known(run: _Run, records: Sequence[Record]) -> list[dict[str, Any]]:
        out = []
        for record in records:
            sent = engine_fact(record)
            run.known[sent["id"]] = record
            out.append(sent)
        return out

    def _assert(self, name: str, sid: str, batch: list[dict[str, Any]]) -> None:
        try:
            try:
                self._host.assert_facts(name, batch)
            except self._not_handled:  # some fact matched nothing: run the deferred actions now
                self._host.update_state(name, {"sid": sid})
        except Exception as exc:  # its error codes, a MemoryError in its callbacks, ...
            raise EngineError(f"durable_rules failed: {exc!r}") from exc

    def _delete(self, names: Sequence[str], sid: str) -> Exception | None:
        failed: Exception | None = None
        for name in names:
            try:
                self._host.delete_state(name, sid)
            except Exception as exc:
                failed = failed or exc
        return failed

    def _register(self, chunk: Chunk) -> str:
        digest = chunk.digest()
        if digest not in self._registered:
            name = f"icorules_{digest[:16]}"
            runnable = copy.deepcopy(chunk.definition())
            for form in chunk.forms:
                runnable[form.rule.id]["run"] = self._action(form.rule.id)
            for rule_name in runnable:
                runnable[rule_name].setdefault("run", _no_action)  # sentinel and ~handled
            try:
                self._host.set_rulesets({name: runnable})
            except Exception as exc:
                raise EngineError(f"durable_rules refused a ruleset: {exc!r}") from exc
            self._registered[digest] = name
        return self._registered[digest]

    def _action(self, rule_id: str) -> Callable[[Any], None]:
        runs = self._runs

        def action(c: Any) -> None:
            try:
                run = runs[c.s.sid]
            except BaseException as exc:  # no run to record in: fail the one going on
                for run in runs.values():
                    run.errors.append(exc)
                return
            run.record(rule_id, c.m)

        return action


def _no_action(c: Any) -> None:
    """The sentinel rule's action: its only job is to have run."""


_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> Engine:
    """The process's engine (durable_rules' host is process-global, so there is one)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = Engine()
        return _ENGINE


def engine_started() -> bool:
    """Whether this process has a live durable_rules host (which a forked child must not
    inherit)."""
    return _ENGINE is not None
