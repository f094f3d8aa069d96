"""Planning: a bundle split into engine rulesets ("chunks") whose tables hold (see
icorules.engines.durable.network), and how each chunk is sent a check's facts.

Each chunk is sent only the facts of the kinds its rules read, and of those only the fields
they read (plus `kind`, `id`, `ref` and its parameter fields): JSON is most of what a fact
costs the engine. `Sending` works that out once per prepared bundle, so that per check each
record is turned into what one chunk gets in one step.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from icorules.engines.base import gc_paused
from icorules.engines.durable import forms, network
from icorules.engines.durable.forms import (
    _converted,
    _Form,
    _Slot,
    _texts,
    engine_names,
    engine_value,
    member_key,
    translate,
)
from icorules.errors import InputError, Problem

if TYPE_CHECKING:
    from icorules.rules.loader import Rule, RuleBundle

SENTINEL = {"kind": network.SENTINEL_KIND, "id": "~session"}
SENTINEL_RULE = "~session"
WINDOW = 4  # engine rulesets still being filled: a rule tries these, newest first


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
        """The durable_rules JSON form (no actions), with the session sentinel's rule."""
        out = {form.rule.id: _renamed(form.definition(), self.short) for form in self.forms}
        out[SENTINEL_RULE] = {"all": [{"session": {"kind": SENTINEL["kind"]}}], "cap": forms.CAP}
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
        """The parameter fields each fact of a kind carries, with `bundle`'s values (the same
        on every fact; not the `in` slots, which `members` gives)."""
        params = {rule.ruleset: rule.params for rule in bundle.rules}
        out: dict[str, dict[str, Any]] = {}
        for kind, slots in self.slots.items():
            fixed = {n: slot for n, slot in slots.items() if not slot.member}
            out[kind] = {
                self.short[name]: slot.fill(params[slot.ruleset]) for name, slot in fixed.items()
            }
            if any(slot.divisor and out[kind][self.short[n]] == 0 for n, slot in fixed.items()):
                rule = next(f.rule for f in self.forms if kind in f.fields)
                raise InputError([Problem(rule.file, rule.line, None, "division by zero")])
        return out

    def members(self, bundle: RuleBundle) -> dict[str, tuple[Member, ...]]:
        """Per kind, each `field in params.list` slot: its name, the field, the list's values."""
        params = {rule.ruleset: rule.params for rule in bundle.rules}
        return {
            kind: tuple(
                (self.short[name], slot.member, slot.members(params[slot.ruleset]))
                for name, slot in slots.items()
                if slot.member
            )
            for kind, slots in self.slots.items()
        }


def plan(bundle: RuleBundle) -> list[Chunk]:
    """Split a bundle into engine rulesets whose tables hold (see `network._Network`). Each
    rule tries the few rulesets still open, newest first, skipping those a rule of the same
    kind has already overflowed, so planning stays linear in the rules."""
    with gc_paused():  # many small objects, no cycles: collector passes would make it quadratic
        bins = _pack([translate(rule) for rule in bundle.rules])
    return [_chunk(forms_) for forms_ in bins]


def _chunk(members: Sequence[_Form]) -> Chunk:
    fields: dict[str, set[str]] = {}
    slots: dict[str, dict[str, _Slot]] = {}
    for form in members:
        for kind, names in form.fields.items():
            fields.setdefault(kind, set()).update(names)
            slots.setdefault(kind, {}).update(form.slots[kind])
    short: dict[str, str] = {}
    for form in members:
        for named in form.slots.values():
            for name in named:
                short.setdefault(name, f"_{len(short)}")
    return Chunk(
        tuple(members),
        {k: tuple(sorted(v)) for k, v in sorted(fields.items())},
        {k: dict(sorted(v.items())) for k, v in sorted(slots.items())},
        short,
    )


def _renamed(node: Any, names: Mapping[str, str]) -> Any:
    """`node` with each parameter field given its short name: where a test reads it
    (`{"$m": name}`) and where it is tested itself (an `in` slot, `{name: true}`)."""
    if isinstance(node, dict):
        if len(node) == 1 and node.get("$m") in names:
            return {"$m": names[node["$m"]]}
        return {names.get(key, key): _renamed(value, names) for key, value in node.items()}
    if isinstance(node, list):
        return [_renamed(item, names) for item in node]
    return node


