"""durable_rules' own floor for a bundle: the engine stage minus all of icorules' Python work.

The same engine rulesets icorules registers (`icorules.engines.durable.plan`: same chunks,
same compiled conditions, same `cap`, same session sentinel), each rule's action a no-op, and
per check the same session handling: a fresh session id, the facts of each chunk's kinds cut to
the fields its rules read, with its parameter fields (`icorules.engines.durable.project`), and
asserted with the sentinel in one call, deferred actions flushed if a fact went unhandled, the
session deleted. The cutting is done once, before timing (`prepare`): only adding the session
id to each fact is left in, the least any caller must do per check, so the floor is as low as
durable_rules can go. What is left out is exactly icorules' action work: recording matches,
de-duplicating them and deriving facts (so there is no second round for derived facts either).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from icorules.engines.durable import SENTINEL, _import_durable, engine_fact, plan, project
from icorules.rules.loader import RuleBundle

_HOST: Any = None
_REGISTERED: set[str] = set()


def _host() -> Any:
    global _HOST
    if _HOST is None:
        durable = _import_durable()

        class _QuietHost(durable.Host):  # type: ignore[misc, name-defined]
            def _run(self) -> None:
                pass

        _HOST = _QuietHost()
    return _HOST


def _nothing(c: Any) -> None:
    """An action that does no work (durable_rules still calls it, once per rule with matches)."""


class Floor:
    """Asserts facts into a bundle's engine rulesets with do-nothing actions."""

    def __init__(self, bundle: RuleBundle) -> None:
        durable = _import_durable()
        self._not_handled = durable.MessageNotHandledException
        self._host = _host()
        self._sids = itertools.count(1)
        self.chunks: list[tuple[str, Mapping[str, tuple[str, ...]], Any]] = []
        for chunk in plan(bundle):
            name = f"floor_{chunk.digest()[:16]}"
            if name not in _REGISTERED:
                runnable = copy.deepcopy(chunk.definition())
                for rule in runnable.values():
                    rule["run"] = _nothing
                self._host.set_rulesets({name: runnable})
                _REGISTERED.add(name)
            self.chunks.append((name, chunk.fields, chunk.values(bundle)))

    def prepare(self, facts: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """Per chunk, the facts as icorules sends them (done once, outside any timing)."""
        out = []
        sent = [engine_fact(f) for f in facts]
        for _, fields, values in self.chunks:
            batch = project(sent, fields, values, "")
            for fact in batch:
                del fact["sid"]
            out.append(batch)
        return out

    def run(self, prepared: list[list[dict[str, Any]]]) -> None:
        """One check's worth of engine work: a session, one assert per chunk, no actions."""
        sid = str(next(self._sids))
        opened: list[str] = []
        try:
            for (name, _, _), facts in zip(self.chunks, prepared, strict=True):
                if not facts:
                    continue
                opened.append(name)
                batch = [{**SENTINEL, "sid": sid}, *({**f, "sid": sid} for f in facts)]
                try:
                    self._host.assert_facts(name, batch)
                except self._not_handled:
                    self._host.update_state(name, {"sid": sid})
        finally:
            for name in opened:
                self._host.delete_state(name, sid)
