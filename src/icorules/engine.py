"""The only module that touches durable_rules: register rules once, one session per check.

durable_rules has sharp edges (see shared/design/DURABLE_RULES_NOTES.md); each is handled here:

- rulesets cannot be unregistered, so each distinct compiled bundle is registered once per
  process, keyed by a hash of its JSON, and reused;
- sessions are capped at 1,024 per ruleset, so every check uses a fresh session id and deletes
  it in `finally` (memory stays flat over a batch);
- the stock Host runs actions on timer threads; `_QuietHost` disables them, so actions run
  synchronously in the caller's thread, and a process-wide lock serialises all use;
- a fact that no rule matches raises MessageNotHandledException and defers the other actions:
  we catch it and flush them with `update_state`;
- exceptions inside actions are swallowed by the engine, so actions catch everything and the
  error is re-raised after the run;
- `$or` fires once per true branch (and `given` once per matching fact): matches are
  de-duplicated on (rule, subject fact);
- `set_rulesets` mutates its argument, so it gets a fresh copy;
- found here: `delete_state` segfaults for a session in which no action ran (first seen with
  a join rule; it happens with plain rules too). Every session therefore asserts a `~session`
  fact that a no-op rule matches, so at least one action always runs (tests/test_engine.py).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from icorules.rules.loader import SUBJECT, Rule, RuleBundle

CAP = 1000  # matches handed to one action call
SENTINEL = {"kind": "~session", "id": "~session"}
SENTINEL_RULE = "~session"


class EngineError(RuntimeError):
    """The engine failed while running a check (a bug, not bad input)."""


@dataclass(frozen=True)
class Match:
    """Rule `rule` fired on the fact with engine key `subject` (with any `given` facts)."""

    rule: str
    subject: dict[str, Any]
    given: dict[str, dict[str, Any]]


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
        self._registered: dict[str, str] = {}  # digest of compiled rules -> engine name
        # A weak cache, so bundles a caller drops are freed (their engine rulesets cannot be).
        self._bundles: weakref.WeakKeyDictionary[RuleBundle, str] = weakref.WeakKeyDictionary()
        self._sids = itertools.count(1)
        self._matches: list[Match] = []
        self._seen: set[tuple[str, ...]] = set()
        self._errors: list[BaseException] = []

    def run(self, bundle: RuleBundle, facts: Sequence[dict[str, Any]]) -> list[Match]:
        """Assert `facts` (each with unique `id` and a `kind`) and return every rule match."""
        with self._lock:
            name = self._register(bundle)
            sid = str(next(self._sids))
            self._matches, self._seen, self._errors = [], set(), []
            try:
                try:
                    batch = [{**SENTINEL, "sid": sid}, *({**f, "sid": sid} for f in facts)]
                    self._host.assert_facts(name, batch)
                except self._not_handled:
                    self._host.update_state(name, {"sid": sid})
            finally:
                self._host.delete_state(name, sid)
            if self._errors:
                raise EngineError(f"a rule action failed: {self._errors[0]!r}") from self._errors[0]
            return list(self._matches)

    def _register(self, bundle: RuleBundle) -> str:
        if bundle in self._bundles:
            return self._bundles[bundle]
        definition = {
            rule.id: {"all": [{alias: cond} for alias, cond in rule.patterns], "cap": CAP}
            for rule in bundle.rules
        }
        definition[SENTINEL_RULE] = {"all": [{"session": {"kind": SENTINEL["kind"]}}], "cap": CAP}
        derives = {r.id: [r.derive.kind, dict(r.derive.fields)] for r in bundle.rules if r.derive}
        material = json.dumps([definition, derives], sort_keys=True).encode()
        digest = hashlib.sha256(material).hexdigest()
        if digest not in self._registered:
            name = f"icorules_{digest[:16]}"
            runnable = copy.deepcopy(definition)
            for rule in bundle.rules:
                runnable[rule.id]["run"] = self._action(rule)
            runnable[SENTINEL_RULE]["run"] = _no_action
            self._host.set_rulesets({name: runnable})
            self._registered[digest] = name
        self._bundles[bundle] = self._registered[digest]
        return self._registered[digest]

    def _action(self, rule: Rule) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            try:
                for item in c.m:
                    match = item._d
                    subject = dict(match[SUBJECT])
                    given = {k: dict(v) for k, v in match.items() if k != SUBJECT}
                    key = (rule.id, subject["id"])  # `given` asks "is there one?": fire once
                    if key in self._seen:
                        continue
                    self._seen.add(key)
                    self._matches.append(Match(rule.id, subject, given))
                    if rule.derive is not None:
                        self._derive(c, rule, subject)
            except BaseException as exc:  # the engine would swallow it
                self._errors.append(exc)

        return action

    def _derive(self, c: Any, rule: Rule, subject: dict[str, Any]) -> None:
        assert rule.derive is not None
        ref = f"{rule.id}/{subject['ref']}"
        fact = {
            **rule.derive.fields,
            "kind": rule.derive.kind,
            "id": f"{rule.derive.kind}:{ref}",
            "ref": ref,
            "sid": subject["sid"],
        }
        # If no rule reads this derived fact the engine complains; it is still reported.
        with contextlib.suppress(self._not_handled):
            c.assert_fact(fact)


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
