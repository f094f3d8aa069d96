"""The engine itself: durable_rules' C core driven directly, one process-wide instance.

durable_rules' Python `Host` wraps its C extension (`durable_rules_engine`) in timer threads,
a `Closure` and `Content` objects per action, and the session state JSON-encoded again after
every action. None of that is needed here: `_Host` makes the same C calls the stock host makes
(create_ruleset, assert_facts, start_action_for_state, complete_and_start_action,
abandon_action, delete_state), in the caller's thread, and hands each action the decoded
matches. A fact that no rule matches (code 1 from assert_facts) costs nothing extra: what
matched is queued for the session all the same, and run at once. This is the C extension's
own interface rather than a documented API, so `durable-rules==2.0.28` is pinned.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from icorules.engines.base import EngineError, Match, Record, RuleProblem, derived_record, gc_paused
from icorules.engines.durable.chunks import SENTINEL, Chunk, Sending, encode, plan, sending
from icorules.engines.durable.forms import SUBJECT
from icorules.engines.durable.network import rule_problems
from icorules.errors import InputError, Problem

if TYPE_CHECKING:
    from icorules.rules.loader import Rule, RuleBundle

Action = Callable[[list[dict[str, Any]]], None]  # gets one rule's matches, `cap` at a time


def _import_durable() -> Any:
    """durable_rules' C extension, or EngineError saying why it cannot be loaded.

    Only the extension: its Python package (`durable`) is the stock host this module replaces,
    and importing it cost a cold start ~10-15 ms (logging, inspect) for a logger nothing here
    ever writes to."""
    try:
        import durable_rules_engine  # type: ignore[import-not-found]
    except ImportError as exc:  # e.g. Python 3.13+, where the C extension does not import
        import sys

        raise EngineError(
            f"the durable_rules engine cannot be loaded on Python "
            f"{sys.version_info.major}.{sys.version_info.minor} ({exc}); "
            "icorules supports Python 3.11 and 3.12"
        ) from None
    return durable_rules_engine


class _Host:
    """The C engine's rulesets by name, each with its rules' actions."""

    def __init__(self, core: Any) -> None:
        self._core = core
        self._rulesets: dict[str, tuple[int, dict[str, Action]]] = {}

    def set_rulesets(self, definitions: Mapping[str, dict[str, Any]]) -> None:
        """Register engine rulesets; each rule's `run` is its action (taken out of the JSON)."""
        for name, definition in definitions.items():
            actions = {rule: spec.pop("run") for rule, spec in definition.items()}
            handle = self._core.create_ruleset(name, json.dumps(definition, ensure_ascii=False))
            self._rulesets[name] = (handle, actions)

    def assert_facts(self, name: str, facts: str) -> None:
        """Assert a JSON list of facts (one session) and run every action it queues."""
        handle, actions = self._rulesets[name]
        # Code 1 (a fact no rule took) or 2 (seen before): what matched is queued all the same.
        _, state = self._core.assert_facts(handle, facts)
        started = self._core.start_action_for_state(handle, state)
        if started is None:
            return
        messages: str | None = started[1]
        try:
            while messages is not None:
                for rule, matches in orjson.loads(messages).items():
                    actions[rule](matches)
                messages = self._core.complete_and_start_action(handle, state)
        except BaseException:
            self._core.abandon_action(handle, state)
            raise

    def delete_state(self, name: str, sid: str) -> None:
        self._core.delete_state(self._rulesets[name][0], sid)


@dataclass(frozen=True)
class _Ready:
    name: str
    fields: Mapping[str, tuple[str, ...]]
    values: Mapping[str, Mapping[str, Any]]
    sending: Sending


@dataclass(frozen=True)
class Prepared:
    """A bundle registered with this process's engine, with its parameter values."""

    bundle: RuleBundle
    chunks: tuple[_Ready, ...]


