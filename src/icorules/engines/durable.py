"""The only module that touches durable_rules: register rules once, one session per check.

durable_rules has sharp edges (see shared/design/DURABLE_RULES_NOTES.md); each is handled here:

- rulesets cannot be unregistered, so each distinct compiled engine ruleset is registered once
  per process, keyed by a hash of its JSON, and reused;
- 512 sibling tests under one node hang the engine (an `in` list counts one test per item),
  a fact that passes more than 64 range tests (< <= > >= != or arithmetic) under one node
  fails the assert with error 303, and 4,096 rules in one ruleset fail to compile. So a bundle
  is split into engine rulesets of at most CHUNK_RULES rules, CHUNK_TESTS condition tests and
  CHUNK_RANGE_TESTS distinct range tests per fact kind (`plan`); every chunk runs in the same
  check. Actions only record derived facts, and the check asserts them into
  every chunk that reads their kind, round after round until none is new, so chaining works
  across chunks exactly as within one;
- sessions are capped at 1,024 per ruleset, so every check uses a fresh session id and deletes
  it in `finally` (memory stays flat over a batch);
- the stock Host runs actions on timer threads; `_QuietHost` disables them, so actions run
  synchronously in the caller's thread, and a process-wide lock serialises all use;
- a fact that no rule matches raises MessageNotHandledException, which JSON-encodes the whole
  batch again for its message and defers the other actions. Each chunk therefore has, per fact
  kind it reads, a `~handled/KIND` rule whose first pattern takes every fact of that kind and
  whose second never matches: every fact is handled and no action runs for it. (The exception
  is still caught, and the deferred actions flushed with `update_state`.) Facts of kinds a
  chunk never reads are not sent to it at all;
- JSON encoding dominates the engine's cost, so a chunk is sent only the fields its rules read
  (plus kind, id and ref); matches are mapped back to the caller's full facts by id;
- exceptions inside actions are swallowed by the engine, so actions catch everything and the
  error is re-raised after the run;
- `$or` fires once per true branch (and `given` once per matching fact): matches are
  de-duplicated on (rule, subject fact); every rule has `cap`, so an action is called once per
  rule with all its matches, not once per match;
- `set_rulesets` mutates its argument, so it gets a fresh copy;
- found here: `delete_state` segfaults for a session in which no action ran (first seen with
  a join rule; it happens with plain rules too). Every session therefore asserts a `~session`
  fact that a no-op rule matches, so at least one action always runs (tests/test_engine.py).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from icorules.engines import EngineError, Match, gc_paused
from icorules.rules.expr import engine_tests
from icorules.rules.loader import SUBJECT, Rule, RuleBundle

CAP = 1000  # matches handed to one action call
CHUNK_RULES = 300  # rules in one engine ruleset (4,096 fail to compile; ~400 is the safe zone)
CHUNK_TESTS = 384  # condition tests per fact kind in one engine ruleset (512 siblings hang)
CHUNK_RANGE_TESTS = 48  # distinct range tests per fact kind in one ruleset (65 can crash it)
SENTINEL = {"kind": "~session", "id": "~session"}
SENTINEL_RULE = "~session"
HANDLED_RULE = "~handled/"  # + kind: takes every fact of the kind, never fires
_ALWAYS_SENT = ("kind", "id", "ref")


@dataclass(frozen=True)
class Chunk:
    """One engine ruleset: some of a bundle's rules, and the fact kinds they read."""

    rules: tuple[Rule, ...]
    fields: Mapping[str, tuple[str, ...]]  # fact kind -> the fields its rules here read

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self.fields)

    def definition(self) -> dict[str, Any]:
        """The durable_rules JSON form (no actions), with the session sentinel rule and a
        rule per kind that handles every fact of it without firing."""
        out: dict[str, Any] = {
            rule.id: {"all": [{alias: cond} for alias, cond in rule.patterns], "cap": CAP}
            for rule in self.rules
        }
        out[SENTINEL_RULE] = {"all": [{"session": {"kind": SENTINEL["kind"]}}], "cap": CAP}
        for kind in sorted(self.fields):
            out[HANDLED_RULE + kind] = {
                "all": [{"fact": {"kind": kind}}, {"never": {"kind": "~never"}}],
                "cap": CAP,
            }
        return out

    def digest(self) -> str:
        """Names the engine ruleset: same rules (and derivations), same registration."""
        derives = {r.id: [r.derive.kind, dict(r.derive.fields)] for r in self.rules if r.derive}
        material = json.dumps([self.definition(), derives], sort_keys=True).encode()
        return hashlib.sha256(material).hexdigest()


