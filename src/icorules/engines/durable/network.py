"""durable_rules' fixed tables, modelled: what one engine ruleset builds (rete.c createAlpha,
findAlpha and linkAlpha), counted against the engine's own constants, and what in one rule could
never fit (`rule_problems`, asked by the loader for every rule).

Past these tables the engine hangs, fails with an error code or corrupts its memory: 512 tests
under one node (NEXT_BUCKET_LENGTH; a full table hangs the first assert), 128 `or`s ending at
one node (NEXT_LIST_LENGTH, error 107), 256 patterns ending at one node (BETA_LIST_LENGTH,
error 108), 64 nodes a fact passes at once while it is matched (MAX_STACK_SIZE, error 303: a
test other than plain equality can pass beside its siblings, and every `or` ending at a node is
pushed), 16 and/or groups in one pattern (MAX_SEQUENCE_EXPRESSIONS, error 113), 255
properties per fact (error 302), 4,096 rules (error 106). Equal literal tests share a node; a
test against `$m` or arithmetic never does (compareValue compares string offsets).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from icorules.engines.base import RuleProblem
from icorules.engines.durable.forms import _canon, _Form, translate

if TYPE_CHECKING:
    from icorules.rules.loader import Rule

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
SENTINEL_KIND = "~session"


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
        self._pattern({"kind": SENTINEL_KIND}, "")

    def add(self, form: _Form, force: bool = False) -> list[_Excess]:
        """Add a rule; if it overflows a table, undo it (unless `force`) and say where."""
        self._log, self._touched = [], []
        self.rules += 1
        for kind in form.fields:
            old = self.properties.get(kind)
            if old is None:
                old = set()
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
        end = self._alpha(pattern, self.root, kind)
        end.betas += 1
        self._log.append(("beta", end))
        self._touched.append(end)

    def _alpha(self, cond: dict[str, Any], parent: _Node, kind: str) -> _Node:
        ((name, arg),) = cond.items()
        if name == "$and":
            node = parent
            for item in arg:
                node = self._alpha(item, node, kind)
            return node
        if name == "$or":
            forward = _Node(kind)  # a fresh forward node for every `or`, never shared
            for item in arg:
                self._link(self._alpha(item, parent, kind), forward)
            return forward
        operator = name.startswith("$")
        ((prop, right),) = arg.items() if operator else ((name, arg),)
        if isinstance(right, dict):  # `$m` or arithmetic: a node of its own, always
            key, group = f"#{next(self._serial)}", None
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
            "rules read, and one for each parameter they compare with); it takes at most "
            f"{MAX_PROPERTIES}: compare with fewer parameters"
        )
    if excess.table == "children":
        return (
            f"the condition puts {amount} comparisons side by side (each value of a written "
            f"list takes one); the engine allows at most {MAX_CHILDREN} (more make it hang): "
            "split it into several rules"
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
        tests = _leaves(pattern) - 1  # not the kind
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