class _Run:
    """What one check collects while the engine runs."""

    def __init__(self, bundle: RuleBundle) -> None:
        self.bundle = bundle
        self.matches: list[Match] = []
        self.seen: set[tuple[str, str, str]] = set()
        self.derived: list[Record] = []
        self.errors: list[BaseException] = []
        # The caller's records; each is sent with its place here as its engine id (a number
        # is shorter JSON than `kind:id`, and needs no text made for every fact).
        self.known: list[Record] = []

    def add(self, records: Sequence[Record]) -> int:
        """Records about to be asserted: the engine id of the first (the rest follow on)."""
        first = len(self.known)
        self.known += records
        return first

    def record(self, rule_id: str, items: Sequence[Mapping[str, Any]]) -> None:
        try:
            rule = self.bundle.rule(rule_id)
            for match in items:
                subject = self.known[match[SUBJECT]["id"]]  # the full record, not what was sent
                key = (rule_id, subject["kind"], subject["id"])  # `given` asks "is there one?"
                if key in self.seen:
                    continue
                self.seen.add(key)
                given = {
                    alias.removeprefix("given_"): self.known[sent["id"]]
                    for alias, sent in match.items()
                    if alias != SUBJECT
                }
                self.matches.append(Match(rule_id, subject, given))
                if rule.derive is not None:
                    self.derived.append(derived_record(rule_id, rule.derive, subject["id"]))
        except BaseException as exc:  # raised again after the run
            self.errors.append(exc)


class Engine:
    """The durable_rules backend: one process-wide host; safe to call from several threads
    (one at a time)."""

    name = "durable_rules"

    def __init__(self) -> None:
        self._host = _Host(_import_durable())
        self._lock = threading.Lock()
        self._registered: dict[str, str] = {}  # digest of a chunk -> engine ruleset name
        # A weak cache, so bundles a caller drops are freed (their engine rulesets cannot be,
        # which is why parameter values are not part of them).
        self._prepared: weakref.WeakKeyDictionary[RuleBundle, tuple[_Ready, ...]] = (
            weakref.WeakKeyDictionary()
        )
        self._sids = itertools.count(1)
        self._active: _Run | None = None  # the run the actions record into (under the lock)

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
                chunks = tuple(self._ready(chunk, bundle) for chunk in plan(bundle))
                self._prepared[bundle] = chunks
            return Prepared(bundle, chunks)

    def _ready(self, chunk: Chunk, bundle: RuleBundle) -> _Ready:
        values = chunk.values(bundle)
        how = sending(chunk.fields, values, chunk.members(bundle))
        return _Ready(self._register(chunk), chunk.fields, values, how)

    def run(self, prepared: Prepared, facts: Sequence[Record]) -> list[Match]:
        """Assert `facts` and return every rule match, derived facts chained in."""
        with self._lock:
            sid = str(next(self._sids))
            run = self._active = _Run(prepared.bundle)
            opened: list[str] = []
            try:
                with gc_paused():
                    pending, first = facts, run.add(facts)
                    while pending and not run.errors:
                        for chunk in prepared.chunks:
                            batch = encode(pending, chunk.sending, sid, first)
                            if not batch:
                                continue
                            if chunk.name not in opened:
                                opened.append(chunk.name)
                                batch.insert(0, {**SENTINEL, "sid": sid})
                            self._assert(chunk.name, batch)
                        # Derived facts go to every chunk that reads them, until none is new.
                        pending, run.derived = run.derived, []
                        first = run.add(pending)
            finally:
                self._active = None
                failed = self._delete(opened, sid)
            if run.errors:
                raise EngineError(f"a rule action failed: {run.errors[0]!r}") from run.errors[0]
            if failed is not None:
                raise EngineError(f"durable_rules failed: {failed!r}") from failed
            return run.matches

    def _assert(self, name: str, batch: list[dict[str, Any]]) -> None:
        try:
            self._host.assert_facts(name, orjson.dumps(batch).decode())
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
                runnable[rule_name].setdefault("run", _no_action)  # the session sentinel
            try:
                self._host.set_rulesets({name: runnable})
            except Exception as exc:
                raise EngineError(f"durable_rules refused a ruleset: {exc!r}") from exc
            self._registered[digest] = name
        return self._registered[digest]

    def _action(self, rule_id: str) -> Action:
        def action(matches: list[dict[str, Any]]) -> None:
            run = self._active
            if run is not None:
                run.record(rule_id, matches)

        return action


def _no_action(matches: list[dict[str, Any]]) -> None:
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