def _pack(members: Sequence[_Form]) -> list[list[_Form]]:
    bins: list[list[_Form]] = []
    open_bins: list[tuple[network._Network, list[_Form], set[str]]] = []  # closed: network goes
    for form in members:
        for model, chosen, full in reversed(open_bins):
            if model.rules >= network.CHUNK_RULES or not full.isdisjoint(form.fields):
                continue
            excess = model.add(form)
            if not excess:
                chosen.append(form)
                break
            full.update(e.kind for e in excess if e.kind)
        else:  # a rule that fits nowhere open starts a ruleset (alone, it fits: rule_problems)
            model = network._Network()
            model.add(form, force=True)
            bins.append([form])
            open_bins.append((model, bins[-1], set()))
            if len(open_bins) > WINDOW:
                open_bins.pop(0)
    return bins


# -- what each chunk is sent ------------------------------------------------------------------

# Per fact kind: the fields sent as they are and those that need a look (dates, numbers and
# values that may be absent), each as (the engine's name, the record's), and what every fact of
# the kind carries besides (its kind, the parameter fields).
# And each `field in params.list` slot (see `Chunk.members`): those of text fields apart, as
# (name, field, the list's texts), since a text needs no converting to be looked up.
Member = tuple[str, str, frozenset[tuple[bool, Any]]]
TextMember = tuple[str, str, frozenset[str]]
Sending = Mapping[
    str,
    tuple[
        tuple[tuple[str, str], ...],
        tuple[tuple[str, str], ...],
        Mapping[str, Any],
        tuple[Member, ...],
        tuple[TextMember, ...],
    ],
]


def sending(
    fields: Mapping[str, tuple[str, ...]],
    values: Mapping[str, Any],
    members: Mapping[str, tuple[Member, ...]],
) -> Sending:
    """How a chunk's facts are made from the caller's records, worked out once."""
    out = {}
    for kind, names in fields.items():
        field_of = {short: name for name, short in engine_names(kind).items()}
        sent = [(n, field_of.get(n, n)) for n in names if n not in ("kind", "id", "ref")]
        looked_at = _converted(kind)
        convert = {name for _, name in sent} if looked_at is None else set(looked_at)
        texts = set(_texts(kind))
        slots = members.get(kind, ())
        out[kind] = (
            tuple(pair for pair in sent if pair[1] not in convert),
            tuple(pair for pair in sent if pair[1] in convert),
            {"kind": kind, **values.get(kind, {})},
            tuple(slot for slot in slots if slot[1] not in texts),
            tuple(
                (short, name, frozenset(v for is_bool, v in keys if not is_bool))
                for short, name, keys in slots
                if name in texts
            ),
        )
    return out


def encode(
    records: Sequence[Mapping[str, Any]], how: Sending, sid: str, first: int = 0
) -> list[dict[str, Any]]:
    """The records of the kinds a chunk reads as it gets them, in session `sid`: its fields
    (dates as YYYYMMDD, numbers to 4 decimal places, enums as their text, a value that is None
    left out), its parameter fields, its place among the session's facts (`first` for the
    first record) as its unique id, and its own id as `ref`. Records come as a check sends
    them (engines.normalized) or already normalized. A hot path: every fact of every check."""
    out = []
    for engine_id, record in enumerate(records, first):
        kind = record["kind"]
        found = how.get(kind)
        if found is None:
            continue
        plain, converted, constant, members, text_members = found
        sent = {**constant, "id": engine_id, "ref": record["id"], "sid": sid}
        for short, name in plain:  # always there: a fact of the kind has every field
            sent[short] = record[name]  # an enum member is sent as its text (orjson)
        for short, name in converted:
            value = record.get(name)
            if value is not None:
                sent[short] = engine_value(value)
        for short, name, keys in members:  # absent where the value is: any test is false
            value = record.get(name)
            if value is not None:
                sent[short] = member_key(engine_value(value)) in keys
        for short, name, texts in text_members:  # the same answers, for a text
            value = record.get(name)
            if value is not None:
                sent[short] = value in texts
        out.append(sent)
    return out