def pattern_kind(condition: dict[str, Any]) -> str:
    """The fact kind a compiled pattern tests first (the loader always puts it there)."""
    return str(condition["$and"][0]["kind"])


def read_fields(condition: Any, out: set[str]) -> set[str]:
    """Add to `out` every fact field a compiled condition reads (`$m` operands included)."""
    if isinstance(condition, list):
        for item in condition:
            read_fields(item, out)
    elif isinstance(condition, dict):
        for key, value in condition.items():
            if key == "$m":
                out.add(value)
            elif key.startswith("$"):
                read_fields(value, out)
            else:
                out.add(key)
                read_fields(value, out)
    return out


def count_tests(condition: Any) -> int:
    """Leaf tests in a compiled condition: an upper bound on the sibling tests it adds."""
    if not isinstance(condition, dict):
        return 0
    total = 0
    for key, value in condition.items():
        if key in ("$and", "$or"):
            total += sum(count_tests(c) for c in value)
        else:
            total += 1
    return total


def plan(bundle: RuleBundle) -> list[Chunk]:
    """Split a bundle into engine rulesets the engine survives (first fit, in rule-id order)."""
    bins: list[tuple[list[Rule], dict[str, int], dict[str, set[str]]]] = []
    for rule in bundle.rules:
        weights: dict[str, int] = {}  # kind -> leaf tests (an upper bound on siblings)
        ranged: dict[str, set[str]] = {}  # kind -> distinct range tests
        for _, cond in rule.patterns:
            kind = pattern_kind(cond)
            weights[kind] = weights.get(kind, 0) + count_tests(cond)
            ranged.setdefault(kind, set()).update(k for r, k in engine_tests(cond) if r)
        for rules, used, used_ranged in bins:
            fits = len(rules) < CHUNK_RULES and all(
                used.get(k, 0) + w <= CHUNK_TESTS
                and len(used_ranged.get(k, set()) | ranged[k]) <= CHUNK_RANGE_TESTS
                for k, w in weights.items()
            )
            if fits:
                break
        else:  # a rule heavier than the limits on its own still gets a chunk of its own
            rules, used, used_ranged = [], {}, {}
            bins.append((rules, used, used_ranged))
        rules.append(rule)
        for kind, weight in weights.items():
            used[kind] = used.get(kind, 0) + weight
            used_ranged.setdefault(kind, set()).update(ranged[kind])
    chunks = []
    for rules, _, _ in bins:
        fields: dict[str, set[str]] = {}
        for rule in rules:
            for _, cond in rule.patterns:
                read_fields(cond, fields.setdefault(pattern_kind(cond), set(_ALWAYS_SENT)))
        chunks.append(Chunk(tuple(rules), {k: tuple(sorted(v)) for k, v in sorted(fields.items())}))
    return chunks


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
    return durable_engine


@dataclass(frozen=True)
class _Registered:
    name: str
    fields: Mapping[str, tuple[str, ...]]


class Engine:
    """A process-wide durable_rules host; safe to call from several threads (one at a time)."""

    def __init__(self) -> None:
        durable = _import_durable()
        self._not_handled = durable.MessageNotHandledException

        class _QuietHost(durable.Host):  # type: ignore[misc, name-defined]
            def _run(self) -> None:  # no timer threads: actions run in the caller's thread
                pass

        self._host = _QuietHost()
        self._lock = threading.Lock()
        self._registered: dict[str, str] = {}  # digest of a chunk -> engine ruleset name
        # A weak cache, so bundles a caller drops are freed (their engine rulesets cannot be).
        self._bundles: weakref.WeakKeyDictionary[RuleBundle, list[_Registered]] = (
            weakref.WeakKeyDictionary()
        )
        self._sids = itertools.count(1)
        self._matches: list[Match] = []
        self._seen: set[tuple[str, str]] = set()
        self._derived: list[dict[str, Any]] = []
        self._errors: list[BaseException] = []
        self._known: dict[str, dict[str, Any]] = {}  # engine id -> the caller's full fact

    def run(self, bundle: RuleBundle, facts: Sequence[dict[str, Any]]) -> list[Match]:
        """Assert `facts` (each with unique `id` and a `kind`) and return every rule match."""
        with self._lock:
            chunks = self._register(bundle)
            sid = str(next(self._sids))
            self._matches, self._seen, self._derived, self._errors = [], set(), [], []
            self._known = {f["id"]: f for f in facts}
            opened: list[str] = []
            with gc_paused():
                try:
                    pending: Sequence[dict[str, Any]] = facts
                    while pending and not self._errors:
                        for chunk in chunks:
                            batch = project(pending, chunk.fields, sid)
                            if not batch:
                                continue
                            if chunk.name not in opened:
                                opened.append(chunk.name)
                                batch.insert(0, {**SENTINEL, "sid": sid})
                            self._assert(chunk.name, sid, batch)
                        # Derived facts go to every chunk that reads them, until none is new.
                        pending, self._derived = self._derived, []
                        self._known.update((f["id"], f) for f in pending)
                finally:
                    for name in opened:
                        self._host.delete_state(name, sid)
            if self._errors:
                raise EngineError(f"a rule action failed: {self._errors[0]!r}") from self._errors[0]
            return self._matches

    def _assert(self, name: str, sid: str, batch: list[dict[str, Any]]) -> None:
        try:
            self._host.assert_facts(name, batch)
        except self._not_handled:  # some fact matched nothing: run the deferred actions now
            self._host.update_state(name, {"sid": sid})

    def _register(self, bundle: RuleBundle) -> list[_Registered]:
        if bundle in self._bundles:
            return self._bundles[bundle]
        chunks = []
        for chunk in plan(bundle):
            digest = chunk.digest()
            if digest not in self._registered:
                name = f"icorules_{digest[:16]}"
                runnable = copy.deepcopy(chunk.definition())
                for rule in chunk.rules:
                    runnable[rule.id]["run"] = self._action(rule)
                for rule_name in runnable:
                    runnable[rule_name].setdefault("run", _no_action)  # sentinel and ~handled
                self._host.set_rulesets({name: runnable})
                self._registered[digest] = name
            chunks.append(_Registered(self._registered[digest], chunk.fields))
        self._bundles[bundle] = chunks
        return chunks

    def _action(self, rule: Rule) -> Callable[[Any], None]:
        rule_id, derive = rule.id, rule.derive

        def action(c: Any) -> None:
            try:
                seen, matches, known = self._seen, self._matches, self._known
                for item in c.m:
                    match = item._d
                    key = (rule_id, match[SUBJECT]["id"])  # `given` asks "is there one?"
                    if key in seen:
                        continue
                    seen.add(key)
                    subject = known[key[1]]  # the full fact, not the fields the engine got
                    given = {k: known[v["id"]] for k, v in match.items() if k != SUBJECT}
                    matches.append(Match(rule_id, subject, given))
                    if derive is not None:
                        ref = f"{rule_id}/{subject['ref']}"
                        self._derived.append(
                            {
                                **derive.fields,
                                "kind": derive.kind,
                                "id": f"{derive.kind}:{ref}",
                                "ref": ref,
                            }
                        )
            except BaseException as exc:  # the engine would swallow it
                self._errors.append(exc)

        return action


def _no_action(c: Any) -> None:
    """The sentinel rule's action: its only job is to have run."""


def project(
    facts: Sequence[dict[str, Any]], fields: Mapping[str, tuple[str, ...]], sid: str
) -> list[dict[str, Any]]:
    """The facts of the kinds in `fields`, each with only those fields, in session `sid`."""
    out = []
    for fact in facts:
        names = fields.get(fact["kind"])
        if names is not None:
            sent = {name: fact[name] for name in names if name in fact}
            sent["sid"] = sid
            out.append(sent)
    return out


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
